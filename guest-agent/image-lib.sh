# shellcheck shell=bash
# image-lib.sh: what the images of real update clients have in common
# (guest-agent/mender/build-mender-image.sh, guest-agent/rauc/build-rauc-image.sh).
# Sourced; the caller defines die MESSAGE [EXIT] and runs under set -euo pipefail.

# lib_closure BIN...: the shared libraries of the binaries, with the loader,
# one path a line (ldd's closure, run on each binary alone so that its
# "BIN:" header is never read as a library).
lib_closure() {
	local bin
	for bin in "$@"; do
		ldd "$bin"
	done | awk '/=> \// { print $3 } /^[ \t]*\/[^ ]+/ { print $1 }' | sort -u
}

# install_libs ROOT LIB...: copy each library to the same path under ROOT.
install_libs() {
	local root=$1 lib
	shift
	for lib in "$@"; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# install_busybox ROOT BUSYBOX: the static busybox as /bin/busybox, a link
# for each applet that ROOT does not have already.
install_busybox() {
	local root=$1 applet
	cp "$2" "$root/bin/busybox"
	"$2" --list-full | while read -r applet; do
		[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
	done
}

# make_slot_initrd REFDIR INIT OUT [MODULE.ko...]: the initramfs in each
# slot's /boot: the reference image's modules (its /etc/vh-modules, loaded
# by INIT in order), then the extra modules given (files of the same
# kernel, no dependencies of their own), and INIT as /init. Reproducible.
make_slot_initrd() {
	local refdir=$1 init=$2 out=$3 tree kver mod
	shift 3
	tree=$(mktemp -d "$(dirname "$out")/.initrd.XXXXXX")
	(cd "$tree" && cpio -idm --quiet <"$refdir/initramfs.cpio")
	rm -rf "$tree/sbin/vh-agent" "$tree/etc/inittab" "$tree/etc/profile"
	kver=$(sed -n '1s|/.*||p' "$tree/etc/vh-modules")
	for mod in "$@"; do
		[ -n "$kver" ] || die "the reference initramfs names no modules: cannot place $mod"
		mkdir -p "$tree/lib/modules/$kver/extra"
		cp "$mod" "$tree/lib/modules/$kver/extra/"
		echo "$kver/extra/$(basename "$mod")" >>"$tree/etc/vh-modules"
	done
	install -m 755 "$init" "$tree/init"
	find "$tree" -mindepth 1 -exec touch -h -d @0 {} +
	(cd "$tree" && find . -mindepth 1 -printf '%P\n' | sort |
		cpio --quiet -o -H newc --reproducible -R 0:0) >"$out"
	rm -rf "$tree"
}

# write_env IMG ENV_FILE VAR VALUE: the redundant U-Boot env at 0x400000 and
# 0x800000 (0x4000 each) of IMG, from ENV_FILE's NAME=VALUE lines; checks
# that fw_printenv reads VAR back as VALUE.
write_env() {
	local img=$1 envfile=$2 conf
	conf=$(mktemp "$(dirname "$img")/.fw_env.XXXXXX")
	printf '%s 0x400000 0x4000\n%s 0x800000 0x4000\n' "$img" "$img" >"$conf"
	# A blank flash has no env: fw_setenv starts from the file's values (-f),
	# as U-Boot would from its built-in default env, and writes them (-s:
	# with nothing to set it would write nothing). -f reads NAME=VALUE lines
	# only.
	fw_setenv -c "$conf" -f "$envfile" -s "$envfile"
	[ "$(fw_printenv -c "$conf" -n "$3")" = "$4" ] || die "the U-Boot env did not reach $img"
	rm -f "$conf"
}

# fw_env_config FILE: the rootfs's /etc/fw_env.config for write_env's layout.
fw_env_config() {
	printf '/dev/vda 0x400000 0x4000\n/dev/vda 0x800000 0x4000\n' >"$1"
}

# write_manifest OUTDIR KEY START OUTPUTS [LINE...]: OUTDIR/manifest with the
# key, the LINEs, each output's size, allocation and sha256, and the build
# time since START (date +%s.%N); then OUTDIR/key, which marks the build
# complete.
write_manifest() {
	local outdir=$1 key=$2 start=$3 outputs=$4 f end
	shift 4
	end=$(date +%s.%N)
	{
		echo "key=$key"
		printf '%s\n' "$@"
		for f in $outputs; do
			[ "$f" = manifest ] && continue
			echo "$f bytes=$(stat -c %s "$outdir/$f") allocated_kib=$(du -k "$outdir/$f" | cut -f1)" \
				"sha256=$(sha256sum "$outdir/$f" | cut -d' ' -f1)"
		done
		echo "build_seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')"
	} >"$outdir/.manifest.tmp"
	mv "$outdir/.manifest.tmp" "$outdir/manifest"
	echo "$key" >"$outdir/key"
}

# up_to_date OUTDIR KEY OUTPUTS: true (and the outputs touched, so make does
# not ask again) when every output exists and OUTDIR/key is KEY.
up_to_date() {
	local f
	for f in $3; do [ -f "$1/$f" ] || return 1; done
	[ "$(cat "$1/key" 2>/dev/null)" = "$2" ] || return 1
	for f in $3; do touch "$1/$f"; done
}

# check_inputs OUTDIR REFDIR TOOL... -- PACKAGES: the reference image's
# kernel and initramfs that every image script builds on, and each tool on
# PATH (else die naming PACKAGES for scripts/install-deps.sh). Sets outdir
# and refdir (absolute).
check_inputs() {
	local tools=() f tool
	outdir=$1
	refdir=$(cd "$2" 2>/dev/null && pwd) || die "no reference image directory $2" 2
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		tools+=("$1")
		shift
	done
	shift
	for f in vmlinuz initramfs.cpio; do
		[ -f "$refdir/$f" ] || die "no $refdir/$f: build the reference image first (cmake --build build --target image)" 2
	done
	for tool in "${tools[@]}"; do
		command -v "$tool" >/dev/null || die "$tool not found: run scripts/install-deps.sh ($*)" 2
	done
}
