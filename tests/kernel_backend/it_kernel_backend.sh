#!/usr/bin/env bash
# The kernel impairment backend, for real: the host kernel here has no
# sch_netem, so this boots a guest with the Debian kernel (which ships
# sch_netem.ko and ifb.ko) and runs vh-kernel-netem-check inside it. The check
# applies specs through netem/kernel_netem.c and asserts the qdisc dumps and
# the ping RTTs (delay 100ms both ways within 10% of 200 ms, partition, heal,
# clear), and that libnl and tc leave identical qdiscs. VH_ARCH=aarch64 with
# an aarch64 image-tc in VH_IMAGE_DIR (scripts/cross-arm64.sh builds one with
# the cross-built check) runs the same on an arm64 kernel.
. "$(dirname "$0")/../integration/lib.sh"
[ -f "$VH_IMAGE_DIR/initramfs-tc.cpio" ] ||
	fail "no $VH_IMAGE_DIR/initramfs-tc.cpio: build the image-tc target (cmake --build build)"
arch=()
[ -z "${VH_ARCH:-}" ] || arch=(-D "arch=$VH_ARCH")
run_vh kn run "$(dirname "$0")/kernel_netem.lua" "${arch[@]}" -D "image_dir=$VH_IMAGE_DIR" \
	--artifacts "$WORK/kn"
logs=("$WORK"/kn/serial-*.log)
log=${logs[0]}
[ -f "$log" ] && grep -a 'kn-check:' "$log"
assert_exit kn 0
[ -z "$(vh_qemu_pids "$WORK/kn")" ] || fail "QEMU left running"
echo "ok: kernel backend in ${VH_ARCH:-an x86_64} guest with sch_netem"
