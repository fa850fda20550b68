// Vector traits over an xsimd arch tag, plus per-ISA specializations where an
// intrinsic beats the portable form (masked tails, lane-wide reductions,
// the table exp). Everything here is a template or lives in an anonymous namespace:
// nothing compiled with ISA flags gets a symbol that baseline code could bind
// to (design.md, ODR hazard).
#pragma once

#include <cassert>  // xsimd 8.1.0's xsimd_arch.hpp uses assert without it
#include <cstddef>
#include <cstdint>
#include <xsimd/xsimd.hpp>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace simdsoftmax::kernels {
namespace {

template <class Arch>
struct SimdXsimd {
  using V = xsimd::batch<float, Arch>;
  using I = xsimd::batch<std::int32_t, Arch>;
  static constexpr std::size_t W = V::size;
  static constexpr int kExpTableBits = 0;  // see exp_nonpos in softmax.hpp
  static constexpr bool kFusedMultiplyAdd = true;  // fma3 on x86, fmla on aarch64
  // Rows up to this many vectors are held in registers (softmax.hpp); about
  // half the register file, so the exp constants and temporaries fit beside.
  static constexpr std::size_t kRegVectors = 8;
  static constexpr std::size_t kRowVectors = 8;  // the longest InRegisters rows (vectors)
  static constexpr bool kPipelineRows = false;  // see InRegisters in softmax.hpp
  // InRegisters::run_mixed for log-softmax or not, rows of nv vectors, whose
  // last is partial (tail) or not
  static constexpr bool mixed_rows(bool, std::size_t, bool) { return false; }
  static constexpr bool kLoadAhead = false;  // exp_sum in softmax.hpp
  static constexpr std::size_t kLogScratchMin = 1, kLogScratchMax = 0;  // InRegisters::run_scratch: none
  static constexpr bool log_store_early(std::size_t) { return false; }  // InRegisters::kStoreEarly
  static constexpr bool stream_rows(bool, std::size_t) { return false; }  // InRegisters::kStream: none
  static constexpr std::size_t kTwoPassBatchCols = 0;  // Table::two_pass_batch_cols
  static constexpr bool kTwoPassSoftmax = true;         // Table::two_pass_softmax
  static constexpr bool kSumRows = false;  // sum_rows: InRegisters::kSumStride
  static constexpr std::size_t grouped_cols(bool) { return 0; }  // longest Grouped rows (softmax.hpp), 0: none

