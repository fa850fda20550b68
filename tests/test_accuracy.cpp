// Accuracy against the long-double reference on every ISA: every length
// 0..3W+1 (W = 16 floats, the widest vector) plus 1000, 4097 and 2^20, every
// pointer offset 0..15 floats, temperatures 1, 0.5 and 3.7, offset logits
// normal(1000, 4), sum-to-one, and agreement of each ISA with scalar.
// Outputs are sentinel-filled first; bytes around y must stay untouched.
#include "support/test_support.hpp"

namespace sst {
namespace {

constexpr std::size_t kW = 16;  // widest vector (AVX-512) in floats

std::vector<std::size_t> short_and_medium_lengths() {
  std::vector<std::size_t> v;
  for (std::size_t n = 0; n <= 3 * kW + 1; ++n) v.push_back(n);
  v.push_back(1000);
  v.push_back(4097);
  return v;
}

class Accuracy : public IsaTest {};
SST_INSTANTIATE_ALL_ISAS(Accuracy);

// Every length x every offset of x and y x {softmax, log_softmax} x temperatures.
void run_lengths_and_offsets(const Options& base, float mean, float sd, std::uint32_t seed,
                             const std::vector<float>& temperatures) {
  constexpr std::size_t kPad = 16 + 16;  // room for the offset plus a guard zone after y
  for (std::size_t n : short_and_medium_lengths()) {
    const std::vector<float> data = normal(n, mean, sd, seed + static_cast<std::uint32_t>(n));
    for (float t : temperatures) {
      const Reference ref = reference(data.data(), n, t);
      Options o = base;
      o.temperature = t;
      for (Op op : {Op::softmax, Op::log_softmax}) {
        for (std::size_t xoff = 0; xoff < 16; ++xoff) {
          const std::size_t yoff = (xoff * 5 + 3) % 16;  // independent misalignment of y
          AlignedBuf xb(n + kPad), yb(n + kPad);
          std::copy(data.begin(), data.end(), xb.data() + xoff);
          call_row(op, xb.data() + xoff, yb.data() + yoff, n, o);
          SCOPED_TRACE(::testing::Message() << op_name(op) << " n=" << n << " T=" << t
                                            << " x offset=" << xoff << " y offset=" << yoff);
          ASSERT_EQ(first_touched(yb.data(), 0, yoff), yoff) << "wrote before y";
          ASSERT_EQ(first_touched(yb.data(), yoff + n, yb.size()), yb.size()) << "wrote past the end of y";
          ASSERT_TRUE(std::equal(data.begin(), data.end(), xb.data() + xoff)) << "x modified";
          ASSERT_TRUE(check_op(op, data.data(), yb.data() + yoff, n, t, &ref));
        }
      }
    }
  }
}

TEST_P(Accuracy, AllLengthsAndOffsets) {
  run_lengths_and_offsets(opts(), 0.0f, 3.0f, 100, {1.0f, 0.5f, 3.7f});
}

TEST_P(Accuracy, OffsetLogitsNormal1000) {
  // Folding the max into a multiply-add loses accuracy here (design.md).
  run_lengths_and_offsets(opts(), 1000.0f, 4.0f, 200, {1.0f, 0.5f, 3.7f});
}

TEST_P(Accuracy, WideRangeLogits) {
  // Many outputs far below 1e-37: exercises the exp underflow path and flushing.
  for (std::size_t n : {7u, 33u, 1000u, 4096u}) {
    const std::vector<float> x = uniform(n, -300.0f, 40.0f, 300 + static_cast<std::uint32_t>(n));
    for (float t : {1.0f, 0.5f, 3.7f}) {
      const Reference ref = reference(x.data(), n, t);
      for (Op op : {Op::softmax, Op::log_softmax}) {
        std::vector<float> y = sentinel_buffer(n);
        call_row(op, x.data(), y.data(), n, opts(t));
        EXPECT_TRUE(check_op(op, x.data(), y.data(), n, t, &ref)) << op_name(op) << " n=" << n << " T=" << t;
      }
    }
  }
}

// Worst relative error over entries whose reference is not in the flush zone,
// and the R the bound would need: (|y - ref| - 1e-37)/ref - 3e|a|.
struct ErrStats {
  double max_rel = 0, max_R = 0;
  void add(const float* y, const Reference& r) {
    for (std::size_t i = 0; i < r.soft.size(); ++i) {
      if (r.soft[i] < 1e-30) continue;
      const double err = std::fabs(y[i] - r.soft[i]);
      max_rel = std::max(max_rel, err / r.soft[i]);
      max_R = std::max(max_R, (err - 1e-37) / r.soft[i] - 3 * kE * std::fabs(r.a[i]));
    }
  }
};

// Long rows: R = 2e-6 at 4096, 4e-6 at 2^20 (the sum must not drift with n).
// Prints the worst softmax error per ISA and length for the README / closing note.
TEST_P(Accuracy, LongRowsAndReport) {
  struct Case {
    float mean, sd, t;
  };
  const std::vector<Case> cases = {{0.0f, 1.0f, 1.0f}, {1000.0f, 4.0f, 3.7f}, {0.0f, 0.25f, 0.5f}};
  for (std::size_t n : {std::size_t{4096}, std::size_t{1} << 20}) {
    // 2^20 rows are heavy under emulation: one case there, all three natively.
    const std::size_t ncases = (n > 4096 && emulated()) ? 1 : cases.size();
    ErrStats stats;
    for (std::size_t c = 0; c < ncases; ++c) {
      const Case& k = cases[c];
      const std::vector<float> x = normal(n, k.mean, k.sd, 400 + static_cast<std::uint32_t>(c));
      const Reference ref = reference(x.data(), n, k.t);
      for (Op op : {Op::softmax, Op::log_softmax}) {
        std::vector<float> y = sentinel_buffer(n);
        call_row(op, x.data(), y.data(), n, opts(k.t));
        EXPECT_TRUE(check_op(op, x.data(), y.data(), n, k.t, &ref))
            << op_name(op) << " n=" << n << " mean=" << k.mean << " sd=" << k.sd << " T=" << k.t;
        if (op == Op::softmax) stats.add(y.data(), ref);
      }
    }
    const std::string isa(simdsoftmax::to_string(GetParam()));
    const std::string key = "n" + std::to_string(n);
    RecordProperty(key + "_max_rel_err", fmt(stats.max_rel));
    RecordProperty(key + "_max_R", fmt(stats.max_R));
    std::cout << "[accuracy] isa=" << isa << " n=" << n << " softmax max relative error=" << fmt(stats.max_rel)
              << " (R needed=" << fmt(stats.max_R) << ", bound R=" << softmax_R(n) << ")\n";
  }
}

// A batch of 2^20-element rows through the contiguous batch entry point. Row r
// is row 0 rotated by r*12345 places: one reference serves every row (it only
// depends on the multiset of values), which keeps emulated runs affordable.
TEST_P(Accuracy, BatchOfLongRows) {
  const std::size_t rows = emulated() ? 2 : 3, cols = std::size_t{1} << 20, shift = 12345;
  const std::vector<float> x0 = normal(cols, 5.0f, 2.0f, 500);
  const Reference ref0 = reference(x0.data(), cols, 0.5f);
  std::vector<float> x(rows * cols);
  Reference ref;  // ref0 rotated like each row, reused row by row
  for (std::size_t r = 0; r < rows; ++r)
    std::rotate_copy(x0.begin(), x0.begin() + (r * shift) % cols, x0.end(), x.begin() + r * cols);
  for (Op op : {Op::softmax, Op::log_softmax}) {
    std::vector<float> y = sentinel_buffer(rows * cols);
    call_rows(op, x.data(), y.data(), rows, cols, opts(0.5f));
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t k = (r * shift) % cols;
      for (auto* v : {&ref.a, &ref.soft, &ref.log}) v->resize(cols);
      std::rotate_copy(ref0.a.begin(), ref0.a.begin() + k, ref0.a.end(), ref.a.begin());
      std::rotate_copy(ref0.soft.begin(), ref0.soft.begin() + k, ref0.soft.end(), ref.soft.begin());
      std::rotate_copy(ref0.log.begin(), ref0.log.begin() + k, ref0.log.end(), ref.log.begin());
      EXPECT_TRUE(check_op(op, x.data() + r * cols, y.data() + r * cols, cols, 0.5f, &ref)) << op_name(op) << " row " << r;
    }
  }
}

// Each ISA agrees with scalar within the bounds (both within their bound of the reference).
TEST_P(Accuracy, AgreesWithScalar) {
  if (GetParam() == Isa::scalar) {
    GTEST_SKIP() << "scalar is the baseline of this comparison";
  }
  Options s = opts();
  s.isa = Isa::scalar;
  for (std::size_t n : {1u, 5u, 16u, 17u, 31u, 49u, 1000u, 4097u}) {
    for (float t : {1.0f, 0.5f, 3.7f}) {
      const std::vector<float> x = normal(n, 1000.0f, 4.0f, 600 + static_cast<std::uint32_t>(n));
      const Reference ref = reference(x.data(), n, t);
      s.temperature = t;
      for (Op op : {Op::softmax, Op::log_softmax}) {
        std::vector<float> y = sentinel_buffer(n), ys = sentinel_buffer(n);
        call_row(op, x.data(), y.data(), n, opts(t));
        call_row(op, x.data(), ys.data(), n, s);
        Report rep;
        for (std::size_t i = 0; i < n; ++i) {
          const double b = op == Op::softmax ? 2 * softmax_bound(ref.soft[i], ref.a[i], n)
                                                  : 2 * log_softmax_bound(ref.log[i]);
          if (!(std::fabs(static_cast<double>(y[i]) - ys[i]) <= b)) rep.add(i, x[i], y[i], ys[i], b);
        }
        EXPECT_TRUE(rep.result("vs scalar (ref column = scalar's output)", n)) << op_name(op) << " n=" << n << " T=" << t;
      }
    }
  }
}

// The contiguous batch and the strided batch with equal strides give the same
// rows as one call per row (one kernel, no per-row state).
TEST_P(Accuracy, BatchEqualsRowByRow) {
  const std::size_t rows = 7, cols = 37;
  const std::vector<float> x = normal(rows * cols, 0.0f, 2.0f, 700);
  for (Op op : {Op::softmax, Op::log_softmax}) {
    std::vector<float> yb = sentinel_buffer(rows * cols), ys = sentinel_buffer(rows * cols),
                       yr = sentinel_buffer(rows * cols);
    call_rows(op, x.data(), yb.data(), rows, cols, opts(3.7f));
    call_strided(op, x.data(), cols, ys.data(), cols, rows, cols, opts(3.7f));
    for (std::size_t r = 0; r < rows; ++r) call_row(op, x.data() + r * cols, yr.data() + r * cols, cols, opts(3.7f));
    for (std::size_t r = 0; r < rows; ++r)
      ASSERT_TRUE(check_op(op, x.data() + r * cols, yb.data() + r * cols, cols, 3.7f)) << "row " << r;
    EXPECT_EQ(0, std::memcmp(yb.data(), yr.data(), yb.size() * sizeof(float))) << op_name(op);
    EXPECT_EQ(0, std::memcmp(ys.data(), yr.data(), ys.size() * sizeof(float))) << op_name(op);
  }
}

}  // namespace
}  // namespace sst
