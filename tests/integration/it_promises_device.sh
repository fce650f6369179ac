#!/usr/bin/env bash
# README promises about a device, on real guests, checked in the artifacts:
# - the device, network and server fields, vh.seed() and vh.now();
# - expect: consumption, the 25 ms quiet rule, prompts without a newline;
# - power_cut{on=} cuts before anything after its line is logged (a second
#   line in the same write; an agent line a millisecond later) and the disk
#   is as the guest left it at that line;
# - link(false) stops traffic, link(true) restores it;
# - under TCG the kernel gets tsc_early_khz, and auto says it fell back once;
# - an expect without a timeout fails at 30 s, saying so, with the last 20
#   serial lines.
. "$(dirname "$0")/lib.sh"
. "$HERE/evidence.sh"
DATA_OFFSET=$((81 << 20)) # p3, the data partition

out=$WORK/d
run_vh device run "$SCENARIOS/promises_device.lua" --seed 4242 --artifacts "$out"
assert_exit device 0
ev=$out/events.jsonl
[ -z "$(vh_qemu_pids "$out")" ] || fail "QEMU left running"

# Fields: what the scenario saw is what the run recorded.
fields=$(events "$out" log | field message | grep '^fields ')
want="fields name=dut ip=$(events "$out" device | field ip)"
want="$want mac=[0-9a-f]{2}(:[0-9a-f]{2}){5} pid=$(events "$out" power_on | head -1 | field pid)"
want="$want host_ip=10.77.0.1 subnet=$(events "$out" network | field subnet) bridge=$(events "$out" network | field bridge)"
want="$want url=http://$(events "$out" update_server | field server) seed=4242"
grep -qxE "$want" <<<"$fields" || fail "fields: got '$fields', want /$want/"
assert_contains "$ev" '"event":"run_start","scenario":"'"$SCENARIOS"'/promises_device.lua","seed":4242,'
assert_not_contains "$ev" '"result":"fail"'

# tsc_early_khz and the TCG notice, when this run used TCG.
if events "$out" accel | grep -qF '"accel":"tcg","requested":"auto"'; then
	events "$out" log | field message | grep -qxE 'tsc_early_khz=[1-9][0-9]*' ||
		fail "no tsc_early_khz= on the kernel command line under TCG"
	[ "$(grep -c 'using TCG: ' "$WORK/device.err")" = 1 ] || fail "auto did not say once that it fell back to TCG"
fi

# expect: the scenario checked each promise (a failed check fails the run);
# these are the ones it must have reached.
for what in "the next expect sees what follows: one-C" \
	"ip=(%S+) captures the whole address (got 10.12.3.4)" \
	"a pause of 1 s ends the match at what had arrived (got 10.1)" \
	"the rest of the line goes to the next expect"; do
	assert_contains "$ev" "\"what\":\"$what\",\"result\":\"pass\""
done
assert_contains "$ev" '"pattern":"vh# ","result":"matched"'

# power_cut{on=} on a shell line: the line is the last thing logged for the
# boot (its twin from the same write never is), and the disk holds what was
# written before it, not what the guest would have written a second later.
assert_contains "$ev" '"event":"power_cut","device":"dut","reason":"on \"CUT%-HERE$\""'
[ "$(count_lines "$out" "CUT-HERE\$")" = 1 ] || fail "the cut line is not logged once"
assert_not_contains "$out/serial-dut.log" "AFTER-CUT"
assert_not_contains "$out/serial-dut.log" "LATE-LINE"
[ "$(dd if="$out/disk-dut.img" bs=512 skip=$((DATA_OFFSET / 512)) count=1 status=none | head -c 5)" = STEP1 ] ||
	fail "STEP1, written before the cut line, is not on the disk"
[ "$(dd if="$out/disk-dut.img" bs=512 skip=$((DATA_OFFSET / 512 + 8)) count=1 status=none | tr -d '\0')" = "" ] ||
	fail "STEP2, written a second after the cut line, reached the disk"

# link(false): no ping, and the check-in channel heard nothing; link(true):
# ping again, and the agent reconnected.
assert_contains "$ev" '"what":"no ping with the cable pulled (got FAILED)","result":"pass"'
assert_contains "$ev" '"what":"ping works once the cable is back (got OK)","result":"pass"'
window "$out" '"event":"link".*"up":false' '"event":"link".*"up":true' |
	grep -qF '"pattern":"vh%-agent: disconnected reason=heartbeat_timeout","result":"matched"' ||
	fail "the check-in channel did not go silent while the cable was out"

# power_cut{on=} on an agent line: "install slot=b progress=40" follows
# "download progress=40" about a millisecond later (one block write); it is
# never logged. The slot holds at least the blocks written before the line
# (O_DIRECT), not the whole bundle, and the env still boots a.
cutline=$(agent_lines "$out" 'vh-agent: ' | tail -1)
grep -q 'vh-agent: download progress=40 bytes=[0-9]*$' <<<"$cutline" ||
	fail "the log's last agent line is not the cut line: $cutline"
assert_not_contains "$out/serial-dut.log" "install slot=b progress=40"
assert_contains "$out/serial-dut.log" "install slot=b progress=30"
at=${cutline##*bytes=}
b2=$(bundle "$out" 2.0.0)
held=$(slot_holds "$out" b "$b2")
# The line counts the block being filled (1..64 KiB of it); the blocks before it are written.
written=$(((at - 1) / 65536 * 65536))
[ "$held" -ge "$written" ] || fail "slot b holds $held bytes, less than the $written written before the cut line"
[ "$held" -lt "$(stat -c %s "$b2")" ] || fail "slot b holds the whole bundle after a cut at 40%"
env_now "$out" >"$WORK/env.txt"
has_lines "$WORK/env.txt" boot_slot=a upgrade_available=0 || fail "env after the agent cut: $(cat "$WORK/env.txt")"
echo "agent cut: at $at bytes received ($written written), slot b holds $held bytes; env boot_slot=a"

# The default wait of expect: 30 s, said in the message, with the last lines.
run_vh default run "$SCENARIOS/expect_default.lua" --artifacts "$WORK/e"
assert_exit default 1
assert_contains "$WORK/default.err" 'expect_default.lua:10: expect "this line never appears" on dut: timed out (timeout 30s)'
secs=$(events "$WORK/e" expect | grep -F '"pattern":"this line never appears"' | field seconds)
float_ge "$secs" 30 || fail "the default expect failed after $secs s, before 30"
float_lt "$secs" 31 || fail "the default expect failed after $secs s, well after 30"
# The 20 complete lines before it (21..40), then the unfinished prompt line.
sed -n '/^last serial lines of dut:$/,$p' "$WORK/default.err" | sed -n 's/^  //p' >"$WORK/last.txt"
[ "$(seq 21 40; echo "vh# ")" = "$(cat "$WORK/last.txt")" ] ||
	fail "the failure's serial lines are not the last 20 and the prompt: $(tr '\n' '|' <"$WORK/last.txt")"
[ -z "$(vh_qemu_pids "$WORK/e")" ] || fail "QEMU left running"
echo "ok: device promises (fields, expect, power_cut{on=}, link, tsc, default timeout $secs s)"
