#!/bin/bash
# build-image.sh [--with-tc] OUTDIR AGENT_BINARY [TOOL...]
#
# Assembles the reference firmware from packages installed on this machine;
# nothing comes from the network.
#   OUTDIR/vmlinuz          the Debian cloud kernel (newest in /boot, or
#                           VH_KERNEL_VERSION=6.1.0-56-cloud-amd64)
#   OUTDIR/initramfs.cpio   uncompressed newc: busybox-static and its applet
#                           links, the static agent, /init, and the kernel
#                           modules the guest needs with their dependency
#                           closure from modules.dep
#   OUTDIR/manifest         kernel version, sha256 of every part, build date
# With --with-tc it writes OUTDIR/initramfs-tc.cpio and OUTDIR/manifest-tc
# instead: the same plus iproute2's tc (with its shared libraries and netem
# distribution tables) and the modules netem and IFB need, loaded at boot,
# plus each TOOL (a dynamically linked test program such as
# vh-kernel-netem-check) in /usr/bin with its shared libraries.
# VH_EXTRA_MODULES="a b" adds modules (with their dependencies) to either.
#
# Reproducible: files are sorted, owned by 0:0, stamped with SOURCE_DATE_EPOCH
# (default 0) and renumbered, so the same inputs give the same bytes. The
# manifest's build date is SOURCE_DATE_EPOCH when set, else now.
# Exit codes: 0 built, 1 build failure, 2 usage error or missing package.
set -euo pipefail
umask 022
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "build-image.sh: $1" >&2; exit "${2:-1}"; }

with_tc=0
if [ "${1:-}" = "--with-tc" ]; then
	with_tc=1
	shift
fi
[ $# -ge 2 ] || die "usage: build-image.sh [--with-tc] OUTDIR AGENT_BINARY [TOOL...]" 2
outdir=$1
agent=$2
shift 2
tools=("$@")
[ ${#tools[@]} -eq 0 ] || [ $with_tc -eq 1 ] || die "tools go only into the --with-tc image" 2
for tool in "${tools[@]}"; do
	[ -x "$tool" ] || die "tool not found: $tool" 2
done
[ -f "$agent" ] || die "agent binary not found: $agent" 2
agent=$(realpath "$agent")
if readelf -l "$agent" 2>/dev/null | grep -q 'Requesting program interpreter'; then
	die "agent must be linked statically: $agent" 2
fi

# Modules wanted at boot, loaded in this order: the virtio-mmio transport
# microvm uses and the NIC first (the agent is waiting for eth0), then the
# disk and console drivers, and virtio-pci for q35/pc. Anything built into the
# kernel is skipped (modules.builtin), so af_packet costs nothing when built in.
base_modules="virtio_mmio virtio_net virtio_blk virtio_console virtio_pci af_packet"
# veth: the check program's stand-in for a tap (tests/kernel_backend).
tc_modules="sch_netem ifb sch_ingress cls_matchall act_mirred veth"

# --- kernel ---------------------------------------------------------------
if [ -n "${VH_KERNEL_VERSION:-}" ]; then
	kver=$VH_KERNEL_VERSION
	[ -f "/boot/vmlinuz-$kver" ] || die "no kernel /boot/vmlinuz-$kver (VH_KERNEL_VERSION): install linux-image-$kver" 2
else
	kver=$(find /boot -maxdepth 1 -name 'vmlinuz-*-cloud-amd64' -printf '%f\n' 2>/dev/null |
		sed 's/^vmlinuz-//' | sort -V | tail -n 1)
	[ -n "$kver" ] || die "no Debian cloud kernel in /boot: install linux-image-cloud-amd64 (scripts/install-deps.sh)" 2
fi
moddir=/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || die "no $moddir/modules.dep: reinstall linux-image-$kver or run depmod $kver" 2
[ -r "/boot/vmlinuz-$kver" ] || die "cannot read /boot/vmlinuz-$kver (run as root?)" 2

busybox=/bin/busybox
if [ ! -x $busybox ] || readelf -l $busybox 2>/dev/null | grep -q 'Requesting program interpreter'; then
	die "no static busybox at $busybox: install busybox-static (scripts/install-deps.sh)" 2
fi
if [ $with_tc -eq 1 ]; then
	tc_bin=$(command -v tc || true)
	[ -n "$tc_bin" ] || tc_bin=/usr/sbin/tc
	[ -x "$tc_bin" ] || die "no tc: install iproute2" 2
fi

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
stage=$(mktemp -d "$outdir/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# --- modules: dependency closure from modules.dep -------------------------
# Prints the load order (dependencies first) of the named modules, one
# modules.dep path per line. Names match with '-' and '_' treated alike, as
# modprobe does. Fails naming any module that is neither built in nor found.
resolve_modules() {
	awk -v want="$*" -v builtin="$moddir/modules.builtin" '
	function norm(path,   n) {
		n = path; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n)
		gsub(/-/, "_", n); return n
	}
	function visit(m,   i, n, d) {
		if (m in done) return
		done[m] = 1
		n = split(deps[m], d, " ")
		for (i = 1; i <= n; i++) visit(norm(d[i]))
		print path[m]
	}
	BEGIN {
		while ((getline line < builtin) > 0) isbuiltin[norm(line)] = 1
	}
	{
		p = $1; sub(/:$/, "", p); m = norm(p)
		path[m] = p; $1 = ""; deps[m] = $0
	}
	END {
		n = split(want, w, " ")
		for (i = 1; i <= n; i++) {
			m = w[i]; gsub(/-/, "_", m)
			if (m in isbuiltin) continue
			if (!(m in path)) { print "missing module: " w[i] > "/dev/stderr"; exit 1 }
			visit(m)
		}
	}' "$moddir/modules.dep"
}

wanted="$base_modules ${VH_EXTRA_MODULES:-}"
[ $with_tc -eq 0 ] || wanted="$wanted $tc_modules"
modlist=$(resolve_modules "$wanted") || die "a wanted module is not in $moddir (kernel $kver)"

# --- root filesystem ------------------------------------------------------
cd "$stage"
mkdir -p bin sbin usr/bin usr/sbin etc dev proc sys run tmp root "lib/modules/$kver"
chmod 1777 tmp
chmod 700 root

cp $busybox bin/busybox
$busybox --list-full | while read -r applet; do
	[ -e "$applet" ] || ln -s /bin/busybox "$applet"
done

strip --strip-all -o sbin/vh-agent "$agent"
chmod 755 sbin/vh-agent
cp "$here/rootfs/init" init
cp "$here/rootfs/etc/inittab" "$here/rootfs/etc/profile" etc/
chmod 755 init

: >etc/vh-modules
for rel in $modlist; do
	dst="lib/modules/$kver/$rel"
	mkdir -p "$(dirname "$dst")"
	# busybox insmod reads plain ELF only: unpack compressed modules.
	case $rel in
	*.ko.xz) xz -dc "$moddir/$rel" >"${dst%.xz}"; rel=${rel%.xz} ;;
	*.ko.zst) zstd -qdc "$moddir/$rel" >"${dst%.zst}"; rel=${rel%.zst} ;;
	*.ko.gz) gzip -dc "$moddir/$rel" >"${dst%.gz}"; rel=${rel%.gz} ;;
	*) cp "$moddir/$rel" "$dst" ;;
	esac
	echo "$kver/$rel" >>etc/vh-modules
