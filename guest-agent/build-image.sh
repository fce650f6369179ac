#!/bin/bash
# build-image.sh [--with-tc] [--arch ARCH] OUTDIR AGENT_BINARY [TOOL...]
#
# Assembles the reference firmware for ARCH (x86_64 or aarch64; default: this
# machine's) from Debian packages:
#   OUTDIR/vmlinuz          the Debian cloud kernel (newest in /boot, or
#                           VH_KERNEL_VERSION=6.1.0-56-cloud-amd64); for
#                           aarch64 the uncompressed arm64 Image
#   OUTDIR/initramfs.cpio   uncompressed newc: busybox-static and its applet
#                           links, the static agent, /init, and the kernel
#                           modules the guest needs with their dependency
#                           closure from modules.dep
#   OUTDIR/manifest         arch, kernel version, sha256 of every part, build date
# For this machine's architecture everything comes from installed packages and
# nothing from the network. For another architecture (aarch64 on an x86-64
# host) the kernel and busybox-static packages of that architecture are
# fetched with `apt-get download` (Debian multiarch: scripts/install-deps.sh
# adds the architecture) into VH_DEB_CACHE (default
# ${XDG_CACHE_HOME:-~/.cache}/vharness/debs), unpacked there once, and the
# kernel's modules.dep, which the package does not ship, is made with depmod.
# AGENT_BINARY must be a static binary for ARCH.
# With --with-tc it writes OUTDIR/initramfs-tc.cpio and OUTDIR/manifest-tc
# instead: the same plus iproute2's tc (with its shared libraries and netem
# distribution tables) and the modules netem and IFB need, loaded at boot,
# plus each TOOL (a dynamically linked test program such as
# vh-kernel-netem-check) in /usr/bin with its shared libraries. For this
# machine's architecture tc and the tools come with the host's libraries (ldd);
# for another, tc is that architecture's iproute2, downloaded with its
# dependency closure (apt-get against an empty dpkg status) into the same
# cache, and every library a binary needs (readelf's NEEDED, recursively) is
# taken from those packages or else from the host's multiarch directories
# (where the arm64 -dev packages of scripts/cross-arm64.sh put libnl).
# VH_EXTRA_MODULES="a b" adds modules (with their dependencies) to either.
# VH_KERNEL=small (x86_64 only, not with --with-tc) takes the kernel from
# build-kernel.sh instead: Debian's linux-source-6.1 built with a small
# config and no modules (VH_KERNEL_CACHE: its cache directory), so the image
# has no modules and /init loads none; the manifest's kernel_version is
# small-<cache key>. VH_KERNEL=cloud (the default) is the Debian cloud kernel.
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

# Debian's name for an architecture and the kernel's.
deb_arch_of() {
	case $1 in
	x86_64 | amd64) echo amd64 ;;
	aarch64 | arm64) echo arm64 ;;
	*) return 1 ;;
	esac
}

usage="usage: build-image.sh [--with-tc] [--arch x86_64|aarch64] OUTDIR AGENT_BINARY [TOOL...]"
with_tc=0
arch=$(uname -m)
while [ $# -gt 0 ]; do
	case $1 in
	--with-tc) with_tc=1; shift ;;
	--arch) [ $# -ge 2 ] || die "$usage" 2; arch=$2; shift 2 ;;
	--arch=*) arch=${1#--arch=}; shift ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || die "$usage" 2
deb_arch=$(deb_arch_of "$arch") || die "unknown arch '$arch' (x86_64 or aarch64)" 2
case $deb_arch in
amd64) arch=x86_64 elf_machine="X86-64" ;;
arm64) arch=aarch64 elf_machine="AArch64" ;;
esac
kernel_kind=${VH_KERNEL:-cloud}
# The small kernel's -m floor: 40 booted and ran flaky_ota; at 32 the
# initramfs no longer unpacks (docs/fleet.md).
small_min_memory_mib=40
case $kernel_kind in
cloud) ;;
small)
	[ "$arch" = x86_64 ] || die "VH_KERNEL=small builds only an x86_64 kernel" 2
	[ $with_tc -eq 0 ] || die "VH_KERNEL=small has no modules: the --with-tc image keeps the cloud kernel" 2
	;;
