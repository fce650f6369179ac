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
  linux-image-cloud-amd64 initramfs-tools
  libxml2-utils
  curl fdisk
  vde2
  clang libclang-rt-14-dev
  lua-check shellcheck clang-format-14
  strace
  mender-artifact libglib2.0-0 liblzma5 libssl3
)

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Mender image (guest-agent/mender/) runs Debian's mender-client in the
# guest: its package is unpacked, never installed here (its postinst would
# enable the daemon on this machine).
deb_cache=${VH_DEB_CACHE:-$HOME/.cache/vharness/debs}
if ! compgen -G "$deb_cache/mender-client_*_amd64.deb" >/dev/null; then
  mkdir -p "$deb_cache"
  (cd "$deb_cache" && apt-get download mender-client)
fi
