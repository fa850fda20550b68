// Vector traits over an xsimd arch tag. Everything here is a template on Arch
// inside an anonymous namespace: nothing compiled with ISA flags gets a symbol
// that baseline code could bind to (design.md, ODR hazard).
#pragma once

#include <cassert>  // xsimd 8.1.0's xsimd_arch.hpp uses assert without it
#include <cstddef>
#include <cstdint>
#include <xsimd/xsimd.hpp>

namespace simdsoftmax::kernels {
namespace {

template <class Arch>
struct Simd {
  using V = xsimd::batch<float, Arch>;
  using I = xsimd::batch<std::int32_t, Arch>;
  static constexpr std::size_t W = V::size;
  static constexpr std::size_t kUnroll = 4;

  static V load(const float* p) { return V::load_unaligned(p); }
  static void store(float* p, V v) { v.store_unaligned(p); }
  // r < W trailing elements, the rest of the vector = fill; never touches p[r...].
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
  static float hsum(V v) { return xsimd::hadd(v); }
  static float hmax(V v) {  // xsimd 8.1.0 has no reduce_max
    alignas(64) float b[W];
    v.store_aligned(b);
    float m = b[0];
    for (std::size_t i = 1; i < W; ++i)
      if (b[i] > m) m = b[i];
    return m;
  }
};

}  // namespace
}  // namespace simdsoftmax::kernels
