#!/usr/bin/env bash
# vharness sweep: the shipped update_cut_sweep.lua cut at four install
# steps. Clean firmware passes every point (a table row each, a junit.xml
# testcase each); a firmware that flips the env before the image is whole
# fails, and the sweep names the point. Usage errors exit 2.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
SWEEP=("$ROOT/scenarios/update_cut_sweep.lua" --cut-at 'line:vh%-agent: install slot=b progress='
	--max 4 --seed 20261202)

run_vh kinds sweep "${SWEEP[0]}" --cut-at flush
assert_exit kinds 2
assert_contains "$WORK/kinds.err" 'not yet'
run_vh badkind sweep "${SWEEP[0]}" --cut-at bytes:3
assert_exit badkind 2
assert_contains "$WORK/badkind.err" 'line:PATTERN'

run_vh clean sweep "${SWEEP[@]}" --artifacts "$WORK/clean"
assert_exit clean 0
for p in 10 20 30 40; do
	grep -Eq "^[1-4] +dut +vh-agent: install slot=b progress=$p +pass \(slot a 1\.0\.0\)$" \
		"$WORK/clean.out" || fail "clean: no passing row for progress=$p"
done
assert_contains "$WORK/clean.out" '4 of 4 cut points passed'
[ "$(grep -c '<testcase ' "$WORK/clean/junit.xml")" = 4 ] || fail "clean: junit.xml lacks 4 testcases"
assert_not_contains "$WORK/clean/junit.xml" '<failure'
for p in 1 2 3 4; do
	assert_contains "$WORK/clean/point-00$p/events.jsonl" "\"event\":\"sweep_cut\",\"device\":\"dut\",\"point\":$p"
done

run_vh bug sweep "${SWEEP[@]}" --artifacts "$WORK/bug" -D bugs=flip-env-before-image-complete
assert_exit bug 1
assert_contains "$WORK/bug.out" 'check failed (slot a 1.0.0): '
assert_contains "$WORK/bug.out" 'the env named a slot that cannot boot'
assert_contains "$WORK/bug.out" 'events around the cut'
assert_contains "$WORK/bug/junit.xml" '<testcase name="point-001"'
assert_contains "$WORK/bug/junit.xml" '<failure'
[ -z "$(vh_qemu_pids "$WORK/clean/point-004" "$WORK/bug/point-004")" ] || fail "QEMU left running"
echo "ok: clean firmware passes every cut point; flip-env-before-image-complete fails one"
