#!/usr/bin/env bash
# Regression: a run that ends while its guest reboots used to die of SIGPIPE
# (exit 3, no power_off event) when teardown wrote to QEMU's closed QMP
# socket. Several lingers cover the window (it was hit at 5-10 ms here).
. "$(dirname "$0")/lib.sh"
for linger in 5ms 10ms 10ms 15ms 5ms 10ms; do
	run_vh race run "$SCENARIOS/end_during_reboot.lua" --artifacts "$WORK/r" -D linger=$linger
	assert_exit race 0
	assert_contains "$WORK/r/events.jsonl" '"event":"power_off"'
	[ -z "$(vh_qemu_pids "$WORK/r")" ] || fail "QEMU left running"
done
echo "ok: teardown during a guest reboot"
