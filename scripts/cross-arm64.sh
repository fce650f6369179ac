#!/usr/bin/env bash
# The harness itself on arm64, from this x86-64 Debian host: installs the
# cross compiler, qemu-user-static and the arm64 -dev packages (Debian
# multiarch), configures build-arm64/ with cmake/aarch64-linux-gnu.cmake,
# builds the harness, the agent and the unit tests with -Werror, and runs the
# unit tests under qemu-user (ctest's CMAKE_CROSSCOMPILING_EMULATOR:
# qemu-aarch64-static -L /usr/aarch64-linux-gnu; no binfmt registration
# needed). Tests labelled needs-host-kernel are left out, each with its reason
# (README "The harness on arm64"); ctest's output goes to $build/ctest.log for
# .ci/check-skips. Re-running it is cheap.
# No libext2fs-dev:arm64: it is not Multi-Arch: same, so installing it would
# remove the host's libext2fs-dev and break every native build; the runtime
# libext2fs2:arm64 is enough (harness/disk/CMakeLists.txt).
# Then the kernel impairment backend as an arm64 runner would run it: an
# aarch64 image-tc ($build/image-tc: Debian's arm64 kernel with sch_netem,
# arm64 tc, the cross-built agent and vh-kernel-netem-check) booted under TCG
# by this host's harness (build/vharness, from scripts/setup.sh), where the
# check applies and dumps qdiscs through the cross-built netem/kernel_netem.c
# (tests/kernel_backend/it_kernel_backend.sh with VH_ARCH=aarch64).
#   VH_CROSS_BUILD_DIR  build directory (default: build-arm64)
#   VH_CROSS_NO_TESTS=1 build only
#   VH_CROSS_NO_GUEST=1 no aarch64 guest (unit tests only)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${VH_CROSS_BUILD_DIR:-build-arm64}

[ "$(dpkg --print-architecture)" = amd64 ] ||
	{ echo "cross-arm64: for x86-64 (amd64) hosts; on arm64 run scripts/setup.sh" >&2; exit 2; }

packages=(
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
  comerr-dev:arm64 libext2fs2:arm64 liblua5.4-dev:arm64 libnl-3-dev:arm64 libnl-route-3-dev:arm64
  libpcap-dev:arm64 libcmocka-dev:arm64 libmicrohttpd-dev:arm64
)
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "cross-arm64: installing ${missing[*]}"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    "${sudo_cmd[@]}" dpkg --add-architecture arm64
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  # Multiarch libraries must match their amd64 twins' versions, so this may
  # upgrade some amd64 libraries too; it removes nothing.
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
    -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}"
fi

cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DVH_WERROR=ON >/dev/null
cmake --build "$build" -j "$(nproc)"
file "$build/vharness" | grep -q 'ARM aarch64' ||
	{ echo "cross-arm64: $build/vharness is not an aarch64 binary" >&2; exit 1; }
echo "cross-arm64: built $build/vharness ($(file -b "$build/vharness" | cut -d, -f1-2))"
[ -z "${VH_CROSS_NO_TESTS:-}" ] || exit 0
ctest --test-dir "$build" -L unit -LE needs-host-kernel -j "$(nproc)" --output-on-failure |
	tee "$build/ctest.log"
[ -z "${VH_CROSS_NO_GUEST:-}" ] || exit 0
host_vharness=$PWD/build/vharness
[ -x "$host_vharness" ] ||
	{ echo "cross-arm64: the aarch64 kernel-backend check needs this host's harness: run scripts/setup.sh (or VH_CROSS_NO_GUEST=1)" >&2; exit 2; }
guest-agent/build-image.sh --with-tc --arch aarch64 "$build/image-tc" "$build/guest-agent/vh-agent" \
	"$build/tests/kernel_backend/vh-kernel-netem-check"
VHARNESS=$host_vharness VH_IMAGE_DIR=$(cd "$build" && pwd)/image-tc VH_ARCH=aarch64 \
	bash tests/kernel_backend/it_kernel_backend.sh
