#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a built vharness: installs the
# Debian packages, configures and builds everything (harness, agent, reference
# firmware image) into build/. Re-running it is cheap.
#   VH_BUILD_DIR   build directory (default: build)
#   VH_CMAKE_ARGS  extra cmake arguments (e.g. -DVH_SANITIZE=ON)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${VH_BUILD_DIR:-build}
scripts/install-deps.sh
# shellcheck disable=SC2086
cmake -S . -B "$build" -DVH_WERROR=ON ${VH_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$(nproc)"
echo "setup: built $build/vharness and the reference firmware in $build/image"