  static V load(const float* p) { return V::load_unaligned(p); }
  static void store(float* p, V v) { v.store_unaligned(p); }
  // Non-temporal store of a full vector to p aligned to sizeof(V) (bypasses the
  // caches: no read-for-ownership); fence() orders them before returning.
  static void stream(float* p, V v) { v.store_aligned(p); }
  static void fence() {}
  // r (0 < r < W) trailing elements, the other lanes = fill; never touches p[r...].
  static V load_tail(const float* p, std::size_t r, float fill) {
    alignas(64) float b[W];
    for (std::size_t i = 0; i < W; ++i) b[i] = i < r ? p[i] : fill;
    return V::load_aligned(b);
  }
  static void store_tail(float* p, V v, std::size_t r) {
    alignas(64) float b[W];
    v.store_aligned(b);
    for (std::size_t i = 0; i < r; ++i) p[i] = b[i];
  }
  static V set(float c) { return V(c); }
  static V fma(V a, V b, V c) { return xsimd::fma(a, b, c); }
  static V max(V a, V b) { return xsimd::max(a, b); }
  static V zero_if_less(V v, V a, float t) { return xsimd::select(a < V(t), V(0.0f), v); }
  static V shl23(V v) { return xsimd::bitwise_cast<V>(xsimd::bitwise_cast<I>(v) << 23); }
  // log(s) for normal s > 0 (a row's sum of exps: >= 1, the max's term is 1).
  // s = 2^k * m with m in [0.75, 1.5) by integer arithmetic on the bits; with
  // f = m - 1 (exact) and u = f / (2 + f) in [-1/7, 1/5], log(m) = 2 atanh(u)
  // = f - (f^2/2 - u (f^2/2 + R)), R = 2u^2/3 + 2u^4/5 + 2u^6/7 + 2u^8/9 (the
  // next term is below 2^-27 of the result). f is exact and the rest a small
  // correction, as in fdlibm's logf: u as the main term instead measured 2.84
  // ulp (tests/test_log.cpp). NaN gives NaN.
  static constexpr bool kLibmLog = false;  // log_normal is vector code (log_of_sum in softmax.hpp)
  static V log_normal(V s) {
    const I i = xsimd::bitwise_cast<I>(s);
    const I k = (i - I(0x3f400000)) >> 23;  // 0x3f400000 = 0.75f
    const V f = xsimd::bitwise_cast<V>(i - (k << 23)) - V(1.0f);
    const V u = f / (f + V(2.0f)), z = u * u, h = V(0.5f) * f * f;
    V r = fma(z, V(2.0f / 9), V(2.0f / 7));
    r = fma(r, z, V(2.0f / 5));
    r = fma(r, z, V(2.0f / 3)) * z;
    const V kf = xsimd::to_float(k) + (s - s);  // s - s: a NaN sum stays NaN
    return fma(kf, V(0x1.62e430p-1f), f - fma(-u, h + r, h));
  }
  static float first(V v) {
    alignas(64) float b[W];
    v.store_aligned(b);
    return b[0];
  }
  // Lane-wide reductions: the result in every lane.
  static V allsum(V v) { return V(xsimd::hadd(v)); }
  static constexpr bool kPairReductions = false;  // allmax2/allsum2 no cheaper than two calls
  static constexpr bool kQuadReductions = false;
  static void allmax4(V (&v)[4]) { for (V& x : v) x = allmax(x); }
  static void allsum4(V (&v)[4]) { for (V& x : v) x = allsum(x); }
  static void allmax2(V& a, V& b) { a = allmax(a), b = allmax(b); }
  static void allsum2(V& a, V& b) { a = allsum(a), b = allsum(b); }
  static V allmax(V v) {  // xsimd 8.1.0 has no reduce_max
    alignas(64) float b[W];
    v.store_aligned(b);
    float m = b[0];
    for (std::size_t i = 1; i < W; ++i)
      if (b[i] > m) m = b[i];
    return V(m);
  }
};

template <class Arch>
struct Simd : SimdXsimd<Arch> {};

#if defined(__AVX512F__)
template <>
struct Simd<xsimd::avx512bw> : SimdXsimd<xsimd::avx512bw> {
  static constexpr int kExpTableBits = 4;
  static constexpr std::size_t kRegVectors = 16;  // of 32 zmm registers
  // Rows of 15 and 16 vectors spill: InRegisters against rows_three_pass,
  // one process alternating the two builds, medians of 9-11 (Gelem/s):
  // softmax 64x240 2.94 vs 4.31, 64x256 2.94 vs 4.57, 16384x256 2.86 vs 3.79;
  // at 14 vectors, 64x224 4.12 vs 4.43 but 16384x224 3.68 vs 3.57 and
  // log_softmax 3.80 vs 3.70, 3.11 vs 2.66. (AVX2: InRegisters wins up to 8.)
  static constexpr std::size_t kRowVectors = 14;
  static constexpr bool kPipelineRows = true;
  // run_mixed (softmax.hpp): softmax rows whose last vector is full; log-softmax
  // rows of 3 vectors or more, or of 2 full ones
  static constexpr bool mixed_rows(bool log, std::size_t nv, bool tail) {
    return log ? nv >= 3 || (nv == 2 && !tail) : !tail;
  }
  static constexpr bool kLoadAhead = true;
  static constexpr std::size_t kLogScratchMin = 2, kLogScratchMax = 7;
  static constexpr bool log_store_early(std::size_t nv) { return nv == 8; }
  // InRegisters rows in batches of at least kStreamRowsBytes (softmax.hpp):
  // y written with non-temporal stores, for softmax rows of 3 vectors or more
  // and log-softmax rows of 4 or more (kept in registers with a vector log per
  // row: InRegisters::run, figures there). benchmarks/ab.sh, medians of 11,
  // Zen 5 (family 26), normal -> streamed stores (Gelem/s). Softmax: 32768x128 3.73 -> 5.29, 3.96 -> 5.24; 24576x128
  // 4.77 -> 5.74; 65536x64 3.37 -> 4.72, 3.58 -> 4.84; 43690x96 3.76 -> 4.89;
  // 37449x112 4.12 -> 5.45; 87381x48 4.30 -> 4.45, 4.20 -> 4.39; 65536x128
  // (64 MiB) 3.36 -> 3.58; 18724x224 4.99 -> 5.17; 32768x160 4.88 -> 4.82. Not
  // at 2 vectors: 131072x32 4.39 -> 3.49, 262144x32 4.33 -> 2.51 (cause not
  // found); 1 vector equal (262144x16 3.80 -> 3.78). Log-softmax at 8 vectors,
  // run_scratch and streamed against kStoreEarly in y: 32768x128 3.91 -> 5.03,
  // 3.31 -> 4.00, 3.09 -> 4.38; 24576x128 4.51 -> 5.55; 65536x128 3.31 ->
  // 3.42 (run_scratch alone lost: 3.91 -> 3.23). Log-softmax rows of 2-7
  // vectors (run_scratch already) lost or tied when streamed: 87381x48 3.18
  // -> 2.39, 174762x48 2.69 -> 2.10, 131072x64 2.67 -> 2.42, 43690x96 2.84 ->
  // 2.84. (All these log-softmax figures are of the run_scratch form, which
  // streamed from its scratch buffer; the register form replaced it.)
  static constexpr bool stream_rows(bool log, std::size_t nv) { return log ? nv >= 4 : nv >= 3; }
  // Rows of 2^20 floats and more in batches past 32 MiB (x and y) take the
  // two-pass form (src/parallel.cpp), with its next-chunk prefetch.
  // benchmarks/ab.sh, medians of 9, three-pass -> two-pass (Gelem/s), five
  // runs: softmax 4x1048576 2.51 -> 2.62, 2.12 -> 2.51, 2.74 -> 2.73, 2.36 ->
  // 2.61, 2.61 -> 2.65; 2x2097152 2.19 -> 2.52, 2.48 -> 2.66, 2.54 -> 2.66;
  // 8x1048576 1.90 -> 2.00, 1.98 -> 2.06; log_softmax 4x1048576 2.07 -> 2.71,
  // 2.43 -> 2.77. At 2^19 it won in one run and lost in two (8x524288 2.09 ->
  // 2.32, 3.06 -> 2.75, 2.77 -> 2.64); not for small batches, in the L3
  // (1x1048576 4.15 -> 2.83), nor on AVX2, whose exp costs more (4x1048576
  // 2.03 -> 1.78): the two-pass form computes each exp twice.
  static constexpr std::size_t kTwoPassBatchCols = std::size_t{1} << 20;
  // xsimd 8.1.0 has no AVX-512 fma: its generic x*y + z is fused only when GCC
  // contracts it (-O2 and up); unfused, the exp measured 2.21 ulp.
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static __mmask16 head(std::size_t r) { return static_cast<__mmask16>((1u << r) - 1u); }
  // Masked-off lanes are neither read nor written (no fault past the row end).
  static V load_tail(const float* p, std::size_t r, float fill) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), head(r), p);
  }
  static void store_tail(float* p, V v, std::size_t r) { _mm512_mask_storeu_ps(p, head(r), v); }
  static void stream(float* p, V v) { _mm512_stream_ps(p, v); }
  static void fence() { _mm_sfence(); }
  static float first(V v) { return _mm512_cvtss_f32(v); }
  // Halving: lane i with lane i + 8, then + 4, + 2, + 1, on 256-, 128- and
  // 32-bit operations (half the work of 512-bit ones on Zen 4), then one
  // broadcast. One process alternating the builds, medians of 15 (avx512
  // softmax, Gelem/s), against 512-bit shuffles at every step: 128x64 3.70
  // -> 3.81, 128x128 4.50 -> 4.55, 32768x128 3.91 -> 3.94.
  static V allmax(V v) {
    __m256 h = _mm256_max_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 q = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_max_ps(q, _mm_movehl_ps(q, q));
    q = _mm_max_ss(q, _mm_movehdup_ps(q));
    return _mm512_broadcastss_ps(q);
  }
  static V allsum(V v) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    q = _mm_add_ss(q, _mm_movehdup_ps(q));
    return _mm512_broadcastss_ps(q);
  }
  // Two rows at once: [a.lo256 | b.lo256] op [a.hi256 | b.hi256], then the
  // steps of allsum inside each 256-bit half (the same pairs, so the same
  // sums), then each half broadcast back.
  static constexpr bool kPairReductions = true;
  template <class Op>
  static void butterfly2(V& a, V& b, Op op) {
    __m512 t = op(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
    t = op(t, _mm512_shuffle_f32x4(t, t, 0xB1));
    t = op(t, _mm512_permute_ps(t, 0x4E));
    t = op(t, _mm512_permute_ps(t, 0xB1));
    a = _mm512_shuffle_f32x4(t, t, 0x00);
    b = _mm512_shuffle_f32x4(t, t, 0xAA);
  }
  static void allmax2(V& a, V& b) { butterfly2(a, b, [](__m512 p, __m512 q) { return _mm512_max_ps(p, q); }); }
  static void allsum2(V& a, V& b) { butterfly2(a, b, [](__m512 p, __m512 q) { return _mm512_add_ps(p, q); }); }
  // Four rows: pairs as in butterfly2, then [ab | cd] quarters combined so
  // that quarter q holds row q's four partials, then the in-quarter steps:
  // 17 operations for four rows against 22 for two butterfly2. The same
  // pairs in the same order as allsum, so the same sums.
  static constexpr bool kQuadReductions = true;
  template <class Op>
  static void butterfly4(V (&v)[4], Op op) {
    const __m512 ab = op(_mm512_shuffle_f32x4(v[0], v[1], 0x44), _mm512_shuffle_f32x4(v[0], v[1], 0xEE));
    const __m512 cd = op(_mm512_shuffle_f32x4(v[2], v[3], 0x44), _mm512_shuffle_f32x4(v[2], v[3], 0xEE));
    __m512 t = op(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xDD));
    t = op(t, _mm512_permute_ps(t, 0x4E));
    t = op(t, _mm512_permute_ps(t, 0xB1));
    v[0] = _mm512_shuffle_f32x4(t, t, 0x00);
    v[1] = _mm512_shuffle_f32x4(t, t, 0x55);
    v[2] = _mm512_shuffle_f32x4(t, t, 0xAA);
    v[3] = _mm512_shuffle_f32x4(t, t, 0xFF);
  }
  // Lane q: the sum of the 16 floats at p + 16q (rows' partial sums, p
  // 64-byte aligned), for 16 rows at once: halves of row pairs added (lane i
  // with i + 8), then quarters of pairs of those (i + 4), then pairs of lanes
  // within quarters (i + 2, i + 1): allsum's pairs in allsum's order, so the
  // same bits, in 46 operations instead of 16 allsum (InRegisters::kSumStride).
  static constexpr bool kSumRows = true;
  template <class Op>
  static V transposed(const float* p, Op op) {
    __m512 t[8], u[4], w[2];
    for (int i = 0; i < 8; ++i) {  // t[i]: rows 2i, 2i + 1 in 256-bit halves
      const __m512 a = _mm512_load_ps(p + 32 * i), b = _mm512_load_ps(p + 32 * i + 16);
      t[i] = op(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
    }
    for (int i = 0; i < 4; ++i)  // u[i]: rows 4i + k in quarter k
      u[i] = op(_mm512_shuffle_f32x4(t[2 * i], t[2 * i + 1], 0x88), _mm512_shuffle_f32x4(t[2 * i], t[2 * i + 1], 0xDD));
    for (int i = 0; i < 2; ++i)  // w[i]: rows 8i + k, 8i + 4 + k in quarter k
      w[i] = op(_mm512_shuffle_ps(u[2 * i], u[2 * i + 1], 0x44), _mm512_shuffle_ps(u[2 * i], u[2 * i + 1], 0xEE));
    const __m512 r = op(_mm512_shuffle_ps(w[0], w[1], 0x88), _mm512_shuffle_ps(w[0], w[1], 0xDD));
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), r);
  }
  static V sum_rows(const float* p) { return transposed(p, [](__m512 a, __m512 b) { return _mm512_add_ps(a, b); }); }
  static void allmax4(V (&v)[4]) { butterfly4(v, [](__m512 p, __m512 q) { return _mm512_max_ps(p, q); }); }
  static void allsum4(V (&v)[4]) { butterfly4(v, [](__m512 p, __m512 q) { return _mm512_add_ps(p, q); }); }
  // 2^(n/16) for the integer n held in the low bits of nm = n + 1.5*2^23, for
  // n >= -2016 (floor(n/16) >= -126). vpermps reads the low 4 bits of each
  // index lane: k = n mod 16, whatever the sign of n. The bits of nm shifted
  // left by 19 are (n >> 4) << 23 plus k << 19 (mod 2^32); each table entry is
  // 2^(k/16) with k << 19 subtracted from its bits, so one integer add leaves
  // 2^(k/16) with floor(n/16) added to its exponent (an AND fewer; XNNPACK's
  // lut16 exps use the same trick).
  static V exp2_table(V nm) {
    const __m512i k19 = _mm512_setr_epi32(0, 1 << 19, 2 << 19, 3 << 19, 4 << 19, 5 << 19, 6 << 19, 7 << 19, 8 << 19,
                                          9 << 19, 10 << 19, 11 << 19, 12 << 19, 13 << 19, 14 << 19, 15 << 19);
    const __m512 table = _mm512_castsi512_ps(_mm512_sub_epi32(
        _mm512_castps_si512(_mm512_setr_ps(  // 2^(k/16), k = 0..15, rounded to nearest
            0x1p+0f, 0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f, 0x1.306fe0p+0f, 0x1.3dea64p+0f, 0x1.4bfdaep+0f,
            0x1.5ab07ep+0f, 0x1.6a09e6p+0f, 0x1.7a1148p+0f, 0x1.8ace54p+0f, 0x1.9c4918p+0f, 0x1.ae89fap+0f,
            0x1.c199bep+0f, 0x1.d5818ep+0f, 0x1.ea4afap+0f)),
        k19));
    const __m512i bits = _mm512_castps_si512(nm);
    const __m512 s = _mm512_permutexvar_ps(bits, table);
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(s), _mm512_slli_epi32(bits, 19)));
  }
  // log(s) for normal s, as SimdXsimd::log_normal but with a shorter
  // dependency chain (no divide). s = 2^k * m with m in [1 - 1/64, 2 - 1/64)
  // (2^17 added to the bits rounds the mantissa to its nearest 1/32), and j
  // = the 5 mantissa bits that remain (vpermt2ps reads the low 5 bits of each
  // index lane): m is within 1/64 of c_j = 1 + j/32. With inv_j = 1/c_j
  // rounded to float, r = m * inv_j - 1 (one rounding, |r| <= 1/64) and
  // log(s) = k ln2 + log(1/inv_j) + log1p(r); log1p(r) = r - r^2/2 + r^3/3 -
  // r^4/4 (the next term is below 2^-26 of it). log(1/inv_j) is tabled as hi +
  // lo (kernels/log_table.py); k ln2_hi is exact and k ln2_hi + hi is added
  // with its rounding error recovered (Fast2Sum: |k ln2_hi| >= hi unless k =
  // 0, where the sum is exact), so the result rounds about once. Entry 0 is
  // exact (inv 1, log 0): s near 1 keeps its relative accuracy, and log(1) =
  // 0 exactly. NaN gives NaN. Max error 1.22 ulp over [1, 2^31] (0.89 for the
  // divide form; tests/test_log.cpp). Its latency is what counts: a group's
  // log waits on the group's last sum, and the next group's finish waits on
  // the log (a shortened, wrong log measured +14% at 512x32). About 28 cycles
  // deep against about 55 for the divide form. benchmarks/ab.sh -o
  // log_softmax, medians of 15, Zen 5, divide form -> this (Gelem/s): 512x32
  // 4.77 -> 5.15, 1024x16 3.75 -> 4.05, 131072x32 3.83 -> 4.49, 256x64 6.05 ->
  // 6.30, 128x128 7.24 -> 7.47; 16x1000, 4x4096, 32768x128 equal.
  static V log_normal(V s) {
    const __m512 inv0 = _mm512_setr_ps(0x1p+0f, 0x1.f07c2p-1f, 0x1.e1e1e2p-1f, 0x1.d41d42p-1f, 0x1.c71c72p-1f,
                                       0x1.bacf92p-1f, 0x1.af286cp-1f, 0x1.a41a42p-1f, 0x1.99999ap-1f, 0x1.8f9c18p-1f,
                                       0x1.861862p-1f, 0x1.7d05f4p-1f, 0x1.745d18p-1f, 0x1.6c16c2p-1f, 0x1.642c86p-1f,
                                       0x1.5c9882p-1f);
    const __m512 inv1 = _mm512_setr_ps(0x1.555556p-1f, 0x1.4e5e0ap-1f, 0x1.47ae14p-1f, 0x1.414142p-1f, 0x1.3b13b2p-1f,
                                       0x1.3521dp-1f, 0x1.2f684cp-1f, 0x1.29e412p-1f, 0x1.24924ap-1f, 0x1.1f7048p-1f,
                                       0x1.1a7b96p-1f, 0x1.15b1e6p-1f, 0x1.111112p-1f, 0x1.0c9714p-1f, 0x1.08421p-1f,
                                       0x1.041042p-1f);
    const __m512 hi0 = _mm512_setr_ps(0.0f, 0x1.f8299p-6f, 0x1.f0a30ap-5f, 0x1.6f0d28p-4f, 0x1.e27074p-4f, 0x1.29552cp-3f,
                                      0x1.5ff306p-3f, 0x1.9525a8p-3f, 0x1.c8ff7ap-3f, 0x1.fb918cp-3f, 0x1.1675cap-2f,
                                      0x1.2e8e2cp-2f, 0x1.4618bap-2f, 0x1.5d1bdap-2f, 0x1.739d7ep-2f, 0x1.89a33ap-2f);
    const __m512 hi1 = _mm512_setr_ps(0x1.9f323cp-2f, 0x1.b44f7ap-2f, 0x1.c8ff7ep-2f, 0x1.dd469ep-2f, 0x1.f128f4p-2f,
                                      0x1.02552ap-1f, 0x1.0be72ep-1f, 0x1.154c3ep-1f, 0x1.1e85f4p-1f, 0x1.2795ep-1f,
                                      0x1.307d74p-1f, 0x1.393e0ep-1f, 0x1.41d8fcp-1f, 0x1.4a4f88p-1f, 0x1.52a2d4p-1f,
                                      0x1.5ad402p-1f);
    const __m512 lo0 = _mm512_setr_ps(0.0f, 0x1.cf067p-31f, 0x1.162a76p-37f, -0x1.a35296p-29f, 0x1.c55e5cp-29f,
                                      0x1.07fd4cp-29f, 0x1.4f27aap-32f, 0x1.e8ad7p-32f, 0x1.e6a68ap-29f, -0x1.50e0dep-30f,
                                      -0x1.0a8b3ep-27f, -0x1.1ee2dp-30f, 0x1.0e2f66p-29f, 0x1.560274p-28f, 0x1.5de804p-29f,
                                      0x1.18284cp-27f);
    const __m512 lo1 = _mm512_setr_ps(0x1.97f30ap-27f, -0x1.c66e14p-27f, -0x1.959768p-32f, -0x1.3e3b54p-30f,
                                      -0x1.0a1f2p-27f, -0x1.2d178p-28f, 0x1.295418p-32f, 0x1.fa6af8p-28f, 0x1.9c1036p-27f,
                                      0x1.d13624p-26f, -0x1.561de8p-26f, -0x1.b53abcp-26f, 0x1.88ce58p-26f,
                                      -0x1.13f04ep-27f, -0x1.34874ap-26f, 0x1.a6b3e8p-26f);
    const __m512i i = _mm512_castps_si512(s), b = _mm512_add_epi32(i, _mm512_set1_epi32(1 << 17));
    const __m512i k23 = _mm512_sub_epi32(_mm512_and_si512(b, _mm512_set1_epi32(0xff800000)), _mm512_set1_epi32(127 << 23));
    const __m512 m = _mm512_castsi512_ps(_mm512_sub_epi32(i, k23));
    const __m512i j = _mm512_srli_epi32(b, 18);
    const __m512 r = fma(m, _mm512_permutex2var_ps(inv0, j, inv1), _mm512_set1_ps(-1.0f));
    const __m512 r2 = _mm512_mul_ps(r, r), nan = _mm512_sub_ps(s, s);  // s - s: NaN stays NaN
    const __m512 q = fma(r2, _mm512_set1_ps(-0.25f), fma(r, _mm512_set1_ps(1.0f / 3), _mm512_add_ps(_mm512_set1_ps(-0.5f), nan)));
    // k as a float: 2^23 + (k + 127) from the bits, less 2^23 + 127 (exact)
    const __m512 kf = _mm512_sub_ps(_mm512_castsi512_ps(_mm512_or_si512(_mm512_srli_epi32(b, 23), _mm512_set1_epi32(0x4b000000))),
                                    _mm512_set1_ps(0x1p23f + 127));
    const __m512 kl = _mm512_mul_ps(kf, _mm512_set1_ps(0x1.62E400p-1f));  // exact: ln2_hi's 9 low bits are 0
    const __m512 t = _mm512_permutex2var_ps(hi0, j, hi1), h = _mm512_add_ps(kl, t);
    const __m512 e = _mm512_add_ps(_mm512_sub_ps(kl, h), t);  // kl + t - h, exactly
    const __m512 l = _mm512_add_ps(e, fma(kf, _mm512_set1_ps(0x1.7F7D1Cp-20f), _mm512_permutex2var_ps(lo0, j, lo1)));
    return _mm512_add_ps(h, _mm512_add_ps(fma(r2, q, r), l));
  }
  // x*y + z, and 0 where a < threshold: the mask costs nothing on the fma. The
  // compare is "not less than, unordered", so a NaN lane keeps its NaN.
  static V fma_or_zero_if_less(V x, V y, V z, V a, float threshold) {
    return _mm512_maskz_fmadd_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(threshold), _CMP_NLT_UQ), x, y, z);
  }
};
#endif

