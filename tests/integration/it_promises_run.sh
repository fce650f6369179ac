#!/usr/bin/env bash
# README promises about whole runs, on real guests:
# - QEMU crashing is a harness fault: exit 3, HARNESS FAULT, QEMU's status;
# - a device whose slots both fail to boot fails the scenario (exit 1, "does
#   not boot", each slot's reason);
# - --shard I/N runs exactly its share of the scenarios given (round robin),
#   each with its own DIR/<scenario>/, and the shard's exit code is the worst
#   of its scenarios'; -v echoes the guests' serial output to stderr;
# - firmware given as { kernel =, initrd =, append = } boots as it is;
# - a partition drops frames also between two partitioned devices; heal()
#   restores them.
. "$(dirname "$0")/lib.sh"
. "$HERE/evidence.sh"
ulimit -c 0 # the crashed QEMU must not leave a core of its guest's RAM here

# 1. QEMU dies of SIGSEGV mid-run.
run_vh crash run "$SCENARIOS/qemu_crash.lua" --artifacts "$WORK/c"
assert_exit crash 3
pid=$(events "$WORK/c" power_on | field pid)
assert_contains "$WORK/crash.err" "HARNESS FAULT"
assert_contains "$WORK/crash.err" "QEMU for dut killed by signal 11 ("
assert_contains "$WORK/c/events.jsonl" "\"message\":\"crashing QEMU pid $pid\""
assert_contains "$WORK/c/events.jsonl" '"event":"power_off","device":"dut","status":"killed by signal 11 ('
assert_contains "$WORK/c/events.jsonl" '"event":"verdict","verdict":"HARNESS FAULT"'
assert_contains "$WORK/c/junit.xml" 'type="harness"'
[ -z "$(vh_qemu_pids "$WORK/c")" ] || fail "QEMU left running"

# 2. Firmware (its shell, standing in for a bug) breaks both slots; the next
#    power-on finds nothing to boot.
run_vh bricked run "$SCENARIOS/bricked.lua" --artifacts "$WORK/b"
assert_exit bricked 1
assert_contains "$WORK/bricked.err" "bricked.lua:13: power_on: dut does not boot: neither slot boots: slot a: "
grep -qE 'slot a: [^;]* payload sha256 [0-9a-f]{64}, header says [0-9a-f]{64}; slot b: [^;]*: bundle header lacks kernel_size' "$WORK/bricked.err" ||
	fail "the reasons are not slot a's sha256 and slot b's header"
assert_contains "$WORK/b/events.jsonl" '"event":"verdict","verdict":"FAIL"'
assert_contains "$WORK/b/junit.xml" '<failure'
[ "$(events "$WORK/b" power_on | grep -c .)" = 1 ] || fail "the bricked device powered on again"
[ -z "$(vh_qemu_pids "$WORK/b")" ] || fail "QEMU left running"

# 3. Four scenarios in two shards: 1/2 takes the 1st and 3rd, 2/2 the 2nd and
#    4th. Each shard's exit code is the worst of its own: 2 (a configuration
#    error beside a pass) and 1 (a failure beside a pass).
scenarios=("$SCENARIOS/shard_boot.lua" "$SCENARIOS/shard_fail.lua" "$SCENARIOS/shard_config.lua"
	"$SCENARIOS/shard_custom_fw.lua")
run_vh shard1 run "${scenarios[@]}" --shard 1/2 --artifacts "$WORK/s1" -D image_dir="$VH_IMAGE_DIR"
run_vh shard2 run "${scenarios[@]}" --shard 2/2 --artifacts "$WORK/s2" -D image_dir="$VH_IMAGE_DIR" -v
assert_exit shard1 2
assert_exit shard2 1
# Each shard's directory holds its runs' directories and the suite's files.
runs_in() { find "$1" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort; }
[ "$(runs_in "$WORK/s1")" = "$(printf 'shard_boot\nshard_config')" ] || fail "shard 1/2 ran: $(runs_in "$WORK/s1")"
[ "$(runs_in "$WORK/s2")" = "$(printf 'shard_custom_fw\nshard_fail')" ] || fail "shard 2/2 ran: $(runs_in "$WORK/s2")"
assert_contains "$WORK/shard1.out" "1 passed, 1 failed"
assert_contains "$WORK/shard2.out" "1 passed, 1 failed"
assert_contains "$WORK/s1/shard_boot/junit.xml" 'failures="0"'
assert_contains "$WORK/s1/shard_config/junit.xml" 'type="config"'
assert_contains "$WORK/s2/shard_fail/junit.xml" '<failure'
assert_contains "$WORK/s2/shard_custom_fw/junit.xml" 'failures="0"'
assert_contains "$WORK/shard2.err" "shard_fail.lua:6: check failed: shard_fail fails on purpose"
assert_not_contains "$WORK/shard1.err" "shard_fail"
assert_not_contains "$WORK/shard2.err" "shard_config"
# A configuration error boots nothing; the others booted once each.
[ ! -e "$WORK/s1/shard_config/serial-dut.log" ] ||
	fail "the scenario with a configuration error booted"
for d in s1/shard_boot s2/shard_fail s2/shard_custom_fw; do
	[ "$(events "$WORK/$d" power_on | grep -c .)" = 1 ] || fail "$d did not boot once"
done
# -v: shard 2's guests' consoles on stderr, as the serial logs have them.
assert_contains "$WORK/shard2.err" "vh-agent: release missing path=/etc/vh-release"
assert_contains "$WORK/shard2.err" "vh-agent: boot slot=a" # the run may end before the rest of the line
assert_not_contains "$WORK/shard1.err" "vh-agent: boot slot=a"
# The custom firmware had no bootloader: no A/B disk, no boot choice.
[ ! -e "$WORK/s2/shard_custom_fw/disk-dut.img" ] || fail "custom firmware got an A/B disk"
assert_not_contains "$WORK/s2/shard_custom_fw/events.jsonl" '"event":"boot_choice"'
[ -z "$(vh_qemu_pids "$WORK"/s?/*)" ] || fail "QEMU left running"

# 4. Two devices partitioned together cannot reach each other; heal() ends it.
run_vh pair run "$SCENARIOS/partition_pair.lua" --artifacts "$WORK/p"
assert_exit pair 0
for d in a b; do
	assert_contains "$WORK/p/events.jsonl" "\"event\":\"partition\",\"network\":\"lan\",\"device\":\"$d\""
done
assert_contains "$WORK/p/events.jsonl" '"what":"with both partitioned, a does not reach b","result":"pass"'
assert_contains "$WORK/p/events.jsonl" '"what":"healed, a reaches b again","result":"pass"'
[ "$(stat -c %s "$WORK/p/lan-dropped.pcap")" -gt 24 ] || fail "the partition dropped nothing into lan-dropped.pcap"
[ -z "$(vh_qemu_pids "$WORK/p")" ] || fail "QEMU left running"
echo "ok: run promises (QEMU crash exit 3, bricked exit 1, shards, -v, custom firmware, partition of two)"
