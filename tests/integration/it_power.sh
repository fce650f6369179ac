#!/usr/bin/env bash
# power_cut{on=}, power_on again, reset(), link(), guest reboot.
. "$(dirname "$0")/lib.sh"
run_vh power run "$SCENARIOS/power.lua" --artifacts "$WORK/p"
assert_exit power 0
assert_contains "$WORK/p/events.jsonl" '"event":"power_cut","device":"dut","reason":"on \"vh%-agent: boot slot\""'
assert_contains "$WORK/p/events.jsonl" '"reason":"host-qmp-system-reset"'
assert_contains "$WORK/p/events.jsonl" '"reason":"guest-reset"'
# The cut is at the matching line: nothing the guest printed after it is logged for that boot.
n=$(grep -c '"event":"power_on"' "$WORK/p/events.jsonl")
[ "$n" = 4 ] || fail "$n power-ons, expected 4"
[ -z "$(vh_qemu_pids "$WORK/p")" ] || fail "QEMU left running"
echo "ok: power controls"
