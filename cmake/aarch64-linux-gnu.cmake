# Cross-compiling for 64-bit Arm Linux on a Debian host: Debian's
# gcc-aarch64-linux-gnu, and the target's libraries from multiarch -dev
# packages (liblua5.4-dev:arm64, ...), found through pkg-config's arm64
# directories. Used by scripts/cross-arm64.sh and by the aarch64 guest
# agent's sub-build (guest-agent/CMakeLists.txt).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)

# Multiarch puts arm64 libraries in /usr/lib/aarch64-linux-gnu and headers in
# /usr/include (shared) or /usr/include/aarch64-linux-gnu; the cross
# compiler's own libc is in /usr/aarch64-linux-gnu.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr/lib/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# pkg-config must see the arm64 .pc files only, never the host's.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")

# Test programs run under qemu-user. -L / makes them load the multiarch
# libc6:arm64 (/lib/ld-linux-aarch64.so.1), the one the arm64 -dev packages
# depend on. Not the cross compiler's copy in /usr/aarch64-linux-gnu
# (libc6-arm64-cross 2.36-8cross1): under qemu-aarch64-static 7.2 a child
# forked by that libc spins in guest code right after fork() and never exits, so
# every test that forks hung until its timeout.
find_program(VH_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(VH_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${VH_QEMU_AARCH64} -L /)
endif()
