#!/usr/bin/env bash
# The suite runner: a directory of scenarios, runs at once, the matrix,
# repeats, the suite's junit.xml, summary.md, index.html and timings.txt, shards
# balanced by those timings, and the exit code of the worst run. The
# scenarios boot nothing: this is about the runner.
. "$(dirname "$0")/lib.sh"
suite=$SCENARIOS/suite

count() { # FILE TEXT: how many lines hold TEXT
	grep -cF -- "$2" "$1" || true
}

# 1. A directory, two at a time.
run_vh dir run "$suite" --jobs 2 --artifacts "$WORK/s1"
assert_exit dir 0
assert_contains "$WORK/dir.out" "3 runs, 2 at once"
assert_contains "$WORK/dir.out" "3 passed, 0 failed"
for id in a b sub-c; do
	[ -f "$WORK/s1/$id/junit.xml" ] || fail "no junit.xml for $id"
	[ -f "$WORK/s1/$id/output.log" ] || fail "no output.log for $id (runs at once speak to files)"
	assert_contains "$WORK/s1/$id/verdict.txt" "verdict PASS"
	[ -s "$WORK/s1/$id/report.html" ] || fail "no report.html for $id"
	[ -s "$WORK/s1/$id/trace.json" ] || fail "no trace.json for $id"
	assert_contains "$WORK/s1/index.html" "<a href=\"$id/report.html\">$id</a>"
done
assert_contains "$WORK/s1/index.html" "<title>vharness suite: 3 of 3 passed</title>"
assert_contains "$WORK/s1/junit.xml" 'tests="3" failures="0" errors="0" skipped="0"'
assert_contains "$WORK/s1/junit.xml" '<testcase name="sub-c"'
assert_contains "$WORK/s1/summary.md" "| [sub-c](sub-c/report.html) |  | PASS |"
assert_contains "$WORK/s1/timings.txt" "sub-c 1."

# 2. The matrix: every value, the worst verdict as the exit code.
run_vh matrix run "$suite/b.lua" "$suite/a.lua" --matrix fail=no,yes --jobs 2 --artifacts "$WORK/s2"
assert_exit matrix 1
assert_contains "$WORK/matrix.out" "3 passed, 1 failed"
assert_contains "$WORK/s2/junit.xml" 'tests="4" failures="1"'
assert_contains "$WORK/s2/junit.xml" '<testcase name="b.fail=yes"'
assert_contains "$WORK/s2/b.fail=yes/verdict.txt" "check failed: asked to fail"
assert_contains "$WORK/s2/summary.md" "| [b.fail=yes](b.fail=yes/report.html) | fail=yes | **FAIL** |"
assert_contains "$WORK/s2/index.html" '<a href="b.fail=yes/report.html">b.fail=yes</a>'
assert_contains "$WORK/s2/index.html" '<td class="v ">FAIL</td>'
assert_contains "$WORK/s2/b.fail=yes/report.html" 'check failed: asked to fail'

# 3. Repeats with fresh seeds and a pass rate.
run_vh repeat run "$suite/a.lua" --repeat 3 --seed 5 --artifacts "$WORK/s3"
assert_exit repeat 0
assert_contains "$WORK/repeat.out" "a.lua: 3/3 (100%)"
for r in 1 2 3; do
	assert_contains "$WORK/s3/a.r$r/events.jsonl" "\"message\":\"seed $((4 + r))\""
done

# 4. Shards balanced by the first run's timings: each run exactly once.
run_vh shard1 run "$suite" --shard 1/2 --timings "$WORK/s1/timings.txt" --artifacts "$WORK/s4"
run_vh shard2 run "$suite" --shard 2/2 --timings "$WORK/s1/timings.txt" --artifacts "$WORK/s5"
assert_exit shard1 0
assert_exit shard2 0
# sub-c is the long one (1 s): alone in its shard, the two short ones in the other.
[ -d "$WORK/s4/sub-c" ] || fail "shard 1 did not take the longest run"
{ [ -d "$WORK/s5/a" ] && [ -d "$WORK/s5/b" ]; } || fail "shard 2 did not take the two short runs"
{ [ ! -d "$WORK/s5/sub-c" ] && [ ! -d "$WORK/s4/a" ]; } || fail "a run ran in both shards"

# 5. --jobs auto, and a broken member makes the suite exit 2.
mkdir -p "$WORK/broken"
cp "$suite/a.lua" "$WORK/broken/"
printf 'local x = = 1\n' >"$WORK/broken/syntax.lua"
run_vh auto run "$WORK/broken" --jobs auto --artifacts "$WORK/s6"
assert_exit auto 2
# auto says what it counted: idle cores (cores minus load) and free memory
assert_contains "$WORK/auto.out" "at once (--jobs auto: "
assert_contains "$WORK/s6/junit.xml" 'type="config"'
[ "$(count "$WORK/s6/timings.txt" " ")" -ge 2 ] || fail "timings.txt lacks runs"
run_vh nodir run "$WORK/s6/a" --artifacts "$WORK/s7"
assert_exit nodir 2
assert_contains "$WORK/nodir.err" "holds no scenario"
echo "ok: the suite runner"
