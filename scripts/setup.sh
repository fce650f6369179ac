#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a built vharness: installs the
# Debian packages, configures and builds everything (harness, agent, reference
# firmware images for x86-64 and aarch64) into build/. Re-running it is cheap.
#   VH_BUILD_DIR   build directory (default: build)
#   VH_CMAKE_ARGS  extra cmake arguments (e.g. -DVH_SANITIZE=ON)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${VH_BUILD_DIR:-build}
scripts/install-deps.sh
# The aarch64 reference image too, so that its tests run here (its first build
# downloads the arm64 kernel and busybox packages, about 22 MB).
# shellcheck disable=SC2086
cmake -S . -B "$build" -DVH_WERROR=ON -DVH_IMAGE_AARCH64=ON ${VH_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$(nproc)"
echo "setup: built $build/vharness and the reference firmware in $build/image"
