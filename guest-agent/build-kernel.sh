#!/bin/bash
# build-kernel.sh [CACHE_DIR]
#
# Builds the small x86-64 guest kernel from Debian's linux-source-6.1
# (/usr/src/linux-source-6.1.tar.xz): `make tinyconfig` plus the fragment
# guest-agent/kernel/small-x86_64.config (merged with the kernel's
# scripts/kconfig/merge_config.sh), bzImage only, no modules.
#
# The result is cached in CACHE_DIR/<key>/bzImage (default CACHE_DIR:
# $VH_KERNEL_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/vharness/kernel), where
# <key> is the sha256 of the fragment, the source package's version and this
# script: a second run with the same inputs prints the path and returns at
# once. CACHE_DIR/<key>/config is the full .config, build.log the build's
# output. The unpacked source is kept in CACHE_DIR/src-<version> for the next
# key. Prints the bzImage's path on stdout; everything else goes to stderr.
# VH_KERNEL_JOBS (default 2) is make -j; the build runs under nice -n 10.
# Exit codes: 0 built or cached, 1 build failure, 2 missing package.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "build-kernel.sh: $1" >&2; exit "${2:-1}"; }

fragment=$here/kernel/small-x86_64.config
tarball=/usr/src/linux-source-6.1.tar.xz
[ -f "$tarball" ] || die "no $tarball: install linux-source-6.1 (scripts/install-deps.sh)" 2
for tool in make gcc flex bison bc perl xz; do
	command -v "$tool" >/dev/null || die "no $tool: run scripts/install-deps.sh" 2
done
[ -f /usr/include/libelf.h ] || die "no libelf.h: install libelf-dev (scripts/install-deps.sh)" 2
version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
	die "linux-source-6.1 is not installed" 2

cache=${1:-${VH_KERNEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vharness/kernel}}
key=$({ cat "$fragment"; echo "linux-source-6.1=$version"; cat "${BASH_SOURCE[0]}"; } |
	sha256sum | cut -c1-16)
out=$cache/$key
if [ -f "$out/bzImage" ]; then
	echo "$out/bzImage"
	exit 0
fi
mkdir -p "$cache"
cache=$(cd "$cache" && pwd) # make -C changes directory: O= must be absolute

# The source, unpacked once per package version.
src=$cache/src-$version
if [ ! -f "$src/.complete" ]; then
	echo "build-kernel.sh: unpacking $tarball ($version)" >&2
	tmp=$(mktemp -d "$cache/.src.XXXXXX")
	tar -xf "$tarball" -C "$tmp" --strip-components=1
	touch "$tmp/.complete"
	mv -T "$tmp" "$src" 2>/dev/null || rm -rf "$tmp"
fi

work=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
jobs=${VH_KERNEL_JOBS:-2}
start=$(date +%s)
echo "build-kernel.sh: building (make -j$jobs, log in $work/build.log)" >&2
{
	make -C "$src" O="$work" ARCH=x86_64 tinyconfig
	(cd "$work" && "$src/scripts/kconfig/merge_config.sh" -m .config "$fragment")
	make -C "$src" O="$work" ARCH=x86_64 olddefconfig
} </dev/null >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; die "configuring failed"; }

# Every option the fragment sets must have survived olddefconfig (a missing
# dependency silently drops one).
lost=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*) grep -qxF "$line" "$work/.config" || { echo "build-kernel.sh: not in .config: $line" >&2; lost=1; } ;;
	"# CONFIG_"*" is not set")
		name=${line#\# }; name=${name%% *}
		! grep -q "^$name=" "$work/.config" || { echo "build-kernel.sh: still set: $name" >&2; lost=1; } ;;
	esac
done <"$fragment"
[ $lost -eq 0 ] || die "the fragment does not apply cleanly to linux-source-6.1 $version"

nice -n 10 make -C "$src" O="$work" ARCH=x86_64 -j"$jobs" bzImage </dev/null >>"$work/build.log" 2>&1 ||
	{ tail -n 30 "$work/build.log" >&2; die "make bzImage failed"; }

stage=$(mktemp -d "$cache/.out.XXXXXX")
cp "$work/arch/x86/boot/bzImage" "$stage/bzImage"
cp "$work/.config" "$stage/config"
cp "$work/build.log" "$stage/build.log"
echo "build-kernel.sh: built in $(($(date +%s) - start)) s, bzImage $(stat -c %s "$stage/bzImage") bytes" >&2
mv -T "$stage" "$out" 2>/dev/null || rm -rf "$stage"
echo "$out/bzImage"
