#!/usr/bin/env bash
# Sanitizer builds (issue 6).
#
# 1. AddressSanitizer + UndefinedBehaviorSanitizer, no recovery: a Debug build
#    (assertions, -g) of the library and the whole test suite with GCC, the
#    compiler that builds the shipped library, then ctest: every test on every
#    ISA this CPU runs (guard pages, overflow, FP state, concurrency and the
#    fuzz-corpus replay included). Two departures from a plain Debug build:
#    - -O1, not -O0: xsimd 8.1.0's AVX-512BW integer select does not compile at
#      -O0 with GCC 12 (its intrinsics are macros there); -O1 is also ASan's
#      recommended level.
#    - the exp ulp sweep visits every 31st float of [-87.3, 0] (35 million; 31
#      is prime, so every binade and every residue of the low mantissa bits is
#      sampled) instead of all 1.1e9: the full sweep runs in the native stage;
#      here the point is memory and UB errors, and one sweep per ISA still runs.
#      No test is skipped and no other loop is shortened.
#    The consumer install test is left out (SIMDSOFTMAX_INSTALL=OFF): a
#    consumer project built without -fsanitize cannot link a sanitized
#    library; the native stage runs it.
#    GCC's ASan does not instrument masked vector loads/stores (vmaskmov,
#    AVX-512 masked moves); the guard-page tests catch those, and the fuzz stage
#    (clang, which checks masked accesses lane by lane) covers them again.
#
# 2. ThreadSanitizer on the concurrency tests (tests/test_concurrency.cpp, its
#    own executable): first-call dispatch raced by 16 threads in a fresh process
#    (also once per SIMDSOFTMAX_ISA value), 16 threads of batch calls on every
#    ISA, and Options::threads = 2 / 0 from 4 caller threads at once.
#    Built with clang-14 and LLVM's OpenMP runtime (libomp-14-dev) with its
#    Archer tool (libarcher.so, loaded through OMP_TOOL_LIBRARIES), which tells
#    TSan about OpenMP's barriers and fork/join, so the OpenMP code paths are
#    checked too. GCC's libgomp is not TSan-instrumented and gives false
#    positives on every parallel region; building with SIMDSOFTMAX_OPENMP=OFF
#    instead would have left the threads > 1 paths unchecked. The stage checks
#    that Archer really attached. TSan's ignore_noninstrumented_modules=1 skips
#    accesses inside the uninstrumented runtimes (libomp, libstdc++, gtest).
#
# Env: SIMDSOFTMAX_CTEST_ARGS extra ctest arguments for the ASan run (e.g. "-R GuardPages").
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS

source .ci/ctest-log.sh  # digest, failures

.ci/install-deps.sh clang-14 libclang-rt-14-dev libomp-14-dev

# ---------------------------------------------------------------- ASan + UBSan
asan=${SIMDSOFTMAX_ASAN_BUILD:-build/asan}
cmake -S . -B "$asan" -DCMAKE_BUILD_TYPE=Debug \
  "-DCMAKE_CXX_FLAGS=-O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
  -DSIMDSOFTMAX_BUILD_TESTS=ON -DSIMDSOFTMAX_BUILD_BENCHMARKS=OFF -DSIMDSOFTMAX_INSTALL=OFF >/dev/null
cmake --build "$asan" -j2
t_asan_build=$((SECONDS - t0))

t1=$SECONDS
log=$asan/ctest-asan.log
if ! ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     SIMDSOFTMAX_EXP_SWEEP_STEP=31 SIMDSOFTMAX_LOG_SWEEP_STEP=31 \
     ctest --test-dir "$asan" -j2 --no-tests=error -V ${SIMDSOFTMAX_CTEST_ARGS:-} >"$log" 2>&1; then
  failures "$log"
  echo "sanitizers: ASan+UBSan ctest failed (full log: $log)"
  exit 1
fi
echo "asan+ubsan: $(grep -E 'tests passed, [0-9]+ tests failed' "$log")"
echo "asan+ubsan: $(grep -c '\*\*\*Skipped' "$log" || true) skipped (ISAs this CPU lacks, consumer test)"
grep -E '^[0-9]+: \[exp\] ' "$log" | sed -E 's/^[0-9]+: /asan+ubsan: /' || true
t_asan_run=$((SECONDS - t1))

# ---------------------------------------------------------------- TSan
t2=$SECONDS
tsan=${SIMDSOFTMAX_TSAN_BUILD:-build/tsan}
CXX=clang++-14 cmake -S . -B "$tsan" -DCMAKE_BUILD_TYPE=Debug \
  "-DCMAKE_CXX_FLAGS=-O1 -fsanitize=thread -fno-omit-frame-pointer" \
  -DSIMDSOFTMAX_BUILD_TESTS=ON -DSIMDSOFTMAX_BUILD_BENCHMARKS=OFF -DSIMDSOFTMAX_INSTALL=OFF >/dev/null
cmake --build "$tsan" -j2 --target simdsoftmax_concurrency_tests
bin=$tsan/tests/simdsoftmax_concurrency_tests
grep -q __tsan_func_entry < <(nm "$bin") || { echo "sanitizers: $bin is not TSan-instrumented"; exit 1; }
libomp=$(sed -n 's/^OpenMP_omp_LIBRARY:FILEPATH=//p' "$tsan/CMakeCache.txt")
archer=$(dirname "$(readlink -f "${libomp:-/nonexistent}")")/libarcher.so
[[ -f $archer ]] || { echo "sanitizers: no libarcher.so next to libomp ($libomp)"; exit 1; }
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ignore_noninstrumented_modules=1"
export OMP_TOOL_LIBRARIES=$archer
probe=$(ARCHER_OPTIONS=verbose=1 "$bin" --gtest_filter=Concurrency.ThreadsOptionFromSeveralCallers 2>&1 || true)
if ! grep -q 'Archer detected OpenMP application with TSan' <<<"$probe"; then
  echo "$probe" | tail -20
  echo "sanitizers: Archer did not attach to libomp ($archer); TSan would not see OpenMP synchronization"
  exit 1
fi
t_tsan_build=$((SECONDS - t2))
t3=$SECONDS
log=$tsan/ctest-tsan.log
if ! ctest --test-dir "$tsan" -R '^Concurrency\.' -j2 --no-tests=error -V >"$log" 2>&1; then
  failures "$log"
  echo "sanitizers: TSan ctest failed (full log: $log)"
  exit 1
fi
echo "tsan: $(grep -E 'tests passed, [0-9]+ tests failed' "$log") (concurrency tests, clang-14 + libomp + Archer)"
t_tsan_run=$((SECONDS - t3))

echo "sanitizers: asan build ${t_asan_build} s, asan tests ${t_asan_run} s, tsan build ${t_tsan_build} s, tsan tests ${t_tsan_run} s, stage $((SECONDS - t0)) s"
