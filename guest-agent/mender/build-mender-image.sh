#!/bin/bash
# build-mender-image.sh OUTDIR REFERENCE_IMAGE_DIR
#
# A Mender-integrated firmware image, assembled from Debian packages on this
# machine the way a product's build assembles one (nothing from the network
# except Debian's mender-client package when it is not in the cache):
#   OUTDIR/flash.img       MBR disk: U-Boot env at 0x400000 and 0x800000
#                          (0x4000 each, redundant), p1 boot (placeholder),
#                          p2 rootfs A and p3 rootfs B (ext4, release-1 in
#                          both), p4 data (ext4: Mender's state)
#   OUTDIR/release-2.mender  a rootfs-image artifact (Debian's mender-artifact)
#                          of rootfs B's contents renamed release-2
#   OUTDIR/release-2.offer what the device's integration polls for
#                          ("NAME URL-PATH"; serve both with ota:serve)
#   OUTDIR/release-3.mender, release-3.offer  a release whose health check
#                          fails on the device (its self test says so)
# and the same with an integration mistake planted, as a product team might
# ship one (scenarios/mender_rollback.lua -D bugs=NAME must catch each):
#   OUTDIR/release-3-commit-always.mender  its health check commits whatever
#                          happens
#   OUTDIR/flash-single-env-copy.img  fw_env.config in the rootfs names only
#                          the first of the two env copies
#   OUTDIR/flash-no-bootlimit.img     the env has no bootlimit
#   OUTDIR/manifest        sizes, sha256, build time and the content key
# Each rootfs: busybox, Debian's mender-client with its shared libraries (ldd
# closure), libubootenv-tool, /etc/fw_env.config, /etc/mender/mender.conf
# (RootfsPartA=/dev/vda2, RootfsPartB=/dev/vda3), artifact_info and
# device_type, the device integration (/usr/sbin/vhm-integration), and in
# /boot the Debian cloud kernel and an initramfs that mounts root= and
# switch_roots (its modules come from the reference image's initramfs).
#
# Cached by content: when the inputs hash to OUTDIR/key, nothing is rebuilt.
#   VH_DEB_CACHE  where mender-client_*.deb is kept (default
#                 ~/.cache/vharness/debs; scripts/install-deps.sh fills it)
# Exit codes: 0 built or up to date, 1 build failure, 2 usage or a missing
# package.
set -euo pipefail
umask 022
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "build-mender-image.sh: $1" >&2; exit "${2:-1}"; }
# shellcheck source=../image-lib.sh
. "$here/../image-lib.sh"

