#!/bin/bash
# build-rauc-image.sh OUTDIR REFERENCE_IMAGE_DIR
#
# A RAUC-integrated firmware image, assembled from Debian packages installed
# on this machine (rauc 1.8, dbus-daemon, libubootenv-tool, busybox-static,
# squashfs-tools: scripts/install-deps.sh):
#   OUTDIR/flash.img       MBR disk: U-Boot env at 0x400000 and 0x800000
#                          (0x4000 each, redundant; BOOT_ORDER="A B",
#                          BOOT_A_LEFT=3, BOOT_B_LEFT=3, as RAUC's
#                          contrib/uboot.sh starts), p1 boot (placeholder),
#                          p2 rootfs A and p3 rootfs B (ext4, release-1 in
#                          both), p4 data (ext4: RAUC's status file, the
#                          downloaded bundles)
#   OUTDIR/release-2.raucb a RAUC bundle (plain format, signed) holding the
#                          ext4 image of release-2's rootfs
#   OUTDIR/release-2.offer what the device's integration polls for
#                          ("NAME URL-PATH"; serve both with ota:serve)
#   OUTDIR/release-3.raucb, release-3.offer  a release whose health check
#                          fails on the device (its self test says so)
#   OUTDIR/keys/           a self-signed CA (the device's keyring) and the
#                          signing key and certificate it issued; made here
#                          once with openssl, kept across rebuilds, never
#                          committed
#   OUTDIR/manifest        sizes, sha256, build time and the content key
# Each rootfs: busybox, Debian's rauc and dbus-daemon with their shared
# libraries (ldd closure), fw_printenv/fw_setenv (RAUC's uboot backend runs
# them), /etc/fw_env.config, /etc/rauc/system.conf (bootloader=uboot,
# slot rootfs.0 = /dev/vda2 bootname A, rootfs.1 = /dev/vda3 bootname B),
# the CA as keyring, a system-bus config, the device integration
# (/usr/sbin/vhr-integration), and in /boot the Debian cloud kernel and an
# initramfs that loads loop and squashfs too (RAUC mounts a bundle through
# a loop device) and mounts root=.
#
# Cached by content: when the inputs hash to OUTDIR/key, nothing is rebuilt.
# Exit codes: 0 built or up to date, 1 build failure, 2 usage or a missing
# package.
set -euo pipefail
umask 022
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "build-rauc-image.sh: $1" >&2; exit "${2:-1}"; }
# shellcheck source=../image-lib.sh
. "$here/../image-lib.sh"

[ $# -eq 2 ] || die "usage: build-rauc-image.sh OUTDIR REFERENCE_IMAGE_DIR" 2
check_inputs "$1" "$2" mke2fs sfdisk fw_setenv rauc mksquashfs dbus-daemon openssl cpio -- rauc, squashfs-tools, dbus-daemon, e2fsprogs, fdisk, libubootenv-tool, cpio, openssl
busybox=/bin/busybox
readelf -l $busybox 2>/dev/null | grep -c 'Requesting program interpreter' >/dev/null &&
	die "no static busybox at $busybox: install busybox-static" 2
rauc=$(command -v rauc)
dbus=$(command -v dbus-daemon)
rauc --version | grep -q '^rauc 1\.' || die "$rauc is not RAUC 1.x: $(rauc --version)" 2

# The kernel of the reference image (its initramfs names the version) and
# the two modules RAUC needs to mount a bundle, from the same package.
kver=$(cpio -i --quiet --to-stdout etc/vh-modules <"$refdir/initramfs.cpio" | sed -n '1s|/.*||p')
[ -n "$kver" ] || die "cannot read the kernel version from $refdir/initramfs.cpio"
moddir=/lib/modules/$kver
modules=()
for m in loop squashfs; do
	if grep -q "/$m\.ko" "$moddir/modules.builtin" 2>/dev/null; then
		continue
	fi
	path=$(sed -nE "s|^([^:]*/$m\.ko[^:]*):.*|\1|p" "$moddir/modules.dep" 2>/dev/null | head -n 1)
	[ -n "$path" ] || die "kernel $kver has no module $m in $moddir (install linux-image-$kver)" 2
	case $path in *.ko) ;; *) die "$moddir/$path is compressed: not handled" ;; esac
	modules+=("$moddir/$path")
