#!/usr/bin/env bash
# An unprivileged user runs a scenario: the harness enters a user namespace
# as well as a network namespace, creates its bridge and tap as the mapped
# root, and the guest boots and reaches the host side.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || vh_skip "needs root to become an unprivileged user"
setpriv --reuid=65534 --regid=65534 --clear-groups unshare -Urn true 2>/dev/null ||
	vh_skip "unprivileged user namespaces are disabled here"
chmod 755 "$WORK"
mkdir -m 777 "$WORK/out" "$WORK/home"
cp "$SCENARIOS/../../../scenarios/boot.lua" "$WORK/boot.lua"
chmod 644 "$WORK/boot.lua"
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$WORK/home" \
	"$VHARNESS" run "$WORK/boot.lua" --artifacts "$WORK/out/r" >"$WORK/r.out" 2>&1 || rc=$?
cat "$WORK/r.out"
[ "$rc" = 0 ] || fail "rootless run: exit $rc"
assert_contains "$WORK/out/r/events.jsonl" '"event":"verdict","verdict":"PASS"'
[ "$(stat -c %u "$WORK/out/r/serial-dut.log")" = 65534 ] || fail "artifacts not owned by the user"
[ -z "$(vh_qemu_pids "$WORK/out/r")" ] || fail "QEMU left running"
echo "ok: rootless run"
