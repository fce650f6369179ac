#!/usr/bin/env bash
# Each reference firmware build says its own version: booted from a 2.0.0
# bundle, the agent prints version=2.0.0 although the kernel command line
# ends with vh.version=9.9.9 (the QEMU command line shows both).
. "$(dirname "$0")/lib.sh"
out=$WORK/artifacts
run_vh release run "$SCENARIOS/release_version.lua" --artifacts "$out"
assert_exit release 0
assert_contains "$out/serial-dut.log" "vh-agent: boot slot=a version=2.0.0 bootcount=0"
assert_not_contains "$out/serial-dut.log" "version=9.9.9 bootcount"
assert_not_contains "$out/serial-dut.log" "vh-agent: release"
grep -q 'vh\.version=9\.9\.9' "$out/events.jsonl" "$out/serial-dut.log" ||
	fail "the kernel command line did not claim 9.9.9"
[ -z "$(vh_qemu_pids "$out")" ] || fail "QEMU left running"
echo "ok: the firmware reports the version its build carries"
