// Every numeric-semantics line of design.md, on every ISA: NaN rows, +inf
// entries, fully masked (-inf) rows, finite extremes (+-3e38), tiny
// temperatures, and n == 0 / rows == 0.
#include "support/test_support.hpp"

namespace sst {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

class Semantics : public IsaTest {};
SST_INSTANTIATE_ALL_ISAS(Semantics);

std::vector<std::size_t> lengths_1_to_49() {
  std::vector<std::size_t> v;
  for (std::size_t n = 1; n <= 49; ++n) v.push_back(n);
  return v;
}

// NaN anywhere in a row -> that row is all NaN; every position of every length
// up to 3W+1 (each lane, each tail), with the rest of the row ordinary or extreme.
TEST_P(Semantics, NanAnywhereGivesAllNan) {
  std::vector<std::size_t> ns = lengths_1_to_49();
  ns.push_back(1000);
  for (std::size_t n : ns) {
    const std::vector<float> base = normal(n, 0.0f, 3.0f, 2000 + static_cast<std::uint32_t>(n));
    const std::size_t step = n > 49 ? 97 : 1;
    for (std::size_t p = 0; p < n; p += step) {
      for (int variant = 0; variant < 3; ++variant) {
        std::vector<float> x = base;
        x[p] = kNaN;
        if (variant == 1) x[(p + 1) % n] = kInf;  // NaN wins over +inf
        if (variant == 2) x[(p + 1) % n] = -kInf;
        if (n == 1 && variant > 0) continue;
        for (Op op : {Op::softmax, Op::log_softmax}) {
          std::vector<float> y = sentinel_buffer(n + 8);
          call_row(op, x.data(), y.data(), n, opts(variant == 0 ? 1.0f : 3.7f));
          for (std::size_t i = 0; i < n; ++i)
            ASSERT_TRUE(std::isnan(y[i]) && !is_sentinel(y[i]))
                << op_name(op) << " n=" << n << " NaN at " << p << " variant " << variant << ": y[" << i
                << "]=" << y[i];
          ASSERT_EQ(first_touched(y.data(), n, n + 8), n + 8);
        }
      }
    }
  }
}

TEST_P(Semantics, NanRowLeavesOtherRowsOfBatchUnaffected) {
  for (std::size_t cols : {1u, 5u, 16u, 17u, 49u, 1000u}) {
    const std::size_t rows = 5, nan_row = 2;
    for (std::size_t p : {std::size_t{0}, cols / 2, cols - 1}) {
      std::vector<float> x = normal(rows * cols, 1.0f, 2.0f, 2100 + static_cast<std::uint32_t>(cols));
      x[nan_row * cols + p] = kNaN;
      for (Op op : {Op::softmax, Op::log_softmax}) {
        std::vector<float> y = sentinel_buffer(rows * cols);
        call_rows(op, x.data(), y.data(), rows, cols, opts());
        for (std::size_t r = 0; r < rows; ++r) {
          const float* yr = y.data() + r * cols;
          if (r == nan_row) {
            for (std::size_t i = 0; i < cols; ++i)
              ASSERT_TRUE(std::isnan(yr[i]) && !is_sentinel(yr[i])) << op_name(op) << " cols=" << cols << " i=" << i;
          } else {
            EXPECT_TRUE(check_op(op, x.data() + r * cols, yr, cols, 1.0f))
                << op_name(op) << " cols=" << cols << " row " << r << " next to a NaN row";
          }
        }
      }
    }
  }
}

// +inf entries share the mass equally (1/k each), the rest get 0;
// log-softmax: -log(k) and -inf.
TEST_P(Semantics, PositiveInfinitySharesMass) {
  std::vector<std::size_t> ns = lengths_1_to_49();
  for (std::size_t n : {1000u, 4097u}) ns.push_back(n);
  std::mt19937 g(2200);
  for (std::size_t n : ns) {
    for (std::size_t k = 1; k <= std::min<std::size_t>(n, 3); ++k) {
      for (int placement = 0; placement < 3; ++placement) {
        std::vector<float> x = normal(n, 0.0f, 10.0f, static_cast<std::uint32_t>(g()));
        std::vector<std::size_t> idx(n);
        for (std::size_t i = 0; i < n; ++i) idx[i] = i;
        if (placement == 0) std::reverse(idx.begin(), idx.end());  // the last k (tail lanes)
        if (placement == 2) std::shuffle(idx.begin(), idx.end(), g);  // anywhere
        std::vector<bool> is_inf(n, false);
        for (std::size_t j = 0; j < k; ++j) x[idx[j]] = kInf, is_inf[idx[j]] = true;
        if (n > k) x[idx[k]] = -kInf;  // a masked entry next to them
        for (float t : {1.0f, 0.5f, 3.7f}) {
          for (Op op : {Op::softmax, Op::log_softmax}) {
            std::vector<float> y = sentinel_buffer(n);
            call_row(op, x.data(), y.data(), n, opts(t));
            const double share = 1.0 / static_cast<double>(k), lshare = -std::log(static_cast<double>(k));
            SCOPED_TRACE(::testing::Message() << op_name(op) << " n=" << n << " k=" << k << " placement="
                                              << placement << " T=" << t);
            for (std::size_t i = 0; i < n; ++i) {
              if (op == Op::softmax) {
                if (is_inf[i])
                  ASSERT_LE(std::fabs(y[i] - share), 2e-6 * share) << "i=" << i << " y=" << y[i];
                else
                  ASSERT_EQ(y[i], 0.0f) << "i=" << i << " x=" << x[i];
              } else {
                if (is_inf[i])
                  ASSERT_LE(std::fabs(y[i] - lshare), 2e-6 * (1 - lshare)) << "i=" << i << " y=" << y[i];
                else
                  ASSERT_EQ(y[i], -kInf) << "i=" << i << " x=" << x[i];
              }
            }
          }
        }
      }
    }
  }
}

// Every entry -inf (a fully masked row): softmax all 0, log-softmax all -inf, no NaN.
TEST_P(Semantics, FullyMaskedRow) {
  std::vector<std::size_t> ns = lengths_1_to_49();
  ns.push_back(1000);
  for (std::size_t n : ns) {
    const std::vector<float> x(n, -kInf);
    for (float t : {1.0f, 3.7f, 1e-30f}) {
      std::vector<float> y = sentinel_buffer(n), ly = sentinel_buffer(n);
      simdsoftmax::softmax(x.data(), y.data(), n, opts(t));
      simdsoftmax::log_softmax(x.data(), ly.data(), n, opts(t));
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(y[i], 0.0f) << "softmax n=" << n << " T=" << t << " i=" << i;
        ASSERT_EQ(ly[i], -kInf) << "log_softmax n=" << n << " T=" << t << " i=" << i;
      }
    }
  }
  // A fully masked row inside a batch leaves its neighbours alone.
  const std::size_t rows = 3, cols = 21;
  std::vector<float> x = normal(rows * cols, 0.0f, 1.0f, 2300);
  std::fill(x.begin() + cols, x.begin() + 2 * cols, -kInf);
  std::vector<float> y = sentinel_buffer(rows * cols);
  simdsoftmax::softmax_rows(x.data(), y.data(), rows, cols, opts());
  for (std::size_t i = 0; i < cols; ++i) ASSERT_EQ(y[cols + i], 0.0f);
  EXPECT_TRUE(check_softmax(x.data(), y.data(), cols, 1.0f));
  EXPECT_TRUE(check_softmax(x.data() + 2 * cols, y.data() + 2 * cols, cols, 1.0f));
}

