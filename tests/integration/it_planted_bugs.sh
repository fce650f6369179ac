#!/usr/bin/env bash
# Each planted bug in the reference firmware makes a shipped scenario fail,
# for the reason the scenario states (it_scenarios shows the clean firmware
# passes them all). One catching scenario per bug keeps this affordable; the
# full bug x scenario matrix is in the issue notes.
. "$(dirname "$0")/lib.sh"
root=$(cd "$HERE/../.." && pwd)
cd "$WORK"
catch() { # BUG SCENARIO EXPECTED-MESSAGE
	run_vh "$1" run "$root/scenarios/$2.lua" --artifacts "$WORK/$1" -D bugs="$1"
	assert_exit "$1" 1
	assert_contains "$WORK/$1.err" "$3"
	[ -z "$(vh_qemu_pids "$WORK/$1")" ] || fail "QEMU left running for $1"
}
catch flip-env-before-image-complete power_cut_sweep "check failed: cut at install progress"
catch commit-before-healthy rollback_bad_image 'expect_not "vh%-agent: commit" on dut: seen:'
catch no-fsync-before-flip power_cut_sweep "check failed: first boot after a cut right after the flip runs 2.0.0 from b (got 1.0.0 from a)"
catch no-range-resume flaky_ota 'expect "vh%-agent: download resumed offset=[1-9]%d*" on dut: timed out'
catch single-env-copy power_cut_sweep "check failed: the flip wrote the other env copy"
catch no-backoff flaky_ota 'expect_not "vh%-agent: connect failed server=%S+ attempt=%d%d" on dut: seen'
echo "ok: planted bugs are caught"
