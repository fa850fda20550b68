// The softmax / log-softmax algorithm, written once over a traits type S
// (Simd<Arch> from simd_xsimd.hpp or simd_scalar.hpp) and instantiated by one
// small .cpp per ISA. Include a traits header before this one.
//
// Per row x of n floats, temperature T (we get c = 1/T), m = max(x):
//   pass 1  m = max(x)                                   (kUnroll accumulators)
//   pass 2  e_i = exp((x_i - m) * c), sum += e_i         (softmax stores e_i to y)
//   pass 3  softmax: y_i = e_i * (1/sum)
//           log-softmax: y_i = (x_i - m) * c - log(sum)
// The max is subtracted before the multiply: folding it into fma(x, c, -m*c)
// loses accuracy on offset logits and overflows for |x| near 3e38 (design.md).
#pragma once

#include <math.h>

#include <cstddef>
#include <cstdint>

#include "kernels.hpp"

namespace simdsoftmax::kernels {
namespace {

constexpr float kInf = __builtin_inff();

// e^a for a <= 0, vectorized; NaN in, NaN out; a < ln(FLT_MIN) gives 0.
//
// Range reduction (Cody-Waite): a = n*ln2 + t, n = round(a/ln2), |t| <= ln2/2,
// e^a = 2^n * e^t.
//  * n is rounded by adding 1.5*2^23: in [2^23, 2^24) the float ulp is 1, so the
//    sum is a rounded integer held in the low mantissa bits. The magic constant
//    also carries the exponent bias 127, so those bits are n + 127, and shifting
//    them left by 23 gives the float 2^n directly (valid for n + 127 in [1, 254]).
//  * ln2 = ln2_hi + ln2_lo; ln2_hi has its 9 low mantissa bits zero, so n*ln2_hi
//    is exact for |n| < 2^9 and t keeps its low bits without a wide type.
// e^t = 1 + t*p(t), p of degree 4: the degree-5 minimax coefficients on
// [-ln2/2, ln2/2] published with XNNPACK's rr2_p5 exp kernels
// (src/f32-raddstoreexpminusmax). Measured here against double exp over every
// float in [-87.3, 0] (tests/test_exp.cpp): max error 1 ulp on every ISA with fma,
// 2 ulp for the scalar kernel (unfused multiply-add).
template <class S>
inline typename S::V exp_nonpos(typename S::V a) {
  using V = typename S::V;
  const V magic = S::set(0x1.8000FEp23f);  // 1.5*2^23 + 127
  V n = S::fma(a, S::set(0x1.715476p+0f), magic);  // a*log2(e) + magic
  const V s = S::shl23(n);                           // 2^n
  n = n - magic;
  V t = S::fma(n, S::set(-0x1.62E400p-1f), a);       // a - n*ln2_hi
  t = S::fma(n, S::set(-0x1.7F7D1Cp-20f), t);        //   - n*ln2_lo
  V p = S::fma(S::set(0x1.0F9F9Cp-7f), t, S::set(0x1.573A1Ap-5f));
  p = S::fma(p, t, S::set(0x1.555A80p-3f));
  p = S::fma(p, t, S::set(0x1.FFFDC6p-2f));
  p = S::fma(p, t, S::set(0x1.FFFFF6p-1f));
  t = t * s;
  const V e = S::fma(t, p, s);  // 2^n * (1 + t*p)
  // ln(2^-126) = -87.336544: below it 2^n would leave the normal range.
  return S::zero_if_less(e, a, -0x1.5D589Ep+6f);
}

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
  return S::hmax(S::max(S::max(m0, m1), S::max(m2, m3)));
}

// The sum of e_i over a row, storing e_i to y when Store.
// Rounding: each lane of each accumulator adds at most kLaneRun terms in float;
// then the block's total is added in double. The error therefore does not grow
// with n (one float accumulator per lane drifts to ~1e-4 relative at 2^20).
template <class S, bool Store>
double exp_sum(const float* x, float* y, std::size_t n, float m, float c) {
  using V = typename S::V;
  constexpr std::size_t W = S::W, U = 2, kLaneRun = 32, kBlock = kLaneRun * U * W;
  const V vm = S::set(m), vc = S::set(c);
  double total = 0.0;
  std::size_t i = 0;
  while (i < n) {
    const std::size_t end = n - i > kBlock ? i + kBlock : n;
    V s0 = S::set(0.0f), s1 = s0;
    for (; i + 2 * W <= end; i += 2 * W) {
      const V e0 = exp_nonpos<S>((S::load(x + i) - vm) * vc);
      const V e1 = exp_nonpos<S>((S::load(x + i + W) - vm) * vc);
      if (Store) S::store(y + i, e0), S::store(y + i + W, e1);
      s0 = s0 + e0;
      s1 = s1 + e1;
    }
    for (; i + W <= end; i += W) {
      const V e = exp_nonpos<S>((S::load(x + i) - vm) * vc);
      if (Store) S::store(y + i, e);
      s0 = s0 + e;
    }
    if (i < end) {  // only in the last block: kBlock is a multiple of W
      const V e = exp_nonpos<S>((S::load_tail(x + i, end - i, -kInf) - vm) * vc);
      if (Store) S::store_tail(y + i, e, end - i);
      s1 = s1 + e;
      i = end;
    }
    total += S::hsum(s0 + s1);
  }
  return total;
}

template <class S>
void scale(float* y, std::size_t n, float f) {
  using V = typename S::V;
  constexpr std::size_t W = S::W;
  const V vf = S::set(f);
  std::size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    S::store(y + i, S::load(y + i) * vf);
    S::store(y + i + W, S::load(y + i + W) * vf);
  }
  for (; i + W <= n; i += W) S::store(y + i, S::load(y + i) * vf);
  if (i < n) S::store_tail(y + i, S::load_tail(y + i, n - i, 0.0f) * vf, n - i);
}