#if defined(__AVX2__)
template <>
struct Simd<xsimd::fma3<xsimd::avx2>> : SimdXsimd<xsimd::fma3<xsimd::avx2>> {
  // run_mixed lost on avx2 log_softmax (softmax.hpp)
  static constexpr bool mixed_rows(bool log, std::size_t nv, bool) { return !log && nv >= 3; }
  static constexpr bool log_store_early(std::size_t) { return true; }
  // vmaskmovps: masked-off lanes are neither read nor written. The mask for the
  // first r lanes is 8 consecutive ints of {-1 x8, 0 x8} starting at 8 - r.
  static __m256i head(std::size_t r) {
    alignas(64) static constexpr std::int32_t k[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(k + 8 - r));
  }
  static V load_tail(const float* p, std::size_t r, float fill) {
    const __m256i m = head(r);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  }
  static void store_tail(float* p, V v, std::size_t r) { _mm256_maskstore_ps(p, head(r), v); }
  static void stream(float* p, V v) { _mm256_stream_ps(p, v); }
  // As on AVX-512 with 8 entries: k = n mod 8 from vpermps's low 3 index bits,
  // entries 2^(k/8) less k << 20, and nm << 20 adds floor(n/8) to the exponent.
  static constexpr int kExpTableBits = 3;
  static V exp2_table(V nm) {
    const __m256 table = _mm256_castsi256_ps(_mm256_sub_epi32(
        _mm256_castps_si256(_mm256_setr_ps(  // 2^(k/8), k = 0..7, rounded to nearest
            0x1p+0f, 0x1.172b84p+0f, 0x1.306fe0p+0f, 0x1.4bfdaep+0f, 0x1.6a09e6p+0f, 0x1.8ace54p+0f, 0x1.ae89fap+0f,
            0x1.d5818ep+0f)),
        _mm256_setr_epi32(0, 1 << 20, 2 << 20, 3 << 20, 4 << 20, 5 << 20, 6 << 20, 7 << 20)));
    const __m256i bits = _mm256_castps_si256(nm);
    const __m256 s = _mm256_permutevar8x32_ps(table, bits);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(s), _mm256_slli_epi32(bits, 20)));
  }
  static V fma_or_zero_if_less(V x, V y, V z, V a, float threshold) {
    return _mm256_and_ps(_mm256_fmadd_ps(x, y, z), _mm256_cmp_ps(a, _mm256_set1_ps(threshold), _CMP_NLT_UQ));
  }
  static void fence() { _mm_sfence(); }
  static float first(V v) { return _mm256_cvtss_f32(v); }
  template <class Op>
  static V butterfly(__m256 v, Op op) {
    v = op(v, _mm256_permute2f128_ps(v, v, 0x01));
    v = op(v, _mm256_permute_ps(v, 0x4E));
    return op(v, _mm256_permute_ps(v, 0xB1));
  }
  static V allmax(V v) { return butterfly(v, [](__m256 a, __m256 b) { return _mm256_max_ps(a, b); }); }
  static V allsum(V v) { return butterfly(v, [](__m256 a, __m256 b) { return _mm256_add_ps(a, b); }); }
  // Two rows at once: [a.lo | b.lo] op [a.hi | b.hi], the butterfly inside each
  // 128-bit half, then each half broadcast back.
  static constexpr bool kPairReductions = true;
  template <class Op>
  static void butterfly2(V& a, V& b, Op op) {
    __m256 t = op(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
    t = op(t, _mm256_permute_ps(t, 0x4E));
    t = op(t, _mm256_permute_ps(t, 0xB1));
    a = _mm256_permute2f128_ps(t, t, 0x00);
    b = _mm256_permute2f128_ps(t, t, 0x11);
  }
  // As on AVX-512, 8 rows: lane i with i + 4, i + 2, i + 1, as in allsum.
  static constexpr bool kSumRows = true;
  template <class Op>
  static V transposed(const float* p, Op op) {
    __m256 t[4], u[2];
    for (int i = 0; i < 4; ++i) {  // t[i]: rows 2i, 2i + 1 in 128-bit halves
      const __m256 a = _mm256_load_ps(p + 16 * i), b = _mm256_load_ps(p + 16 * i + 8);
      t[i] = op(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
    }
    for (int i = 0; i < 2; ++i)  // u[i]: rows 4i, 4i + 2 in the low half, 4i + 1, 4i + 3 in the high
      u[i] = op(_mm256_shuffle_ps(t[2 * i], t[2 * i + 1], 0x44), _mm256_shuffle_ps(t[2 * i], t[2 * i + 1], 0xEE));
    const __m256 r = op(_mm256_shuffle_ps(u[0], u[1], 0x88), _mm256_shuffle_ps(u[0], u[1], 0xDD));
    return _mm256_permutevar8x32_ps(r, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));  // low: 0 2 4 6, high: 1 3 5 7
  }
  static V sum_rows(const float* p) { return transposed(p, [](__m256 a, __m256 b) { return _mm256_add_ps(a, b); }); }
  static V max_rows(const float* p) { return transposed(p, [](__m256 a, __m256 b) { return _mm256_max_ps(a, b); }); }
  static constexpr std::size_t grouped_cols(bool log) { return log ? 256 : 512; }  // Grouped (softmax.hpp)
  static void allmax2(V& a, V& b) { butterfly2(a, b, [](__m256 p, __m256 q) { return _mm256_max_ps(p, q); }); }
  static void allsum2(V& a, V& b) { butterfly2(a, b, [](__m256 p, __m256 q) { return _mm256_add_ps(p, q); }); }
};
#endif

}  // namespace
}  // namespace simdsoftmax::kernels
