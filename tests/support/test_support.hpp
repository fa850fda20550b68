// Shared test helpers: the ISA parameter (names, skip reasons), the long-double
// reference and the accuracy-bound checkers of design.md, input generators,
// sentinel-filled buffers, and the environment knobs for emulated runs.
#pragma once

#include <gtest/gtest.h>

#include <simdsoftmax/simdsoftmax.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <ostream>
#include <new>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "src/dispatch.hpp"

// Space- or semicolon-separated ISA names compiled into this build (from CMake).
#ifndef SIMDSOFTMAX_TEST_COMPILED_ISAS
#define SIMDSOFTMAX_TEST_COMPILED_ISAS ""
#endif

// gtest prints parameters with this: "GetParam() = avx2".
namespace simdsoftmax {
inline void PrintTo(Isa isa, std::ostream* os) { *os << to_string(isa); }
}  // namespace simdsoftmax

namespace sst {  // simdsoftmax tests

using simdsoftmax::Isa;
using simdsoftmax::Options;

inline const std::vector<Isa>& all_isas() {
  static const std::vector<Isa> v = {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon};
  return v;
}

// Test-name suffix: "scalar", "avx2", "avx512", "neon".
struct IsaName {
  std::string operator()(const ::testing::TestParamInfo<Isa>& info) const {
    return std::string(simdsoftmax::to_string(info.param));
  }
};

inline bool compiled_in(Isa isa) {
  std::string list = SIMDSOFTMAX_TEST_COMPILED_ISAS;
  std::replace(list.begin(), list.end(), ';', ' ');
  std::istringstream in(list);
  for (std::string w; in >> w;)
    if (w == simdsoftmax::to_string(isa)) return true;
  return false;
}

inline bool is_available(Isa isa) {
  const auto v = simdsoftmax::available_isas();
  return std::find(v.begin(), v.end(), isa) != v.end();
}

// Why an ISA is not in available_isas(), for GTEST_SKIP.
inline std::string unavailable_reason(Isa isa) {
  std::string why = std::string(simdsoftmax::to_string(isa)) + " not available: ";
  if (!compiled_in(isa))
    return why + "not compiled for this processor (this build has: " SIMDSOFTMAX_TEST_COMPILED_ISAS ")";
  if (!simdsoftmax::detail::cpu_can_run(isa)) return why + "this CPU/OS lacks it (cpuid/XCR0)";
  return why + "compiled in and runnable, yet missing from available_isas()";
}

#define SST_SKIP_IF_UNAVAILABLE(isa)                                \
  do {                                                              \
    if (!::sst::is_available(isa)) {                                \
      GTEST_SKIP() << ::sst::unavailable_reason(isa);               \
    }                                                               \
  } while (0)

// Fixture base for every per-ISA test: skips unavailable ISAs, gives Options.
class IsaTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override { SST_SKIP_IF_UNAVAILABLE(GetParam()); }
  Options opts(float temperature = 1.0f) const {
    Options o;
    o.temperature = temperature;
    o.isa = GetParam();
    return o;
  }
};

#define SST_INSTANTIATE_ALL_ISAS(Fixture) \
  INSTANTIATE_TEST_SUITE_P(Isa, Fixture, ::testing::ValuesIn(::sst::all_isas()), ::sst::IsaName())

// ---------------------------------------------------------------------------
// Environment knobs.
// SIMDSOFTMAX_TEST_EMULATED=1 (set by CI under qemu) shrinks heavy loops (sweep
// step, repetitions, number of big rows); it never removes a path or a check.
inline bool emulated() {
  const char* e = std::getenv("SIMDSOFTMAX_TEST_EMULATED");
  return e && *e && std::string(e) != "0";
}
inline long env_long(const char* name, long fallback) {
  const char* e = std::getenv(name);
  if (!e || !*e) return fallback;
  char* end = nullptr;
  const long v = std::strtol(e, &end, 10);
  return (end && *end == '\0' && v > 0) ? v : fallback;
}
// Emulated runs do `native / divisor` repetitions (at least 1).
inline std::size_t reps(std::size_t native, std::size_t divisor = 10) {
  return emulated() ? std::max<std::size_t>(1, native / divisor) : native;
}

