// What an operation of the exp pass costs, at 256 and at 512 bits. Times the
// exp-and-sum loop of kernels/softmax.hpp (exp_sum: a = x - m, the table exp of
// exp_nonpos_table, store, sum) written out with intrinsics for AVX2 (8-entry
// table, vcmpps + vandps zeroing) and AVX-512 (16-entry table, compare into the
// fma's mask), over 4096 floats in L1, and the same loop with operations left
// out (wrong results: timing only). Printed: ns per vector and the avx2 ÷
// avx512 ratio in elements per second, median of 21 runs of 3000 calls. If a
// vector costs the same time at either width for the same operations, avx2 runs
// at half avx512's speed unless it needs fewer operations, and it needs one
// more (the and; AVX-512 zeroes in the fma's mask). Zen 5 (family 26), four
// runs: the kernel's loop 0.45-0.46 (once 0.54); with only its 7 fmas and muls
// left, 1.01-1.08 ns per vector at 256 bits and 1.03-1.09 at 512, so 0.51; each
// operation left out saves about the same at either width (the rows in between:
// 0.46-0.54). So in cache avx2 stays near half of avx512 on a CPU whose 512-bit
// units are full width (issue 5 asked for 0.6, a figure from Sapphire Rapids).
// One row is slower at 256 bits than the full loop, 0.39-0.41: without the
// zeroing GCC 12 keeps a sum accumulator on the stack (a dependency through
// memory), which says more about its register allocation with 16 registers than
// about the zeroing (the exp-pass loops of kernels/avx2.cpp, exp_sum and
// rows_three_pass, keep theirs in registers). Not part of the build (needs
// AVX-512). The 256-bit loops are compiled for AVX2 + FMA only (16 registers,
// as kernels/avx2.cpp), the 512-bit ones under a target pragma; the loop is
// written once and included twice (this file includes itself):
//   g++ -O2 -mavx2 -mfma -std=c++17 benchmarks/exp_op_costs.cpp -o /tmp/exp_op_costs && /tmp/exp_op_costs
#ifndef EXP_OP_COSTS_LOOP
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>

namespace {

enum Drop : unsigned {
  kNone = 0, kSub = 1, kSum = 2, kPerm = 4, kExpBits = 8, kZero = 16, kReduce2 = 32, kMagic = 64, kMul = 128,
};

struct Y {  // AVX2 + FMA
  using V = __m256;
  static constexpr int W = 8, L = 8, kShift = 20;
  static V set(float f) { return _mm256_set1_ps(f); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V table() {  // 2^(k/8) with k << 20 subtracted (simd_xsimd.hpp)
    return _mm256_castsi256_ps(_mm256_sub_epi32(
        _mm256_castps_si256(_mm256_setr_ps(0x1p+0f, 0x1.172b84p+0f, 0x1.306fe0p+0f, 0x1.4bfdaep+0f, 0x1.6a09e6p+0f,
                                           0x1.8ace54p+0f, 0x1.ae89fap+0f, 0x1.d5818ep+0f)),
        _mm256_setr_epi32(0, 1 << 20, 2 << 20, 3 << 20, 4 << 20, 5 << 20, 6 << 20, 7 << 20)));
  }
  static V perm(V t, V idx) { return _mm256_permutevar8x32_ps(t, _mm256_castps_si256(idx)); }
  static V exp_bits(V s, V nm) {
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(s), _mm256_slli_epi32(_mm256_castps_si256(nm), kShift)));
  }
  static V fma_zero(V x, V y, V z, V a, bool zero) {
    const V r = fma(x, y, z);
    return zero ? _mm256_and_ps(r, _mm256_cmp_ps(a, set(-0x1.5D589Ep+6f), _CMP_NLT_UQ)) : r;
  }
  static float first(V v) { return _mm256_cvtss_f32(v); }
};

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl")
struct Z {  // AVX-512
  using V = __m512;
  static constexpr int W = 16, L = 16, kShift = 19;
  static V set(float f) { return _mm512_set1_ps(f); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V table() {
    const __m512i k19 = _mm512_setr_epi32(0, 1 << 19, 2 << 19, 3 << 19, 4 << 19, 5 << 19, 6 << 19, 7 << 19, 8 << 19,
                                          9 << 19, 10 << 19, 11 << 19, 12 << 19, 13 << 19, 14 << 19, 15 << 19);
    return _mm512_castsi512_ps(_mm512_sub_epi32(
        _mm512_castps_si512(_mm512_setr_ps(0x1p+0f, 0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f, 0x1.306fe0p+0f,
                                           0x1.3dea64p+0f, 0x1.4bfdaep+0f, 0x1.5ab07ep+0f, 0x1.6a09e6p+0f, 0x1.7a1148p+0f,
                                           0x1.8ace54p+0f, 0x1.9c4918p+0f, 0x1.ae89fap+0f, 0x1.c199bep+0f, 0x1.d5818ep+0f,
                                           0x1.ea4afap+0f)),
        k19));
  }
  static V perm(V t, V idx) { return _mm512_permutexvar_ps(_mm512_castps_si512(idx), t); }
  static V exp_bits(V s, V nm) {
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(s), _mm512_slli_epi32(_mm512_castps_si512(nm), kShift)));
  }
  static V fma_zero(V x, V y, V z, V a, bool zero) {
    if (!zero) return fma(x, y, z);
    return _mm512_maskz_fmadd_ps(_mm512_cmp_ps_mask(a, set(-0x1.5D589Ep+6f), _CMP_NLT_UQ), x, y, z);
  }
  static float first(V v) { return _mm512_cvtss_f32(v); }
};

