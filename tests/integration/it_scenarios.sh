#!/usr/bin/env bash
# Every shipped scenario passes with the clean reference firmware, as a suite
# (two at a time, junit per scenario, the "N passed, N failed" summary). The
# Mender scenarios boot the Mender image instead: it_mender runs them, with
# their planted mistakes, and they are not run twice here; neither is
# fleet_rollout, ten devices by default, which it_fleet_rollout runs on four.
. "$(dirname "$0")/lib.sh"
cd "$WORK" || fail "cannot enter $WORK"
root=$(cd "$HERE/../.." && pwd)
rc=0
shipped=()
for s in "$root"/scenarios/*.lua; do
	case $(basename "$s") in mender_* | fleet_rollout.lua) ;; *) shipped+=("$s") ;; esac
done
"$VHARNESS" run "${shipped[@]}" --jobs 2 >"$WORK/suite.out" 2>&1 || rc=$?
cat "$WORK/suite.out"
[ "$rc" = 0 ] || fail "shipped scenarios: exit $rc"
n=${#shipped[@]}
assert_contains "$WORK/suite.out" "$n passed, 0 failed"
for s in "${shipped[@]}"; do
	stem=$(basename "$s" .lua)
	assert_contains "$WORK/vharness-out/$stem/junit.xml" 'failures="0"'
	[ -z "$(vh_qemu_pids "$WORK/vharness-out/$stem")" ] || fail "QEMU left running for $stem"
done
# flaky_ota's artifacts tell its story.
ev=$WORK/vharness-out/flaky_ota/events.jsonl
log=$WORK/vharness-out/flaky_ota/serial-dut.log
assert_contains "$ev" '"event":"power_cut"'
assert_contains "$ev" '"event":"partition"'
assert_contains "$log" "vh-agent: download resumed offset="
assert_contains "$log" "vh-agent: commit slot=b"
grep -q '"event":"boot_choice","device":"dut","slot":"a"' "$ev" || fail "no boot on slot a after the cut"
echo "ok: shipped scenarios"