// ---------------------------------------------------------------------------
// Which operation.
enum class Op { softmax, log_softmax };
inline const char* op_name(Op op) { return op == Op::softmax ? "softmax" : "log_softmax"; }

inline void call_row(Op op, const float* x, float* y, std::size_t n, const Options& o) {
  if (op == Op::softmax)
    simdsoftmax::softmax(x, y, n, o);
  else
    simdsoftmax::log_softmax(x, y, n, o);
}
inline void call_rows(Op op, const float* x, float* y, std::size_t rows, std::size_t cols,
                      const Options& o) {
  if (op == Op::softmax)
    simdsoftmax::softmax_rows(x, y, rows, cols, o);
  else
    simdsoftmax::log_softmax_rows(x, y, rows, cols, o);
}
inline void call_strided(Op op, const float* x, std::size_t xs, float* y, std::size_t ys,
                         std::size_t rows, std::size_t cols, const Options& o) {
  if (op == Op::softmax)
    simdsoftmax::softmax_rows(x, xs, y, ys, rows, cols, o);
  else
    simdsoftmax::log_softmax_rows(x, xs, y, ys, rows, cols, o);
}

// ---------------------------------------------------------------------------
// Reference (design.md): the float inputs are exact; a_i = (x_i - m)/T, the
// exponentials and the sum are computed in long double. Valid for rows with a
// finite max and no NaN. The results are kept as double (relative 1e-16, far
// below every bound) so that the checks stay cheap where long double is
// software floating point (aarch64: binary128, and all of it under qemu).
struct Reference {
  std::vector<double> a;     // (x_i - m) / T
  std::vector<double> soft;  // softmax
  std::vector<double> log;   // log-softmax
};

inline Reference reference(const float* x, std::size_t n, float temperature) {
  Reference r;
  r.a.resize(n);
  r.soft.resize(n);
  r.log.resize(n);
  if (n == 0) return r;
  long double m = x[0];
  for (std::size_t i = 1; i < n; ++i)
    if (x[i] > m) m = x[i];
  const long double t = temperature;
  std::vector<long double> a(n), e(n);
  long double sum = 0.0L;
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = (static_cast<long double>(x[i]) - m) / t;
    e[i] = std::exp(a[i]);
    sum += e[i];
  }
  const long double lsum = std::log(sum);
  for (std::size_t i = 0; i < n; ++i) {
    r.a[i] = static_cast<double>(a[i]);
    r.soft[i] = static_cast<double>(e[i] / sum);
    r.log[i] = static_cast<double>(a[i] - lsum);
  }
  return r;
}

constexpr double kE = 0x1p-24;  // float unit roundoff
// R of the softmax bound: 2e-6 up to 4096 elements, 4e-6 up to 2^20.
inline double softmax_R(std::size_t n) { return n <= 4096 ? 2e-6 : 4e-6; }

inline std::string fmt(double v) {
  std::ostringstream s;
  s.precision(9);
  s << v;
  return s.str();
}

// Collects failures and prints the first few (index, x, y, ref, bound).
class Report {
 public:
  void add(std::size_t i, float x, float y, double ref, double bound) {
    if (++count_ <= 8)
      msg_ << "\n  i=" << i << " x=" << fmt(x) << " y=" << fmt(y) << " ref=" << fmt(ref)
           << " |y-ref|=" << fmt(std::fabs(y - ref)) << " bound=" << fmt(bound);
  }
  ::testing::AssertionResult result(const char* what, std::size_t n) const {
    if (count_ == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ": " << count_ << " of " << n
                                         << " entries out of bounds" << msg_.str()
                                         << (count_ > 8 ? "\n  ..." : "");
  }

 private:
  std::size_t count_ = 0;
  std::ostringstream msg_;
};

inline double softmax_bound(double ref, double a, std::size_t n) {
  if (std::isinf(a)) return 1e-37;  // a -inf logit (masked entry): ref is 0
  return (softmax_R(n) + 3 * kE * std::fabs(a)) * ref + 1e-37;
}
inline double log_softmax_bound(double ref) { return 2e-6 * (1 + std::fabs(ref)); }

// softmax: |y - ref| <= (R + 3e|a_i|) ref + 1e-37, and |sum(y) - 1| <= 1e-5.
inline ::testing::AssertionResult check_softmax(const float* x, const float* y, std::size_t n,
                                                float temperature, const Reference* pre = nullptr) {
  Reference local;
  if (!pre) local = reference(x, n, temperature);
  const Reference& r = pre ? *pre : local;
  Report rep;
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double bound = softmax_bound(r.soft[i], r.a[i], n);
    const double err = std::fabs(y[i] - r.soft[i]);
    if (!(err <= bound)) rep.add(i, x[i], y[i], r.soft[i], bound);
    sum += y[i];
  }
  auto res = rep.result("softmax", n);
  if (!res) return res;
  if (n > 0 && !(std::fabs(sum - 1.0) <= 1e-5))
    return ::testing::AssertionFailure() << "softmax: sum(y) = " << fmt(sum) << ", |sum - 1| > 1e-5";
  return ::testing::AssertionSuccess();
}

