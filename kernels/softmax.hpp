// The softmax / log-softmax algorithm, written once over a traits type S
// (Simd<Arch> from simd_xsimd.hpp or simd_scalar.hpp) and instantiated by one
// small .cpp per ISA. Include a traits header before this one.
//
// Per row x of n floats, temperature T (we get c = 1/T), m = max(x), a = (x - m)c:
//   pass 1  m = max(x)                                   (4 accumulators)
//   pass 2  e_i = exp(a_i), sum += e_i; y_i = e_i (softmax) or a_i (log-softmax)
//   pass 3  y_i *= 1/sum (softmax) or y_i -= log(sum) (log-softmax)
// Two paths, picked once per batch from cols (rows(), at the end):
//   * InRegisters: rows of at most S::kRowVectors vectors (224 floats on
//     AVX-512) are loaded once into registers; the three passes run there.
//   * rows_three_pass: longer rows, three passes over memory.
// Rows past the caches (>= 2^22 floats) take a two-pass form driven from
// src/parallel.cpp through max_exp_sum_chunk and exp_scale_chunk below.
// The max is subtracted before the multiply: folding it into fma(x, c, -m*c)
// loses accuracy on offset logits and overflows for |x| near 3e38 (design.md).
#pragma once

#include <math.h>

#include <cstddef>
#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#include "kernels.hpp"

