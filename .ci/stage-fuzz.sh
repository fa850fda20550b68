#!/usr/bin/env bash
# libFuzzer differential fuzzing (issue 6): tests/fuzz/fuzz_softmax.cpp built with
# clang-14 -fsanitize=fuzzer,address,undefined (the library too, with its per-ISA
# kernel flags; see tests/fuzz/CMakeLists.txt), then
#   1. the regression inputs (tests/fuzz/regressions/) and the seed corpus
#      (tests/fuzz/corpus/) replayed once: any failure is a regression;
#   2. 60 s of fuzzing from the seed corpus (new inputs go to a scratch corpus in
#      the build dir; the committed corpus stays small). Every input runs on every
#      ISA this CPU runs, against the scalar kernel and the long-double reference
#      (design.md's bounds and semantics), with canaries around the output and
#      bad arguments expected to throw. Any crash, sanitizer report, failed
#      check, leak or input slower than 25 s fails the stage; the crashing input
#      is minimized (30 s) and printed in base64, ready to be saved as a new file
#      in tests/fuzz/regressions/ (base64 -d > tests/fuzz/regressions/NAME).
# Prints the executions, executions/s and corpus size of the run.
#
# Env: SIMDSOFTMAX_FUZZ_SECONDS (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
.ci/install-deps.sh clang-14 libclang-rt-14-dev libomp-14-dev

dir=${SIMDSOFTMAX_FUZZ_BUILD:-build/fuzz}
cmake -S tests/fuzz -B "$dir" -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
cmake --build "$dir" -j2
fuzz=$dir/simdsoftmax_fuzz
t_build=$((SECONDS - t0))

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# 1. Regressions and seeds, once each.
t1=$SECONDS
mapfile -t inputs < <(find tests/fuzz/regressions tests/fuzz/corpus -type f ! -name '*.md' | sort)
if ! "$fuzz" "${inputs[@]}" >"$dir/replay.log" 2>&1; then
  grep -E '^\*\*\*|ERROR|runtime error|Running:' "$dir/replay.log" | tail -20
  echo "fuzz: a regression or seed input fails (full log: $dir/replay.log)"
  exit 1
fi
echo "fuzz: replayed ${#inputs[@]} regression and seed inputs ($(find tests/fuzz/regressions -type f ! -name '*.md' | wc -l) regressions)"
t_replay=$((SECONDS - t1))

# 2. Fuzz.
t2=$SECONDS
run=$dir/run
rm -rf "$run"
mkdir -p "$run/corpus" "$run/artifacts"
secs=${SIMDSOFTMAX_FUZZ_SECONDS:-60}
if ! "$fuzz" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2560 -print_final_stats=1 \
     -artifact_prefix="$run/artifacts/" "$run/corpus" tests/fuzz/corpus >"$run/fuzz.log" 2>&1; then
  grep -E '^\*\*\*|ERROR|runtime error|SUMMARY' "$run/fuzz.log" | head -20
  crash=$(find "$run/artifacts" -type f | head -1)
  if [[ -n $crash ]]; then
    min=$run/artifacts/minimized
    "$fuzz" -minimize_crash=1 -max_total_time=30 -exact_artifact_path="$min" "$crash" >"$run/minimize.log" 2>&1 || true
    [[ -s $min ]] || min=$crash
    echo "fuzz: failing input ($(wc -c <"$min") bytes, minimized), base64:"
    base64 -w0 "$min"; echo
    echo "fuzz: replay with: $fuzz <file>; keep it as tests/fuzz/regressions/<name> once fixed"
  fi
  echo "fuzz: FAILED (log: $run/fuzz.log)"
  exit 1
fi
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/fuzz.log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run/fuzz.log")
cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$run/fuzz.log" | tail -1)
new=$(find "$run/corpus" -type f | wc -l)
seeds=$(find tests/fuzz/corpus -type f | wc -l)
echo "fuzz: ${execs} executions in ${secs} s (${rate}/s), corpus ${seeds} seeds + ${new} new inputs, ${cov}, no failure"
t_fuzz=$((SECONDS - t2))
echo "fuzz: build ${t_build} s, replay ${t_replay} s, fuzzing ${t_fuzz} s, stage $((SECONDS - t0)) s"
