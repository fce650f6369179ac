#!/usr/bin/env bash
# Flash faults with a real guest (scenarios/flash_fault_ota.lua): the flash
# fails one write to slot b mid-install. The clean firmware reports the
# failed update, stays on slot a and installs 2.0.0 at its retry; the
# planted flip-after-write-error flips the env to b anyway, and the
# artifacts show it: the flash_fault event, the agent's `update failed`
# line, and on the disk an env saying b while slot b is not whole.
. "$(dirname "$0")/lib.sh"
. "$HERE/evidence.sh"
root=$(cd "$HERE/../.." && pwd)
SEED=20261202

run_vh clean run "$root/scenarios/flash_fault_ota.lua" --seed "$SEED" --artifacts "$WORK/clean"
assert_exit clean 0
[ -z "$(vh_qemu_pids "$WORK/clean")" ] || fail "QEMU left running (clean)"
fault=$(events "$WORK/clean" flash_fault)
[ "$(echo "$fault" | wc -l)" = 1 ] || fail "clean: expected one flash_fault event, got: $fault"
grep -qE '"op":"write","offset":[0-9]+,"length":[0-9]+,"error":"EIO","why":"rule","rule":1' <<<"$fault" ||
	fail "clean: flash_fault event lacks op/offset/length/error: $fault"
offset=$(field offset <<<"$fault")
if [ "$offset" -lt "$SLOT_B_OFFSET" ] || [ "$offset" -ge $((SLOT_B_OFFSET + (40 << 20))) ]; then
	fail "clean: the failed write at $offset is not in slot b"
fi
[ -n "$(events "$WORK/clean" flash_fault_armed)" ] || fail "clean: the rule was never armed"
[ "$(count_lines "$WORK/clean" 'vh-agent: update failed reason=download errno=5')" = 1 ] ||
	fail "clean: no 'update failed reason=download errno=5' line"
[ "$(env_key boot_slot < <(env_now "$WORK/clean"))" = b ] || fail "clean: 2.0.0 not on b at the end"
echo "clean: one write to slot b at $offset failed with EIO; update failed, a reboot booted a, the retry installed and committed 2.0.0"

bug=flip-after-write-error
run_vh "$bug" run "$root/scenarios/flash_fault_ota.lua" --seed "$SEED" --artifacts "$WORK/$bug" -D "bugs=$bug"
assert_exit "$bug" 1
assert_contains "$WORK/$bug.err" "check failed: after a failed write to slot b the boot slot is still a (it is b"
[ -z "$(vh_qemu_pids "$WORK/$bug")" ] || fail "QEMU left running ($bug)"
fault=$(events "$WORK/$bug" flash_fault)
grep -q '"op":"write",.*"error":"EIO"' <<<"$fault" || fail "$bug: no flash_fault event: $fault"
[ "$(count_lines "$WORK/$bug" 'vh-agent: update failed reason=download errno=5')" -ge 1 ] ||
	fail "$bug: no 'update failed' line"
env_now "$WORK/$bug" >"$WORK/$bug.env"
[ "$(env_key boot_slot <"$WORK/$bug.env")" = b ] || fail "$bug: the env was not flipped: $(cat "$WORK/$bug.env")"
b2=$(bundle "$WORK/$bug" 2.0.0)
size=$(stat -c %s "$b2")
held=$(slot_holds "$WORK/$bug" b "$b2")
[ "$held" -lt "$size" ] || fail "$bug: slot b holds the whole bundle"
echo "$bug: after the failed write at $(field offset <<<"$fault") the env says boot_slot=b while slot b holds $held of $size bytes"