// -inf entries in an ordinary row are masked: 0 / -inf, the rest within bounds.
TEST_P(Semantics, PartiallyMaskedRow) {
  for (std::size_t n : {2u, 17u, 49u, 1000u}) {
    std::vector<float> x = normal(n, 0.0f, 2.0f, 2400 + static_cast<std::uint32_t>(n));
    for (std::size_t i = 0; i < n; i += 3) x[i] = -kInf;
    for (Op op : {Op::softmax, Op::log_softmax}) {
      std::vector<float> y = sentinel_buffer(n);
      call_row(op, x.data(), y.data(), n, opts(0.5f));
      EXPECT_TRUE(check_op(op, x.data(), y.data(), n, 0.5f)) << op_name(op) << " n=" << n;
      for (std::size_t i = 0; i < n; i += 3) ASSERT_EQ(y[i], op == Op::softmax ? 0.0f : -kInf) << "i=" << i;
    }
  }
}

// Finite extremes (+-3e38 mixed) give no NaN and no inf in softmax, and stay
// within the bounds; log-softmax gives no NaN.
std::vector<float> extreme_row(std::size_t n, int rep, std::mt19937& g) {
  static const float pool[] = {3e38f, -3e38f, FLT_MAX, -FLT_MAX, 1e38f, -1e38f, 0.0f, 1.0f, -1.0f, 2.9999998e38f};
  std::vector<float> x(n);
  for (auto& v : x) v = pool[g() % (sizeof pool / sizeof pool[0])];
  if (rep == 0) x[0] = 3e38f, x[n - 1] = -3e38f;  // the plain mixed case
  return x;
}

