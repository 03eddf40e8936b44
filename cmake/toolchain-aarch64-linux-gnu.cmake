# Cross-compiling for arm64 (aarch64) on a Debian 12 amd64 machine with
# Debian's multiarch toolchain. scripts/package --arch arm64 installs what it
# needs and passes this file; by hand:
#   cmake -S . -B build/arm64 -G Ninja -DCMAKE_BUILD_TYPE=Release \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake
#
# Needs (Debian packages): crossbuild-essential-arm64 (aarch64-linux-gnu-gcc,
# -g++ and binutils), pkgconf:arm64 (aarch64-linux-gnu-pkg-config), the
# :arm64 variants of the -dev packages, and qemu-user-static to run tests.
# libsimdjson-dev is not Multi-Arch: same, so its arm64 one cannot be
# installed beside the amd64 one: scripts/package unpacks it into
# build/arm64/debian-deps; by hand add
# -DCMAKE_PREFIX_PATH=$PWD/build/arm64/debian-deps/usr after a first run.
#
# No sysroot: with multiarch the arm64 libraries live beside the amd64 ones,
# headers in /usr/include (arch-specific ones in /usr/include/aarch64-linux-gnu),
# libraries and their CMake and pkg-config files in /usr/lib/aarch64-linux-gnu.
# Debian's cross compiler searches exactly those (and its own
# /usr/aarch64-linux-gnu), and CMake prefers <prefix>/lib/<arch> for
# find_library and find_package once CMAKE_LIBRARY_ARCHITECTURE is set.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Programs run during the build come from the build machine: protoc
# (protobuf-compiler:amd64, the same Debian version as libprotobuf-dev:arm64;
# scripts/package checks), gzip. There is no CMAKE_FIND_ROOT_PATH to re-root
# into, so find_program finds them in /usr/bin as usual; NEVER keeps it so if
# someone adds one.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

# pkg-config for the target: the triplet wrapper reads only
# /usr/lib/aarch64-linux-gnu/pkgconfig and /usr/share/pkgconfig, so an amd64
# .pc file can never leak in.
find_program(PKG_CONFIG_EXECUTABLE NAMES aarch64-linux-gnu-pkg-config)
if(NOT PKG_CONFIG_EXECUTABLE)
  message(FATAL_ERROR "aarch64-linux-gnu-pkg-config not found (Debian package: pkgconf:arm64)")
endif()

# Test executables (and doctest's test discovery at build time) run under
# qemu-user, which needs no binfmt_misc (containers usually lack it).
#  -L /  The ELF interpreter and every library come from the multiarch
#        directories of this root: /lib/ld-linux-aarch64.so.1 and libc.so.6
#        both from libc6:arm64. Not -L /usr/aarch64-linux-gnu (the cross
#        toolchain's libc6-arm64-cross): its ld.so is another glibc build
#        (2.36-8cross1 against libc6:arm64 2.36-9+deb12u*), the loader still
#        finds libc.so.6 in /lib/aarch64-linux-gnu, and with a loader and a
#        libc from different builds the first pthread_create spins forever.
#  -cpu cortex-a72  An ARMv8.0 core with the CRC32 extension (Raspberry Pi 4),
#        so CRC32C runs its hardware path. qemu's default `max` CPU
#        advertises DC CVAP (HWCAP_DCPOP) but qemu-user does not implement
#        it: libpmem2 picks it for its flushes and dies with SIGILL. Without
#        DCPOP, libpmem2 flushes with DC CIVAC, which qemu-user runs.
if(NOT DEFINED CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(SLUICE_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
  if(SLUICE_QEMU_AARCH64)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${SLUICE_QEMU_AARCH64} -cpu cortex-a72 -L /)
  endif()
endif()
