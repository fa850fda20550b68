#!/usr/bin/env bash
# Symbol hygiene of the kernel objects compiled with ISA flags (design.md, "ODR hazard").
#
# A weak or vague-linkage definition (nm: W, V, u) in an object built with -mavx2 or
# -mavx512* can be merged by the linker with the same symbol from baseline code, and
# the ISA copy may win: baseline callers then execute AVX instructions (SIGILL on an
# older CPU). So every such symbol in those objects fails the check, unless its name
# is ISA-specific (it mentions that ISA's xsimd tag or vector type, so no code built
# for another ISA can refer to it).
#
# Objects checked: avx2 and avx512 from the x86-64 build (build/x86-emu, shared with
# .ci/stage-x86-emulated.sh), neon from the aarch64 cross build (build/aarch64, shared
# with .ci/stage-aarch64.sh) when the cross compiler is installed. Only the kernel
# object targets are (re)built, so this stage costs seconds after the others.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
.ci/install-deps.sh crossbuild-essential-arm64

x86_dir=${SIMDSOFTMAX_X86_EMU_BUILD:-build/x86-emu}
a64_dir=${SIMDSOFTMAX_AARCH64_BUILD:-build/aarch64}

# Builds the object targets of the given ISAs in a build dir (configured if needed).
build_kernels() {  # dir isa... ; extra cmake args in $cfg_args
  local dir=$1; shift
  if [[ ! -f $dir/CMakeCache.txt ]]; then
    # shellcheck disable=SC2086
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DSIMDSOFTMAX_BUILD_BENCHMARKS=OFF \
      $cfg_args >/dev/null
  fi
  local targets=()
  for isa in "$@"; do targets+=(--target "simdsoftmax_kernels_$isa"); done
  cmake --build "$dir" -j2 "${targets[@]}" >/dev/null
}

# Allowed weak/vague symbols per ISA: the demangled name must mention this ISA.
#  avx2:   xsimd::avx2 / fma3<avx2> tags, __m256 types
#  avx512: xsimd::avx512* tags, __m512 types
#  neon:   xsimd::neon* tags, NEON vector types (__Float32x4_t ...). NEON is baseline on
#          aarch64, so neon.cpp has no extra flags; xsimd's non-template NEON wrappers
#          (xsimd::kernel::wrap::vreinterpretq_*, emitted because xsimd takes their
#          address) are therefore harmless, and they name NEON types anyway.
allowed_re() {
  case $1 in
    avx2) echo 'xsimd::avx2|xsimd::fma3<xsimd::avx2>|__m256' ;;
    avx512) echo 'xsimd::avx512[a-z]*|__m512' ;;
    neon) echo 'xsimd::neon(64)?|__(Int|Uint|Float|Poly)[0-9]+x[0-9]+_t' ;;
  esac
}

fail=0
checked=0
check_object() {  # isa object nm
  local isa=$1 obj=$2 nm=$3 bad
  # Defined symbols only: W/V weak (function/object), u GNU unique (vague-linkage statics).
  bad=$("$nm" -C "$obj" | grep -E '^[0-9a-f]+ [WVu] ' | grep -Ev "$(allowed_re "$isa")" || true)
  local nweak
  nweak=$("$nm" -C "$obj" | grep -cE '^[0-9a-f]+ [WVu] ' || true)
  checked=$((checked + 1))
  if [[ -n $bad ]]; then
    echo "symbols: FAIL $isa: $obj defines weak/vague-linkage symbols not specific to $isa:"
    sed 's/^/    /' <<<"$bad"
    echo "  baseline code could bind to these ISA-compiled copies. Keep kernel helpers"
    echo "  templates on the arch tag in an anonymous namespace, no std:: templates or"
    echo "  non-template inline functions in kernels/; EH data means -fno-exceptions is missing."
    fail=1
  else
    echo "symbols: ok   $isa: $obj ($nweak weak/vague-linkage symbols, all naming $isa)"
  fi
}

objects_of() {  # dir isa
  find "$1/CMakeFiles/simdsoftmax_kernels_$2.dir" -name '*.o' 2>/dev/null | sort
}

# x86-64: the ISA-flagged objects.
if [[ $(uname -m) == x86_64 ]]; then
  cfg_args="" build_kernels "$x86_dir" avx2 avx512
  for isa in avx2 avx512; do
    objs=$(objects_of "$x86_dir" "$isa")
    [[ -n $objs ]] || { echo "symbols: FAIL no $isa kernel object in $x86_dir"; exit 1; }
    for o in $objs; do check_object "$isa" "$o" nm; done
  done
fi

# aarch64 cross build: the neon object.
if command -v aarch64-linux-gnu-g++ >/dev/null && command -v aarch64-linux-gnu-nm >/dev/null; then
  cfg_args="-DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake" \
    build_kernels "$a64_dir" neon
  objs=$(objects_of "$a64_dir" neon)
  [[ -n $objs ]] || { echo "symbols: FAIL no neon kernel object in $a64_dir"; exit 1; }
  for o in $objs; do check_object neon "$o" aarch64-linux-gnu-nm; done
else
  echo "symbols: skip neon (no aarch64-linux-gnu cross toolchain)"
fi

((checked > 0)) || { echo "symbols: FAIL nothing checked"; exit 1; }
echo "symbols: checked $checked object(s) in $((SECONDS - t0)) s"
exit $fail
