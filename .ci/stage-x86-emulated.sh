#!/usr/bin/env bash
# x86-64 on older CPUs: the native Release test suite run through ctest under
# qemu-x86_64 (Debian qemu-user) emulating
#   Haswell  AVX2+FMA, no AVX-512  -> active_isa() must be avx2, available avx2,scalar;
#                                     the avx512 tests skip with their reason
#   Nehalem  SSE4.2, no AVX        -> active_isa() must be scalar; avx2 and avx512 skip
# A wrong choice by the cpuid/XCR0 detection fails the suite (SIMDSOFTMAX_EXPECT_*),
# and an AVX instruction leaking into baseline code (design.md, "ODR hazard") dies
# of SIGILL, which ctest reports as a failure.
#
# The build dir sets CMAKE_CROSSCOMPILING_EMULATOR=qemu-x86_64 (CMake honours it for
# native builds too, so every discovered test runs as `qemu-x86_64 <test binary> ...`);
# qemu-user takes the CPU model from $QEMU_CPU, so one build serves both CPUs.
#
# Emulation is slower than native, so the tests run with SIMDSOFTMAX_TEST_EMULATED=1
# and SIMDSOFTMAX_EXP_SWEEP_STEP=101: the exp sweep visits every 101st float of
# [-87.3, 0] (11 million; 101 is prime, so every binade and every residue of the low
# mantissa bits is sampled). The same machine code gets the full sweep natively in
# .ci/stage-native.sh; here the point is dispatch and the absence of SIGILL.
# qemu 7.2's TCG prints "TCG doesn't support requested feature" warnings for Haswell
# (pcid, x2apic, tsx...): harmless, they concern system-mode features.
#
# SIMDSOFTMAX_CTEST_ARGS: extra ctest arguments (e.g. "-R Dispatch" locally).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS

source .ci/ctest-log.sh  # digest, failures

if [[ $(uname -m) != x86_64 ]]; then
  echo "x86-emulated: skipped, the host is $(uname -m), not x86-64"
  exit 0
fi
.ci/install-deps.sh qemu-user

dir=${SIMDSOFTMAX_X86_EMU_BUILD:-build/x86-emu}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DSIMDSOFTMAX_BUILD_TESTS=ON \
  -DSIMDSOFTMAX_BUILD_BENCHMARKS=OFF -DSIMDSOFTMAX_INSTALL=OFF \
  -DCMAKE_CROSSCOMPILING_EMULATOR=qemu-x86_64 >/dev/null
cmake --build "$dir" -j2
t_build=$((SECONDS - t0))

# What the dispatcher picks on each emulated CPU, straight from the public API.
g++ -std=c++17 -O2 -fopenmp -Iinclude .ci/isa-check.cpp "$dir/libsimdsoftmax.a" -o "$dir/isa-check"

export SIMDSOFTMAX_TEST_EMULATED=1
export SIMDSOFTMAX_EXP_SWEEP_STEP=${SIMDSOFTMAX_EXP_SWEEP_STEP:-101}
for run in Haswell:avx2:avx2,scalar Nehalem:scalar:scalar; do
  IFS=: read -r cpu isa avail <<<"$run"
  t1=$SECONDS
  line=$(QEMU_CPU=$cpu qemu-x86_64 "$dir/isa-check" 2>/dev/null)
  echo "x86 ($cpu, qemu-x86_64): $line"
  [[ $line == "active_isa()=$isa available=$avail" ]] || { echo "x86 ($cpu): expected $isa"; exit 1; }
  log=$dir/ctest-qemu-$cpu.log
  if ! QEMU_CPU=$cpu SIMDSOFTMAX_EXPECT_ISA=$isa SIMDSOFTMAX_EXPECT_AVAILABLE=$avail \
      ctest --test-dir "$dir" -j2 --no-tests=error -V ${SIMDSOFTMAX_CTEST_ARGS:-} >"$log" 2>&1; then
    failures "$log"
    echo "x86 ($cpu): ctest under qemu-x86_64 failed (full log: $log)"
    exit 1
  fi
  if grep -qiE 'illegal instruction|SIGILL' "$log"; then
    grep -iE 'illegal instruction|SIGILL' "$log" | head
    echo "x86 ($cpu): illegal instruction in the log"
    exit 1
  fi
  digest "$log" "x86 ($cpu, qemu-x86_64)"
  echo "x86 ($cpu): tests under qemu $((SECONDS - t1)) s"
done
echo "x86-emulated: build ${t_build} s, stage $((SECONDS - t0)) s"