TEST_P(Semantics, FiniteExtremes) {
  std::mt19937 g(2500);
  for (std::size_t n : {2u, 3u, 5u, 16u, 17u, 33u, 49u, 1000u}) {
    for (int rep = 0; rep < 4; ++rep) {
      const std::vector<float> x = extreme_row(n, rep, g);
      for (float t : {1.0f, 0.5f, 3.7f}) {
        SCOPED_TRACE(::testing::Message() << "n=" << n << " rep=" << rep << " T=" << t);
        std::vector<float> y = sentinel_buffer(n), ly = sentinel_buffer(n);
        simdsoftmax::softmax(x.data(), y.data(), n, opts(t));
        simdsoftmax::log_softmax(x.data(), ly.data(), n, opts(t));
        for (std::size_t i = 0; i < n; ++i) {
          ASSERT_TRUE(std::isfinite(y[i])) << "softmax y[" << i << "]=" << y[i] << " x=" << x[i];
          ASSERT_FALSE(std::isnan(ly[i])) << "log_softmax y[" << i << "] x=" << x[i];
        }
        EXPECT_TRUE(check_softmax(x.data(), y.data(), n, t));
        // log-softmax entries whose exact value (x_i - m)/T - log(sum) is beyond
        // float range may be -inf; the checker accepts exactly that.
        if (t <= 1.0f) {
          EXPECT_TRUE(check_log_softmax(x.data(), ly.data(), n, t));
        }
      }
    }
  }
}

// log-softmax holds its bound |y - ref| <= 2e-6 (1 + |ref|) on finite extremes
// with T > 1 too, where x_i - m overflows float but (x_i - m)/T does not
// (e.g. x = {3e38, -3e38}, T = 3.7: y_1 = -1.62e38, not -inf).
TEST_P(Semantics, FiniteExtremesLogSoftmaxWithinBound) {
  std::mt19937 g(2500);
  for (std::size_t n : {2u, 3u, 5u, 16u, 17u, 33u, 49u, 1000u}) {
    for (int rep = 0; rep < 4; ++rep) {
      const std::vector<float> x = extreme_row(n, rep, g);
      for (float t : {2.0f, 3.7f}) {
        std::vector<float> ly = sentinel_buffer(n);
        simdsoftmax::log_softmax(x.data(), ly.data(), n, opts(t));
        ASSERT_TRUE(check_log_softmax(x.data(), ly.data(), n, t)) << "n=" << n << " rep=" << rep << " T=" << t;
      }
    }
  }
}

