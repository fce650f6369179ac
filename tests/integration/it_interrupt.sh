#!/usr/bin/env bash
# Ctrl-C mid-boot (SIGINT to the whole process group, as a terminal sends it)
# and kill -9 of every vharness process both leave no QEMU process and no link
# behind, and the host namespace as it was.
. "$(dirname "$0")/lib.sh"
before=$("$HERE/host_net_snapshot.sh")

wait_for_power_on() { # ARTIFACTS_DIR
	for _ in $(seq 150); do
		grep -q '"event":"power_on"' "$1/events.jsonl" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "the guest never powered on"
}

# 1. Ctrl-C: setsid gives the run its own process group to signal.
setsid "$VHARNESS" run "$SCENARIOS/long_boot.lua" --artifacts "$WORK/c" >"$WORK/c.out" 2>"$WORK/c.err" &
leader=$!
wait_for_power_on "$WORK/c"
sleep 0.5 # mid-boot
[ -n "$(vh_qemu_pids "$WORK/c")" ] || fail "no QEMU running mid-boot"
kill -INT -- -"$leader"
rc=0
wait "$leader" || rc=$?
cat "$WORK/c.err"
# Cancelled, not broken: 130 as a shell reports Ctrl-C, not 3 (a harness fault).
[ "$rc" = 130 ] || fail "Ctrl-C: exit $rc, expected 130"
assert_contains "$WORK/c.err" "CANCELLED"
assert_contains "$WORK/c.err" "cancelled by SIGINT"
assert_contains "$WORK/c/junit.xml" 'type="cancelled"'
assert_contains "$WORK/c/events.jsonl" '"verdict":"CANCELLED"'
[ -z "$(vh_qemu_pids "$WORK/c")" ] || fail "Ctrl-C left QEMU running: $(vh_qemu_pids "$WORK/c")"
assert_contains "$WORK/c/events.jsonl" '"event":"power_off"'

# 2. kill -9 of the harness (parent and scenario child): PDEATHSIG ends QEMU,
#    the kernel removes the namespace with its bridge and tap.
setsid "$VHARNESS" run "$SCENARIOS/long_boot.lua" --artifacts "$WORK/k" >"$WORK/k.out" 2>&1 &
leader=$!
wait_for_power_on "$WORK/k"
sleep 0.5
# The parent this test started and the scenario process run_start recorded.
child=$(sed -n 's/.*"event":"run_start".*"pid":\([0-9]*\).*/\1/p' "$WORK/k/events.jsonl")
[ -n "$child" ] || fail "no scenario process pid in run_start"
kill -9 "$leader" "$child"
wait "$leader" 2>/dev/null
for _ in $(seq 50); do
	[ -z "$(vh_qemu_pids "$WORK/k")" ] && break
	sleep 0.1
done
[ -z "$(vh_qemu_pids "$WORK/k")" ] || fail "kill -9 left QEMU running: $(vh_qemu_pids "$WORK/k")"

after=$("$HERE/host_net_snapshot.sh")
[ "$before" = "$after" ] || fail "host namespace changed: $(diff <(echo "$before") <(echo "$after"))"
echo "ok: Ctrl-C and kill -9 leave nothing behind"
