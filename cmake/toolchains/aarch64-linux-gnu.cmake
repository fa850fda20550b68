# Cross-compile simdsoftmax for aarch64 Linux with Debian's crossbuild-essential-arm64,
# and run the executables (ctest, gtest_discover_tests) under qemu-aarch64 (qemu-user).
#
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#         -DCMAKE_BUILD_TYPE=Release -DSIMDSOFTMAX_BUILD_BENCHMARKS=OFF
#   cmake --build build/aarch64 -j2 && ctest --test-dir build/aarch64
#
# Override the triplet's locations with -DSIMDSOFTMAX_CROSS_TRIPLE=... /
# -DSIMDSOFTMAX_CROSS_SYSROOT=... if your cross toolchain lives elsewhere.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(SIMDSOFTMAX_CROSS_TRIPLE aarch64-linux-gnu CACHE STRING "Cross compiler prefix")
set(SIMDSOFTMAX_CROSS_SYSROOT /usr/${SIMDSOFTMAX_CROSS_TRIPLE} CACHE PATH
    "Target libraries (Debian multiarch cross layout); also qemu's -L")

set(CMAKE_C_COMPILER ${SIMDSOFTMAX_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${SIMDSOFTMAX_CROSS_TRIPLE}-g++)

# try_run, ctest and gtest_discover_tests run target binaries through this.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;${SIMDSOFTMAX_CROSS_SYSROOT})

# Libraries and headers from the target tree only; programs (qemu, python) from the host.
set(CMAKE_FIND_ROOT_PATH ${SIMDSOFTMAX_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# xsimd is header-only and Debian ships one copy of its headers (/usr/include/xsimd)
# with the CMake config in the *host's* multiarch dir, which the root-path rules above
# hide. Point xsimd_DIR at it: the headers are the same for every target.
if(NOT DEFINED xsimd_DIR AND NOT DEFINED CACHE{xsimd_DIR})
  set(_ssm_host_multiarch "")
  find_program(_ssm_dpkg_arch dpkg-architecture NO_CMAKE_FIND_ROOT_PATH)
  if(_ssm_dpkg_arch)
    execute_process(COMMAND ${_ssm_dpkg_arch} -qDEB_BUILD_MULTIARCH
                    OUTPUT_VARIABLE _ssm_host_multiarch OUTPUT_STRIP_TRAILING_WHITESPACE
                    ERROR_QUIET)
  endif()
  if(NOT _ssm_host_multiarch)
    set(_ssm_host_multiarch ${CMAKE_HOST_SYSTEM_PROCESSOR}-linux-gnu)
  endif()
  foreach(_ssm_dir /usr/lib/${_ssm_host_multiarch}/cmake/xsimd /usr/share/cmake/xsimd
                   /usr/lib/cmake/xsimd /usr/local/lib/cmake/xsimd /usr/local/share/cmake/xsimd)
    if(EXISTS ${_ssm_dir}/xsimdConfig.cmake)
      set(xsimd_DIR ${_ssm_dir} CACHE PATH "xsimd CMake config (header-only; host copy)")
      break()
    endif()
  endforeach()
endif()
