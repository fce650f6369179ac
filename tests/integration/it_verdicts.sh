#!/usr/bin/env bash
# Issue 14: every run ends, and ends with an honest verdict. A scenario busy
# in Lua fails at --timeout naming its line, and Ctrl-C, SIGTERM or kill -9
# of vharness in the middle of it leave nothing behind; Ctrl-C stops a
# suite; os.exit and lost spawn errors cannot pass; overlapping networks
# and empty scenarios are configuration errors.
. "$(dirname "$0")/lib.sh"
before=$("$HERE/host_net_snapshot.sh")

wait_for_event() { # ARTIFACTS_DIR EVENT
	for _ in $(seq 300); do
		grep -q "\"event\":\"$2\"" "$1/events.jsonl" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "no $2 event in $1"
}

wait_no_qemu() { # ARTIFACTS_DIR
	for _ in $(seq 100); do
		[ -z "$(vh_qemu_pids "$1")" ] && return 0
		sleep 0.1
	done
	fail "QEMU left running for $1: $(vh_qemu_pids "$1")"
}

# 1. A busy loop fails at --timeout with its file:line. (The issue's 10 s
#    leaves too little room for a boot on a loaded CI machine.)
start=$(date +%s)
run_vh busy run "$SCENARIOS/busy_after_boot.lua" --timeout 40s --artifacts "$WORK/busy"
took=$(($(date +%s) - start))
assert_exit busy 1
assert_contains "$WORK/busy.err" "busy_after_boot.lua:8: scenario did not finish within 40s (--timeout)"
assert_contains "$WORK/busy/junit.xml" '<failure'
[ "$took" -lt 55 ] || fail "a 40 s --timeout took ${took}s"
wait_no_qemu "$WORK/busy"

# 2. Ctrl-C, SIGTERM, and kill -9 of the parent in the middle of the busy loop.
for sig in INT TERM KILL; do
	dir=$WORK/sig-$sig
	setsid "$VHARNESS" run "$SCENARIOS/busy_after_boot.lua" --artifacts "$dir" \
		>"$dir.out" 2>"$dir.err" &
	leader=$!
	wait_for_event "$dir" expect
	sleep 0.5 # inside the loop now
	[ -n "$(vh_qemu_pids "$dir")" ] || fail "$sig: no QEMU running in the busy loop"
	rc=0
	if [ "$sig" = KILL ]; then
		kill -KILL "$leader" # the parent only: its scenario child must wind down
		wait "$leader" 2>/dev/null || true
	else
		kill -"$sig" "$leader"
		wait "$leader" || rc=$?
		want=$([ "$sig" = INT ] && echo 130 || echo 143)
		[ "$rc" = "$want" ] || fail "SIG$sig: exit $rc, expected $want"
		assert_contains "$dir.err" "CANCELLED"
		assert_contains "$dir/junit.xml" 'type="cancelled"'
		# A cancelled run still gets its report, with that verdict.
		assert_contains "$dir/report.html" 'id="verdict">CANCELLED<'
	fi
	wait_no_qemu "$dir"
	# The scenario's own process is gone too (its pid is in run_start).
	pid=$(grep -o '"event":"run_start".*"pid":[0-9]*' "$dir/events.jsonl" | grep -o '[0-9]*$')
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$pid" 2>/dev/null || fail "SIG$sig: the scenario process $pid is still running"
done

# 3. Ctrl-C stops a suite: the second scenario never starts.
setsid "$VHARNESS" run "$HERE/../../scenarios/boot.lua" "$HERE/../../scenarios/rollback_bad_image.lua" \
	--artifacts "$WORK/suite" >"$WORK/suite.out" 2>"$WORK/suite.err" &
leader=$!
sleep 4
kill -INT -- -"$leader"
rc=0
wait "$leader" || rc=$?
cat "$WORK/suite.out" "$WORK/suite.err"
[ "$rc" = 130 ] || fail "suite Ctrl-C: exit $rc, expected 130"
assert_contains "$WORK/suite.out" "1 cancelled, 1 not run (interrupted)"
[ ! -e "$WORK/suite/rollback_bad_image" ] || fail "the second scenario started after Ctrl-C"
assert_contains "$WORK/suite/boot/junit.xml" 'type="cancelled"'
wait_no_qemu "$WORK/suite/boot"

# 4. Nothing a scenario does leaves without a verdict, or passes by accident.
run_vh exit0 run "$SCENARIOS/os_exit_after_boot.lua" --artifacts "$WORK/exit0"
assert_exit exit0 2
assert_contains "$WORK/exit0.err" "os_exit_after_boot.lua:6: os.exit() would end vharness without a verdict"
assert_contains "$WORK/exit0/junit.xml" 'type="config"'
run_vh spawnerr run "$SCENARIOS/spawn_error_only.lua" --artifacts "$WORK/spawnerr"
assert_exit spawnerr 2
assert_contains "$WORK/spawnerr.err" "spawn_error_only.lua:2: x"
run_vh empty run "$SCENARIOS/empty.lua" --artifacts "$WORK/empty"
assert_exit empty 2
assert_contains "$WORK/empty.err" "has nothing to run"
run_vh errtab run "$SCENARIOS/error_table.lua" --artifacts "$WORK/errtab"
assert_exit errtab 2
assert_contains "$WORK/errtab.err" "error_table.lua:3: error object is a table"
run_vh overlap run "$SCENARIOS/overlapping_networks.lua" --artifacts "$WORK/overlap"
assert_exit overlap 2
assert_contains "$WORK/overlap.err" "overlapping_networks.lua:3: vh.network{}: network 'lab' (10.77.0.0/16) overlaps network 'lan' (10.77.0.0/24)"
run_vh overlap_check check "$SCENARIOS/overlapping_networks.lua"
assert_exit overlap_check 2
run_vh netem_empty netem ""
assert_exit netem_empty 2
assert_contains "$WORK/netem_empty.err" 'empty spec: say "none" for no impairment'

after=$("$HERE/host_net_snapshot.sh")
[ "$before" = "$after" ] || fail "host namespace changed: $(diff <(echo "$before") <(echo "$after"))"
echo "ok: honest verdicts"
