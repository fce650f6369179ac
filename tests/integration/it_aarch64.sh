#!/usr/bin/env bash
# aarch64 guests on this host (TCG on x86-64): the shipped scenarios and the
# power controls pass with --arch aarch64, on qemu-system-aarch64 -M virt
# with the aarch64 reference image (VH_IMAGE_DIR/aarch64). Skips (77) when
# that image or QEMU is missing: build it with
# `cmake --build build --target image-aarch64` (scripts/setup.sh does).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
if [ ! -f "$VH_IMAGE_DIR/aarch64/vmlinuz" ]; then
	echo "skip: no aarch64 image in $VH_IMAGE_DIR/aarch64 (cmake --build build --target image-aarch64)"
	exit 77
fi
command -v qemu-system-aarch64 >/dev/null || { echo "skip: no qemu-system-aarch64"; exit 77; }
cd "$WORK" || exit 1
root=$(cd "$HERE/../.." && pwd)

# check takes --arch too, and so does the constructor.
run_vh check check --arch aarch64 "$root"/scenarios/*.lua
assert_exit check 0

# One at a time: under TCG an aarch64 guest needs most of a core, and two of
# these scenarios at once on a loaded two-core machine only measure the load.
rc=0
"$VHARNESS" run --arch aarch64 --jobs 1 -D machine=aarch64 "$SCENARIOS/arch.lua" \
	"$SCENARIOS/power.lua" "$root/scenarios/boot.lua" "$root/scenarios/flaky_ota.lua" \
	"$root/scenarios/power_cut_sweep.lua" >"$WORK/suite.out" 2>&1 || rc=$?
cat "$WORK/suite.out"
[ "$rc" = 0 ] || fail "aarch64 scenarios: exit $rc"
assert_contains "$WORK/suite.out" "5 passed, 0 failed"
out_root=$WORK/vharness-out
for stem in arch power boot flaky_ota power_cut_sweep; do
	out=$out_root/$stem
	assert_contains "$out/junit.xml" 'failures="0"'
	assert_contains "$out/events.jsonl" '"qemu":"qemu-system-aarch64"'
	assert_not_contains "$out/events.jsonl" '"qemu":"qemu-system-x86_64"'
	[ -z "$(vh_qemu_pids "$out")" ] || fail "QEMU left running for $stem"
done
[ -f "$out_root/flaky_ota/aarch64_firmware-2.0.0.bundle" ] || fail "flaky_ota published no aarch64 bundle"
# The power controls, as it_power checks them on x86.
assert_contains "$out_root/power/events.jsonl" '"reason":"host-qmp-system-reset"'
assert_contains "$out_root/power/events.jsonl" '"reason":"guest-reset"'
# flaky_ota's story: cut, partition, resumed download, commit of 2.0.0.
ev=$out_root/flaky_ota/events.jsonl
log=$out_root/flaky_ota/serial-dut.log
assert_contains "$ev" '"event":"power_cut"'
assert_contains "$ev" '"event":"partition"'
assert_contains "$log" "vh-agent: download resumed offset="
assert_contains "$log" "vh-agent: commit slot=b"
echo "ok: aarch64 guests"