namespace simdsoftmax::kernels {
namespace {

constexpr float kInf = __builtin_inff();
// Batches (x and y) up to this size are software-pipelined across rows, above
// it not: rows_three_pass and InRegisters::run give the measurements.
constexpr std::size_t kPipelineBytes = std::size_t{8} << 20;

// A group's buffer of row sums, `stride` floats per row (lane partials, or one
// float), set to sum 1 in every row: f = 1 or log(1) = 0, nothing to scale.
inline void init_group_sums(float* sums, std::size_t rows, std::size_t stride) {
  for (std::size_t j = 0; j < rows * stride; ++j) sums[j] = j % stride == 0 ? 1.0f : 0.0f;
}

// e^a for a <= 0, vectorized; NaN in, NaN out; a < ln(FLT_MIN) gives 0.
//
// Range reduction (Cody-Waite): a = n*ln2 + t, n = round(a/ln2), |t| <= ln2/2,
// e^a = 2^n * e^t.
//  * n is rounded by adding 1.5*2^23: in [2^23, 2^24) the float ulp is 1, so the
//    sum is a rounded integer held in the low mantissa bits.
//  * ln2 = ln2_hi + ln2_lo; ln2_hi has its 9 low mantissa bits zero, so n*ln2_hi
//    is exact for |n| < 2^9 and t keeps its low bits without a wide type.
// e^t = 1 + t*p(t). With fused multiply-add, p has degree 4: the degree-5
// minimax coefficients on [-ln2/2, ln2/2] published with XNNPACK's rr2_p5 exp
// kernels (src/f32-raddstoreexpminusmax). Without it (the scalar kernel: each
// multiply and add rounds) p has degree 5, fitted here to the relative error of
// e^t by iteratively reweighted least squares (Lawson) on [-ln2/2, ln2/2]: max
// 1.7e-8 with the float coefficients, which pays for the extra roundings.
// 2^n: the magic constant also carries the exponent bias 127, so the low bits
// of the rounded sum are n + 127 and shifting them left by 23 gives the float
// 2^n (valid for n + 127 in [1, 254]).
// Max error over every float in [-87.3, 0] against double exp, measured by
// tests/test_exp.cpp (see the README's accuracy table): 1.98 ulp with fma.
// AVX-512 and AVX2 take exp_nonpos_table below instead.
constexpr float kLnFltMin = -0x1.5D589Ep+6f;  // ln(2^-126) = -87.336544

template <class S, bool SumOnly = false>
inline typename S::V exp_nonpos_table(typename S::V a);

// SumOnly: the exp whose results log-softmax only adds up (exp_nonpos_table).
template <class S, bool SumOnly = false>
inline typename S::V exp_nonpos(typename S::V a) {
  using V = typename S::V;
  if constexpr (S::kExpTableBits > 0) return exp_nonpos_table<S, SumOnly>(a);
  const V magic = S::set(0x1.8000FEp23f);              // 1.5*2^23 + 127
  V n = S::fma(a, S::set(0x1.715476p+0f), magic);      // a*log2(e) + magic
  const V s = S::shl23(n);                             // 2^n
  n = n - magic;
  V t = S::fma(n, S::set(-0x1.62E400p-1f), a);         // a - n*ln2_hi
  t = S::fma(n, S::set(-0x1.7F7D1Cp-20f), t);          //   - n*ln2_lo
  V p;
  if constexpr (S::kFusedMultiplyAdd) {
    p = S::fma(S::set(0x1.0F9F9Cp-7f), t, S::set(0x1.573A1Ap-5f));
    p = S::fma(p, t, S::set(0x1.555A80p-3f));
    p = S::fma(p, t, S::set(0x1.FFFDC6p-2f));
    p = S::fma(p, t, S::set(0x1.FFFFF6p-1f));
  } else {
    p = S::fma(S::set(0x1.6AE730p-10f), t, S::set(0x1.126782p-7f));
    p = S::fma(p, t, S::set(0x1.555822p-5f));
    p = S::fma(p, t, S::set(0x1.55541Ap-3f));
    p = S::fma(p, t, S::set(0x1.FFFFFCp-2f));
    p = S::fma(p, t, S::set(1.0f));
  }
  t = t * s;
  return S::zero_if_less(S::fma(t, p, s), a, kLnFltMin);  // 2^n * (1 + t*p)
}

// The same with a table (S::kExpTableBits = b > 0, L = 2^b: AVX-512 16, AVX2 8):
// n = round(L*a/ln2), a = n*ln2/L + t, |t| <= ln2/(2L), e^a = 2^(n/L) * e^t.
// S::exp2_table builds 2^(n/L) from an L-entry table of 2^(k/L) held in one
// register (one vpermps) and integer exponent arithmetic; lanes with
// a < ln(FLT_MIN) are zeroed at the last fma (before it, t and s there may be
// garbage, inf or NaN). e^t = 1 + t + c2 t^2 + c3 t^3, e^a = s + (s*t)(1 + c2 t
// + c3 t^2), s = 2^(n/L); c2 and c3 minimize the relative error on
// [-ln2/(2L), ln2/(2L)] with the t coefficient held at 1 (kernels/fit_exp_poly.py):
// 1.6e-9 for L = 16, 2.6e-8 for L = 8 (Taylor's 1/2, 1/6 give 1.5e-7 there).
// Per vector that is 7 operations for the FMA pipes and 3 integer ones, against
// 9 and 1 for the rr2_p5 form above: the FMA pipes bound the exp pass in cache.
// The compare for the zeroing mask takes an FMA slot too on Zen 4, where vmaxps
// does not (benchmarks/port_probe.cpp). Clamping a at -127 ln2 with vmaxps
// instead (2^(n/16) is then exactly 0: n = -2032, and so is the result; NaN
// kept as the second operand) measured mixed, benchmarks/ab.sh medians of 15,
// avx512 softmax: 32768x128 3.68 -> 3.97, 16x1000 4.73 -> 4.66 and 4.66 ->
// 4.99 in two columns, 128x128 equal, 1024x16 2.91 -> 2.62; log_softmax
// 1024x16 2.41 -> 2.17, 16x1000 5.16 -> 4.86. Not kept. The clamp only in the
// softmax rows outside run_mixed (batches past kPipelineBytes), on a quiet
// host (medians of 21): 32768x128 3.73 -> 3.85, 65536x96 3.57 -> 3.69,
// 262144x16 2.60 -> 2.54; avx2 no gain. Not kept either. Again on Zen 5
// (family 26), where port_probe.cpp times vcmpps-to-mask as the costliest
// operation beside the FMAs, the clamp everywhere still lost (ab, medians of
// 15): 4x4096 8.30 -> 8.07, 16x1000 7.82 -> 7.64, 128x128 7.61 -> 7.38,
// 1024x16 4.19 -> 4.04; 32768x128 3.54 -> 3.69. AVX2 alone gains there (ab -i
// avx2, medians of 21: 128x128 2.60 -> 2.69, 16x1000 3.09 -> 3.27, 1x32000
// 3.01 -> 3.13, 32768x128 equal), but a in (-88.0, ln(FLT_MIN)) then gives
// denormals instead of 0, most of them not even e^a (where floor(n/8) = -127
// the exponent field is 0): against the README's "no denormal is ever
// produced" and tests/test_exp.cpp's exp(-87.34) = 0. Not kept.
// One reduction fma instead of two, t = a - n * float(ln2/16), is faster
// where the exps bind (medians of 15, avx512 softmax: 16x1000 5.12 -> 5.59,
// 4x4096 5.15 -> 5.68, 512x32 3.73 -> 3.96), but float(ln2) is 1.9e-9 off, so
// t is off by up to 2016 * 1.2e-10 = 2.4e-7 near -87.3: 2-4 ulp on top of the
// error above, past this exp's 2 ulp (tests/test_exp.cpp). Not used for the
// e_i that softmax outputs (log-softmax: SumOnly below). On Zen 5
// it gains as much (ab, medians of 15, one slow stretch: 4x4096 6.00 -> 6.44,
// 16x1000 5.78 -> 6.27, 512x32 5.34 -> 5.61, 32768x128 4.96 -> 5.14); the
// extra error, 2.75e-9 |a| relative, would still meet design.md's softmax bound
// (its 3e|a_i| term is 1.8e-7 |a|), but not issue 5's 2 ulp for the exp.
// Measured on Zen 4 (bench_softmax medians, two interleaved runs): avx512
// softmax 1x32000 4.02-4.12 -> 4.36-4.42 Gelem/s, 512x32 2.83-2.94 -> 3.21-3.22
// (against rr2_p5 with vscalefps applying 2^n, which this replaced); avx2
// 128x128 2.29-2.36 -> 2.53-2.59, 16x1000 2.91-2.96 -> 3.33-3.35; an exp-and-sum
// loop alone, best of 40: avx512 6.1-6.2 -> 6.6-6.7, avx2 4.3-4.6 -> 5.0-5.4.
// Error over every float in [-87.3, 0] (tests/test_exp.cpp): see the README's
// accuracy table; the table's rounding (up to 0.45 ulp) is most of it.
// SumOnly (log-softmax, which never outputs an e_i, only log(sum e_i)) takes
// that one-fma reduction. Its extra relative error per term, 2.75e-9 |a_i|,
// moves the sum by at most 2.75e-9 times the mean of |a_i| weighted by e_i /
// sum, which is at most ln(n) + 1 (the max term is 1): for rows below 2^31,
// 6e-8 in log(sum), against design.md's 2e-6 (1 + |y_i|) bound for y_i =
// a_i - log(sum); for logits of spread 4 the weighted mean is about 4, 1e-8.
// tests/test_exp.cpp bounds it directly. Every log-softmax path takes it
// (rows, chunks, the two-pass form), so a row's bits still do not depend on
// the path. benchmarks/ab.sh -o log_softmax, medians of 15 (avx512, Gelem/s),
// two runs: 32768x128 4.65 -> 4.96, 4.47 -> 4.69; 128x128 7.22 -> 7.49, 7.06
// -> 7.32; 512x32 4.81 -> 5.03, 5.05 -> 5.20; 16x1000 7.95 -> 8.38, 7.83 ->
// 8.47; 4x4096 8.46 -> 9.05, 8.39 -> 8.92; 4x1048576 3.67 -> 3.80; 131072x32
// and 1024x4096 equal. avx2 (-i avx2, medians of 11): 128x128 3.66 -> 3.93,
// 16x1000 3.99 -> 4.42, 4x4096 3.95 -> 4.35, 32768x128 2.11 -> 2.24. The
// measured log-softmax error did not move (normal logits of sd 1-30, rows of
// 128-2^20: at most 1.0e-7 (1 + |y_i|) before and after). Going further
// there on AVX-512, a 32-entry table (one vpermt2ps) with e^t = 1 + c1 t + c2
// t^2 (one fma fewer; 5.3e-8 relative error, fitted as fit_exp_poly.py does)
// gained nothing (ab -o log_softmax, medians of 11, Zen 5: 512x32 3.08 ->
// 3.12, 128x128 4.43 -> 4.47, 16x1000 5.73 -> 5.70, 4x4096 6.40 -> 6.44,
// 32768x128 3.33 -> 3.42, 131x32000 3.74 -> 3.65). Not kept.
template <class S, bool SumOnly>
inline typename S::V exp_nonpos_table(typename S::V a) {
  using V = typename S::V;
  constexpr float L = 1 << S::kExpTableBits;
  constexpr float c2 = L == 16 ? 0x1.00021Ep-1f : 0x1.000874p-1f;
  constexpr float c3 = L == 16 ? 0x1.55559Cp-3f : 0x1.555658p-3f;
  const V magic = S::set(0x1.8p23f);                   // 1.5*2^23
  V n = S::fma(a, S::set(L * 0x1.715476p+0f), magic);  // L*a*log2(e) + magic
  const V s = S::exp2_table(n);
  n = n - magic;
  V t;
  if constexpr (SumOnly) {
    t = S::fma(n, S::set(-0x1.62E430p-1f / L), a);     // a - n*float(ln2)/L
  } else {
    t = S::fma(n, S::set(-0x1.62E400p-1f / L), a);     // a - n*ln2_hi/L
    t = S::fma(n, S::set(-0x1.7F7D1Cp-20f / L), t);    //   - n*ln2_lo/L
  }
  V q = S::fma(t, S::set(c3), S::set(c2));
  q = S::fma(q, t, S::set(1.0f));
  return S::fma_or_zero_if_less(s * t, q, s, a, kLnFltMin);
}

// a = (x - m) * c, with the multiply left out when T == 1 (the common case; it
// saves one of the ~14 vector operations per element in the exp pass).
// With T != 1 it is computed as fma(x, 1/2, -m/2) * 2c: the same bits as
// (x - m) * c (halving is exact, the fma rounds once), but x - m cannot
// overflow for x and m of opposite signs near +-3e38, where (x - m)/T is still
// a finite float for T > 1 (log-softmax would otherwise give -inf there).
template <class S, bool Scaled>
struct Logits {
  typename S::V m, c;
  Logits(typename S::V m_, float c_)
      : m(Scaled ? m_ * S::set(-0.5f) : m_), c(S::set(Scaled ? 2.0f * c_ : c_)) {}
  typename S::V operator()(typename S::V x) const {
    if constexpr (Scaled) return S::fma(x, S::set(0.5f), m) * c;
    else return x - m;
  }
};

template <class S>
float row_max(const float* x, std::size_t n) {
  using V = typename S::V;
  constexpr std::size_t W = S::W;
  V m0 = S::set(-kInf), m1 = m0, m2 = m0, m3 = m0;
  std::size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    m0 = S::max(m0, S::load(x + i));
    m1 = S::max(m1, S::load(x + i + W));
    m2 = S::max(m2, S::load(x + i + 2 * W));
    m3 = S::max(m3, S::load(x + i + 3 * W));
  }
  for (; i + W <= n; i += W) m0 = S::max(m0, S::load(x + i));
  if (i < n) m1 = S::max(m1, S::load_tail(x + i, n - i, -kInf));
  return S::first(S::allmax(S::max(S::max(m0, m1), S::max(m2, m3))));
}

// Work that rides along pass 2 of one row of a batch (rows_three_pass): pass
// 1 of the next row (max of xn, when Max; backwards, see full) and pass 3 of
// the previous row (yp = yp * f or yp + f, when Fin, on the same element
// index). Pass 2 is bound by the exps; these are loads, stores, a max and one
// multiply.
template <class S, bool Log, bool Max, bool Fin>
struct Side {
  using V = typename S::V;
  const float* xn;
  float* yp;
  V f;
  // In batches past kPipelineBytes (not row-pipelined), the next row is
  // prefetched into L2 (prefetcht1) meanwhile, so that its max pass does not
  // wait on L3/DRAM. Measured (benchmark medians, same run, avx512): 1024x4096
  // 2.86-2.93 -> 3.33-3.38 Gelem/s, 131x32000 2.76-2.78 -> 3.01-3.11,
  // 4x1048576 2.56-2.66 -> 2.70-2.82. Row-pipelined batches (at most 8 MiB)
  // prefetched the row after next until it measured a loss there: ab, medians
  // of 11, with -> without: avx512 softmax 16x1000 4.96 -> 5.13, 64x1024 5.40
  // -> 5.56, 32x32000 4.78 -> 5.05, 64x8192 5.16 -> 5.47; avx2 128x128 2.64 ->
  // 2.71, 16x1000 3.60 -> 3.72 (one prefetch per 8 floats there).
  const float* xa = nullptr;
  V m0 = S::set(-kInf), m1 = m0;
  V op(V v) const { return Log ? v + f : v * f; }
  // The max runs over xn backwards (vector i of the pass reads xn's vector
  // n - W - i; the tail is xn[0, r)): a load issued after a store to the same
  // address modulo 4 KiB waits for that store here (see exp_sum), and the
  // next row read forwards sits at a fixed distance after the rows being
  // stored for many row strides and offsets of y; backwards, the two streams
  // cross once per row. The max is exact in any order. ab, avx512 (Gelem/s,
  // one process, medians of 11), y 64 bytes past x mod 4 KiB: softmax 4x4096
  // 4.65 -> 5.25, log_softmax 32x1024 5.18 -> 5.50; page-aligned y: 5.30 ->
  // 5.26, 5.47 -> 5.48.
  std::size_t n = 0;
  void begin(std::size_t len) { n = len; }
  void full(std::size_t i, V& m) {
    if (xa)
      for (std::size_t k = 0; k < S::W; k += 16) __builtin_prefetch(xa + i + k, 0, 2);
    if constexpr (Max) m = S::max(m, S::load(xn + (n - S::W - i)));
    if constexpr (Fin) S::store(yp + i, op(S::load(yp + i)));
  }
  void tail(std::size_t i, std::size_t r) {
    if constexpr (Max) m1 = S::max(m1, S::load_tail(xn, r, -kInf));
    if constexpr (Fin) S::store_tail(yp + i, op(S::load_tail(yp + i, r, 0.0f)), r);
  }
  float max() const { return S::first(S::allmax(S::max(m0, m1))); }
};
template <class S>
struct NoSide {
  void begin(std::size_t) {}
  void full(std::size_t, typename S::V&) {}
  void tail(std::size_t, std::size_t) {}
};

// The sum of e_i over a row or chunk; with Store, also stores e_i (softmax) or
// a_i (log-softmax) to y, so that pass 3 reads only y and the first write to y
// (a read-for-ownership miss on long rows) happens in this compute-heavy pass,
// where it is hidden. side.full / side.tail run on every element index.
// Rounding: each lane of each accumulator adds at most kLaneRun terms in float;
// then the block's total is added in double. The error therefore does not grow
// with n (one float accumulator per lane drifts to ~1e-4 relative at 2^20).
template <class S, bool Log, bool Scaled, bool Store = true, class Sd = NoSide<S>>
double exp_sum(const float* x, float* y, std::size_t n, float m, float c, Sd&& side = Sd{}) {
  using V = typename S::V;
  constexpr std::size_t W = S::W, U = 2, kLaneRun = 32, kBlock = kLaneRun * U * W;
  const Logits<S, Scaled> logit(S::set(m), c);
  double total = 0.0;
  std::size_t i = 0;
  V sm0, sm1;
  if constexpr (!std::is_same_v<std::decay_t<Sd>, NoSide<S>>) sm0 = side.m0, sm1 = side.m1;
  side.begin(n);
  while (i < n) {
    const std::size_t end = n - i > kBlock ? i + kBlock : n;
    V s0 = S::set(0.0f), s1 = s0;
    // The loop below, on x0, x1 = x[j, j + 2W) loaded earlier. (That loop
    // written through this lambda too ran 25% slower: GCC 12 spilled.)
    const auto pair = [&](std::size_t j, V x0, V x1) {
      side.full(j, sm0);
      side.full(j + W, sm1);
      const V a0 = logit(x0), a1 = logit(x1);
      const V e0 = exp_nonpos<S, Log>(a0), e1 = exp_nonpos<S, Log>(a1);
      if constexpr (Store) {
        S::store(y + j, Log ? a0 : e0);
        S::store(y + j + W, Log ? a1 : e1);
      }
      s0 = s0 + e0;
      s1 = s1 + e1;
    };
    if constexpr (S::kLoadAhead && Store) {
      // x is loaded 4-7 vectors ahead of the stores to y (the same sums in
      // the same order). A load issued after a store to the same address
      // modulo 4 KiB waits for it on this machine (4K aliasing): y 64-256
      // bytes past x mod 4 KiB, or rows of 4 KiB multiples whose pass 3
      // (side.full) stores y[r - 1] at x[r]'s offset. ab, avx512 (Gelem/s,
      // one process, medians of 11): softmax 4x4096 4.65 -> 5.31, 32x1024
      // 5.18 -> 5.46, 16x1000 5.06 -> 5.14; log_softmax 4x4096 4.65 -> 5.47,
      // 16x1000 4.64 -> 5.00; y 64 bytes past x, softmax 1x32000 4.03 ->
      // 4.45. On avx2 it lost 2-7% (16 registers), so it is off there; on
      // Zen 5 too (16x1000 -3%, 1x32000 -7%, 1024x4096 -13%).
      if (i + 4 * W <= end) {
        V n0 = S::load(x + i), n1 = S::load(x + i + W), n2 = S::load(x + i + 2 * W), n3 = S::load(x + i + 3 * W);
        for (; i + 8 * W <= end; i += 4 * W) {
          const V c0 = n0, c1 = n1, c2 = n2, c3 = n3;
          n0 = S::load(x + i + 4 * W), n1 = S::load(x + i + 5 * W);
          n2 = S::load(x + i + 6 * W), n3 = S::load(x + i + 7 * W);
          pair(i, c0, c1);
          pair(i + 2 * W, c2, c3);
        }
        pair(i, n0, n1);
        pair(i + 2 * W, n2, n3);
        i += 4 * W;
      }
    }
    for (; i + 2 * W <= end; i += 2 * W) {
      side.full(i, sm0);
      side.full(i + W, sm1);
      const V a0 = logit(S::load(x + i)), a1 = logit(S::load(x + i + W));
      const V e0 = exp_nonpos<S, Log>(a0), e1 = exp_nonpos<S, Log>(a1);
      if constexpr (Store) {
        S::store(y + i, Log ? a0 : e0);
        S::store(y + i + W, Log ? a1 : e1);
      }
      s0 = s0 + e0;
      s1 = s1 + e1;
    }
    for (; i + W <= end; i += W) {
      side.full(i, sm0);
      const V a = logit(S::load(x + i)), e = exp_nonpos<S, Log>(a);
      if constexpr (Store) S::store(y + i, Log ? a : e);
      s0 = s0 + e;
    }
    if (i < end) {  // only in the last block: kBlock is a multiple of W
      side.tail(i, end - i);
      const V a = logit(S::load_tail(x + i, end - i, -kInf)), e = exp_nonpos<S, Log>(a);
      if constexpr (Store) S::store_tail(y + i, Log ? a : e, end - i);
      s1 = s1 + e;
      i = end;
    }
    total += S::first(S::allsum(s0 + s1));
  }
  if constexpr (!std::is_same_v<std::decay_t<Sd>, NoSide<S>>) side.m0 = S::max(side.m0, sm0), side.m1 = S::max(side.m1, sm1);
  return total;
}

// y[i, i + W) = value(i, W) for every vector of y[0, n), value(i, r) for the
// last r < W elements, with non-temporal stores (no read-for-ownership of y,
// no cache pollution) after a masked head that aligns y; a fence orders them
// before returning.
template <class S, class Value>
void stream_all(float* y, std::size_t n, Value value) {
  constexpr std::size_t W = S::W;
  std::size_t i = 0;
  const std::size_t head = (0 - reinterpret_cast<std::uintptr_t>(y)) % (W * sizeof(float)) / sizeof(float);
  if (head && head < n) {
    S::store_tail(y, value(0, head), head);
    i = head;
  }
  for (; i + W <= n; i += W) S::stream(y + i, value(i, W));
  if (i < n) S::store_tail(y + i, value(i, n - i), n - i);
  S::fence();
}

template <class S>
typename S::V load_part(const float* p, std::size_t r, float fill) {
  return r == S::W ? S::load(p) : S::load_tail(p, r, fill);
}

// Pass 3: y = y * f (softmax, f = 1/sum) or y + f (log-softmax, f = -log(sum)).
// Non-temporal stores here measured slower on 4096x4096 (y is in L1); and
// written through a lambda like stream_all, this loop measured 5% slower in cache.
template <class S, bool Log>
void finish(float* y, std::size_t n, float f) {
  using V = typename S::V;
  constexpr std::size_t W = S::W;
  const V vf = S::set(f);
  const auto op = [&vf](V v) { return Log ? v + vf : v * vf; };
  std::size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    S::store(y + i, op(S::load(y + i)));
    S::store(y + i + W, op(S::load(y + i + W)));
  }
  for (; i + W <= n; i += W) S::store(y + i, op(S::load(y + i)));
  if (i < n) S::store_tail(y + i, op(S::load_tail(y + i, n - i, 0.0f)), n - i);
}