// log-softmax: |y - ref| <= 2e-6 (1 + |ref|). A ref beyond float range may come
// out as -inf (it is not representable), and so must then y (or be within bound).
inline ::testing::AssertionResult check_log_softmax(const float* x, const float* y, std::size_t n,
                                                    float temperature, const Reference* pre = nullptr) {
  Reference local;
  if (!pre) local = reference(x, n, temperature);
  const Reference& r = pre ? *pre : local;
  Report rep;
  for (std::size_t i = 0; i < n; ++i) {
    const double bound = log_softmax_bound(r.log[i]);
    const double err = std::fabs(y[i] - r.log[i]);
    const bool beyond_float = r.log[i] < -static_cast<double>(FLT_MAX);
    const bool ok = std::isinf(r.log[i]) ? y[i] == r.log[i]  // masked entry: exactly -inf
                                         : err <= bound || (beyond_float && y[i] == -INFINITY);
    if (!ok) rep.add(i, x[i], y[i], r.log[i], bound);
  }
  return rep.result("log_softmax", n);
}

inline ::testing::AssertionResult check_op(Op op, const float* x, const float* y, std::size_t n,
                                           float temperature, const Reference* pre = nullptr) {
  return op == Op::softmax ? check_softmax(x, y, n, temperature, pre)
                           : check_log_softmax(x, y, n, temperature, pre);
}

// ---------------------------------------------------------------------------
// Inputs.
inline std::vector<float> normal(std::size_t n, double mean, double sd, std::uint32_t seed) {
  std::mt19937 g(seed);
  std::normal_distribution<double> d(mean, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(d(g));
  return v;
}
inline std::vector<float> uniform(std::size_t n, float lo, float hi, std::uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

// ---------------------------------------------------------------------------
// Sentinel-filled buffers: anything not written by the call keeps these bits.
constexpr std::uint32_t kSentinelBits = 0x7FC5A5A5u;  // a NaN payload no kernel produces

inline float sentinel() {
  float f;
  std::memcpy(&f, &kSentinelBits, sizeof f);
  return f;
}
inline bool is_sentinel(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u == kSentinelBits;
}
inline std::vector<float> sentinel_buffer(std::size_t n) { return std::vector<float>(n, sentinel()); }

// Index of the first element in [begin, end) that is not the sentinel, or end.
inline std::size_t first_touched(const float* p, std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i)
    if (!is_sentinel(p[i])) return i;
  return end;
}

// A 64-byte aligned float buffer filled with the sentinel, so that offsets
// 0..15 cover every alignment relative to the widest vector.
class AlignedBuf {
 public:
  explicit AlignedBuf(std::size_t n) : n_(n) {
    const std::size_t bytes = ((n * sizeof(float) + 63) / 64 + 1) * 64;
    p_ = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!p_) throw std::bad_alloc();
    std::fill(p_, p_ + n, sentinel());
  }
  ~AlignedBuf() { std::free(p_); }
  AlignedBuf(const AlignedBuf&) = delete;
  AlignedBuf& operator=(const AlignedBuf&) = delete;
  float* data() { return p_; }
  const float* data() const { return p_; }
  std::size_t size() const { return n_; }
  float& operator[](std::size_t i) { return p_[i]; }

 private:
  float* p_;
  std::size_t n_;
};

inline std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
inline float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace sst
