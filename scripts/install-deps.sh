#!/usr/bin/env bash
# Installs every Debian package vharness needs to build, test and boot its
# reference firmware. Idempotent; safe to run on a fresh Debian 12 machine.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  liblua5.4-dev lua5.4
  libnl-3-dev libnl-route-3-dev
  libpcap-dev libcmocka-dev libmicrohttpd-dev
  qemu-system-x86 qemu-system-arm qemu-utils
  busybox-static cpio kmod iproute2 procps util-linux
  libubootenv-tool libext2fs-dev e2fsprogs
  initramfs-tools
  libxml2-utils
  curl fdisk
  vde2
  nftables
  clang libclang-rt-14-dev
  lua-check shellcheck clang-format-14
  strace
  chromium # it_report renders report.html in a real browser (headless)
  mender-artifact libglib2.0-0 liblzma5 libssl3 # the Mender image (guest-agent/mender/)
  rauc squashfs-tools dbus-daemon openssl # the RAUC image (guest-agent/rauc/): rauc in the guest and for bundles
  # the small guest kernel (guest-agent/build-kernel.sh, image-small): its
  # source and what building a bzImage needs
  linux-source-6.1 bc flex bison libelf-dev libssl-dev xz-utils perl
)

# The guest kernel is the host architecture's; on x86-64 also what the aarch64
# reference image needs (guest-agent/build-image.sh --arch aarch64): the cross
# compiler for its static agent, and arm64 as a foreign architecture so that
# apt-get download fetches its kernel and busybox. A native arm64 host builds
# only its own image.
foreign=()
case $(dpkg --print-architecture) in
amd64)
  packages+=(linux-image-cloud-amd64 gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
  foreign=(arm64)
  ;;
arm64)
  packages+=(linux-image-cloud-arm64)
  ;;
*)
  echo "install-deps: Debian architecture $(dpkg --print-architecture) is not supported" \
    "(amd64 or arm64)" >&2
  exit 2
  ;;
esac

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

added_arch=0
for a in "${foreign[@]}"; do
  if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
    "${sudo_cmd[@]}" dpkg --add-architecture "$a"
    added_arch=1
  fi
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] || [ "$added_arch" = 1 ]; then
  echo "install-deps: installing ${missing[*]:-nothing new (apt lists for ${foreign[*]})}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Mender image (guest-agent/mender/) runs Debian's mender-client in the
# guest: its package is unpacked, never installed here (its postinst would
# enable the daemon on this machine).
# x86-64 hosts only, as the image's CMake target.
deb_cache=${VH_DEB_CACHE:-$HOME/.cache/vharness/debs}
if [ "$(dpkg --print-architecture)" = amd64 ] &&
  ! compgen -G "$deb_cache/mender-client_*_amd64.deb" >/dev/null; then
  mkdir -p "$deb_cache"
  (cd "$deb_cache" && apt-get download mender-client)
fi