done
# A modules.dep covering what we ship lets busybox modprobe (and the kernel's
# on-demand loading through it) work inside the guest.
sed -E 's/\.ko\.(xz|zst|gz)/.ko/g' "$moddir/modules.dep" |
	grep -F -f <(sed "s|^$kver/||; s|$|:|" etc/vh-modules) >"lib/modules/$kver/modules.dep" || true
cp "$moddir/modules.builtin" "lib/modules/$kver/"

if [ $with_tc -eq 1 ]; then
	# tc and the tools with the exact shared libraries (and loader) they were
	# linked against. tc replaces busybox's tc applet, which cannot do netem
	# and would come first in PATH.
	rm -f sbin/tc bin/tc usr/bin/tc
	install -D "$tc_bin" "./usr/sbin/tc"
	for tool in "${tools[@]}"; do
		install -D -m 755 "$tool" "./usr/bin/$(basename "$tool")"
	done
	for bin in "$tc_bin" "${tools[@]}"; do ldd "$bin"; done |
		awk '/=> \// { print $3 } /^[ \t]*\/[^ ]+/ { print $1 }' | sort -u |
		while read -r lib; do
			mkdir -p ".$(dirname "$lib")"
			cp -L "$lib" ".$lib"
		done
	# netem's delay distribution tables, from the installed iproute2.
	for dist in /usr/lib/*/tc/*.dist /usr/lib/tc/*.dist; do
		[ -f "$dist" ] || continue
		mkdir -p ".$(dirname "$dist")"
		cp "$dist" ".$dist"
	done
fi

# --- archive --------------------------------------------------------------
epoch=${SOURCE_DATE_EPOCH:-0}
find . -mindepth 1 -exec touch -h -d "@$epoch" {} +
if [ $with_tc -eq 1 ]; then
	cpio_name=initramfs-tc.cpio
	manifest_name=manifest-tc
else
	cpio_name=initramfs.cpio
	manifest_name=manifest
fi
find . -mindepth 1 -printf '%P\n' | sort |
	cpio --quiet -o -H newc --reproducible -R 0:0 >"$outdir/.$cpio_name.tmp"
mv "$outdir/.$cpio_name.tmp" "$outdir/$cpio_name"

# Copy the 14 MB kernel only when it changed, but always refresh its time:
# make judges the image target by its outputs' timestamps.
if cmp -s "/boot/vmlinuz-$kver" "$outdir/vmlinuz"; then
	touch "$outdir/vmlinuz"
else
	cp "/boot/vmlinuz-$kver" "$outdir/.vmlinuz.tmp"
	mv "$outdir/.vmlinuz.tmp" "$outdir/vmlinuz"
fi

sum() { sha256sum "$1" | cut -d' ' -f1; }
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	build_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
else
	build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
fi
{
	echo "kernel_version=$kver"
	echo "kernel_sha256=$(sum "$outdir/vmlinuz")"
	echo "initramfs=$cpio_name"
	echo "initramfs_sha256=$(sum "$outdir/$cpio_name")"
	echo "initramfs_bytes=$(stat -c %s "$outdir/$cpio_name")"
	echo "agent_sha256=$(sum sbin/vh-agent)"
	echo "busybox_version=$($busybox 2>&1 | sed -nE '1s/^BusyBox v([^ ]+).*/\1/p')"
	echo "modules=$(sed "s|^$kver/||; s|.*/||; s|\.ko$||" etc/vh-modules | tr '\n' ' ' | sed 's/ $//')"
	[ $with_tc -eq 0 ] || echo "tc=$("$tc_bin" -V 2>&1 | sed -n 1p)"
	for tool in "${tools[@]}"; do
		echo "tool_$(basename "$tool")_sha256=$(sum "$tool")"
	done
	echo "build_date=$build_date"
} >"$outdir/.$manifest_name.tmp"
mv "$outdir/.$manifest_name.tmp" "$outdir/$manifest_name"
