#!/usr/bin/env bash
# Issue 8, item 8: killed at any moment, nothing lost.
# 1. A Ctrl-C or SIGTERM that lands after the verdict, during the teardown,
#    cancels nothing: vharness exits with the verdict's code.
# 2. A SIGTERM while vharness starts the scenario's process cancels the run.
# 3. Ten seeded kills (SIGINT to the process group, SIGTERM or SIGKILL to
#    vharness) of a two-device OTA run, from start-up to the reboot into the
#    new slot; after each, scripts/chaos-kill checks that no process the run
#    recorded survives, that the host namespace is unchanged and that the
#    exit code and junit.xml say cancelled (or, for a kill before the
#    artifacts directory existed, that there is none). Seed 99 draws every
#    signal in several phases in about three minutes; scripts/chaos-kill
#    -n 100 is the long version.
. "$(dirname "$0")/lib.sh"

wait_for_event() { # ARTIFACTS_DIR EVENT
	for _ in $(seq 600); do
		grep -q "\"event\":\"$2\"" "$1/events.jsonl" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "no $2 event in $1"
}

# 1. A signal that lands after the verdict, while the run tears down (chaos
#    seed 1, kill 40, found it): nothing is cancelled, so the exit code is
#    the verdict's, as junit.xml and the output say (it used to be 130). The
#    guest's QEMU (its pid from power_on) is frozen so that the teardown
#    waits out its grace period for it.
for sig in INT TERM; do
	dir=$WORK/late-$sig
	setsid "$VHARNESS" run "$SCENARIOS/pass_after_boot.lua" --artifacts "$dir" \
		>"$dir.out" 2>"$dir.err" &
	leader=$!
	wait_for_event "$dir" expect
	qemu=$(sed -n 's/.*"event":"power_on".*"pid":\([0-9]*\).*/\1/p' "$dir/events.jsonl")
	[ -n "$qemu" ] || fail "no QEMU pid in power_on"
	kill -STOP "$qemu"
	wait_for_event "$dir" verdict
	if [ "$sig" = INT ]; then kill -INT -- -"$leader"; else kill -TERM "$leader"; fi
	rc=0
	wait "$leader" || rc=$?
	cat "$dir.out" "$dir.err"
	assert_contains "$dir.out" "PASS"
	assert_contains "$dir/junit.xml" 'failures="0" errors="0"'
	[ "$rc" = 0 ] || fail "SIG$sig after a PASS verdict: exit $rc, expected 0 (the verdict)"
	for _ in $(seq 50); do [ -e "/proc/$qemu" ] || break; sleep 0.1; done
	[ ! -e "/proc/$qemu" ] || fail "the frozen QEMU $qemu outlived the run"
done

# 2. A SIGTERM that arrives while vharness starts the scenario's process,
#    after the fork and before the job is in its table (held open for 5 s
#    here: strace delays the parent's pidfd_open), cancels the run. It used
#    to reach nobody: the scenario ran to its end and passed.
dir=$WORK/startup
strace -o /dev/null -e trace=pidfd_open -e inject=pidfd_open:delay_enter=5000000:when=1 \
	"$VHARNESS" run "$SCENARIOS/pass_after_boot.lua" --artifacts "$dir" >"$dir.out" 2>"$dir.err" &
tracer=$!
vh=
for _ in $(seq 100); do
	vh=$(pgrep -P "$tracer" -x vharness) && [ -d "$dir" ] && break
	sleep 0.05
done
{ [ -n "$vh" ] && [ -d "$dir" ]; } || fail "vharness did not start its scenario under strace"
kill -TERM "$vh"
rc=0
wait "$tracer" || rc=$?
cat "$dir.out" "$dir.err"
[ "$rc" = 143 ] || fail "SIGTERM while starting the scenario: exit $rc, expected 143"
assert_contains "$dir/junit.xml" 'type="cancelled"'

# 3. Ten kills at random moments.
"$HERE/../../scripts/chaos-kill" -n 10 --seed 99 --vharness "$VHARNESS" --work "$WORK/chaos" \
	"$SCENARIOS/chaos_ota.lua" || fail "a kill left something behind or no honest verdict (above)"
echo "ok: a late signal keeps the verdict; ten kills at random moments left nothing behind"
