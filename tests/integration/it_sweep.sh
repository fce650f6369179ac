#!/usr/bin/env bash
# vharness sweep: the shipped update_cut_sweep.lua cut at four install
# steps, two at once. Clean firmware passes every point (a table row each, a junit.xml
# testcase each); a firmware that flips the env before the image is whole
# fails, and the sweep names the point. A cut right after "install
# complete" finds clean firmware on the new slot, and no-fsync-before-flip
# rolled back. A sweep of the update's flushes, two points at once, finds
# the flush that env-write-not-synced needed, and the flush after which
# single-env-copy has lost the env before its flip. Usage errors exit 2.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
SWEEP=("$ROOT/scenarios/update_cut_sweep.lua" --cut-at 'line:vh%-agent: install slot=b progress='
	--max 4 --seed 20261202 --jobs 2)

run_vh badkind sweep "${SWEEP[0]}" --cut-at bytes:3
assert_exit badkind 2
assert_contains "$WORK/badkind.err" "--cut-at takes flush, write or line:PATTERN, not 'bytes:3'"
run_vh badjobs sweep "${SWEEP[0]}" --cut-at flush --jobs 0
assert_exit badjobs 2
assert_contains "$WORK/badjobs.err" "--jobs takes auto or a number from 1 to 64, not '0'"
# A sweep's variables left in a shell do not steer a plain run: it cuts
# nothing (honoured, the cut at the first line would end in a configuration
# error: the scenario declares no after-loss check) and passes as itself.
VH_SWEEP_LINE=. VH_SWEEP_CUT=dut:1 run_vh stray run "$SCENARIOS/pass_after_boot.lua" --artifacts "$WORK/stray"
assert_exit stray 0
assert_not_contains "$WORK/stray/events.jsonl" '"event":"sweep_cut"'

run_vh clean sweep "${SWEEP[@]}" --artifacts "$WORK/clean"
assert_exit clean 0
for p in 10 20 30 40; do
	grep -Eq "^[1-4] +dut +line [1-4] +vh-agent: install slot=b progress=$p +pass \(slot a 1\.0\.0\)$" \
		"$WORK/clean.out" || fail "clean: no passing row for progress=$p"
done
assert_contains "$WORK/clean.out" '4 of 4 cut points passed'
[ "$(grep -c '<testcase ' "$WORK/clean/junit.xml")" = 4 ] || fail "clean: junit.xml lacks 4 testcases"
assert_not_contains "$WORK/clean/junit.xml" '<failure'
for p in 1 2 3 4; do
	assert_contains "$WORK/clean/point-00$p/events.jsonl" "\"event\":\"sweep_cut\",\"device\":\"dut\",\"kind\":\"line\",\"point\":$p"
done

# Two points are enough to fail (every install step fails with this bug).
run_vh bug sweep "${SWEEP[@]}" --max 2 --artifacts "$WORK/bug" -D bugs=flip-env-before-image-complete
assert_exit bug 1
assert_contains "$WORK/bug.out" 'check failed (slot a 1.0.0): '
assert_contains "$WORK/bug.out" 'the env named a slot that cannot boot'
assert_contains "$WORK/bug.out" 'events around the cut'
assert_contains "$WORK/bug/junit.xml" '<testcase name="point-001"'
assert_contains "$WORK/bug/junit.xml" '<failure'
[ -z "$(vh_qemu_pids "$WORK/clean/point-004" "$WORK/bug/point-002")" ] || fail "QEMU left running"

# The cut after the flip: clean firmware boots b 2.0.0 (the check gets the
# cut's line); without the slot's fsync the tail is lost and it rolls back.
FLIP=("$ROOT/scenarios/update_cut_sweep.lua" --cut-at 'line:vh%-agent: install complete' --seed 7)
# The two sweeps of one point each run side by side (a guest each).
run_vh flip sweep "${FLIP[@]}" --artifacts "$WORK/flip" >"$WORK/flip.log" &
run_vh nofsync sweep "${FLIP[@]}" --artifacts "$WORK/nofsync" -D bugs=no-fsync-before-flip >"$WORK/nofsync.log" &
wait
cat "$WORK/flip.log" "$WORK/nofsync.log"
assert_exit flip 0
grep -Eq '^1 +dut +line 1 +vh-agent: install complete slot=b +pass \(slot b 2\.0\.0\)$' "$WORK/flip.out" ||
	fail "flip: no pass on slot b after the cut at install complete"
assert_exit nofsync 1
assert_contains "$WORK/nofsync.out" 'a cut after "install complete" boots the new slot b (got a)'
assert_contains "$WORK/nofsync/point-001/events.jsonl" '"rollback_from":"b"'
# The update's flushes, two points at once: env-write-not-synced's env flip
# reaches the flash only with the reboot's sync(), so the cut at that flush,
# after "install complete", finds the device on slot a. Its recording run
# fails too (the commit never reaches the flash), and the sweep goes on.
run_vh flush sweep "$ROOT/scenarios/update_cut_sweep.lua" --cut-at flush \
	--from 'vh%-agent: install slot=b' --jobs 2 --seed 3 --artifacts "$WORK/flush" \
	-D bugs=env-write-not-synced
assert_exit flush 1
assert_contains "$WORK/flush.out" 'the recording run failed (above); sweeping the points'
assert_contains "$WORK/flush.out" ', 2 at once'
grep -Eq '^[0-9]+ +dut +flush [0-9]+ +.*check failed \(slot a 1\.0\.0\): .*a cut after "install complete" boots the new slot b \(got a\)$' \
	"$WORK/flush.out" || fail "flush: no failing flush point on slot a after install complete"
grep -Eq '^1 +dut +flush 1 +vh-agent: install slot=b progress=100 +pass \(slot a 1\.0\.0\)$' \
	"$WORK/flush.out" || fail "flush: the slot's fsync (flush 1) did not pass on slot a"
assert_contains "$WORK/flush/junit.xml" '<failure'
[ -z "$(vh_qemu_pids "$WORK/flush/point-001" "$WORK/flush/point-002" "$WORK/flush/point-003")" ] ||
	fail "QEMU left running"
# single-env-copy overwrites the env copy in use: once that store is on the
# flash (the reboot's sync, the middle of the 5 flush points), the two copies
# the cut leaves are two stores apart (cut.env_copies), and the env before
# the flip is gone. The first and last points (the slot's fsync, the commit)
# pass: the in-place store is not yet flushed there.
run_vh single sweep "$ROOT/scenarios/update_cut_sweep.lua" --cut-at flush \
	--from 'vh%-agent: install slot=b' --max 3 --jobs 2 --seed 11 --artifacts "$WORK/single" \
	-D bugs=single-env-copy
assert_exit single 1
grep -Eq '^2 +dut +flush 3 +.*check failed \(slot b 2\.0\.0\): .*at the cut the env copies were one store apart \(flags [0-9]+ and [0-9]+\)' \
	"$WORK/single.out" || fail "single: the middle flush point did not find the copies two stores apart"
grep -Eq '^1 +dut +flush 1 +.*pass \(slot a 1\.0\.0\)$' "$WORK/single.out" ||
	fail "single: the slot's fsync (flush 1) did not pass"
[ -z "$(vh_qemu_pids "$WORK/single/point-001" "$WORK/single/point-002" "$WORK/single/point-003")" ] ||
	fail "QEMU left running"
echo "ok: clean firmware passes every cut point; flip-env-before-image-complete, no-fsync-before-flip, env-write-not-synced and single-env-copy fail one"