// Passes 2+3 of the two-pass form for rows past the caches (src/parallel.cpp):
// e_i (a_i) recomputed from x instead of read back from y, so y is written once
// (streamed: the row is far larger than the caches);
// y = e_i * f (softmax) or a_i + f (log-softmax), where m is the max of this
// chunk and f carries the rest.
template <class S, bool Log, bool Scaled>
void exp_scale(const float* x, float* y, std::size_t n, float m, float c, float f) {
  const Logits<S, Scaled> logit(S::set(m), c);
  const typename S::V vf = S::set(f);
  stream_all<S>(y, n, [&](std::size_t i, std::size_t r) {
    const typename S::V a = logit(load_part<S>(x + i, r, -kInf));
    if constexpr (Log) return a + vf;
    else return exp_nonpos<S>(a) * vf;
  });
}

// Rows whose max is not finite: NaN anywhere -> all NaN; +inf entries share the
// mass (the limit as those logits grow); all -inf (fully masked) -> 0 / -inf.
// Out of line and cold: inlined, it moved GCC's register allocation of the
// hot loops around it (log_softmax 128x128 4.10 -> 3.74 after an unrelated
// change to exp_sum).
template <bool Log>
__attribute__((noinline, cold)) void nonfinite_row(const float* x, float* y, std::size_t n, float m) {
  bool nan = m != m;
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++i) {
    nan |= x[i] != x[i];
    k += x[i] == kInf;
  }
  const float hit = nan ? __builtin_nanf("") : Log ? -logf(static_cast<float>(k)) : 1.0f / static_cast<float>(k);
  const float miss = nan ? __builtin_nanf("") : Log ? -kInf : 0.0f;
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] == kInf ? hit : miss;
}

// Rows of at most S::kRowVectors vectors live in registers: one read, one
// write, and straight-line code per row, so the out-of-order core overlaps the
// horizontal reductions (long dependency chains) of consecutive rows. Short
// rows go in pairs or fours whose max and sum reductions share shuffles
// (S::allmax2 / allsum2: 11 instead of 16 operations per pair on AVX-512;
// allmax4 / allsum4: 17 instead of 22 per four rows): AVX-512 rows of one
// vector in fours, of two in pairs; AVX2 rows of one vector in pairs. Fours
// against pairs, one process alternating the two builds, medians of 11
// (avx512, Gelem/s): softmax 1024x16 2.30 -> 2.68, 65536x16 2.28 -> 2.63,
// log_softmax 1024x16 2.17 -> 2.38; at two vectors (512x32) no gain.
// Batches (x and y) of at least kStreamRowsBytes of InRegisters rows, where
// S::stream_rows says so, write y with non-temporal stores: 3/4 of this
// machine's 32 MiB L3, the point past which glibc's memcpy streams too
// (x86_non_temporal_threshold). Such a batch cannot stay in the L3 beside
// anything else, and streaming saves the read-for-ownership of y and keeps x
// cached. Measured per ISA and row length: see S::stream_rows. Rows whose
// length or y (address, stride) are not whole aligned vectors are not streamed.
constexpr std::size_t kStreamRowsBytes = std::size_t{24} << 20;

template <class S, bool Log, bool Scaled, std::size_t NV, bool kStream = false>
struct InRegisters {
  using V = typename S::V;
  static constexpr std::size_t W = S::W;
  static constexpr std::size_t kPair = S::kQuadReductions && 16 * NV <= S::kRegVectors ? 4
                                     : S::kPairReductions && 8 * NV <= S::kRegVectors  ? 2
                                                                                     : 1;
  static constexpr bool kPipeline = S::kPipelineRows && 2 * kPair * NV <= S::kRegVectors;

  static void store_row(float* y, const V* v, std::size_t r) {
    if constexpr (kStream) {  // r == W and y aligned: see streams()
      for (std::size_t k = 0; k < NV; ++k) S::stream(y + k * W, v[k]);
      return;
    }
    for (std::size_t k = 0; k + 1 < NV; ++k) S::store(y + k * W, v[k]);
    if (r == W)
      S::store(y + (NV - 1) * W, v[NV - 1]);
    else
      S::store_tail(y + (NV - 1) * W, v[NV - 1], r);
  }

  // Streamed batches (kStream: past the L3) prefetch x 8 KiB ahead of the row
  // being loaded, up to the end of the batch: the hardware prefetchers keep
  // (probably) fewer lines in flight than these loads want. benchmarks/ab.sh,
  // medians of 11-15 (avx512 softmax, Gelem/s), without -> with, two runs:
  // 32768x128 4.59 -> 5.21, 4.44 -> 4.81; 65536x128 3.09 -> 4.53, 2.54 ->
  // 3.59; 87381x48 4.09 -> 4.67; 43690x96 4.11 -> 4.97; 65536x64 4.34 ->
  // 4.70; 24576x128 5.18 -> 5.50; 128x128 (not streamed) equal. 4-64 KiB
  // ahead gained alike, prefetcht1 no more. Log-softmax in its former
  // run_scratch form was not helped (32768x128 3.87 -> 3.91, 5.01 -> 4.97;
  // 65536x128 2.55 -> 2.52); in its register form (run) it is: without ->
  // with, -o log_softmax, medians of 11: 32768x128 4.24 -> 4.51, 65536x128
  // 2.55 -> 3.51, 43690x96 3.95 -> 4.36.
  // Prefetching in every batch past kStreamRowsBytes, by a run-time test in
  // this loop, measured mixed where not streamed (131072x32 softmax +15%,
  // log_softmax -27%; 262144x16 equal) and cost rows in cache (128x128 -16%).
  static void prefetch_ahead(const Job& job, const float* x) {
    constexpr std::size_t kAhead = 2048;  // floats
    const float* end = job.x + (job.rows - 1) * job.x_stride + job.cols;
    if (static_cast<std::size_t>(end - x) >= kAhead + NV * W)
      for (std::size_t k = 0; k < NV * W; k += 64 / sizeof(float)) __builtin_prefetch(x + kAhead + k, 0, 3);
  }

  // Phase 1 for rows `row`..`row + R - 1`: load them, reduce each max to all lanes.
  template <std::size_t R>
  __attribute__((always_inline)) static void load(const Job& job, std::size_t row, V (&v)[R][NV], V (&m)[R]) {
    const std::size_t r = job.cols - (NV - 1) * W;  // 1..W lanes in the last vector
    for (std::size_t q = 0; q < R; ++q) {
      const float* x = job.x + (row + q) * job.x_stride;
      if constexpr (kStream) prefetch_ahead(job, x);
      for (std::size_t k = 0; k + 1 < NV; ++k) v[q][k] = S::load(x + k * W);
      v[q][NV - 1] = r == W ? S::load(x + (NV - 1) * W) : S::load_tail(x + (NV - 1) * W, r, -kInf);
      m[q] = v[q][0];
      for (std::size_t k = 1; k < NV; ++k) m[q] = S::max(m[q], v[q][k]);
    }
    if constexpr (R == 4) S::allmax4(m);
    else if constexpr (R == 2) S::allmax2(m[0], m[1]);
    else m[0] = S::allmax(m[0]);
  }

