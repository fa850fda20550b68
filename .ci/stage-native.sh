#!/usr/bin/env bash
# Release build of library, tests and benchmarks; ctest runs every ISA this CPU can run.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/install-deps.sh
cmake --workflow --preset test