template <class S>
void shift_scale(const float* x, float* y, std::size_t n, float m, float c, float b) {
  using V = typename S::V;
  constexpr std::size_t W = S::W;
  const V vm = S::set(m), vc = S::set(c), vb = S::set(b);
  std::size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    S::store(y + i, (S::load(x + i) - vm) * vc - vb);
    S::store(y + i + W, (S::load(x + i + W) - vm) * vc - vb);
  }
  for (; i + W <= n; i += W) S::store(y + i, (S::load(x + i) - vm) * vc - vb);
  if (i < n) S::store_tail(y + i, (S::load_tail(x + i, n - i, 0.0f) - vm) * vc - vb, n - i);
}

// Rows whose max is not finite: NaN anywhere -> all NaN; +inf entries share the
// mass (the limit as those logits grow); all -inf (fully masked) -> 0 / -inf.
template <bool Log>
void nonfinite_row(const float* x, float* y, std::size_t n, float m) {
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

template <class S, bool Log>
void rows(const Job& job) {
  const float c = job.inv_temperature;
  for (std::size_t r = 0; r < job.rows; ++r) {
    const float* x = job.x + r * job.x_stride;
    float* y = job.y + r * job.y_stride;
    const std::size_t n = job.cols;
    const float m = row_max<S>(x, n);
    if (!(m - m == 0.0f)) {  // m is NaN or +-inf
      nonfinite_row<Log>(x, y, n, m);
      continue;
    }
    // sum >= 1: the max itself contributes e^0. NaN elsewhere in x makes it NaN,
    // and that NaN reaches every output through 1/sum or log(sum).
    const double sum = exp_sum<S, !Log>(x, y, n, m, c);
    if (Log)
      shift_scale<S>(x, y, n, m, c, static_cast<float>(log(sum)));
    else
      scale<S>(y, n, static_cast<float>(1.0 / sum));
  }
}

template <class S>
void exp_array(const float* x, float* y, std::size_t n) {
  constexpr std::size_t W = S::W;
  std::size_t i = 0;
  for (; i + W <= n; i += W) S::store(y + i, exp_nonpos<S>(S::load(x + i)));
  if (i < n) S::store_tail(y + i, exp_nonpos<S>(S::load_tail(x + i, n - i, 0.0f)), n - i);
}

template <class S>
constexpr Table table_for() {
  return {&rows<S, false>, &rows<S, true>, &exp_array<S>};
}

}  // namespace
}  // namespace simdsoftmax::kernels
