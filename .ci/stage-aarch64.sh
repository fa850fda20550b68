#!/usr/bin/env bash
# aarch64: cross-build the library and the test suite with
# cmake/toolchains/aarch64-linux-gnu.cmake (Debian crossbuild-essential-arm64) and
# run the suite under qemu-aarch64 (Debian qemu-user) through ctest: the NEON and
# scalar kernels, with active_isa() required to be neon.
#
# Emulation is ~10-100x slower than native, so the tests run with
#   SIMDSOFTMAX_TEST_EMULATED=1       heavy loops shrink (see tests/)
#   SIMDSOFTMAX_EXP_SWEEP_STEP=17     the exp ulp sweep visits every 17th float of
#                                     [-87.3, 0] (66 million) instead of every one.
#                                     17 is prime, so the samples cover every binade
#                                     and every residue of the low mantissa bits.
#                                     This is the only place the NEON exp runs, so
#                                     the sample is denser than on emulated x86
#                                     (whose code the native stage sweeps in full).
#   SIMDSOFTMAX_LOG_SWEEP_STEP=17     likewise for the log sweep over [1, 2^31].
#
# SIMDSOFTMAX_CTEST_ARGS: extra ctest arguments (e.g. "-R Dispatch" locally).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS

source .ci/ctest-log.sh  # digest, failures

.ci/install-deps.sh qemu-user crossbuild-essential-arm64

dir=${SIMDSOFTMAX_AARCH64_BUILD:-build/aarch64}
triple=aarch64-linux-gnu
sysroot=/usr/$triple

cmake -S . -B "$dir" -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/$triple.cmake \
  -DCMAKE_BUILD_TYPE=Release -DSIMDSOFTMAX_BUILD_TESTS=ON \
  -DSIMDSOFTMAX_BUILD_BENCHMARKS=OFF -DSIMDSOFTMAX_INSTALL=OFF --no-warn-unused-cli >/dev/null
cmake --build "$dir" -j2
t_build=$((SECONDS - t0))

# What the dispatcher picks on this (emulated) CPU, straight from the public API.
$triple-g++ -std=c++17 -O2 -fopenmp -Iinclude .ci/isa-check.cpp "$dir/libsimdsoftmax.a" -o "$dir/isa-check"
line=$(qemu-aarch64 -L "$sysroot" "$dir/isa-check")
echo "aarch64 (qemu-aarch64): $line"
[[ $line == "active_isa()=neon available=neon,scalar" ]] || { echo "aarch64: expected neon"; exit 1; }

export SIMDSOFTMAX_TEST_EMULATED=1
export SIMDSOFTMAX_EXP_SWEEP_STEP=${SIMDSOFTMAX_EXP_SWEEP_STEP:-17}
export SIMDSOFTMAX_LOG_SWEEP_STEP=${SIMDSOFTMAX_LOG_SWEEP_STEP:-17}
export SIMDSOFTMAX_EXPECT_ISA=neon
export SIMDSOFTMAX_EXPECT_AVAILABLE=neon,scalar
t1=$SECONDS
log=$dir/ctest-qemu-aarch64.log
if ! ctest --test-dir "$dir" -j2 --no-tests=error -V ${SIMDSOFTMAX_CTEST_ARGS:-} >"$log" 2>&1; then
  failures "$log"
  echo "aarch64: ctest under qemu-aarch64 failed (full log: $log)"
  exit 1
fi
digest "$log" "aarch64 (qemu-aarch64)"
echo "aarch64: build ${t_build} s, tests under qemu $((SECONDS - t1)) s, stage $((SECONDS - t0)) s"
