#!/usr/bin/env bash
# Installs the Debian 12 packages simdsoftmax's build, tests and benchmarks use,
# skipping the ones already there. Run as root. Usage: .ci/install-deps.sh [extra packages]
set -euo pipefail
pkgs=(cmake make g++ libxsimd-dev googletest libgtest-dev libbenchmark-dev
      python3 python3-matplotlib python3-numpy "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