  // Phase 2: softmax writes the result; with Defer (log-softmax, run_mixed) it
  // writes e_i or a_i unscaled and leaves each row's sum (or lane partials, kSumStride) in sums[] (entries of
  // rows finished by nonfinite_row stay 1).
  // Log-softmax stores each a_i as soon as it is computed where
  // S::log_store_early(NV): stored after the row's exps (as in the source
  // before), GCC kept a_i and the exps' temporaries in registers together and
  // spilled (AVX-512, 8 vectors: 43 spills and 49 reloads in the loop, 19 and
  // 17 with this). benchmarks/ab.sh, medians of 11-15, avx512 log_softmax:
  // 128x128 4.08-4.12 -> 4.30-4.37, 32768x128 3.24-3.37 -> 3.44-3.77; at other lengths
  // it lost up to 11% (128x64 3.66 -> 3.27, 8192x224 3.64 -> 3.38), so only 8.
  // avx2 gained at every length: 512x32 2.10 -> 2.35, 131072x32 2.07 -> 2.29.
  static constexpr bool kStoreEarly = Log && S::log_store_early(NV) && !kStream;
  // With Defer, a row's sum leaves exps() as its vector of lane partials
  // (kSumStride floats per row in sums[]) where S::sum_rows reduces W rows'
  // partials at once, in allsum's order (the same bits): the group's one
  // vector divide or log then takes reduce_sums(sums). A 16-row transposed
  // sum is 46 operations instead of 16 allsum, and no row's reduction sits
  // between two rows' exps. benchmarks/ab.sh, medians of 11 (avx512, Gelem/s):
  // softmax 128x128 4.46 -> 4.58, 256x128 4.56 -> 4.80, 128x64 3.78 -> 4.07,
  // 128x96 4.35 -> 4.62; log_softmax 128x128 4.32 -> 4.64, 512x32 3.22 ->
  // 3.39, 131072x32 2.80 -> 3.04. Rows finished by nonfinite_row keep their
  // init_sums entry (sum 1).
  static constexpr std::size_t kSumStride = S::kSumRows ? W : 1;
  static void init_sums(float* sums) { init_group_sums(sums, W, kSumStride); }
  static V reduce_sums(const float* sums) {
    if constexpr (kSumStride == 1) return S::load(sums);
    else return S::sum_rows(sums);
  }
  template <std::size_t R, bool Defer = Log>
  __attribute__((always_inline)) static void compute(const Job& job, std::size_t row, V (&v)[R][NV], const V (&m)[R],
                                                     float* sums) {
    V sum[R];
    if (exps<R, Defer>(job, row, v, m, sums, sum)) tail<R, Defer>(job, row, v, sum, sums);
  }
  // compute's first part: the exps and the sums reduced to every lane; false
  // if the rows were finished by nonfinite_row instead (then no tail).
  template <std::size_t R, bool Defer>
  __attribute__((always_inline)) static bool exps(const Job& job, std::size_t row, V (&v)[R][NV], const V (&m)[R],
                                                  float* sums, V (&sum)[R]) {
    const std::size_t r = job.cols - (NV - 1) * W;
    bool finite = true;
    for (std::size_t q = 0; q < R; ++q) {
      const float ms = S::first(m[q]);
      finite &= ms - ms == 0.0f;
    }
    if (!finite) {  // NaN or +-inf: exact rules, one row at a time
      if constexpr (R > 1) {
        for (std::size_t q = 0; q < R; ++q) {
          V v1[1][NV], m1[1];
          load<1>(job, row + q, v1, m1);
          compute<1, Defer>(job, row + q, v1, m1, sums + q * kSumStride);
        }
      } else {
        nonfinite_row<Log>(job.x + row * job.x_stride, job.y + row * job.y_stride, job.cols, S::first(m[0]));
      }
      return false;
    }
    for (std::size_t q = 0; q < R; ++q) {
      const Logits<S, Scaled> logit(m[q], job.inv_temperature);
      sum[q] = S::set(0.0f);
      for (std::size_t k = 0; k < NV; ++k) {
        v[q][k] = logit(v[q][k]);
        if constexpr (kStoreEarly) {
          float* y = job.y + (row + q) * job.y_stride + k * W;
          if (k + 1 < NV || r == W)
            S::store(y, v[q][k]);
          else
            S::store_tail(y, v[q][k], r);
        }
        const V e = exp_nonpos<S, Log>(v[q][k]);
        sum[q] = sum[q] + e;
        if (!Log) v[q][k] = e;
      }
    }
    if constexpr (Defer && kSumStride > 1) return true;
    if constexpr (R == 4) S::allsum4(sum);
    else if constexpr (R == 2) S::allsum2(sum[0], sum[1]);
    else sum[0] = S::allsum(sum[0]);
    return true;
  }
  // compute's second part: scale and store (softmax), or keep the sums (Defer).
  template <std::size_t R, bool Defer>
  __attribute__((always_inline)) static void tail(const Job& job, std::size_t row, V (&v)[R][NV], const V (&sum)[R],
                                                  float* sums) {
    const std::size_t r = job.cols - (NV - 1) * W;
    for (std::size_t q = 0; q < R; ++q) {
      if (Defer) {
        if constexpr (kSumStride > 1) S::store(sums + q * kSumStride, sum[q]);
        else sums[q] = S::first(sum[q]);
      } else if constexpr (Log) {  // streamed log-softmax (run): a vector log per row
        const V f = S::log_normal(sum[q]);
        for (std::size_t k = 0; k < NV; ++k) v[q][k] = v[q][k] - f;
      } else {
        const V f = S::set(1.0f / S::first(sum[q]));  // a scalar divide: cheaper than a vector one
        for (std::size_t k = 0; k < NV; ++k) v[q][k] = v[q][k] * f;
      }
      if (!kStoreEarly) store_row(job.y + (row + q) * job.y_stride, v[q], r);  // log-softmax: log(sum) subtracted later
    }
  }

  // Software-pipelined where registers allow (AVX-512, rows of <= 8 vectors):
  // the next rows are loaded and their max reduced before this row's exps are
  // issued; otherwise all of a row's exps wait on its max reduction in the
  // scheduler. Measured avx512, best of 15: 512x32 2.77 -> 3.02 Gelem/s, 256x64
  // 3.22 -> 3.43, 128x128 3.31 -> 3.43, 32768x128 3.11 -> 3.32; at 16 vectors
  // (2% slower) and on AVX2's 16 registers (512x32 6% slower) it spills.
  // log-softmax takes one vector log per group of W rows: a libm call per row
  // made the compiler spill the exp constants around it (30% slower on
  // 512x32), and a vector log per row costs as much as the row's exps.
  // Log-softmax finishes a group of W rows after the next group's compute,
  // which then fills the vector log's latency, where a group is at most 4 KiB.
  // bench_softmax medians, two interleaved runs: log_softmax 512x32 avx512
  // 2.68-2.74 -> 2.98 Gelem/s (softmax 3.23-3.30), avx2 1.79-1.80 -> 1.97-2.04;
  // 131072x32 avx2 1.72-1.76 -> 2.01-2.05. Delayed at 8 KiB groups (128
  // columns on AVX-512), 32768x128 fell from 2.8-3.0 to 2.1 and 128x128 rose
  // from 3.8 to 4.0: cause not found (no counters here), so not delayed there.
  static constexpr bool kDelayFinish = NV * W * W * sizeof(float) <= 4096;