done

mapfile -t libs < <(lib_closure "$rauc" "$dbus" /usr/bin/fw_printenv)
for lib in "${libs[@]}"; do
	[ -f "$lib" ] || die "ldd names $lib but it is missing" 2
done

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

# --- keys: made once, kept (the device's keyring is in flash.img) ---------
keys=$outdir/keys
if [ ! -f "$keys/signing.cert.pem" ]; then
	rm -rf "$keys"
	mkdir -p "$keys.tmp"
	(
		cd "$keys.tmp"
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key.pem -out ca.cert.pem \
			-days 3650 -subj "/O=vharness/CN=vharness RAUC test CA" \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
		openssl req -newkey rsa:2048 -nodes -keyout signing.key.pem -out signing.csr.pem \
			-subj "/O=vharness/CN=vharness RAUC signing" 2>/dev/null
		printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n' >ext.cnf
		openssl x509 -req -in signing.csr.pem -CA ca.cert.pem -CAkey ca.key.pem \
			-set_serial 2 -days 3650 -extfile ext.cnf -out signing.cert.pem 2>/dev/null
		rm -f signing.csr.pem ext.cnf
	) || die "openssl could not make the CA and the signing key"
	mv -T "$keys.tmp" "$keys"
fi

# --- content key ------------------------------------------------------------
key=$( {
	sha256sum "$0" "$here/../image-lib.sh" "$here/../slot-init" "$rauc" "$dbus" "$busybox" \
		/usr/bin/fw_printenv /usr/bin/fw_setenv "$refdir/vmlinuz" "$refdir/initramfs.cpio" \
		"${modules[@]}" "${libs[@]}" "$keys/ca.cert.pem" "$keys/signing.cert.pem" | cut -d' ' -f1
	find "$here/rootfs" -type f | sort | xargs sha256sum | cut -d' ' -f1
	rauc --version
	mksquashfs -version 2>&1 | sed -n 1p
	mke2fs -V 2>&1 | sed -n 1p # all of it read: no SIGPIPE under pipefail
} | sha256sum | cut -d' ' -f1)
outputs="flash.img release-2.raucb release-2.offer release-3.raucb release-3.offer manifest"
if up_to_date "$outdir" "$key" "$outputs"; then
	echo "build-rauc-image.sh: $outdir is up to date (key $key)"
	exit 0
