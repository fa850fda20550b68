#!/usr/bin/env bash
# A/B of kernel variants on a noisy machine: builds the library at each
# revision (a git revision, or "." for the work tree with its uncommitted
# changes) as a shared object, then times them in one process, alternating
# (benchmarks/ab_driver.cpp). Prints one column per revision: median Gelem/s.
# Usage: benchmarks/ab.sh [-i ISA] [-o softmax|log_softmax] [-r REPS] REV[+DEFINE]... -- ROWSxCOLS...
# REV+DEFINE builds REV with -DDEFINE, to time both sides of an #ifdef
# (REV+A+B=2 for several).
# Examples: benchmarks/ab.sh HEAD~1 . -- 128x128 4x4096
#           benchmarks/ab.sh -o log_softmax . .+MY_VARIANT=1 -- 32768x128
# AB_Y_OFFSETS=0,64,... (bytes) adds one column per build and offset of y past
# a page boundary (x is page-aligned): speed here depends on (y - x) mod 4 KiB.
# AB_THREADS=N times calls with Options::threads = N (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
isa=avx512 op=softmax reps=11
while getopts "i:o:r:" opt; do
  case $opt in
    i) isa=$OPTARG ;; o) op=$OPTARG ;; r) reps=$OPTARG ;;
    *) sed -n '2,10p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
revs=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do revs+=("$1"); shift; done
[ $# -gt 0 ] && shift
[ ${#revs[@]} -gt 0 ] && [ $# -gt 0 ] || { sed -n '2,10p' "$0"; exit 2; }
out=build/ab
mkdir -p "$out"
libs=()
for spec in "${revs[@]}"; do
  rev=${spec%%+*} def=
  [ "$rev" != "$spec" ] && def=-D${spec#*+} && def=${def//+/ -D}
  if [ "$rev" = . ]; then name=worktree src=.; else
    name=$(git rev-parse --short "$rev") src=$out/src-$name
    rm -rf "$src" && mkdir -p "$src" && git archive "$rev" | tar -x -C "$src"
  fi
  [ -n "$def" ] && name=$name-$(printf '%s' "$def" | tr -c 'A-Za-z0-9_' '_')
  cmake -S "$src" -B "$out/build-$name" -DCMAKE_BUILD_TYPE=Release -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
        -DSIMDSOFTMAX_BUILD_TESTS=OFF -DSIMDSOFTMAX_BUILD_BENCHMARKS=OFF -DSIMDSOFTMAX_INSTALL=OFF \
        "-DCMAKE_CXX_FLAGS=$def" >/dev/null
  cmake --build "$out/build-$name" -j "$(nproc)" >/dev/null
  c++ -shared -o "$out/$name.so" -Wl,--whole-archive "$out/build-$name/libsimdsoftmax.a" -Wl,--no-whole-archive -fopenmp
  libs+=("$out/$name.so")
done
c++ -O2 -std=c++17 -Iinclude benchmarks/ab_driver.cpp -ldl -o "$out/ab_driver"
echo "$isa $op, median Gelem/s of $reps turns:${revs[*]/#/ }"
"$out/ab_driver" "$isa" "$op" "$reps" "${libs[@]}" -- "$@"