// Very small temperatures converge to the one-hot argmax, ties share, never NaN.
TEST_P(Semantics, TinyTemperatureIsOneHotArgmax) {
  std::mt19937 g(2600);
  for (float t : {1e-30f, FLT_MIN}) {
    for (std::size_t n : {1u, 2u, 3u, 7u, 16u, 17u, 33u, 49u, 1000u}) {
      for (int rep = 0; rep < 3; ++rep) {
        // Quarter steps in [-5, 5]: gaps >= 0.25, so with T <= 1e-30 every
        // non-max entry is e^(-2.5e29) or less: exactly 0. Ties are common.
        std::vector<float> x(n);
        for (auto& v : x) v = static_cast<float>(static_cast<int>(g() % 41) - 20) / 4.0f;
        if (rep == 1 && n >= 2) x[n - 1] = x[0] = 6.0f;  // a tie at both ends
        if (rep == 2) x[g() % n] = 1e30f;                // a huge unique max
        const float m = *std::max_element(x.begin(), x.end());
        const std::size_t k = static_cast<std::size_t>(std::count(x.begin(), x.end(), m));
        std::vector<float> y = sentinel_buffer(n), ly = sentinel_buffer(n);
        simdsoftmax::softmax(x.data(), y.data(), n, opts(t));
        simdsoftmax::log_softmax(x.data(), ly.data(), n, opts(t));
        SCOPED_TRACE(::testing::Message() << "T=" << t << " n=" << n << " rep=" << rep << " k=" << k);
        const double l = -std::log(static_cast<double>(k));
        for (std::size_t i = 0; i < n; ++i) {
          if (x[i] == m) {
            ASSERT_LE(std::fabs(y[i] - 1.0 / k), 2e-6 / k) << "i=" << i << " y=" << y[i];
            ASSERT_LE(std::fabs(ly[i] - l), 2e-6 * (1 - l)) << "i=" << i << " log y=" << ly[i];
          } else {
            ASSERT_EQ(y[i], 0.0f) << "i=" << i << " x=" << x[i];
            ASSERT_FALSE(std::isnan(ly[i])) << "i=" << i << " x=" << x[i];
            ASSERT_LT(ly[i], -1e29f) << "i=" << i << " x=" << x[i];
          }
        }
        EXPECT_TRUE(check_softmax(x.data(), y.data(), n, t));
        EXPECT_TRUE(check_log_softmax(x.data(), ly.data(), n, t));
      }
    }
  }
}

// n == 0 / rows == 0 (or cols == 0): valid with null pointers, writes nothing.
TEST_P(Semantics, EmptyInputsAreValidAndWriteNothing) {
  const Options o = opts();
  for (Op op : {Op::softmax, Op::log_softmax}) {
    SCOPED_TRACE(op_name(op));
    EXPECT_NO_THROW(call_row(op, nullptr, nullptr, 0, o));
    EXPECT_NO_THROW(call_rows(op, nullptr, nullptr, 0, 7, o));
    EXPECT_NO_THROW(call_rows(op, nullptr, nullptr, 7, 0, o));
    EXPECT_NO_THROW(call_rows(op, nullptr, nullptr, 0, 0, o));
    EXPECT_NO_THROW(call_strided(op, nullptr, 9, nullptr, 11, 0, 7, o));
    EXPECT_NO_THROW(call_strided(op, nullptr, 9, nullptr, 11, 5, 0, o));
    const std::vector<float> x = normal(32, 0.0f, 1.0f, 2700);
    std::vector<float> y = sentinel_buffer(32);
    call_row(op, x.data(), y.data(), 0, o);
    call_rows(op, x.data(), y.data(), 0, 8, o);
    call_rows(op, x.data(), y.data(), 4, 0, o);
    call_strided(op, x.data(), 8, y.data(), 8, 0, 8, o);
    call_strided(op, x.data(), 8, y.data(), 8, 4, 0, o);
    EXPECT_EQ(first_touched(y.data(), 0, 32), 32u);
  }
}

// Single-element rows: softmax is exactly 1, log-softmax exactly 0, for any finite x.
TEST_P(Semantics, SingleElementRow) {
  for (float v : {0.0f, -1.0f, 1e30f, -3e38f, 3e38f, 1000.5f, -FLT_MIN}) {
    for (float t : {1.0f, 3.7f, FLT_MIN}) {
      float y = sentinel(), ly = sentinel();
      simdsoftmax::softmax(&v, &y, 1, opts(t));
      simdsoftmax::log_softmax(&v, &ly, 1, opts(t));
      EXPECT_EQ(y, 1.0f) << "x=" << v << " T=" << t;
      EXPECT_EQ(ly, 0.0f) << "x=" << v << " T=" << t;
    }
  }
}

}  // namespace
}  // namespace sst