  // Phases 1 and 2 for the g rows from row0: kPair at a time, software-pipelined
  // where kPipeline, the rows left over one at a time. after(j, R) runs after
  // rows j..j+R-1 when they went as a full pair or four (R = kPair, as a type).
  template <bool Defer, class After>
  __attribute__((always_inline)) static void group(const Job& job, std::size_t row0, std::size_t g, float* sums,
                                                   After after) {
    using Rows = std::integral_constant<std::size_t, kPair>;
    std::size_t j = 0;
    if (!kPipeline) {
      for (; j + kPair <= g; j += kPair) {
        V v[kPair][NV], m[kPair];
        load<kPair>(job, row0 + j, v, m);
        compute<kPair, Defer>(job, row0 + j, v, m, sums + j * kSumStride);
        after(j, Rows{});
      }
    } else if (kDeferTail && !Defer && g >= kPair) {
      V v[kPair][NV], m[kPair], vp[kPair][NV], sp[kPair];
      load<kPair>(job, row0, v, m);
      bool pending = false;  // rows jp.. have their exps done, not their tail
      std::size_t jp = 0;
      for (;; j += kPair) {
        const bool more = j + 2 * kPair <= g;
        V vn[kPair][NV], mn[kPair], sum[kPair];
        if (more) load<kPair>(job, row0 + j + kPair, vn, mn);
        const bool ok = exps<kPair, Defer>(job, row0 + j, v, m, sums + j * kSumStride, sum);
        if (pending) {
          tail<kPair, Defer>(job, row0 + jp, vp, sp, sums + jp * kSumStride);
          after(jp, Rows{});
        }
        if (!ok) after(j, Rows{});
        pending = ok, jp = j;
        for (std::size_t q = 0; q < kPair; ++q) {
          sp[q] = sum[q];
          for (std::size_t k = 0; k < NV; ++k) vp[q][k] = v[q][k];
        }
        if (!more) break;
        for (std::size_t q = 0; q < kPair; ++q) {
          m[q] = mn[q];
          for (std::size_t k = 0; k < NV; ++k) v[q][k] = vn[q][k];
        }
      }
      if (pending) {
        tail<kPair, Defer>(job, row0 + jp, vp, sp, sums + jp * kSumStride);
        after(jp, Rows{});
      }
      j += kPair;
    } else if (g >= kPair) {
      V v[kPair][NV], m[kPair];
      load<kPair>(job, row0, v, m);
      for (; j + 2 * kPair <= g; j += kPair) {
        V vn[kPair][NV], mn[kPair];
        load<kPair>(job, row0 + j + kPair, vn, mn);
        compute<kPair, Defer>(job, row0 + j, v, m, sums + j * kSumStride);
        after(j, Rows{});
        for (std::size_t q = 0; q < kPair; ++q) {
          m[q] = mn[q];
          for (std::size_t k = 0; k < NV; ++k) v[q][k] = vn[q][k];
        }
      }
      compute<kPair, Defer>(job, row0 + j, v, m, sums + j * kSumStride);
      after(j, Rows{});
      j += kPair;
    }
    for (; j < g; ++j) {
      V v1[1][NV], m1[1];
      load<1>(job, row0 + j, v1, m1);
      compute<1, Defer>(job, row0 + j, v1, m1, sums + j * kSumStride);
    }
  }
  // Softmax, where pipelined and not run_mixed: the tail of rows j (divide,
  // scale, store) is issued after the exps of rows j + kPair, so the exps do
  // not wait behind the sum reduction and divide in the scheduler.
  // benchmarks/ab.sh, medians of 11 (avx512, Gelem/s), two runs: 512x32
  // 3.24-3.26 -> 3.34-3.41, 1024x16 2.61-2.67 -> 2.68-2.77, 131072x32
  // 3.12-3.19 -> 3.27-3.29, 32768x128 3.94 -> 4.03-4.11, 32768x96 3.99 ->
  // 4.26. Log-softmax lost (512x32 3.12 -> 2.65, 1024x16 2.45 -> 1.60; its
  // tail is a store, or nothing), and so did run_mixed (Defer; 128x128 4.40
  // -> 3.42).
  static constexpr bool kDeferTail = kPipeline && (!Log || kStream);
  static constexpr bool kMixed = (S::mixed_rows(Log, NV, false) || S::mixed_rows(Log, NV, true)) &&
                                 (kPipeline || !S::kPipelineRows);
  static bool streams(const Job& job) {
    return 2 * job.rows * job.cols * sizeof(float) >= kStreamRowsBytes && job.cols % W == 0 && job.y_stride % W == 0 &&
           reinterpret_cast<std::uintptr_t>(job.y) % sizeof(V) == 0;
  }
  static void run(const Job& job) {
    if constexpr (!kStream && S::stream_rows(Log, NV)) {
      if (streams(job)) {
        InRegisters<S, Log, Scaled, NV, true>::run(job);
        return S::fence();  // order the streamed stores before the caller's
      }
    }
    // Streamed log-softmax keeps each row in registers to the end, as softmax
    // does: its tail takes log(sum) by a vector log of the row's own sum (the
    // same bits as the group's log elsewhere: log_normal works lane by lane)
    // and streams a_i - log(sum). One vector log per row, about 27 operations
    // beside a row's 4-14 exps of about 15 each, and no a_i round trip through
    // memory (a timing oracle without the log, wrong output: 32768x128 4.49 ->
    // 5.00, faster than softmax's 4.81 in the same stretch). benchmarks/ab.sh -o log_softmax, medians of 11-15 (avx512,
    // Gelem/s), before (8 vectors: run_scratch, streamed finish; 4-7 and 10-14:
    // run_scratch or run, not streamed) -> this: 32768x128 3.04 -> 3.91, 3.69
    // -> 4.10; 65536x128 2.32 -> 3.29; 24576x128 4.28 -> 4.48; 65536x64 3.31
    // -> 4.01; 43690x96 2.90 -> 4.45; 37449x112 3.12 -> 4.43; 32768x160 3.39
    // -> 3.69; 18724x224 3.03 -> 4.13. At 3 vectors it lost (87381x48 3.79 ->
    // 3.33; the log is a quarter of the row's work there): see S::stream_rows.
    // Dropped: one log for two rows (row j - 1's sum blended with row j's, so
    // j - 1's finish waits on j's sum), 32768x128 3.28 -> 2.46, 43690x96 3.26
    // -> 2.97 (ab, medians of 15). In cache and below kStreamRowsBytes this
    // form lost to run_mixed and run (one log per group of W rows): 128x128
    // 4.65 -> 3.93, 128x64 4.17 -> 3.43, 8192x128 4.27 -> 3.73, 16384x128
    // 4.54 -> 3.94, 16384x96 5.28 -> 4.49.
    if constexpr (kStream && Log) {
      alignas(64) float unused[W * kSumStride];  // Defer = false: no sums kept
      for (std::size_t row0 = 0; row0 < job.rows; row0 += W)
        group<false>(job, row0, job.rows - row0 < W ? job.rows - row0 : W, unused, [](std::size_t, auto) {});
      return;
    }
    if constexpr (kMixed && !kStream)
      if (2 * job.rows * job.cols * sizeof(float) <= kPipelineBytes && S::mixed_rows(Log, NV, job.cols % W != 0))
        return run_mixed(job);
    alignas(64) float sums[W * kSumStride], logs[W];
    if constexpr (Log && NV >= S::kLogScratchMin && NV <= S::kLogScratchMax) return run_scratch(job);
    std::size_t done = 0;  // log-softmax: rows before `done` are finished
    for (std::size_t row0 = 0; row0 < job.rows; row0 += W) {
      const std::size_t g = job.rows - row0 < W ? job.rows - row0 : W;
      if (Log)
        init_sums(sums);  // log(1) = 0: lanes with no row to finish
      group<Log>(job, row0, g, sums, [](std::size_t, auto) {});
      if constexpr (Log && kDelayFinish) {  // finish the previous group; this group's log runs meanwhile
        finish_logs(job, done, row0, logs);
        S::store(logs, S::log_normal(reduce_sums(sums)));
        done = row0;
      } else if constexpr (Log) {
        S::store(logs, S::log_normal(reduce_sums(sums)));
        finish_logs(job, row0, row0 + g, logs);
      }
    }
    if constexpr (Log && kDelayFinish) finish_logs(job, done, job.rows, logs);
  }

  // Log-softmax rows of S::kLogScratchMin..kLogScratchMax vectors (AVX-512:
  // 2-7; batches past kPipelineBytes where kMixed): each group's a_i go to a
  // scratch buffer on the stack, not to y, and the previous group is finished
  // from its buffer into y (a_i - log(sum)) row by row, interleaved with this
  // group's compute as in run_mixed. So y is written once, not twice: writing
  // a_i to y and then finishing it in place cost 25-30% past the caches (the
  // same loop without the finish pass, wrong output: 131072x32 2.60 -> 3.50
  // Gelem/s, 32768x128 2.99 -> 3.93; in cache nothing). A group is at most
  // kScratchBytes and at most W rows. benchmarks/ab.sh, medians of 15
  // (avx512 log_softmax, Gelem/s), before -> after this and S::log_normal:
  // 131072x32 2.62 -> 2.96, 65536x64 2.60 -> 3.74, 512x32 3.03 -> 3.14;
  // 128x128 (run_mixed; only the log changed) 3.94 -> 4.15; 16x1000, 4x4096,
  // 32768x128 and 1024x4096 equal within 1%.
  // Not at 8 vectors: 32768x128 3.05 -> 2.30, 16384x128 3.68 -> 3.56 (the
  // 16-row groups measured no better, nor a padded scratch row, nor pinning
  // the buffers' offsets against x; non-temporal stores to y recovered it in
  // some runs and not in others). Not at 1 vector (262144x16 2.29 -> 2.34,
  // 2.0 -> 1.8 in another run), nor on AVX2 (no gain at any length).
  __attribute__((noinline)) static void run_scratch(const Job& job) {
    if constexpr (NV == 3 || NV == 4) return run_scratch_lag(job);
    constexpr std::size_t kScratchBytes = 4096;
    constexpr std::size_t kRow = NV * W;  // floats per scratch row
    constexpr std::size_t kG0 = kScratchBytes / (kRow * sizeof(float)) / kPair * kPair;
    constexpr std::size_t kG = kG0 < kPair ? kPair : kG0 > W ? W : kG0;  // rows per group
    // the second buffer starts 2 KiB (mod 4 KiB) after the first: row j of one
    // is loaded right after row j of the other is stored (4 KiB aliasing)
    constexpr std::size_t kBuf = (kG * kRow + 1023) / 1024 * 1024 + 512;
    alignas(64) float sums[W * kSumStride], logs[W], scratch[kBuf + kG * kRow];
    Job sj = job;
    sj.y_stride = kRow;
    std::size_t prev = 0, prev_g = 0, b = 0;  // the group waiting to be finished, in buffer b ^ 1
    for (std::size_t row0 = 0; row0 < job.rows; row0 += kG, b ^= 1) {
      const std::size_t g = job.rows - row0 < kG ? job.rows - row0 : kG;
      init_sums(sums);  // log(1) = 0 (and rows finished by nonfinite_row)
      sj.x = job.x + row0 * job.x_stride, sj.rows = job.rows - row0;
      sj.y = scratch + b * kBuf;
      const float* pb = scratch + (b ^ 1) * kBuf;
      group<true>(sj, 0, g, sums, [&](std::size_t j, auto rows) {
        if (j + rows.value <= prev_g) finish_scratch(job, prev + j, rows.value, pb + j * kRow, logs + j);
      });
      for (std::size_t q = g / kPair * kPair; q < prev_g; ++q) finish_scratch(job, prev + q, 1, pb + q * kRow, logs + q);
      S::store(logs, S::log_normal(reduce_sums(sums)));
      prev = row0, prev_g = g;
    }
    finish_scratch(job, prev, prev_g, scratch + (b ^ 1) * kBuf, logs);
  }
  // run_scratch with run_mixed_lag's order, for rows of 3-4 vectors: group
  // k's log is taken after group k + 1's compute and its rows finished beside
  // group k + 2's, so three buffers. benchmarks/ab.sh -o log_softmax, medians
  // of 21 (avx512, Gelem/s): 65536x64 3.03 -> 3.62, 3.06 -> 3.54, 3.06 ->
  // 3.75, 3.43 -> 4.27, 3.07 -> 3.40, and 2.88 -> 2.65 in a noisy stretch;
  // 87381x48 3.84 -> 4.38, 3.86 -> 4.43, 3.80 -> 4.35, 4.16 -> 4.32, 3.53 ->
  // 3.60, 2.93 -> 2.68. At 2 vectors it lost (131072x32 -7%, twice; 262144x32
  // -20%), at 8 too (32768x128 -10%, -16%), 5-7 tied or lost (52428x80 equal,
  // 37449x112 -5%): cause not found (no counters here). These batches, near
  // the L3's size, also swing by up to 20% between builds that leave their
  // code alone; cause not found (scratch buffers aligned to 4 KiB changed
  // nothing clear).
  __attribute__((noinline)) static void run_scratch_lag(const Job& job) {
    constexpr std::size_t kScratchBytes = 4096;
    constexpr std::size_t kRow = NV * W;
    constexpr std::size_t kG0 = kScratchBytes / (kRow * sizeof(float)) / kPair * kPair;
    constexpr std::size_t kG = kG0 < kPair ? kPair : kG0 > W ? W : kG0;
    // three buffers 1 KiB apart mod 4 KiB: any two differ by 1 or 2 KiB
    constexpr std::size_t kBuf = (kG * kRow + 1023) / 1024 * 1024 + 256;
    alignas(64) float sums[2][W * kSumStride], logs[W], scratch[3 * kBuf];
    Job sj = job;
    sj.y_stride = kRow;
    std::size_t prev = 0, prev_g = 0, prev2 = 0, prev2_g = 0, b = 0, k = 0;
    for (std::size_t row0 = 0; row0 < job.rows; row0 += kG, b ^= 1, k = k == 2 ? 0 : k + 1) {
      const std::size_t g = job.rows - row0 < kG ? job.rows - row0 : kG;
      init_sums(sums[b]);
      sj.x = job.x + row0 * job.x_stride, sj.rows = job.rows - row0;
      sj.y = scratch + k * kBuf;
      const float* pb = scratch + (k == 2 ? 0 : k + 1) * kBuf;  // group k - 2's buffer
      group<true>(sj, 0, g, sums[b], [&](std::size_t j, auto rows) {
        if (j + rows.value <= prev2_g) finish_scratch(job, prev2 + j, rows.value, pb + j * kRow, logs + j);
      });
      for (std::size_t q = g / kPair * kPair; q < prev2_g; ++q) finish_scratch(job, prev2 + q, 1, pb + q * kRow, logs + q);
      if (prev_g) S::store(logs, S::log_normal(reduce_sums(sums[b ^ 1])));
      prev2 = prev, prev2_g = prev_g, prev = row0, prev_g = g;
    }
    // k: the next buffer; the last group's is k - 1, the one before it k - 2
    finish_scratch(job, prev2, prev2_g, scratch + (k == 0 ? 1 : k == 1 ? 2 : 0) * kBuf, logs);
    S::store(logs, S::log_normal(reduce_sums(sums[b ^ 1])));
    finish_scratch(job, prev, prev_g, scratch + (k == 0 ? 2 : k - 1) * kBuf, logs);
  }
  // y = y * f (softmax) or y + f (log-softmax) for rows [row, row + R), f from fs[].
  // f = 1 or 0 (sum == 1, or a row finished by nonfinite_row) leaves y as is.
  template <std::size_t R>
  __attribute__((always_inline)) static void scale_rows(const Job& job, std::size_t row, const float* fs) {
    const std::size_t r = job.cols - (NV - 1) * W;
    for (std::size_t q = 0; q < R; ++q) {
      if (fs[q] == (Log ? 0.0f : 1.0f)) continue;
      float* y = job.y + (row + q) * job.y_stride;
      const V f = S::set(fs[q]);
      V v[NV];
      for (std::size_t k = 0; k + 1 < NV; ++k) v[k] = S::load(y + k * W);
      v[NV - 1] = r == W ? S::load(y + (NV - 1) * W) : S::load_tail(y + (NV - 1) * W, r, 0.0f);
      for (std::size_t k = 0; k < NV; ++k) v[k] = Log ? v[k] + f : v[k] * f;
      store_row(y, v, r);
    }
  }