*) die "VH_KERNEL must be cloud or small, not '$kernel_kind'" 2 ;;
esac
host_deb_arch=$(dpkg --print-architecture)
foreign=0
[ "$deb_arch" = "$host_deb_arch" ] || foreign=1
outdir=$1
agent=$2
shift 2
tools=("$@")
[ ${#tools[@]} -eq 0 ] || [ $with_tc -eq 1 ] || die "tools go only into the --with-tc image" 2
for i in "${!tools[@]}"; do
	[ -x "${tools[$i]}" ] || die "tool not found: ${tools[$i]}" 2
	tools[i]=$(realpath "${tools[$i]}")
done
[ -f "$agent" ] || die "agent binary not found: $agent" 2
agent=$(realpath "$agent")
if readelf -l "$agent" 2>/dev/null | grep -q 'Requesting program interpreter'; then
	die "agent must be linked statically: $agent" 2
fi
readelf -h "$agent" 2>/dev/null | grep -q "Machine:.*$elf_machine" ||
	die "agent is not an $arch binary: $agent ($(readelf -h "$agent" 2>/dev/null | sed -n 's/^ *Machine: *//p'))" 2

# Modules wanted at boot, loaded in this order: the virtio-mmio transport
# microvm uses and the NIC first (the agent is waiting for eth0), then the
# disk and console drivers, and virtio-pci for q35/pc. Anything built into the
# kernel is skipped (modules.builtin), so af_packet costs nothing when built in.
base_modules="virtio_mmio virtio_net virtio_blk virtio_console virtio_pci af_packet"
# veth: the check program's stand-in for a tap (tests/kernel_backend).
tc_modules="sch_netem ifb sch_ingress cls_matchall act_mirred veth"

# --- packages of another architecture -------------------------------------
# Sets pkgroot to a directory holding the unpacked kernel and busybox-static
# packages of $deb_arch (with modules.dep made by depmod), downloading the
# packages into the cache first unless they are there already. The unpacked
# tree is cached too, keyed by the packages' file names.
fetch_foreign() {
	local cache=${VH_DEB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vharness/debs}
	dpkg --print-foreign-architectures | grep -qx "$deb_arch" ||
		die "Debian architecture $deb_arch is not enabled: run scripts/install-deps.sh (dpkg --add-architecture $deb_arch && apt-get update)" 2
	# One apt query (each costs seconds: this apt keeps no binary cache)
	# names the kernel package, its exact version and busybox's.
	local want=linux-image-cloud-$deb_arch info kpkg kvers bbvers
	[ -z "${VH_KERNEL_VERSION:-}" ] || want=linux-image-$VH_KERNEL_VERSION
	info=$(apt-cache show --no-all-versions "$want:$deb_arch" "busybox-static:$deb_arch" 2>&1) ||
		die "apt knows no $want:$deb_arch or busybox-static:$deb_arch: run apt-get update ($info)" 2
	bbvers=$(awk '/^Package: busybox-static$/ { b = 1 } b && /^Version:/ { print $2; exit }' <<<"$info")
	if [ -n "${VH_KERNEL_VERSION:-}" ]; then
		kpkg=$want
		kvers=$(awk '/^Version:/ { print $2; exit }' <<<"$info")
	else
		# The metapackage depends on exactly one kernel: "linux-image-X (= V)".
		read -r kpkg kvers < <(sed -nE 's/^Depends: (linux-image-[^ ,]+) \(= ([^)]+)\).*/\1 \2/p' <<<"$info" | head -n 1)
	fi
	if [ -z "$kpkg" ] || [ -z "$kvers" ] || [ -z "$bbvers" ]; then
		die "cannot read the kernel and busybox versions from apt-cache show $want:$deb_arch" 1
	fi
	kver=${kpkg#linux-image-}
	# apt-get download's file names: the epoch's colon is written %3a.
	local debs=("${kpkg}_${kvers/:/%3a}_$deb_arch.deb" "busybox-static_${bbvers/:/%3a}_$deb_arch.deb")
	local missing=0 name
	mkdir -p "$cache"
	for name in "${debs[@]}"; do
		[ -f "$cache/$name" ] || missing=1
	done
	if [ $missing -eq 1 ]; then
		local sandbox=()
		# As root apt drops to _apt, which cannot write a private cache.
		[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
		echo "build-image.sh: fetching $kpkg:$deb_arch=$kvers busybox-static:$deb_arch=$bbvers into $cache" >&2
		(cd "$cache" && apt-get download -q "${sandbox[@]}" "$kpkg:$deb_arch=$kvers" \
			"busybox-static:$deb_arch=$bbvers" >&2) || die "apt-get download failed (network?)" 1
		for name in "${debs[@]}"; do
			[ -f "$cache/$name" ] || die "apt-get download did not write $cache/$name" 1
		done
	fi
	local key
	key=$(printf '%s\n' "${debs[@]}" | sha256sum | cut -c1-16)
	pkgroot=$cache/root-$deb_arch-$key
	if [ ! -f "$pkgroot/.complete" ]; then
		local tmp
		tmp=$(mktemp -d "$cache/.root.XXXXXX")
		for name in "${debs[@]}"; do
			dpkg-deb -x "$cache/$name" "$tmp"
		done
		depmod -b "$tmp" "$kver"
		echo "$bbvers" >"$tmp/.busybox-version"
		touch "$tmp/.complete"
		# Another build may have unpacked the same packages meanwhile.
		mv -T "$tmp" "$pkgroot" 2>/dev/null || rm -rf "$tmp"
	fi
}

# Sets tcroot to the unpacked iproute2 of $deb_arch and every package it
# depends on. apt resolves the closure against an empty dpkg status, so no
# host package counts as installed; the download and the unpacked tree are
# cached, keyed by iproute2's version.
fetch_foreign_tc() {
	local cache=${VH_DEB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vharness/debs} vers
	vers=$(apt-cache show --no-all-versions "iproute2:$deb_arch" 2>/dev/null | awk '/^Version:/ { print $2; exit }')
	[ -n "$vers" ] || die "apt knows no iproute2:$deb_arch: run scripts/install-deps.sh (dpkg --add-architecture $deb_arch && apt-get update)" 2
	tc_version=$vers
	tcroot=$cache/tcroot-$deb_arch-${vers//[:~+]/_}
	[ -f "$tcroot/.complete" ] && return
	local dl=$cache/tc-$deb_arch sandbox=()
	[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
	mkdir -p "$dl/archives/partial"
	: >"$dl/status"
	echo "build-image.sh: fetching iproute2:$deb_arch=$vers and its dependencies into $dl" >&2
	apt-get install -q -y --download-only --no-install-recommends "${sandbox[@]}" \
		-o Dir::State::status="$dl/status" -o Dir::Cache::archives="$dl/archives" \
		-o Debug::NoLocking=1 "iproute2:$deb_arch=$vers" >&2 ||
		die "apt-get could not download iproute2:$deb_arch (network?)" 1
	local tmp deb
	tmp=$(mktemp -d "$cache/.tcroot.XXXXXX")
	for deb in "$dl/archives"/*_"$deb_arch".deb "$dl/archives"/*_all.deb; do
		[ -f "$deb" ] && dpkg-deb -x "$deb" "$tmp"
	done
	[ -x "$tmp/sbin/tc" ] || { rm -rf "$tmp"; die "iproute2:$deb_arch has no /sbin/tc" 1; }
	touch "$tmp/.complete"
	mv -T "$tmp" "$tcroot" 2>/dev/null || rm -rf "$tmp"
}

# Prints "GUEST_PATH SOURCE" for the loader and each shared library the
# $deb_arch ELF files need, recursively, found under tcroot first and then
# the host's multiarch directories. Dies naming a library found nowhere.
foreign_libs() {
	local triplet=$arch-linux-gnu roots=("$tcroot" "") todo=("$@") seen=" " f lib root dir found
	while [ ${#todo[@]} -gt 0 ]; do
		f=${todo[0]}
		todo=("${todo[@]:1}")
		lib=$(readelf -l "$f" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
		if [ -n "$lib" ] && [[ $seen != *" $lib "* ]]; then
			seen="$seen$lib "
			found=
			for root in "${roots[@]}"; do
				[ -e "$root$lib" ] && { found=$root$lib; break; }
			done
			[ -n "$found" ] || die "no loader $lib for $f" 1
			echo "$lib $found"
		fi
		for lib in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
			[[ $seen != *" $lib "* ]] || continue
			seen="$seen$lib "
			found=
			for root in "${roots[@]}"; do
				for dir in /lib/$triplet /usr/lib/$triplet; do
					[ -e "$root$dir/$lib" ] && { found=$root$dir/$lib; break 2; }
				done
			done
			[ -n "$found" ] || die "no $lib (needed by $f) in iproute2's packages or /usr/lib/$triplet" 1
			echo "$dir/$lib $found"
			todo+=("$found")
		done
	done
}

# --- kernel ---------------------------------------------------------------
pkgroot=
if [ $foreign -eq 1 ]; then
	fetch_foreign
	kernel=$pkgroot/boot/vmlinuz-$kver
	moddir=$pkgroot/lib/modules/$kver
	busybox=$pkgroot/bin/busybox
	[ -f "$kernel" ] || die "no $kernel in the unpacked package" 1
	# The applet list: busybox --list-full cannot run here, but the host's
	# busybox-static of the same Debian version has the same applets; else
	# ask the foreign one under qemu-user.
	bb_version=$(cat "$pkgroot/.busybox-version")
	if [ "$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null)" = "$bb_version" ]; then
		bb_list=$(/bin/busybox --list-full)
	elif command -v "qemu-$arch-static" >/dev/null; then
		bb_list=$("qemu-$arch-static" "$busybox" --list-full)
	else
		die "cannot list busybox $bb_version's applets: install busybox-static $bb_version or qemu-user-static" 2
	fi
	bb_version=${bb_version#*:}
	bb_version=${bb_version%%-*}
else
	if [ -n "${VH_KERNEL_VERSION:-}" ]; then
		kver=$VH_KERNEL_VERSION
		[ -f "/boot/vmlinuz-$kver" ] || die "no kernel /boot/vmlinuz-$kver (VH_KERNEL_VERSION): install linux-image-$kver" 2
	else
		kver=$(find /boot -maxdepth 1 -name "vmlinuz-*-cloud-$deb_arch" -printf '%f\n' 2>/dev/null |
			sed 's/^vmlinuz-//' | sort -V | tail -n 1)
		[ -n "$kver" ] || die "no Debian cloud kernel in /boot: install linux-image-cloud-$deb_arch (scripts/install-deps.sh)" 2
	fi
	kernel=/boot/vmlinuz-$kver
	moddir=/lib/modules/$kver
	[ -r "$kernel" ] || die "cannot read $kernel (run as root?)" 2
	busybox=/bin/busybox
	if [ ! -x $busybox ] || readelf -l $busybox 2>/dev/null | grep -q 'Requesting program interpreter'; then
		die "no static busybox at $busybox: install busybox-static (scripts/install-deps.sh)" 2
	fi
	bb_list=$($busybox --list-full)
	bb_version=$($busybox 2>&1 | sed -nE '1s/^BusyBox v([^ ]+).*/\1/p')
fi
if [ "$kernel_kind" = small ]; then
	# Everything is built in: no modules directory at all.
	kernel=$("$here/build-kernel.sh" "${VH_KERNEL_CACHE:-}") || die "build-kernel.sh failed" 1
	kver=small-$(basename "$(dirname "$kernel")")
	moddir=
else
	[ -f "$moddir/modules.dep" ] || die "no $moddir/modules.dep: reinstall linux-image-$kver or run depmod $kver" 2
fi

if [ $with_tc -eq 1 ] && [ $foreign -eq 1 ]; then
	fetch_foreign_tc
	tc_bin=$tcroot/sbin/tc
elif [ $with_tc -eq 1 ]; then
	tc_bin=$(command -v tc || true)
	[ -n "$tc_bin" ] || tc_bin=/usr/sbin/tc
	[ -x "$tc_bin" ] || die "no tc: install iproute2" 2
	tc_version=$("$tc_bin" -V 2>&1 | sed -n 1p)
fi
# A host strip may not know the target's ELF; the cross binutils' does.
strip_bin="strip"
[ $foreign -eq 0 ] || ! command -v "$arch-linux-gnu-strip" >/dev/null || strip_bin=$arch-linux-gnu-strip

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
modlist=
if [ -n "$moddir" ]; then
	modlist=$(resolve_modules "$wanted") || die "a wanted module is not in $moddir (kernel $kver)"
elif [ -n "${VH_EXTRA_MODULES:-}" ]; then
	die "VH_EXTRA_MODULES: the small kernel has no modules (add them to guest-agent/kernel/small-x86_64.config)" 2
fi

# --- root filesystem ------------------------------------------------------
cd "$stage"
mkdir -p bin sbin usr/bin usr/sbin etc dev proc sys run tmp root
[ -z "$moddir" ] || mkdir -p "lib/modules/$kver"
chmod 1777 tmp
chmod 700 root

cp "$busybox" bin/busybox
while read -r applet; do
	[ -e "$applet" ] || ln -s /bin/busybox "$applet"
done <<<"$bb_list"

"$strip_bin" --strip-all -o sbin/vh-agent "$agent"
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
if [ -n "$moddir" ]; then
	sed -E 's/\.ko\.(xz|zst|gz)/.ko/g' "$moddir/modules.dep" |
		grep -F -f <(sed "s|^$kver/||; s|$|:|" etc/vh-modules) >"lib/modules/$kver/modules.dep" || true
	cp "$moddir/modules.builtin" "lib/modules/$kver/"
fi

if [ $with_tc -eq 1 ]; then
	# tc and the tools with the exact shared libraries (and loader) they were
	# linked against. tc replaces busybox's tc applet, which cannot do netem
	# and would come first in PATH.
	rm -f sbin/tc bin/tc usr/bin/tc
	install -D "$tc_bin" "./usr/sbin/tc"
	for tool in "${tools[@]}"; do
		install -D -m 755 "$tool" "./usr/bin/$(basename "$tool")"
	done
	if [ $foreign -eq 1 ]; then
		libs=$(foreign_libs "$tc_bin" "${tools[@]}") || exit 1
		while read -r lib src; do
			mkdir -p ".$(dirname "$lib")"
			cp -L "$src" ".$lib"
		done <<<"$libs"
	else
		for bin in "$tc_bin" "${tools[@]}"; do ldd "$bin"; done |
			awk '/=> \// { print $3 } /^[ \t]*\/[^ ]+/ { print $1 }' | sort -u |
			while read -r lib; do
				mkdir -p ".$(dirname "$lib")"
				cp -L "$lib" ".$lib"
			done
	fi
	# netem's delay distribution tables, from the iproute2 whose tc this is.
	for dist in "${tcroot:-}"/usr/lib/*/tc/*.dist "${tcroot:-}"/usr/lib/tc/*.dist; do
		[ -f "$dist" ] || continue
		dst=${dist#"${tcroot:-}"}
		mkdir -p ".$(dirname "$dst")"
		cp "$dist" ".$dst"
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

# Copy the kernel (14 to 27 MB) only when it changed, but always refresh its time:
# make judges the image target by its outputs' timestamps.
if cmp -s "$kernel" "$outdir/vmlinuz"; then
	touch "$outdir/vmlinuz"
else
	cp "$kernel" "$outdir/.vmlinuz.tmp"
	mv "$outdir/.vmlinuz.tmp" "$outdir/vmlinuz"
fi

sum() { sha256sum "$1" | cut -d' ' -f1; }
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	build_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
else
	build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
fi
{
	echo "arch=$arch"
	echo "kernel_version=$kver"
	# The smallest -m the kernel boots and runs flaky_ota with (x86_64,
	# measured: docs/fleet.md); vh.device{} refuses less.
	if [ "$kernel_kind" = small ]; then
		echo "min_memory_mib=$small_min_memory_mib"
		# Its ACPI cannot load microvm's tables (AE_BAD_PARAMETER) and /init
		# then never reaches the console: the harness starts microvm with
		# acpi=off, and QEMU puts the virtio-mmio devices on the command line.
		echo "qemu_acpi=off"
		# TCG's translation buffer: at 8 MiB it boots as fast as at 32 and
		# each guest holds 24 MiB less (at 4 it boots 0.3 s slower).
		echo "qemu_tb_size_mib=8"
	elif [ "$arch" = x86_64 ]; then
		echo "min_memory_mib=80"
	fi
	echo "kernel_sha256=$(sum "$outdir/vmlinuz")"
	echo "initramfs=$cpio_name"
	echo "initramfs_sha256=$(sum "$outdir/$cpio_name")"
	echo "initramfs_bytes=$(stat -c %s "$outdir/$cpio_name")"
	echo "agent_sha256=$(sum sbin/vh-agent)"
	echo "busybox_version=$bb_version"
	echo "modules=$(sed "s|^$kver/||; s|.*/||; s|\.ko$||" etc/vh-modules | tr '\n' ' ' | sed 's/ $//')"
	[ $with_tc -eq 0 ] || echo "tc=$tc_version"
	for tool in "${tools[@]}"; do
		echo "tool_$(basename "$tool")_sha256=$(sum "$tool")"
	done
	echo "build_date=$build_date"
} >"$outdir/.$manifest_name.tmp"
mv "$outdir/.$manifest_name.tmp" "$outdir/$manifest_name"
