#!/usr/bin/env bash
# The flash model with a real guest: a sector the guest wrote but never
# flushed is lost at power_cut{flash="volatile"} and kept at "durable"; the
# events say what was pending and what survived, and disk-dut.img holds
# what the next power-on found.
. "$(dirname "$0")/lib.sh"
run_vh flash run "$SCENARIOS/flash_cut.lua" --artifacts "$WORK/f"
assert_exit flash 0
ev=$WORK/f/events.jsonl
assert_contains "$ev" '"event":"flash_cut","device":"dut","mode":"volatile","cut":1,"pending_writes":1,"pending_bytes":4096,"survived_writes":0'
assert_contains "$ev" '"event":"flash_cut","device":"dut","mode":"durable","cut":2,"pending_writes":1,"pending_bytes":4096,"survived_writes":1'
# The data partition's first sector (81 MiB) on the host's copy of the flash.
sector=$(dd if="$WORK/f/disk-dut.img" bs=512 skip=$((81 * 2048)) count=1 2>/dev/null | tr -d '\0')
[ "$sector" = VHMARK_DURABLE ] || fail "disk-dut.img holds '$sector' at 81 MiB, expected VHMARK_DURABLE"
[ -z "$(vh_qemu_pids "$WORK/f")" ] || fail "QEMU left running"
echo "ok: unflushed writes lost at a volatile cut, kept at a durable one"
