#!/usr/bin/env bash
# A reference guest boots and passes: exit 0, artifacts written, guest reaches
# the host side by ping and TCP, and the host's own namespace is unchanged.
. "$(dirname "$0")/lib.sh"
before=$("$HERE/host_net_snapshot.sh")
out=$WORK/artifacts
"$VHARNESS" run "$SCENARIOS/boot_pass.lua" --artifacts "$out" >"$WORK/run.out" 2>"$WORK/run.err" &
vh=$!
# Listen for the guest's TCP connection inside the run's own namespace.
for _ in $(seq 100); do
	grep -q '"event":"network"' "$out/events.jsonl" 2>/dev/null && break
	sleep 0.1
done
runpid=$(grep -o '"event":"run_start".*"pid":[0-9]*' "$out/events.jsonl" | grep -o '[0-9]*$')
[ -n "$runpid" ] || fail "no run_start pid in events.jsonl"
nsenter -t "$runpid" -n busybox nc -l -p 7777 >"$WORK/tcp.txt" 2>&1 &
nc_pid=$!
rc=0
wait "$vh" || rc=$?
kill "$nc_pid" 2>/dev/null
wait "$nc_pid" 2>/dev/null
cat "$WORK/run.out" "$WORK/run.err"
[ "$rc" = 0 ] || fail "exit $rc, expected 0"
assert_contains "$WORK/run.out" "PASS"
assert_contains "$WORK/tcp.txt" "tcp-from-guest"
for f in serial-dut.log events.jsonl junit.xml; do [ -s "$out/$f" ] || fail "artifact $f missing"; done
grep -qE '^\[ *[0-9]+\.[0-9]{6}\] vh-agent: boot slot=a' "$out/serial-dut.log" || fail "serial log lines are not timestamped"
for ev in run_start network device power_on expect check verdict power_off; do
	assert_contains "$out/events.jsonl" "\"event\":\"$ev\""
done
assert_contains "$out/junit.xml" 'failures="0"'
after=$("$HERE/host_net_snapshot.sh")
[ "$before" = "$after" ] || fail "host namespace changed: $(diff <(echo "$before") <(echo "$after"))"
[ -z "$(vh_qemu_pids "$out")" ] || fail "QEMU left running: $(vh_qemu_pids "$out")"
echo "ok: boot, console, ping, TCP, artifacts, host namespace unchanged"
