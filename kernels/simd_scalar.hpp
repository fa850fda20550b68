// One-lane "vector" traits: the scalar kernel runs the same algorithm template
// (kernels/softmax.hpp) as the SIMD kernels, one float at a time.
#pragma once

#include <cstddef>
#include <cstdint>

namespace simdsoftmax::kernels {
namespace {

struct scalar_arch {};

template <class Arch>
struct Simd;

template <>
struct Simd<scalar_arch> {
  using V = float;
  static constexpr std::size_t W = 1;

  static V load(const float* p) { return *p; }
  static void store(float* p, V v) { *p = v; }
  // W == 1: a tail is never partial, so these are never reached with r > 0.
  static V load_tail(const float*, std::size_t, float fill) { return fill; }
  static void store_tail(float*, V, std::size_t) {}
  static V set(float c) { return c; }
  // Baseline x86-64 has no fma instruction and libm's fmaf is slow; the exp
  // below keeps its accuracy without fusion (ln2_hi has trailing zero bits).
  static V fma(V a, V b, V c) { return a * b + c; }
  static V max(V a, V b) { return a > b ? a : b; }
  static V zero_if_less(V v, V a, float t) { return a < t ? 0.0f : v; }
  static V shl23(V v) {
    std::uint32_t u;
    __builtin_memcpy(&u, &v, sizeof u);
    u <<= 23;
    __builtin_memcpy(&v, &u, sizeof v);
    return v;
  }
  static constexpr bool kScalef = false;
  static constexpr std::size_t kRegVectors = 8;
  static float first(V v) { return v; }
  static V allsum(V v) { return v; }
  static V allmax(V v) { return v; }
};

}  // namespace
}  // namespace simdsoftmax::kernels
