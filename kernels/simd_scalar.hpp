// Portable "vector" traits for the scalar kernel: plain C++ on blocks of four
// floats, no intrinsics, no ISA flags. The kernel runs the same algorithm
// template (kernels/softmax.hpp) and the same exp as the SIMD kernels, lane by
// lane; a compiler at baseline flags may map a block to one SSE2/NEON register,
// or to four scalar registers elsewhere.
//
// Why blocks of four rather than one float: with one lane the kernel measured
// 0.29 Gelem/s here against 0.22 for a naive std::exp loop; the four
// independent lanes let the compiler schedule (and vectorize) the exp's long
// dependency chains (see the README's performance section for the figure).
#pragma once

#include <math.h>

#include <cstddef>
#include <cstdint>

namespace simdsoftmax::kernels {
namespace {

struct scalar_arch {};

template <class Arch>
struct Simd;

constexpr std::size_t kScalarLanes = 4;
// GCC/Clang generic vectors: lane-wise + - * and compares, lowered to whatever
// the target has at baseline flags (SSE2 on x86-64, Advanced SIMD on aarch64,
// scalar code elsewhere).
typedef float Block __attribute__((vector_size(16)));
typedef std::int32_t BlockI __attribute__((vector_size(16)));

template <>
struct Simd<scalar_arch> {
  using V = Block;
  static constexpr std::size_t W = kScalarLanes;
  static constexpr int kExpTableBits = 0;
  static constexpr bool kFusedMultiplyAdd = false;  // exp_nonpos uses a longer polynomial
  static constexpr std::size_t kRegVectors = 8;
  static constexpr std::size_t kRowVectors = 8;
  static constexpr bool kPipelineRows = false;
  static constexpr bool mixed_rows(bool, std::size_t, bool) { return false; }
  static constexpr bool kLoadAhead = false;
  static constexpr std::size_t kLogScratchMin = 1, kLogScratchMax = 0;  // InRegisters::run_scratch: none
  static constexpr bool log_store_early(std::size_t) { return false; }
  static constexpr bool stream_rows(bool, std::size_t) { return false; }  // no non-temporal stores
  static constexpr std::size_t kTwoPassBatchCols = 0;  // Table::two_pass_batch_cols
  // Table::two_pass_softmax: no. This exp is slow enough that the third pass
  // over memory costs less than computing every exp twice, even past the caches.
  // benchmarks/ab.sh -i scalar, medians of 5, two-pass -> three-pass (Gelem/s):
  // softmax 1x2^28 0.51 -> 0.77, 1x2^22 0.50 -> 0.83, 4x2^20 0.91 -> 0.92.
  // (AVX2 and AVX-512 keep it: 1x2^28 1.71 -> 1.91 and 1.72 -> 2.43 with it.)
  static constexpr bool kTwoPassSoftmax = false;
  static constexpr bool kSumRows = false;  // sum_rows: InRegisters::kSumStride
  static constexpr std::size_t grouped_cols(bool) { return 0; }  // Grouped (softmax.hpp): none

  static V load(const float* p) {
    V r;
    __builtin_memcpy(&r, p, sizeof r);
    return r;
  }
  static void store(float* p, V v) { __builtin_memcpy(p, &v, sizeof v); }
  static void stream(float* p, V v) { store(p, v); }  // no non-temporal store in portable code
  static void fence() {}
  static V load_tail(const float* p, std::size_t r, float fill) {
    V out = set(fill);
    for (std::size_t i = 0; i < r; ++i) out[i] = p[i];
    return out;
  }
  static void store_tail(float* p, V v, std::size_t r) {
    for (std::size_t i = 0; i < r; ++i) p[i] = v[i];
  }
  static V set(float c) { return V{c, c, c, c}; }
  // Baseline x86-64 has no fma instruction and libm's fmaf is slow; the exp
  // keeps its accuracy without fusion (ln2_hi has trailing zero bits).
  static V fma(V a, V b, V c) { return a * b + c; }
  static V max(V a, V b) { return a > b ? a : b; }
  static V zero_if_less(V v, V a, float t) { return a < set(t) ? set(0.0f) : v; }
  static V shl23(V v) { return reinterpret_cast<V>(reinterpret_cast<BlockI>(v) << 23); }
  static float first(V v) { return v[0]; }
  static constexpr bool kLibmLog = true;  // log_normal is logf per lane (log_of_sum in softmax.hpp)
  static V log_normal(V v) { return V{logf(v[0]), logf(v[1]), logf(v[2]), logf(v[3])}; }
  static V allsum(V v) { return set((v[0] + v[1]) + (v[2] + v[3])); }
  static constexpr bool kPairReductions = false;
  static constexpr bool kQuadReductions = false;
  static void allmax4(V (&v)[4]) { for (V& x : v) x = allmax(x); }
  static void allsum4(V (&v)[4]) { for (V& x : v) x = allsum(x); }
  static void allmax2(V& a, V& b) { a = allmax(a), b = allmax(b); }
  static void allsum2(V& a, V& b) { a = allsum(a), b = allsum(b); }
  static V allmax(V v) {
    float m = v[0];
    for (std::size_t i = 1; i < W; ++i)
      if (v[i] > m) m = v[i];
    return set(m);
  }
};

}  // namespace
}  // namespace simdsoftmax::kernels
