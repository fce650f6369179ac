#!/usr/bin/env bash
# --snapshot-boot: reference devices start from a machine saved once per
# firmware build (harness/machine/snapshot.c, docs/fleet.md "Snapshot boot").
# - Four devices of one build (fleet_partition.lua, user backend): one template
#   is saved, all four start from it, and each is its own device afterwards:
#   its own name, address and MAC (the datapath's group partition allows
#   frames by MAC, and the probes cross inside a group and not between).
#   The identity line the harness writes is not echoed into the transcript.
# - flaky_ota.lua: the update's power cut, reboots and the new version's
#   trial boot all start from snapshots (one per version) and the run passes.
# Nothing is left behind: no QEMU (templates included), no RAM or state file.
. "$(dirname "$0")/lib.sh"
before=$("$HERE/host_net_snapshot.sh")

out=$WORK/fleet
run_vh fleet run "$SCENARIOS/fleet_partition.lua" --backend user --snapshot-boot --artifacts "$out"
assert_exit fleet 0
ev=$out/events.jsonl
[ "$(grep -c '"event":"snapshot",.*"outcome":"saved"' "$ev")" = 1 ] ||
	fail "fleet: expected one template saved: $(grep '"event":"snapshot"' "$ev")"
[ "$(grep -c '"event":"power_on",.*"from":"snapshot"' "$ev")" = 4 ] ||
	fail "fleet: not every power-on started from the snapshot"
ips=""
for d in f1 f2 f3 f4; do
	log=$out/serial-$d.log
	# The first agent line after the restore is the device's own boot line.
	first=$(grep -m1 'vh-agent:' "$log")
	case $first in *"vh-agent: boot slot=a version="*) ;; *) fail "$d: first agent line: $first" ;; esac
	ip=$(sed -nE 's/.*vh-agent: net up ip=([0-9.]+).*/\1/p' "$log" | head -1)
	[ -n "$ip" ] || fail "$d: no net up line"
	ips="$ips $ip"
	assert_not_contains "$log" "vh-identity:"
	grep -q 'PROBE-split in=OK out=NO host=NO' "$log" || fail "$d: the partition by MAC did not hold"
done
[ "$(echo "$ips" | tr ' ' '\n' | sed '/^$/d' | sort -u | wc -l)" = 4 ] ||
	fail "fleet: the devices do not have four addresses:$ips"
[ -z "$(vh_qemu_pids "$out")" ] || fail "fleet: QEMU left running"
left=$(find "$out/snapshots" -name '*.ram' -o -name '*.state*')
[ -z "$left" ] || fail "fleet: snapshot files left: $left"

out=$WORK/ota
run_vh ota run "$(dirname "$0")/../../scenarios/flaky_ota.lua" --snapshot-boot --artifacts "$out"
assert_exit ota 0
ev=$out/events.jsonl
[ "$(grep -c '"event":"snapshot",.*"outcome":"saved"' "$ev")" = 2 ] ||
	fail "ota: expected a template for each version: $(grep '"event":"snapshot"' "$ev")"
ons=$(grep -c '"event":"power_on"' "$ev")
[ "$ons" -ge 3 ] || fail "ota: only $ons power-ons"
[ "$(grep -c '"event":"power_on",.*"from":"snapshot"' "$ev")" = "$ons" ] ||
	fail "ota: a power-on did not start from a snapshot"
assert_contains "$out/serial-dut.log" "vh-agent: commit slot=b"
[ -z "$(vh_qemu_pids "$out")" ] || fail "ota: QEMU left running"

after=$("$HERE/host_net_snapshot.sh")
[ "$before" = "$after" ] || fail "host namespace changed: $(diff <(echo "$before") <(echo "$after"))"
echo "ok: snapshot boot: one template per build, each device itself after the restore"