  // Batches of at most kPipelineBytes, where kMixed: rows are written
  // unscaled (e_i, or a_i) and their sums kept; one vector divide (or log)
  // per group of W rows gives the factors; group k's rows are scaled while
  // group k + 1 computes, interleaved with it row by row. So no row's tail
  // (horizontal sum, divide, multiply) sits between two rows' exps, and the
  // loads and stores of scaling fill the gaps of the FMA-bound exps. One
  // process alternating the two builds, medians of 9-11 (Gelem/s), run ->
  // run_mixed: avx512 softmax 128x128 3.84-3.86 -> 4.45-4.54, 128x96 4.03 ->
  // 4.42, log_softmax 128x128 3.81-3.89 -> 4.03-4.17, 128x96 3.69 -> 4.20;
  // avx2 softmax 128x24 1.98 -> 2.17, 128x48 2.42 -> 2.57. Where it lost, it
  // is off (kMixed, S::mixed_rows): rows not software-pipelined (avx512 64x176
  // 3.97 -> 3.75), avx2 log_softmax (128x32 2.01 -> 1.81), scalar, avx512
  // softmax rows with a partial last vector (below); and, as for
  // rows_three_pass, batches past kPipelineBytes. Since kSumStride, avx512
  // softmax rows of 1-2 full vectors gain from it (ab, medians of 11: 512x32
  // 3.46 -> 3.72, 2048x32 3.46 -> 3.78, 4096x16 2.77 -> 3.00, 128x16 2.63 ->
  // 2.88; before, 512x32 lost, 3.29 -> 3.16), and rows with a partial last
  // vector lose at every length (its masked store, then masked load and store:
  // 128x8 1.23 -> 0.75, 128x24 2.11 -> 1.62, 128x72 3.49 -> 3.11, 128x120
  // 3.87 -> 3.69). avx512 log_softmax there measured mixed (128x72 3.71 ->
  // 3.50, 128x120 2.94 -> 3.56): it stays on at 3 vectors and more, and takes
  // rows of 2 full vectors (run_scratch before: medians of 15, 512x32 3.31 ->
  // 3.45, 64x32 3.01 -> 3.11; at 1 vector it lost, 1024x16 2.60 -> 2.53, and
  // with a partial vector, 512x24 2.27 -> 1.91).
  // Measured and dropped (ab, medians of 15, avx512 softmax, Gelem/s): the
  // previous group scaled in one loop after this group's compute instead of
  // interleaved, 128x128 4.51 -> 4.08, 512x32 3.63 -> 3.45; each row's max
  // taken one row earlier from memory (so the x loads double), 128x128 4.70 ->
  // 4.52; prefetchw of y two rows ahead, within noise; the tail kept in
  // registers with the next row's max taken from memory instead of holding
  // the row (GCC spilled the pending e anyway), 128x128 4.41 -> 3.68. Timing
  // oracles at 128x128 (wrong output): no horizontal max 4.82 -> 5.14, no
  // scale pass -> 5.26, neither -> 5.55. The FMA pipes alone would allow
  // about 5.9 (9.75 FMA-pipe operations per vector, one per cycle, 3.6 GHz).
  // fs[q] = the factor of row q of a group from its sums: -log(sum) or 1/sum
  static void store_factors(float* fs, const float* sums) {
    const V s = reduce_sums(sums);
    S::store(fs, Log ? S::set(0.0f) - S::log_normal(s) : S::set(1.0f) / s);
  }
  static void run_mixed(const Job& job) {
    if (Log && NV <= 3 && job.rows >= 4 * W) return run_mixed_lag(job);
    alignas(64) float sums[W * kSumStride], fs[W];
    std::size_t prev = 0, prev_g = 0;  // the group waiting to be scaled
    for (std::size_t row0 = 0; row0 < job.rows; row0 += W) {
      const std::size_t g = job.rows - row0 < W ? job.rows - row0 : W;
      init_sums(sums);  // f = 1 or log(1) = 0: nothing to scale
      group<true>(job, row0, g, sums, [&](std::size_t j, auto rows) {
        if (j + rows.value <= prev_g) scale_rows<decltype(rows)::value>(job, prev + j, fs + j);
      });
      // the previous group's rows not scaled above (after(j, ...) runs for full pairs or fours only)
      for (std::size_t q = g / kPair * kPair; q < prev_g; ++q) scale_rows<1>(job, prev + q, fs + q);
      store_factors(fs, sums);
      prev = row0, prev_g = g;
    }
    for (std::size_t q = 0; q < prev_g; ++q) scale_rows<1>(job, prev + q, fs + q);
  }
  // run_mixed for log-softmax rows of 2-3 vectors, 4 groups or more: group k
  // is scaled beside group k + 2's compute, and its log taken after group k +
  // 1's compute in program order, when its sums are long known. Taken right
  // after its own group, the log waits on the transposed sum of the group's
  // last exps, and that chain stalls retirement while the next rows queue
  // behind it (as in rows_three_pass's lag2). benchmarks/ab.sh -o log_softmax,
  // medians of 21 (avx512, Gelem/s), three runs at 512x32: 4.82 -> 5.11, 4.88
  // -> 5.00, 5.03 -> 5.25; 2048x32 5.14 -> 5.36, 512x48 5.40 -> 5.64, 4096x48
  // 5.05 -> 5.21, 128x32 equal. Rows of 8 vectors lost (128x128 7.15 -> 6.95,
  // 256x128 7.40 -> 7.15), 4-6 were not clear (256x64 -1%, 128x96 +2%).
  static void run_mixed_lag(const Job& job) {
    alignas(64) float sums[2][W * kSumStride], fs[W];
    std::size_t prev = 0, prev_g = 0;    // the group whose factors are not taken yet: sums[b ^ 1]
    std::size_t prev2 = 0, prev2_g = 0;  // the group waiting to be scaled, with fs
    std::size_t b = 0;
    for (std::size_t row0 = 0; row0 < job.rows; row0 += W, b ^= 1) {
      const std::size_t g = job.rows - row0 < W ? job.rows - row0 : W;
      init_sums(sums[b]);
      group<true>(job, row0, g, sums[b], [&](std::size_t j, auto rows) {
        if (j + rows.value <= prev2_g) scale_rows<decltype(rows)::value>(job, prev2 + j, fs + j);
      });
      for (std::size_t q = g / kPair * kPair; q < prev2_g; ++q) scale_rows<1>(job, prev2 + q, fs + q);
      if (prev_g) store_factors(fs, sums[b ^ 1]);
      prev2 = prev, prev2_g = prev_g, prev = row0, prev_g = g;
    }
    for (std::size_t q = 0; q < prev2_g; ++q) scale_rows<1>(job, prev2 + q, fs + q);
    store_factors(fs, sums[b ^ 1]);
    for (std::size_t q = 0; q < prev_g; ++q) scale_rows<1>(job, prev + q, fs + q);
  }

  // Rows [begin, begin + g) of y = their a_i in buf (rows of NV * W floats) - logs[q].
  // Every row, also those nonfinite_row wrote to buf (logs[q] = 0: exact).
  static void finish_scratch(const Job& job, std::size_t begin, std::size_t g, const float* buf, const float* logs) {
    const std::size_t r = job.cols - (NV - 1) * W;
    for (std::size_t q = 0; q < g; ++q) {
      float* y = job.y + (begin + q) * job.y_stride;
      const float* a = buf + q * NV * W;
      const V f = S::set(logs[q]);
      for (std::size_t k = 0; k + 1 < NV; ++k) S::store(y + k * W, S::load(a + k * W) - f);
      if (r == W)
        S::store(y + (NV - 1) * W, S::load(a + (NV - 1) * W) - f);
      else
        S::store_tail(y + (NV - 1) * W, S::load_tail(a + (NV - 1) * W, r, 0.0f) - f, r);
    }
  }
  // Rows [begin, end) (at most W), y -= log(sum) with the logs in logs[0...].
  static void finish_logs(const Job& job, std::size_t begin, std::size_t end, const float* logs) {
    const std::size_t r = job.cols - (NV - 1) * W;
    for (std::size_t q = 0; begin + q < end; ++q) {
      if (logs[q] == 0.0f) continue;  // sum == 1 (one-hot row: y = a exactly) or a finished row
      float* y = job.y + (begin + q) * job.y_stride;
      const V f = S::set(logs[q]);
      V v[NV];
      for (std::size_t k = 0; k + 1 < NV; ++k) v[k] = S::load(y + k * W) - f;
      v[NV - 1] = (r == W ? S::load(y + (NV - 1) * W) : S::load_tail(y + (NV - 1) * W, r, 0.0f)) - f;
      store_row(y, v, r);
    }
  }
};

