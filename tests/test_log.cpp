// The kernels' log of a row's sum (each ISA's kernels::Table::log; log-softmax
// subtracts it from every a_i) against double std::log: a sweep of the floats
// in [1, 2^31] (a finite row's sum: its max term is exp(0) = 1, the others
// < 1 each), and a coarser one down to the smallest normal; the maximum error
// in ulp of the correctly rounded result is asserted <= 2 and printed per ISA.
// log(1) must be exactly 0: the kernels skip the finish of rows whose log is 0.
//
// SIMDSOFTMAX_LOG_SWEEP_STEP=k tests every k-th float of [1, 2^31]; default 1
// natively (~0.26e9 floats), 61 under emulation.
#include <iostream>
#include <thread>

#include "support/test_support.hpp"

namespace sst {
namespace {

class Log : public IsaTest {
 protected:
  const simdsoftmax::kernels::Table& table() const { return *simdsoftmax::detail::table_for(GetParam()); }
};
SST_INSTANTIATE_ALL_ISAS(Log);

struct Worst {
  double ulp = 0;
  float x = 0;
  std::uint64_t count = 0;
};

// Every step-th float from bits first to bits last through the kernel's log.
Worst sweep(void (*log_fn)(const float*, float*, std::size_t), std::uint32_t first, std::uint32_t last,
            std::uint32_t step) {
  constexpr std::size_t kChunk = 1 << 16;
  std::vector<float> x(kChunk), y(kChunk);
  Worst w;
  for (std::uint64_t k = first; k <= last;) {
    std::size_t n = 0;
    for (; n < kChunk && k <= last; ++n, k += step) x[n] = from_bits(static_cast<std::uint32_t>(k));
    log_fn(x.data(), y.data(), n);
    for (std::size_t i = 0; i < n; ++i) {
      const long double ref = std::log(static_cast<long double>(x[i]));
      const float rf = static_cast<float>(ref);
      // ulp of the correctly rounded result; log(1) = 0 is checked exactly below
      const double u = rf == 0.0f ? 0x1p-149 : std::fabs(static_cast<double>(std::nextafter(rf, INFINITY) - rf));
      const double err = static_cast<double>(std::fabs(static_cast<long double>(y[i]) - ref)) / u;
      if (!(err <= w.ulp)) w.ulp = std::isnan(err) ? INFINITY : err, w.x = x[i];
    }
    w.count += n;
  }
  return w;
}

TEST_P(Log, UlpSweepOneTo2e31) {
  const auto step = static_cast<std::uint32_t>(env_long("SIMDSOFTMAX_LOG_SWEEP_STEP", emulated() ? 61 : 1));
  const std::uint32_t lo = bits(1.0f), hi = bits(0x1p31f), mid = lo + (hi - lo) / 2;
  Worst parts[2];
  std::thread t([&] { parts[0] = sweep(table().log, lo, mid, step); });
  parts[1] = sweep(table().log, mid + 1, hi, step);
  t.join();
  const Worst w = parts[0].ulp >= parts[1].ulp ? parts[0] : parts[1];
  const Worst low = sweep(table().log, bits(FLT_MIN), lo, 4099);  // below 1: not a row's sum, but in the domain
  std::cout << "[log] isa=" << simdsoftmax::to_string(GetParam()) << " max error " << fmt(w.ulp) << " ulp at x=" << fmt(w.x)
            << " over " << parts[0].count + parts[1].count << " floats in [1, 2^31], step " << step << "; "
            << fmt(low.ulp) << " ulp at x=" << fmt(low.x) << " over " << low.count << " floats in [FLT_MIN, 1)\n";
  EXPECT_GE(parts[0].count + parts[1].count, (hi - lo) / step);
  EXPECT_LE(w.ulp, 2.0) << "worst at x=" << fmt(w.x);
  EXPECT_LE(low.ulp, 2.0) << "worst at x=" << fmt(low.x);
}

// log(1) = 0 exactly and NaN -> NaN at every lane and tail position of arrays
// of length 1..37; neighbours unaffected, nothing written past the end.
TEST_P(Log, OneIsExactlyZeroAndNanStaysNan) {
  for (std::size_t n = 1; n <= 37; ++n) {
    for (std::size_t p = 0; p < n; ++p) {
      for (float v : {1.0f, std::numeric_limits<float>::quiet_NaN()}) {
        std::vector<float> x(n, 1000.0f), y = sentinel_buffer(n + 8);
        x[p] = v;
        table().log(x.data(), y.data(), n);
        SCOPED_TRACE(::testing::Message() << "n=" << n << " position " << p << " x=" << v);
        if (v == 1.0f) {
          ASSERT_EQ(bits(y[p]), bits(0.0f));
        } else {
          ASSERT_TRUE(std::isnan(y[p]) && !is_sentinel(y[p]));
        }
        for (std::size_t i = 0; i < n; ++i)
          if (i != p) {
            ASSERT_NEAR(y[i], 6.9077554f, 1e-6f) << "i=" << i;
          }
        ASSERT_EQ(first_touched(y.data(), n, n + 8), n + 8) << "wrote past the end";
      }
    }
  }
}

}  // namespace
}  // namespace sst
