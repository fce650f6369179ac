#!/usr/bin/env bash
# The composite action's steps (scripts/github-action.sh run, as action.yml
# calls it) with GITHUB_* files in a temporary directory: the verdict table
# lands on the step summary, the outputs say the verdict, and the exit code
# is vharness's. The scenarios boot nothing: this is about the action.
. "$(dirname "$0")/lib.sh"
root=$(cd "$HERE/../.." && pwd)
export VH_BUILD_DIR
VH_BUILD_DIR=$(dirname "$VHARNESS")
export GITHUB_STEP_SUMMARY=$WORK/step-summary.md GITHUB_OUTPUT=$WORK/output
: >"$GITHUB_STEP_SUMMARY"
: >"$GITHUB_OUTPUT"

action() { # NAME, then INPUT_* from the environment
	local rc=0
	(cd "$WORK" && "$root/scripts/github-action.sh" run) >"$WORK/$1.out" 2>&1 || rc=$?
	echo "$rc" >"$WORK/$1.rc"
	sed 's/^/  | /' "$WORK/$1.out" | tail -15
}

INPUT_SCENARIOS="$SCENARIOS/suite" INPUT_PARAMS=$'fail=yes\nother=1' INPUT_JOBS=2 \
	INPUT_ARTIFACTS=out1 action fail
assert_exit fail 1
assert_contains "$GITHUB_STEP_SUMMARY" "### vharness: 2 passed, 1 failed"
assert_contains "$GITHUB_STEP_SUMMARY" "| b |  | **FAIL** |"
assert_contains "$GITHUB_OUTPUT" "verdict=FAIL"
assert_contains "$GITHUB_OUTPUT" "exit-code=1"
assert_contains "$GITHUB_OUTPUT" "junit=out1/junit.xml"
assert_contains "$WORK/out1/junit.xml" 'tests="3" failures="1"'

: >"$GITHUB_STEP_SUMMARY"
: >"$GITHUB_OUTPUT"
INPUT_SCENARIOS="$SCENARIOS/suite/a.lua" INPUT_SHARD=1/1 INPUT_ARTIFACTS=out2 action pass
assert_exit pass 0
assert_contains "$GITHUB_STEP_SUMMARY" "### vharness: 1 passed, 0 failed"
assert_contains "$GITHUB_OUTPUT" "verdict=PASS"
[ -f "$WORK/out2/junit.xml" ] || fail "one run: no junit.xml"

: >"$GITHUB_OUTPUT"
INPUT_SCENARIOS="$WORK/no-such.lua" INPUT_ARTIFACTS=out3 action missing
assert_exit missing 2
assert_contains "$GITHUB_OUTPUT" "verdict=ERROR"
echo "ok: the action's steps"