// Longer rows: three passes over memory (see the top of this file). Not
// inlined into rows_dispatch, so that its code does not change with the
// InRegisters variants beside it (avx2 128x128 log_softmax moved by 10% between
// builds that differed only there; the evidence is weak on this noisy machine).
// Log-softmax rows of at most kLogGroupFloats / W floats go in groups of W
// rows with one vector log per group instead of a libm log per row (the call
// also spills the exp constants): bench_softmax medians, log_softmax scalar
// 16x1000 0.81-0.87 -> 1.01 Gelem/s (same run).
constexpr std::size_t kLogGroupFloats = 4096;
// Batches past kStreamBytes (x and y; this machine's L3 is 32 MiB) of rows of
// at most kScratchFloats: pass 2 writes e_i (a_i) to a scratch row on the
// stack instead of y, and pass 3 writes y once with non-temporal stores (no
// read-for-ownership of y: 8 bytes of DRAM traffic per element instead of 12).
// bench_softmax medians, two interleaved runs, softmax_threads/auto/4096x4096:
// t1 2.53-2.64 -> 2.59-2.77 Gelem/s, t2 4.11-4.14 -> 4.78-5.08 (t2 / t1
// 1.56-1.64 -> 1.83-1.85). In L3 it loses (4096x1000: 4.1-4.2 -> 2.3-2.5,
// y is evicted to DRAM), so the threshold sits above the L3 size. On Zen 5
// (benchmarks/ab.sh, medians of 11, threshold 48 -> 24 MiB, softmax) it lost
// below 48 MiB too: 1024x4096 5.21 -> 3.81, 6000x1000 3.46 -> 2.41, 2048x2048
// 4.70 -> 3.33 (log_softmax alike), though InRegisters rows won there
// (kStreamRowsBytes); no cause found.
constexpr std::size_t kStreamBytes = std::size_t{48} << 20, kScratchFloats = 4096;

// log(sum) of a long row's (double) sum, rounded to float: S::log_normal
// inline instead of a libm log (double) per row, whose call clobbers every
// vector register. benchmarks/ab.sh -o log_softmax, medians of 21 (avx512,
// Gelem/s), libm -> this: 16x1000 7.60 -> 7.78, 64x1000 7.84 -> 8.02, 4x4096
// 8.33 -> 8.55, 16x4096 8.91 -> 9.49. Rounding sum to float adds at most
// 2^-25 to the log, far within design.md's bound. Rows split across threads
// take the same function (Table::log in src/parallel.cpp): the same bits.
template <class S>
inline float log_of_sum(double sum) {
  const float s = static_cast<float>(sum);
  if constexpr (S::kLibmLog) return logf(s);  // log_normal's lanes are logf: the same bits
  else return S::first(S::log_normal(S::set(s)));
}

template <class S, bool Log, bool Scaled>
__attribute__((noinline)) void rows_three_pass(const Job& job) {
  using V = typename S::V;
  constexpr std::size_t W = S::W;
  const float c = job.inv_temperature;
  const std::size_t n = job.cols;
  const auto max_of = [&job, n](std::size_t r) { return row_max<S>(job.x + r * job.x_stride, n); };
  // Pass 2 of row r, whose max is m: its sum, or 0 if m is not finite (then
  // the row is already written). sum >= 1 otherwise: the max itself
  // contributes e^0. NaN elsewhere in x makes it NaN, and that NaN reaches
  // every output through 1/sum or log(sum).
  const auto sum_of = [&job, c, n](std::size_t r, float m) {
    const float* x = job.x + r * job.x_stride;
    float* y = job.y + r * job.y_stride;
    if (!(m - m == 0.0f)) {  // m is NaN or +-inf
      nonfinite_row<Log>(x, y, n, m);
      return 0.0;
    }
    double sum = 0.0;
    for (std::size_t i = 0; i < n; i += job.chunk)
      sum += exp_sum<S, Log, Scaled>(x + i, y + i, n - i < job.chunk ? n - i : job.chunk, m, c);
    return sum;
  };
  if (job.rows == 0) return;
  if (!Log || n * W > kLogGroupFloats) {
    // Batches of at most kPipelineBytes (x and y) are software-pipelined over
    // rows: one loop per row runs pass 2 of row r with pass 1 of row r + 1 and
    // pass 3 of row r - 1 (Side above), so the FMA-bound exps hide the other
    // passes' loads and stores. Larger batches run the passes one after
    // another, with the next row's max pass before this row's pass 3 (each
    // hides the latency at the end of the other: the horizontal max; 1/sum or
    // log) and the next row prefetched into L2 during pass 2. A row's bits are
    // the same either way: same max, same order of sums, same scale.
    // Sequential -> pipelined, avx512 softmax, one process alternating the two
    // builds, medians of 11-15 (Gelem/s): 4x4096 4.24 -> 4.75, 16x1000 4.34 ->
    // 4.61, 128x4096 4.25-4.33 -> 4.42-4.73, 32x32000 4.20 -> 4.84, 2x2^20 3.70
    // -> 4.02; even at 384x4096 and 64x32000 (12-16 MiB); past them it loses:
    // 512x4096 3.98 -> 3.73, 1024x4000 2.52 -> 1.83, 131x32000 2.41 -> 1.79
    // (cause not found; no counters on this VM). avx2 and log_softmax gain alike.
    // Where a small batch's time goes, from oracles with wrong output (ab,
    // avx512 softmax, medians of 15, Zen 5): at 4x4096, row 0's max pass left
    // out +5.4%, the last row's pass 3 left out +3.6%, both +11%; the next
    // row's max and the factor taken as constants (their reductions off the
    // row boundary) +1-2.5%. Pass 3 riding along costs 7-11% at 4x4096,
    // 16x4096 and 64x1000, its loads and stores rather than its multiply (a
    // max in its place: +1-3%). A prefetch in row 0's max pass, and the last
    // row's pass 3 run backwards, gained nothing; the riding pass 3 run
    // backwards was mixed (16x4096 -7%, 4x4096 -2%, 128x4096 +6%).
    const bool pipelined = 2 * job.rows * n * sizeof(float) <= kPipelineBytes;
    const bool stream = 2 * job.rows * n * sizeof(float) > kStreamBytes && n <= kScratchFloats;
    const auto pass2 = [&](std::size_t r, float m, auto side, const float* ahead) {
      const float* x = job.x + r * job.x_stride;
      float* y = job.y + r * job.y_stride;
      const float* xn = side.xn;
      float* yp = side.yp;
      double sum = 0.0;
      for (std::size_t i = 0; i < n; i += job.chunk) {
        side.xa = ahead ? ahead + i : nullptr;
        side.xn = xn ? xn + i : nullptr;
        side.yp = yp ? yp + i : nullptr;
        sum += exp_sum<S, Log, Scaled>(x + i, y + i, n - i < job.chunk ? n - i : job.chunk, m, c, side);
      }
      return std::pair<double, float>(sum, side.max());
    };
    const auto row_x = [&job](std::size_t r) { return r < job.rows ? job.x + r * job.x_stride : nullptr; };
    const auto factor = [](double sum) { return Log ? -log_of_sum<S>(sum) : static_cast<float>(1.0 / sum); };
    // Log-softmax, pipelined, 8 rows or more: pass 3 of row r - 2 (not r - 1)
    // rides along pass 2 of row r, and row r - 1's log is taken after row r's
    // pass 2 in program order, when its sum is long known. Taken right after
    // its own pass 2, the log waits on the horizontal sum of the last exps,
    // and that chain (about 60 cycles with the log) stalls retirement while
    // the next row's work queues behind it; no consumer needs to wait for it
    // to matter (a lag of 2 with the log still taken there gained nothing).
    // benchmarks/ab.sh -o log_softmax, medians of 21 (avx512, Gelem/s), with
    // log_of_sum, lag 1 -> 2: 16x1000 7.78 -> 7.96, 64x1000 8.02 -> 8.34,
    // 32x2000 9.20 -> 9.28, 4x4096 (lag 1 here) equal; the log left out
    // altogether (wrong output) gave 16x1000 +7%. Below 8 rows the two last
    // rows' pass 3 run alone (4x4096 lost 3%); softmax (a divide) gained nothing.
    const bool lag2 = Log && pipelined && job.rows >= 8;
    double sq = 0.0;  // lag 2: row yq's sum, its factor not taken yet
    float m = max_of(0), f = 0.0f;
    float* yp = nullptr;  // the row whose pass 3 rides along this row's pass 2, with factor f
    float* yq = nullptr;  // lag 2: the row after it, pending too
    for (std::size_t r = 0; r < job.rows; ++r) {
      const float* xn = row_x(r + 1);
      double sum = 0.0;
      float mn = 0.0f;
      const V vf = S::set(f);
      if (!(m - m == 0.0f)) {  // m is NaN or +-inf
        nonfinite_row<Log>(job.x + r * job.x_stride, job.y + r * job.y_stride, n, m);
        if (yp) finish<S, Log>(yp, n, f);
        if (xn) mn = max_of(r + 1);
      } else if (stream) {  // pass 2 into scratch, pass 3 streams y
        alignas(64) float scratch[kScratchFloats];
        Side<S, Log, false, false> side{nullptr, nullptr, vf};
        side.xa = xn;
        sum = exp_sum<S, Log, Scaled>(job.x + r * job.x_stride, scratch, n, m, c, side);
        if (xn) mn = max_of(r + 1);
        const V fr = S::set(Log ? -log_of_sum<S>(sum) : static_cast<float>(1.0 / sum));
        stream_all<S>(job.y + r * job.y_stride, n, [&](std::size_t i, std::size_t k) {
          const V v = load_part<S>(scratch + i, k, 0.0f);
          return Log ? v + fr : v * fr;
        });
        sum = 0.0;  // finished
      } else if (!pipelined) {
        sum = pass2(r, m, Side<S, Log, false, false>{nullptr, nullptr, vf}, xn).first;
        if (xn) mn = max_of(r + 1);
      } else if (xn && yp) {
        std::tie(sum, mn) = pass2(r, m, Side<S, Log, true, true>{xn, yp, vf}, nullptr);
      } else if (xn) {
        std::tie(sum, mn) = pass2(r, m, Side<S, Log, true, false>{xn, nullptr, vf}, nullptr);
      } else if (yp) {
        sum = pass2(r, m, Side<S, Log, false, true>{nullptr, yp, vf}, nullptr).first;
      } else {
        sum = pass2(r, m, Side<S, Log, false, false>{nullptr, nullptr, vf}, nullptr).first;
      }
      float* yr = sum != 0.0 ? job.y + r * job.y_stride : nullptr;
      if (yr && !pipelined) finish<S, Log>(yr, n, factor(sum)), yr = nullptr;
      if (lag2) {
        if (yq) f = factor(sq);
        yp = yq, yq = yr, sq = sum;
      } else {
        yp = yr, f = yr ? factor(sum) : 0.0f;
      }
      m = mn;
    }
    if (yp) finish<S, Log>(yp, n, f);
    if (yq) finish<S, Log>(yq, n, factor(sq));
    return;
  }
  // Group k's log is taken before group k + 1's passes 1 and 2 and its pass 3s
  // after them, while its outputs are still in L1, so that those passes fill
  // the log's latency (pass 3s right after the log stalled on it).
  // bench_softmax medians, two interleaved runs: log_softmax avx2 128x128
  // 2.27-2.31 -> 2.60-2.61 Gelem/s, as fast as softmax (2.51-2.56).
  alignas(64) float logs[W];
  std::size_t done = 0;  // rows before `done` are finished
  for (std::size_t r0 = 0; done < job.rows; r0 += W) {
    V sums = S::set(1.0f);  // log(1) = 0: nothing to finish
    if (r0 < job.rows) {
      alignas(64) float buf[W];
      const std::size_t g = job.rows - r0 < W ? job.rows - r0 : W;
      for (std::size_t q = 0; q < W; ++q) {
        const double sum = q < g ? sum_of(r0 + q, max_of(r0 + q)) : 0.0;
        buf[q] = sum != 0.0 ? static_cast<float>(sum) : 1.0f;
      }
      sums = S::load(buf);
    }
    for (std::size_t q = 0; done < r0 && done < job.rows; ++q, ++done)
      if (logs[q] != 0.0f) finish<S, true>(job.y + done * job.y_stride, n, -logs[q]);
    S::store(logs, S::log_normal(sums));
  }
}

