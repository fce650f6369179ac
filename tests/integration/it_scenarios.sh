#!/usr/bin/env bash
# Every shipped scenario passes with the clean reference firmware. Most of
# them already run clean in the test that studies them (next to each planted
# bug with the same seed, the Mender and RAUC clients, the fleet, the sweep's recording
# run): running them again here would only cost CI minutes. So this test
# checks that each shipped scenario is either run clean by the test the
# table names (the test mentions it and asserts a clean exit 0), or runs it
# here, as a suite (twice each, two at a time, the suite's junit and summary). A
# new scenario nobody runs fails the test until it is listed or runs here.
. "$(dirname "$0")/lib.sh"
cd "$WORK" || fail "cannot enter $WORK"
root=$(cd "$HERE/../.." && pwd)
declare -A elsewhere=(
	[flaky_ota]=it_planted_bugs.sh
	[power_cut_sweep]=it_planted_bugs.sh
	[rollback_bad_image]=it_planted_bugs.sh
	[flash_fault_ota]=it_flash_fault.sh
	[update_cut_sweep]=it_sweep.sh
	[fleet_rollout]=it_fleet_rollout.sh
	[mender_ota]=it_mender.sh
	[mender_rollback]=it_mender.sh
	[rauc_ota]=it_rauc.sh
	[rauc_rollback]=it_rauc.sh
)
here=()
for s in "$root"/scenarios/*.lua; do
	stem=$(basename "$s" .lua)
	t=${elsewhere[$stem]:-}
	if [ -z "$t" ]; then
		here+=("$s")
		continue
	fi
	grep -q "$stem" "$HERE/$t" || fail "$stem: $t does not run it"
	grep -q 'assert_exit [a-z"$]* *0$' "$HERE/$t" || fail "$stem: $t asserts no clean exit 0"
	echo "$stem: run clean by $t"
done
[ ${#here[@]} -gt 0 ] || fail "no scenario left to run here"
rc=0
# Twice each, with fresh seeds: a suite even when one scenario is left.
"$VHARNESS" run "${here[@]}" --repeat 2 --jobs 2 >"$WORK/suite.out" 2>&1 || rc=$?
cat "$WORK/suite.out"
[ "$rc" = 0 ] || fail "shipped scenarios: exit $rc"
assert_contains "$WORK/suite.out" "$((2 * ${#here[@]})) passed, 0 failed"
assert_contains "$WORK/vharness-out/junit.xml" "tests=\"$((2 * ${#here[@]}))\" failures=\"0\""
for d in "$WORK"/vharness-out/*/; do
	[ -z "$(vh_qemu_pids "$d")" ] || fail "QEMU left running for $d"
done
echo "ok: shipped scenarios (${#here[@]} run here, the rest where they are studied)"