[ $# -eq 2 ] || die "usage: build-mender-image.sh OUTDIR REFERENCE_IMAGE_DIR" 2
check_inputs "$1" "$2" mke2fs sfdisk fw_setenv mender-artifact cpio dpkg-deb -- mender-artifact, e2fsprogs, fdisk, libubootenv-tool, cpio
busybox=/bin/busybox
readelf -l $busybox 2>/dev/null | grep -c 'Requesting program interpreter' >/dev/null &&
	die "no static busybox at $busybox: install busybox-static" 2

# --- mender-client: Debian's package, unpacked (never installed on the host:
# its postinst enables and starts the daemon on a systemd machine) ----------
cache=${VH_DEB_CACHE:-$HOME/.cache/vharness/debs}
deb=$(find "$cache" -maxdepth 1 -name 'mender-client_*_amd64.deb' 2>/dev/null | sort -V | tail -n 1)
if [ -z "$deb" ]; then
	mkdir -p "$cache"
	(cd "$cache" && apt-get download mender-client >/dev/null) ||
		die "cannot download mender-client into $cache: run scripts/install-deps.sh (apt-get update first)" 2
	deb=$(find "$cache" -maxdepth 1 -name 'mender-client_*_amd64.deb' | sort -V | tail -n 1)
fi

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
stage=$(mktemp -d "$outdir/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
dpkg-deb -x "$deb" "$stage/deb"
mender=$stage/deb/usr/bin/mender
[ -x "$mender" ] || die "$deb has no usr/bin/mender" 2

# Shared libraries of what runs dynamically in the guest, with the loader.
mapfile -t libs < <(lib_closure "$mender" /usr/bin/fw_printenv)
for lib in "${libs[@]}"; do
	[ -f "$lib" ] || die "ldd names $lib but it is missing: install mender-client's dependencies (libglib2.0-0 liblzma5 libssl3)" 2
done

# --- content key ------------------------------------------------------------
key=$( {
	sha256sum "$0" "$here/../image-lib.sh" "$here/../slot-init" "$deb" "$busybox" /usr/bin/fw_printenv \
		"$refdir/vmlinuz" "$refdir/initramfs.cpio" "${libs[@]}" | cut -d' ' -f1
	find "$here/rootfs" -type f | sort | xargs sha256sum | cut -d' ' -f1
	mender-artifact --version
	mke2fs -V 2>&1 | sed -n 1p # all of it read: no SIGPIPE under pipefail
} | sha256sum | cut -d' ' -f1)
outputs="flash.img release-2.mender release-2.offer release-3.mender release-3.offer
	release-3-commit-always.mender flash-single-env-copy.img flash-no-bootlimit.img manifest"
if up_to_date "$outdir" "$key" "$outputs"; then
	echo "build-mender-image.sh: $outdir is up to date (key $key)"
	exit 0
fi
rm -f "$outdir/key"
start=$(date +%s.%N)

# --- the slot's initramfs: the reference image's modules, our /init -------
make_slot_initrd "$refdir" "$here/../slot-init" "$stage/initrd.img"

# --- one rootfs tree per release -----------------------------------------
# make_rootfs DIR RELEASE SELFTEST [BUG]
#   SELFTEST pass|fail: what the health check finds
#   BUG      commit-always|single-env-copy: the mistake planted
make_rootfs() {
	local d=$1 release=$2 selftest=$3 bug=${4:-}
	mkdir -p "$d"/{bin,sbin,usr/bin,usr/sbin,etc/mender/scripts,boot,dev,proc,sys,run,tmp,data,root,var/lib}
	cp -a "$here/rootfs/." "$d/"
	install_busybox "$d" $busybox
	install -m 755 "$mender" "$d/usr/bin/mender"
	install -m 755 /usr/bin/fw_printenv "$d/usr/bin/fw_printenv"
	install -m 755 /usr/bin/fw_setenv "$d/usr/bin/fw_setenv"
	install_libs "$d" "${libs[@]}"
	ln -s /data/mender "$d/var/lib/mender"
	cp "$refdir/vmlinuz" "$d/boot/vmlinuz"
	cp "$stage/initrd.img" "$d/boot/initrd.img"
	if [ "$bug" = single-env-copy ]; then
		printf '/dev/vda 0x400000 0x4000\n' >"$d/etc/fw_env.config"
	else
		fw_env_config "$d/etc/fw_env.config"
	fi
	echo "$bug" >"$d/etc/vhm/bugs"
	cat >"$d/etc/mender/mender.conf" <<-CONF
	{
	  "RootfsPartA": "/dev/vda2",
	  "RootfsPartB": "/dev/vda3",
	  "ServerURL": "",
	  "UpdatePollIntervalSeconds": 5,
	  "InventoryPollIntervalSeconds": 60,
	  "RetryPollIntervalSeconds": 30
	}
	CONF
	echo "artifact_name=$release" >"$d/etc/mender/artifact_info"
	echo "$selftest" >"$d/etc/vhm/selftest"
	chmod 700 "$d/root"
	chmod 1777 "$d/tmp"
}

part_mib=64
# ext4 of exactly one rootfs partition (what mender writes to the slot).
make_ext4() {
	mke2fs -q -F -t ext4 -L rootfs -U clear -E root_owner=0:0 -d "$1" "$2" ${part_mib}M
}

make_rootfs "$stage/r1" release-1 pass
make_rootfs "$stage/r2" release-2 pass
make_rootfs "$stage/r3" release-3 fail
make_rootfs "$stage/r1-single-env-copy" release-1 pass single-env-copy
make_rootfs "$stage/r3-commit-always" release-3 fail commit-always
for r in r1 r2 r3 r1-single-env-copy r3-commit-always; do
	make_ext4 "$stage/$r" "$stage/$r.ext4"
done
rootfs_used_kib=$(du -sk "$stage/r1" | cut -f1)

# --- artifacts ------------------------------------------------------------
artifact() { # NAME EXT4 OUT
	mender-artifact write rootfs-image -t vharness-x86_64 -n "$1" -f "$2" -o "$3" >/dev/null
}
artifact release-2 "$stage/r2.ext4" "$stage/release-2.mender"
echo "release-2 /release-2.mender" >"$stage/release-2.offer"
artifact release-3 "$stage/r3.ext4" "$stage/release-3.mender"
echo "release-3 /release-3.mender" >"$stage/release-3.offer"
artifact release-3 "$stage/r3-commit-always.ext4" "$stage/release-3-commit-always.mender"

# --- disks ----------------------------------------------------------------
# MiB: env copies at 4 and 8, p1 boot 16+8, p2 A 24+64, p3 B 88+64, p4 data
# 152+32.
mkdir -p "$stage/data/mender"
echo "device_type=vharness-x86_64" >"$stage/data/mender/device_type"
mke2fs -q -F -t ext4 -L data -U clear -E root_owner=0:0 -d "$stage/data" "$stage/data.ext4" 32M

make_disk() { # OUT ROOTFS_EXT4 ENV_FILE
	local img=$1
	rm -f "$img"
	truncate -s 184M "$img"
	printf 'label: dos\nlabel-id: 0x4d454e44\nstart=32768, size=16384, type=c\nstart=49152, size=131072, type=83\nstart=180224, size=131072, type=83\nstart=311296, size=65536, type=83\n' |
		sfdisk -q "$img"
	dd if="$2" of="$img" bs=1M seek=24 conv=notrunc,sparse status=none
	dd if="$2" of="$img" bs=1M seek=88 conv=notrunc,sparse status=none
	dd if="$stage/data.ext4" of="$img" bs=1M seek=152 conv=notrunc,sparse status=none
	write_env "$img" "$3" mender_boot_part 2
}
printf 'mender_boot_part=2\nmender_boot_part_hex=2\nupgrade_available=0\nbootcount=0\nbootlimit=1\nmender_saveenv_canary=1\n' \
	>"$stage/env"
make_disk "$stage/flash.img" "$stage/r1.ext4" "$stage/env"
make_disk "$stage/flash-single-env-copy.img" "$stage/r1-single-env-copy.ext4" "$stage/env"
grep -v '^bootlimit=' "$stage/env" >"$stage/env-no-bootlimit"
make_disk "$stage/flash-no-bootlimit.img" "$stage/r1.ext4" "$stage/env-no-bootlimit"

# --- publish --------------------------------------------------------------
for f in $outputs; do
	[ "$f" = manifest ] && continue
	mv "$stage/$f" "$outdir/$f"
done
sum() { sha256sum "$1" | cut -d' ' -f1; }
write_manifest "$outdir" "$key" "$start" "$outputs" \
	"mender_client=$(basename "$deb")" \
	"mender_artifact=$(mender-artifact --version | awk '{ print $3 }')" \
	"kernel_sha256=$(sum "$refdir/vmlinuz")" \
	"rootfs_used_kib=$rootfs_used_kib" \
	"rootfs_partition_mib=$part_mib"
echo "build-mender-image.sh: built $outdir"
