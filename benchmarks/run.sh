#!/usr/bin/env bash
# The README's first command: compare the ISAs on this machine.
# Installs missing Debian packages (oneDNN as a peer), builds the benchmark binary
# (Release, in build/bench), runs it and writes benchmarks/results/results.{md,png,json}.
# Usage, from anywhere:  benchmarks/run.sh [--quick (default) | --full | --smoke] [report.py options]
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v dpkg-query >/dev/null; then
  .ci/install-deps.sh libdnnl-dev ocl-icd-opencl-dev  # no-op when everything is there
fi
cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release -DSIMDSOFTMAX_BUILD_BENCHMARKS=ON \
      -DSIMDSOFTMAX_BUILD_TESTS=OFF -DSIMDSOFTMAX_INSTALL=OFF >/dev/null
cmake --build build/bench --target bench_softmax -j "$(nproc)"
exec /usr/bin/python3 benchmarks/report.py --bin build/bench/benchmarks/bench_softmax "$@"