// Rows past InRegisters, of at most S::grouped_cols(Log) floats, in batches
// of at most kPipelineBytes: rows_three_pass with the horizontal reductions
// taken out of the row loop. Rows go in groups of W: group k + 1's max pass
// (lane maxima, reduced W rows at once by S::max_rows), group k's exp pass
// (lane partial sums, reduced by S::sum_rows after the group) and group
// k - 1's scale pass run row by row in one loop, with one vector divide (or
// log) per group. The bits are rows_three_pass's (the same max; exp_sum's sums
// in its order: two accumulators, a lone vector in the first, the tail in the
// second, one block; log-softmax: its grouped vector log), so a row does not
// change with the batch size or the thread count (tested).
// benchmarks/ab.sh, medians of 9-11 (avx2, Gelem/s), rows_three_pass -> this:
// softmax 128x72 1.86 -> 3.13, 256x100 1.72 -> 2.54, 512x96 2.42 -> 3.33,
// 128x128 2.77 -> 3.55, 64x200 2.94 -> 3.40, 64x256 3.33 -> 3.51, 32x384 3.60
// -> 3.67; log_softmax 128x128 2.57 -> 3.10, 128x72 1.89 -> 2.56, 64x200 2.72
// -> 2.98, 64x256 3.02 -> 3.13, but 64x512 3.41 -> 3.20 and 32x384 3.25 ->
// 3.21, hence 256 floats there. Not on AVX-512 (softmax 32x512 5.16 -> 4.49,
// 16x1000 5.20 -> 4.13; only 128x240 gained, 4.24 -> 4.63).
template <class S, bool Log, bool Scaled>
struct Grouped {
  using V = typename S::V;
  static constexpr std::size_t W = S::W;
  static bool applies(const Job& job) {
    return 2 * job.rows * job.cols * sizeof(float) <= kPipelineBytes && job.cols <= job.chunk &&
           job.cols <= S::grouped_cols(Log);
  }
  // the lane maxima of one row
  static V max_partial(const float* x, std::size_t n) {
    V m0 = S::load(x), m1 = S::set(-kInf);
    std::size_t i = W;
    for (; i + 2 * W <= n; i += 2 * W) m0 = S::max(m0, S::load(x + i)), m1 = S::max(m1, S::load(x + i + W));
    if (i + W <= n) m0 = S::max(m0, S::load(x + i)), i += W;
    if (i < n) m1 = S::max(m1, S::load_tail(x + i, n - i, -kInf));
    return S::max(m0, m1);
  }
  // e_i of a row with finite max m to y, unscaled; returns the lane partial sums
  static V exps(const float* x, float* y, std::size_t n, float m, float c) {
    const Logits<S, Scaled> logit(S::set(m), c);
    V s0 = S::set(0.0f), s1 = s0;
    std::size_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      const V a0 = logit(S::load(x + i)), a1 = logit(S::load(x + i + W));
      const V e0 = exp_nonpos<S, Log>(a0), e1 = exp_nonpos<S, Log>(a1);
      S::store(y + i, Log ? a0 : e0);
      S::store(y + i + W, Log ? a1 : e1);
      s0 = s0 + e0;
      s1 = s1 + e1;
    }
    if (i + W <= n) {
      const V a = logit(S::load(x + i)), e = exp_nonpos<S, Log>(a);
      S::store(y + i, Log ? a : e);
      s0 = s0 + e;
      i += W;
    }
    if (i < n) {
      const V a = logit(S::load_tail(x + i, n - i, -kInf)), e = exp_nonpos<S, Log>(a);
      S::store_tail(y + i, Log ? a : e, n - i);
      s1 = s1 + e;
    }
    return s0 + s1;
  }
  __attribute__((noinline)) static void run(const Job& job) {
    const std::size_t n = job.cols;
    alignas(64) float mx[W * W] = {}, ms[W], sums[W * W], fs[W];
    const auto xr = [&job](std::size_t r) { return job.x + r * job.x_stride; };
    const auto yr = [&job](std::size_t r) { return job.y + r * job.y_stride; };
    std::size_t g = job.rows < W ? job.rows : W, prev = 0, prev_g = 0;  // prev: the group waiting to be scaled
    for (std::size_t q = 0; q < g; ++q) S::store(mx + q * W, max_partial(xr(q), n));
    S::store(ms, S::max_rows(mx));
    for (std::size_t row0 = 0; row0 < job.rows; row0 += W) {
      const std::size_t next = row0 + W, gn = next >= job.rows ? 0 : job.rows - next < W ? job.rows - next : W;
      init_group_sums(sums, W, W);
      for (std::size_t q = 0; q < g || q < gn || q < prev_g; ++q) {
        if (q < g) {
          const float m = ms[q];
          if (m - m == 0.0f)
            S::store(sums + q * W, exps(xr(row0 + q), yr(row0 + q), n, m, job.inv_temperature));
          else
            nonfinite_row<Log>(xr(row0 + q), yr(row0 + q), n, m);
        }
        if (q < gn) S::store(mx + q * W, max_partial(xr(next + q), n));
        if (q < prev_g && fs[q] != (Log ? 0.0f : 1.0f)) finish<S, Log>(yr(prev + q), n, fs[q]);
      }
      S::store(ms, S::max_rows(mx));
      const V sv = S::sum_rows(sums);
      S::store(fs, Log ? S::set(0.0f) - S::log_normal(sv) : S::set(1.0f) / sv);
      prev = row0, prev_g = g, g = gn;
    }
    for (std::size_t q = 0; q < prev_g; ++q)
      if (fs[q] != (Log ? 0.0f : 1.0f)) finish<S, Log>(yr(prev + q), n, fs[q]);
  }
};

template <class S, bool Log, bool Scaled, std::size_t... NV>
void rows_dispatch(const Job& job, std::index_sequence<NV...>) {
  const std::size_t nv = (job.cols + S::W - 1) / S::W;
  if (nv > S::kRowVectors) {
    if constexpr (S::grouped_cols(Log) > 0)
      if (Grouped<S, Log, Scaled>::applies(job)) return Grouped<S, Log, Scaled>::run(job);
    return rows_three_pass<S, Log, Scaled>(job);
  }
  ((nv == NV + 1 ? InRegisters<S, Log, Scaled, NV + 1>::run(job) : void()), ...);
}

// The path is chosen once per batch, never per row.
template <class S, bool Log>
void rows(const Job& job) {
  if (job.inv_temperature == 1.0f)
    rows_dispatch<S, Log, false>(job, std::make_index_sequence<S::kRowVectors>{});
  else
    rows_dispatch<S, Log, true>(job, std::make_index_sequence<S::kRowVectors>{});
}

// Entry points for one row split into chunks (src/parallel.cpp): the
// three-pass form across threads, and the two-pass form.
template <class S>
double exp_sum_chunk(const float* x, float* y, std::size_t n, float m, float c, bool log) {
  if (c == 1.0f)
    return log ? exp_sum<S, true, false>(x, y, n, m, c) : exp_sum<S, false, false>(x, y, n, m, c);
  return log ? exp_sum<S, true, true>(x, y, n, m, c) : exp_sum<S, false, true>(x, y, n, m, c);
}

template <class S>
void finish_chunk(float* y, std::size_t n, float f, bool log) {
  log ? finish<S, true>(y, n, f) : finish<S, false>(y, n, f);
}

// The max pass reads the chunk from memory, the exp pass from L2; during the
// exp pass the next chunk is prefetched into L2 (prefetcht1, Side::xa), so that
// memory is busy while the exps run and the next max pass reads from L2.
// benchmarks/ab.sh, medians of 7, avx512 softmax 1x2^26, without -> with:
// one thread 1.78-1.85 -> 2.21-2.31 Gelem/s, Options::threads = 2 2.54-2.86
// -> 2.91-3.28. A prefetch 4-16 KiB ahead in the streaming pass (exp_scale)
// measured no gain (2.25 -> 2.22-2.05 on one thread).
template <class S, bool Log, bool Scaled>
double exp_sum_prefetching(const float* x, std::size_t n, float m, float c, const float* next) {
  Side<S, Log, false, false> side{nullptr, nullptr, S::set(0.0f)};
  side.xa = next;
  return exp_sum<S, Log, Scaled, false>(x, nullptr, n, m, c, side);
}

template <class S>
double max_exp_sum_chunk(const float* x, std::size_t n, float c, bool log, float* max, const float* next) {
  const float m = *max = row_max<S>(x, n);
  if (!(m - m == 0.0f)) return 0.0;  // the caller handles NaN / inf / all -inf
  if (c == 1.0f)
    return log ? exp_sum_prefetching<S, true, false>(x, n, m, c, next) : exp_sum_prefetching<S, false, false>(x, n, m, c, next);
  return log ? exp_sum_prefetching<S, true, true>(x, n, m, c, next) : exp_sum_prefetching<S, false, true>(x, n, m, c, next);
}

template <class S>
void exp_scale_chunk(const float* x, float* y, std::size_t n, float m, float c, float f, bool log) {
  if (c == 1.0f)
    return log ? exp_scale<S, true, false>(x, y, n, m, c, f) : exp_scale<S, false, false>(x, y, n, m, c, f);
  log ? exp_scale<S, true, true>(x, y, n, m, c, f) : exp_scale<S, false, true>(x, y, n, m, c, f);
}

template <class S, bool SumOnly = false>
void exp_array(const float* x, float* y, std::size_t n) {
  constexpr std::size_t W = S::W;
  std::size_t i = 0;
  for (; i + W <= n; i += W) S::store(y + i, exp_nonpos<S, SumOnly>(S::load(x + i)));
  if (i < n) S::store_tail(y + i, exp_nonpos<S, SumOnly>(S::load_tail(x + i, n - i, 0.0f)), n - i);
}

template <class S>
void log_array(const float* x, float* y, std::size_t n) {
  constexpr std::size_t W = S::W;
  std::size_t i = 0;
  for (; i + W <= n; i += W) S::store(y + i, S::log_normal(S::load(x + i)));
  if (i < n) S::store_tail(y + i, S::log_normal(S::load_tail(x + i, n - i, 1.0f)), n - i);
}

template <class S>
constexpr Table table_for() {
  return {&rows<S, false>,       &rows<S, true>, &row_max<S>,   &exp_sum_chunk<S>, &finish_chunk<S>, &max_exp_sum_chunk<S>,
          &exp_scale_chunk<S>, &exp_array<S>,  &exp_array<S, true>, &log_array<S>, S::kTwoPassBatchCols,
          S::kTwoPassSoftmax};
}

}  // namespace
}  // namespace simdsoftmax::kernels