fi
rm -f "$outdir/key"
start=$(date +%s.%N)
stage=$(mktemp -d "$outdir/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

make_slot_initrd "$refdir" "$here/../slot-init" "$stage/initrd.img" "${modules[@]}"

compatible=vharness-x86_64-rauc
# make_rootfs DIR RELEASE SELFTEST (pass|fail: what the health check finds)
make_rootfs() {
	local d=$1 release=$2 selftest=$3
	mkdir -p "$d"/{bin,sbin,usr/bin,usr/sbin,etc/rauc,etc/vhr,boot,dev,proc,sys,run,tmp,data,root,mnt,var}
	cp -a "$here/rootfs/." "$d/"
	install_busybox "$d" $busybox
	install -m 755 "$rauc" "$d/usr/bin/rauc"
	install -m 755 "$dbus" "$d/usr/bin/dbus-daemon"
	install -m 755 /usr/bin/fw_printenv "$d/usr/bin/fw_printenv"
	install -m 755 /usr/bin/fw_setenv "$d/usr/bin/fw_setenv"
	install_libs "$d" "${libs[@]}"
	ln -s ../run "$d/var/run"
	cp "$refdir/vmlinuz" "$d/boot/vmlinuz"
	cp "$stage/initrd.img" "$d/boot/initrd.img"
	fw_env_config "$d/etc/fw_env.config"
	cp "$keys/ca.cert.pem" "$d/etc/rauc/ca.cert.pem"
	cat >"$d/etc/rauc/system.conf" <<-CONF
	[system]
	compatible=$compatible
	bootloader=uboot
	mountprefix=/run/rauc
	statusfile=/data/rauc.status

	[keyring]
	path=/etc/rauc/ca.cert.pem

	[slot.rootfs.0]
	device=/dev/vda2
	type=ext4
	bootname=A

	[slot.rootfs.1]
	device=/dev/vda3
	type=ext4
	bootname=B
	CONF
	echo "$release" >"$d/etc/vhr/release"
	echo "$selftest" >"$d/etc/vhr/selftest"
	chmod 700 "$d/root"
	chmod 1777 "$d/tmp"
}

part_mib=64
make_ext4() {
	mke2fs -q -F -t ext4 -L rootfs -U clear -E root_owner=0:0 -d "$1" "$2" ${part_mib}M
}

make_rootfs "$stage/r1" release-1 pass
make_rootfs "$stage/r2" release-2 pass
make_rootfs "$stage/r3" release-3 fail
for r in r1 r2 r3; do
	make_ext4 "$stage/$r" "$stage/$r.ext4"
done
rootfs_used_kib=$(du -sk "$stage/r1" | cut -f1)

# --- bundles ----------------------------------------------------------------
bundle() { # NAME VERSION EXT4 OUT
	local dir=$stage/bundle-$1
	mkdir -p "$dir"
	cp "$3" "$dir/rootfs.ext4"
	cat >"$dir/manifest.raucm" <<-MANIFEST
	[update]
	compatible=$compatible
	version=$2
	description=$1

	[bundle]
	format=plain

	[image.rootfs]
	filename=rootfs.ext4
	MANIFEST
	rauc --cert "$keys/signing.cert.pem" --key "$keys/signing.key.pem" \
		--keyring "$keys/ca.cert.pem" bundle "$dir" "$4" >"$stage/rauc-bundle.log" 2>&1 ||
		die "rauc bundle $1 failed: $(cat "$stage/rauc-bundle.log")"
	rm -rf "$dir"
}
bundle release-2 2 "$stage/r2.ext4" "$stage/release-2.raucb"
echo "release-2 /release-2.raucb" >"$stage/release-2.offer"
bundle release-3 3 "$stage/r3.ext4" "$stage/release-3.raucb"
echo "release-3 /release-3.raucb" >"$stage/release-3.offer"

# --- disk -------------------------------------------------------------------
# MiB: env copies at 4 and 8, p1 boot 16+8, p2 A 24+64, p3 B 88+64, p4 data
# 152+64 (a bundle is downloaded there before RAUC installs it).
mkdir -p "$stage/data/vhr"
mke2fs -q -F -t ext4 -L data -U clear -E root_owner=0:0 -d "$stage/data" "$stage/data.ext4" 64M
img=$stage/flash.img
truncate -s 216M "$img"
printf 'label: dos\nlabel-id: 0x52415543\nstart=32768, size=16384, type=c\nstart=49152, size=131072, type=83\nstart=180224, size=131072, type=83\nstart=311296, size=131072, type=83\n' |
	sfdisk -q "$img"
dd if="$stage/r1.ext4" of="$img" bs=1M seek=24 conv=notrunc,sparse status=none
dd if="$stage/r1.ext4" of="$img" bs=1M seek=88 conv=notrunc,sparse status=none
dd if="$stage/data.ext4" of="$img" bs=1M seek=152 conv=notrunc,sparse status=none
printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n' >"$stage/env"
write_env "$img" "$stage/env" BOOT_ORDER "A B"

# --- publish ----------------------------------------------------------------
for f in $outputs; do
	[ "$f" = manifest ] && continue
	mv "$stage/$f" "$outdir/$f"
done
write_manifest "$outdir" "$key" "$start" "$outputs" \
	"rauc=$(rauc --version | awk '{ print $2 }')" \
	"kernel=$kver" \
	"kernel_sha256=$(sha256sum "$refdir/vmlinuz" | cut -d' ' -f1)" \
	"ca_sha256=$(sha256sum "$keys/ca.cert.pem" | cut -d' ' -f1)" \
	"rootfs_used_kib=$rootfs_used_kib" \
	"rootfs_partition_mib=$part_mib"
echo "build-rauc-image.sh: built $outdir"