#pragma GCC pop_options

constexpr std::size_t kN = 4096;
float* gx;
float* gy;
volatile float sink;

#define EXP_OP_COSTS_LOOP
namespace at256 {
using S = Y;
#include "exp_op_costs.cpp"  // this file: the loop below, for Y
}  // namespace at256
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512bw,avx512vl")
namespace at512 {
using S = Z;
#include "exp_op_costs.cpp"  // this file: the loop below, for Z
}  // namespace at512
#pragma GCC pop_options

template <unsigned D>
void row(const char* name, int ops_y, int ops_z) {
  const double y = at256::ns_per_vector<D>(), z = at512::ns_per_vector<D>();
  std::printf("%-34s %5d %8.3f %7d %8.3f %8.2f\n", name, ops_y, y, ops_z, z, z / (2 * y));
}

}  // namespace

int main() {
  gx = static_cast<float*>(std::aligned_alloc(4096, 1 << 20));
  gy = gx + 65536 + 128;  // y 512 bytes past x modulo 4 KiB
  std::mt19937 g(1);
  std::normal_distribution<float> d(0.0f, 4.0f);
  for (std::size_t i = 0; i < kN; ++i) gx[i] = d(g);
  std::printf("%-34s %5s %8s %7s %8s %8s\n", "exp_sum loop, left out", "ops", "avx2 ns", "ops", "avx512", "2 ÷ 512");
  // ops: vector operations per vector besides the load and the store
  row<kNone>("nothing (the kernel's loop)", 15, 14);
  row<kSub>("x - m", 14, 13);
  row<kSum>("the sum's add", 14, 13);
  row<kPerm>("the table's vpermps", 14, 13);
  row<kExpBits>("exponent bits (vpslld, vpaddd)", 13, 12);
  row<kZero>("zeroing (avx2 cmp+and, avx512 cmp)", 13, 13);
  row<kReduce2>("second reduction fma", 14, 13);
  row<kMagic>("n - magic", 14, 13);
  row<kMul>("s * t", 14, 13);
  row<kSub | kSum | kZero>("x - m, sum, zeroing", 11, 11);
  row<kSub | kSum | kPerm | kExpBits | kZero | kMagic>("all but the 7 fmas/muls", 7, 7);
}

#else  // EXP_OP_COSTS_LOOP: the loop, for the S of the including namespace

// One vector of exp_sum's loop body, as kernels/softmax.hpp (exp_nonpos_table).
template <unsigned D>
inline S::V exp_one(S::V x, S::V m) {
  using V = S::V;
  constexpr float L = S::L;
  const V a = (D & kSub) ? x : S::sub(x, m);
  const V magic = S::set(0x1.8p23f);
  V nm = S::fma(a, S::set(L * 0x1.715476p+0f), magic);
  V s = (D & kPerm) ? S::table() : S::perm(S::table(), nm);
  if (!(D & kExpBits)) s = S::exp_bits(s, nm);
  const V n = (D & kMagic) ? nm : S::sub(nm, magic);
  V t = S::fma(n, S::set(-0x1.62E400p-1f / L), a);
  if (!(D & kReduce2)) t = S::fma(n, S::set(-0x1.7F7D1Cp-20f / L), t);
  const float c2 = L == 16 ? 0x1.00021Ep-1f : 0x1.000874p-1f, c3 = L == 16 ? 0x1.55559Cp-3f : 0x1.555658p-3f;
  V q = S::fma(t, S::set(c3), S::set(c2));
  q = S::fma(q, t, S::set(1.0f));
  const V st = (D & kMul) ? t : S::mul(s, t);
  return S::fma_zero(st, q, s, a, !(D & kZero));
}

template <unsigned D>
__attribute__((noinline)) float loop(const float* x, float* y, std::size_t n, float mf) {
  using V = S::V;
  const V m = S::set(mf);
  V s0 = S::set(0.0f), s1 = s0;
  for (std::size_t i = 0; i < n; i += 2 * S::W) {
    const V e0 = exp_one<D>(S::load(x + i), m), e1 = exp_one<D>(S::load(x + i + S::W), m);
    S::store(y + i, e0);
    S::store(y + i + S::W, e1);
    if (!(D & kSum)) s0 = S::add(s0, e0), s1 = S::add(s1, e1);
  }
  return S::first(S::add(s0, s1));
}

template <unsigned D>
double ns_per_vector() {
  double t[21];
  for (double& v : t) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < 3000; ++r) sink = loop<D>(gx, gy, kN, 12.0f);
    v = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 3000;
  }
  std::nth_element(t, t + 10, t + 21);
  return t[10] * 1e9 / (kN / S::W);
}

#endif  // EXP_OP_COSTS_LOOP
