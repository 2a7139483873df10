# Cross build of the BPF object and the shim for arm64 (lab/run --arch arm64 uses it):
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#         -DFORKTRACE_ARM64_SYSROOT=DIR -DVMLINUX_BTF=BTF_OF_AN_ARM64_KERNEL
# Compiler and libc: Debian's gcc-aarch64-linux-gnu. DIR holds Debian's arm64 libbpf-dev, libbpf1,
# libelf-dev, libelf1, zlib1g-dev and zlib1g unpacked with dpkg -x (the libraries the shim links).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
# try_compile projects read this file too: pass the directory on to them.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES FORKTRACE_ARM64_SYSROOT)
if(NOT IS_DIRECTORY "${FORKTRACE_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu")
  message(FATAL_ERROR "FORKTRACE_ARM64_SYSROOT='${FORKTRACE_ARM64_SYSROOT}' has no usr/lib/aarch64-linux-gnu: "
    "unpack Debian's arm64 libbpf-dev, libbpf1, libelf-dev, libelf1, zlib1g-dev and zlib1g there with dpkg -x")
endif()
# libbpf.pc of the arm64 package, its paths prefixed with the unpacked root.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${FORKTRACE_ARM64_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR} "${FORKTRACE_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig")
set(CMAKE_FIND_ROOT_PATH "${FORKTRACE_ARM64_SYSROOT}" /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
