#!/usr/bin/env bash
# Two guests progress at once (coroutines on one event loop) and reach each other.
. "$(dirname "$0")/lib.sh"
run_vh two run "$SCENARIOS/two_devices.lua" --artifacts "$WORK/t"
assert_exit two 0
for d in a b; do [ -s "$WORK/t/serial-$d.log" ] || fail "no serial log for $d"; done
[ -z "$(vh_qemu_pids "$WORK/t")" ] || fail "QEMU left running"
echo "ok: two devices"
