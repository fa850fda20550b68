// Which AVX-512 operations compete with FMAs for execution pipes on this CPU.
// Each case times a loop of 8 independent 512-bit FMA chains, alone and with
// 4 or 8 extra operations of one kind per iteration (independent of the FMA
// chains except for reading their values). Printed: time relative to the FMAs
// alone, median of 9. About 1.0: that operation runs beside the FMAs; about
// 1.5 (+4) and 2.0 (+8): it takes an FMA slot. Used to choose between
// equivalent forms of a kernel step (kernels/softmax.hpp, exp_nonpos_table).
// Not part of the build (it needs an AVX-512 CPU):
//   g++ -O3 -march=native -std=c++17 benchmarks/port_probe.cpp -o /tmp/port_probe && /tmp/port_probe
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace {

enum Kind { kNone, kAdd, kMax, kMul, kCmp, kIntCmp, kPerm, kShift, kIntAdd, kMove };

template <Kind K, int N>
__attribute__((noinline)) double run(long iters) {
  const __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);
  __m512 a[8], x[8];
  __m512i xi[8];
  for (int i = 0; i < 8; ++i)
    a[i] = _mm512_set1_ps(1.0f + i), x[i] = _mm512_set1_ps(-1.0f - i), xi[i] = _mm512_set1_epi32(i);
  __mmask16 mk = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i) a[i] = _mm512_fmadd_ps(a[i], b, c);
#pragma GCC unroll 8
    for (int i = 0; i < N; ++i) {
      const __m512i ai = _mm512_castps_si512(a[i]);
      if constexpr (K == kAdd) x[i] = _mm512_add_ps(x[i], a[i]);
      if constexpr (K == kMax) x[i] = _mm512_max_ps(x[i], a[i]);
      if constexpr (K == kMul) x[i] = _mm512_mul_ps(x[i], a[i]);
      if constexpr (K == kCmp) mk ^= _mm512_cmp_ps_mask(a[i], c, _CMP_NLT_UQ);
      if constexpr (K == kIntCmp) mk ^= _mm512_cmp_epu32_mask(ai, _mm512_castps_si512(c), _MM_CMPINT_LT);
      if constexpr (K == kPerm) xi[i] = _mm512_castps_si512(_mm512_permutexvar_ps(xi[i], a[i]));
      if constexpr (K == kShift) xi[i] = _mm512_slli_epi32(_mm512_add_epi32(xi[i], ai), 1);
      if constexpr (K == kIntAdd) xi[i] = _mm512_add_epi32(xi[i], ai);
      if constexpr (K == kMove) {  // a register copy the compiler cannot remove
        __m512 t;
        __asm__("vmovaps %1, %0" : "=v"(t) : "v"(a[i]));
        x[i] = _mm512_add_ps(x[i], t);
      }
    }
  }
  const auto t1 = std::chrono::steady_clock::now();
  alignas(64) float f[16];
  alignas(64) int n[16];
  float sink = mk;
  for (int i = 0; i < 8; ++i) {
    _mm512_store_ps(f, _mm512_add_ps(a[i], x[i]));
    _mm512_store_si512(n, xi[i]);
    sink += f[0] + static_cast<float>(n[0]);
  }
  volatile float keep = sink;
  (void)keep;
  return std::chrono::duration<double>(t1 - t0).count();
}

template <Kind K, int N>
double median(long iters) {
  double t[9];
  for (double& v : t) v = run<K, N>(iters);
  std::nth_element(t, t + 4, t + 9);
  return t[4];
}

template <Kind K>
void row(const char* name, double base, long iters) {
  std::printf("%-32s %5.2f %5.2f\n", name, median<K, 4>(iters) / base, median<K, 8>(iters) / base);
}

}  // namespace

int main() {
  const long iters = 5000000;
  const double base = median<kNone, 0>(iters);
  std::printf("8 FMAs alone: %.2f ns per iteration\n%-32s %5s %5s\n", base / iters * 1e9, "extra per 8 FMAs", "+4", "+8");
  row<kAdd>("vaddps", base, iters);
  row<kMax>("vmaxps", base, iters);
  row<kMul>("vmulps", base, iters);
  row<kCmp>("vcmpps -> mask", base, iters);
  row<kIntCmp>("vpcmpud -> mask", base, iters);
  row<kPerm>("vpermps", base, iters);
  row<kShift>("vpaddd + vpslld (counted once)", base, iters);
  row<kIntAdd>("vpaddd", base, iters);
  row<kMove>("vmovaps + vaddps (counted once)", base, iters);
}
