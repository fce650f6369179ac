#!/usr/bin/env bash
# A user's own firmware image, booted through its bootloader's rules: a
# Mender-style disk made here as a firmware build would make it (sfdisk MBR,
# two ext4 rootfs slots from mke2fs -d with the kernel and initrd in /boot,
# /etc/fw_env.config, a redundant U-Boot env written by Debian's fw_setenv).
# The env puts slot B on trial and slot B's initrd is broken, so the first
# boot panics, the guest reboots, and the mender profile's bootlimit rolls
# back to slot A: the scenario asserts that from the console (root= of the
# kernel that runs) and from the env on the device's flash. The image itself
# must come out untouched.
. "$(dirname "$0")/lib.sh"
for tool in sfdisk mke2fs fw_setenv; do
	command -v "$tool" >/dev/null || vh_skip "$tool not installed"
done
img=$WORK/flash.img
mkdir -p "$WORK/roota/boot" "$WORK/roota/etc" "$WORK/rootb/boot" "$WORK/rootb/etc"
for s in a b; do
	cp "$VH_IMAGE_DIR/vmlinuz" "$WORK/root$s/boot/vmlinuz"
	printf '/dev/mmcblk0 0x400000 0x4000\n/dev/mmcblk0 0x800000 0x4000\n' \
		>"$WORK/root$s/etc/fw_env.config"
done
cp "$VH_IMAGE_DIR/initramfs.cpio" "$WORK/roota/boot/initrd.img"
head -c 65536 /dev/zero >"$WORK/rootb/boot/initrd.img" # not an initramfs: B cannot boot
truncate -s 160M "$img"
printf 'label: dos\nstart=16384, size=8192, type=c\nstart=24576, size=131072, type=83\nstart=155648, size=131072, type=83\n' |
	sfdisk -q "$img" || fail "sfdisk"
mke2fs -q -F -t ext4 -E offset=$((24576 * 512)) -d "$WORK/roota" "$img" 64M || fail "mke2fs A"
mke2fs -q -F -t ext4 -E offset=$((155648 * 512)) -d "$WORK/rootb" "$img" 64M || fail "mke2fs B"
# What the Mender client leaves after installing to B, before the reboot.
printf '%s 0x400000 0x4000\n%s 0x800000 0x4000\n' "$img" "$img" >"$WORK/fw_env.config"
printf 'mender_boot_part=3\nmender_boot_part_hex=3\nupgrade_available=1\nbootcount=0\nbootlimit=1\n' \
	>"$WORK/env.txt"
# A blank image has no env: fw_setenv starts from these defaults (-f).
fw_setenv -c "$WORK/fw_env.config" -f "$WORK/env.txt" vh_factory 1 || fail "fw_setenv"
[ "$(fw_printenv -c "$WORK/fw_env.config" -n mender_boot_part)" = 3 ] || fail "env not written"
before=$(sha256sum <"$img")

sed "s#@IMAGE@#$img#" "$SCENARIOS/user_firmware.lua" >"$WORK/user_firmware.lua"
run_vh uf run "$WORK/user_firmware.lua" --artifacts "$WORK/a"
assert_exit uf 0
assert_contains "$WORK/a/events.jsonl" '"event":"boot_choice","device":"dut","profile":"mender"'
grep -q '"event":"boot_choice".*"slot":"3".*"trial":true' "$WORK/a/events.jsonl" ||
	fail "no trial boot of partition 3 in events.jsonl"
grep '"event":"boot_choice"' "$WORK/a/events.jsonl" | tail -1 | grep -q '"partition":2' ||
	fail "the last boot was not partition 2"
[ "$(sha256sum <"$img")" = "$before" ] || fail "the user's image was written"
[ -f "$WORK/a/disk-dut.img" ] || fail "no per-device copy of the flash"
# The copy is sparse like the image: far less allocated than its size.
used=$(du -k "$WORK/a/disk-dut.img" | cut -f1)
[ "$used" -lt 100000 ] || fail "disk copy not sparse: ${used} KiB allocated"
[ -z "$(vh_qemu_pids "$WORK/a")" ] || fail "QEMU left running"

# A mistake in the description is a configuration error at its line.
sed "s#@IMAGE@#$img#; s#/boot/vmlinuz#/boot/vmlinuz-missing#" "$SCENARIOS/user_firmware.lua" \
	>"$WORK/bad.lua"
run_vh bad check "$WORK/bad.lua"
assert_exit bad 2
assert_contains "$WORK/bad.err" "bad.lua:"
assert_contains "$WORK/bad.err" "vmlinuz-missing"
echo "ok: a user's Mender image boots, its trial slot fails, the profile rolls back"
