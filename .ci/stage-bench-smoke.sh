#!/usr/bin/env bash
# Benchmarks are not tests: build the benchmark binary, run one shape for minimal time
# through report.py --smoke, and fail unless the table, chart and JSON come out; then
# compile the two probes that are not part of the build.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-deps.sh libdnnl-dev ocl-icd-opencl-dev  # OpenCL: see benchmarks/CMakeLists.txt
cmake -S . -B build/ci-bench -DCMAKE_BUILD_TYPE=Release -DSIMDSOFTMAX_BUILD_BENCHMARKS=ON \
      -DSIMDSOFTMAX_BUILD_TESTS=OFF -DSIMDSOFTMAX_INSTALL=OFF
cmake --build build/ci-bench --target bench_softmax -j 2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 benchmarks/report.py --smoke --bin build/ci-bench/benchmarks/bench_softmax --out "$out"
for f in results.md results.png results.json; do
  test -s "$out/$f" || { echo "bench-smoke: $f missing or empty" >&2; exit 1; }
done
grep -q '^| \*\*in-cache\*\* | 4x4096 | softmax |' "$out/results.md" || { echo "bench-smoke: no table row" >&2; exit 1; }
echo "bench-smoke: table, chart and JSON produced"
# The probes outside the build still compile (not run: they time for a minute and need
# AVX-512). Their headers' commands, with port_probe's -march=native pinned to
# x86-64-v4 so that the check does not depend on the CI host's CPU.
g++ -O3 -march=x86-64-v4 -std=c++17 benchmarks/port_probe.cpp -o "$out/port_probe"
g++ -O2 -mavx2 -mfma -std=c++17 benchmarks/exp_op_costs.cpp -o "$out/exp_op_costs"
echo "bench-smoke: port_probe.cpp and exp_op_costs.cpp compile"
