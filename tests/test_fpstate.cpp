// The caller's floating-point state: the library must neither change it nor
// depend on it. Every ISA, both ops, run with
//   - flush-to-zero + denormals-are-zero (x86 MXCSR FTZ|DAZ; aarch64 FPCR.FZ),
//   - each non-default rounding mode (fesetround: upward, downward, toward zero),
//   - FTZ|DAZ together with round-toward-zero,
// on ordinary, offset, wide (outputs far below 1e-37) and denormal-input rows,
// the special rows (NaN, +inf, all -inf), single rows and batches. The results
// must stay within design.md's bounds against the long-double reference
// (computed beforehand in the default mode), and the control state the caller
// set (MXCSR/FPCR control bits, x87 control word, fegetround()) must be exactly
// what it was after every call. Exception *flags* (inexact, underflow ...) are
// status, not control, and may be raised.
//
// Denormal inputs under DAZ/FZ (DenormalInputsUnderDaz): the hardware would
// read them as 0. With T = 1 that moves results by less than 1e-38 relative,
// but with a tiny temperature the difference of two denormals becomes a normal
// logit difference ((x_i - m)/T with T ~ FLT_MIN): x = {2^-140, 0},
// T = 2^-126 gives {0.5, 0.5} instead of {0.5000153, 0.4999847} if the
// kernel computes under the caller's DAZ. The library computes under the
// default environment (src/fpenv.hpp), so the exact input's bounds must hold.
//
// Options::threads > 1 under a non-default state: results must still be bit
// identical to threads = 1 (ThreadsComputeUnderTheCallersState); worker threads of an OpenMP pool
// that was started in another state must not compute with their own.
#include <cfenv>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "support/test_support.hpp"

namespace sst {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// ---------------------------------------------------------------------------
// The control part of the floating-point environment.
struct Control {
  std::uint64_t simd = 0;  // x86: MXCSR without the 6 exception-flag bits; aarch64: FPCR
  std::uint32_t x87 = 0;   // x86: x87 control word
  int round = 0;           // fegetround()
  bool operator==(const Control& o) const { return simd == o.simd && x87 == o.x87 && round == o.round; }
};

std::string str(const Control& c) {
  std::ostringstream s;
  s << std::hex << "{simd=0x" << c.simd << " x87=0x" << c.x87 << std::dec << " round=" << c.round << "}";
  return s.str();
}

#if defined(__x86_64__) || defined(__i386__)
constexpr const char* kFlushName = "MXCSR FTZ|DAZ";
constexpr std::uint32_t kMxcsrFlags = 0x3F, kFtzDaz = 0x8040;
Control read_control() {
  Control c;
  c.simd = _mm_getcsr() & ~kMxcsrFlags;
  std::uint16_t cw;
  __asm__ volatile("fnstcw %0" : "=m"(cw));
  c.x87 = cw;
  c.round = fegetround();
  return c;
}
void set_flush(bool on) { _mm_setcsr(on ? (_mm_getcsr() | kFtzDaz) : (_mm_getcsr() & ~kFtzDaz)); }
constexpr bool kHaveFlush = true;
#elif defined(__aarch64__)
constexpr const char* kFlushName = "FPCR.FZ";
constexpr std::uint64_t kFz = std::uint64_t{1} << 24;
std::uint64_t get_fpcr() {
  std::uint64_t v;
  __asm__ volatile("mrs %0, fpcr" : "=r"(v));
  return v;
}
void set_fpcr(std::uint64_t v) { __asm__ volatile("msr fpcr, %0" : : "r"(v)); }
Control read_control() {
  Control c;
  c.simd = get_fpcr();
  c.round = fegetround();
  return c;
}
void set_flush(bool on) { set_fpcr(on ? (get_fpcr() | kFz) : (get_fpcr() & ~kFz)); }
constexpr bool kHaveFlush = true;
#else
constexpr const char* kFlushName = "(no flush control on this architecture)";
Control read_control() {
  Control c;
  c.round = fegetround();
  return c;
}
void set_flush(bool) {}
constexpr bool kHaveFlush = false;
#endif

// A caller state to run under.
struct Mode {
  const char* name;
  bool flush;
  int round;
};

std::vector<Mode> modes() {
  std::vector<Mode> v;
  if (kHaveFlush) v.push_back({kFlushName, true, FE_TONEAREST});
#ifdef FE_UPWARD
  v.push_back({"FE_UPWARD", false, FE_UPWARD});
#endif
#ifdef FE_DOWNWARD
  v.push_back({"FE_DOWNWARD", false, FE_DOWNWARD});
#endif
#ifdef FE_TOWARDZERO
  v.push_back({"FE_TOWARDZERO", false, FE_TOWARDZERO});
  if (kHaveFlush) v.push_back({"FE_TOWARDZERO + flush-to-zero", true, FE_TOWARDZERO});
#endif
  return v;
}

// Saves the whole environment, restores it on scope exit (also after a failed ASSERT).
class FenvRestore {
 public:
  FenvRestore() { fegetenv(&env_); }
  ~FenvRestore() { fesetenv(&env_); }  // fenv_t holds MXCSR (x86-64) / FPCR (aarch64) too
  FenvRestore(const FenvRestore&) = delete;
  FenvRestore& operator=(const FenvRestore&) = delete;

 private:
  fenv_t env_;
};

// Runs f() under `mode`, restores the default state, and reports whether the
// control state was the same right after f() as right before it.
template <class F>
::testing::AssertionResult run_under(const Mode& mode, F&& f) {
  Control before, after;
  {
    FenvRestore restore;
    if (fesetround(mode.round) != 0) return ::testing::AssertionFailure() << "fesetround(" << mode.name << ") failed";
    set_flush(mode.flush);
    before = read_control();
    f();
    after = read_control();
  }
  if (!(before == after))
    return ::testing::AssertionFailure() << "caller's FP control state changed under " << mode.name << ": before "
                                         << str(before) << ", after " << str(after);
  return ::testing::AssertionSuccess();
}

// Denormal inputs replaced by (signed) zero: what DAZ / FZ hardware reads.
std::vector<float> flushed(const std::vector<float>& x) {
  std::vector<float> v = x;
  for (float& f : v)
    if (std::fpclassify(f) == FP_SUBNORMAL) f = std::copysign(0.0f, f);
  return v;
}

struct Row {
  std::string what;
  std::vector<float> x;
  float t;
};

std::vector<Row> ordinary_rows() {
  std::vector<Row> rows;
  std::uint32_t seed = 9000;
  for (std::size_t n : {1u, 5u, 16u, 17u, 33u, 100u, 257u, 1000u, 4097u}) {
    for (float t : {1.0f, 0.7f}) {
      rows.push_back({"normal(0,3) n=" + std::to_string(n), normal(n, 0.0, 3.0, ++seed), t});
      rows.push_back({"normal(1000,4) n=" + std::to_string(n), normal(n, 1000.0, 4.0, ++seed), t});
      rows.push_back({"normal(0,30) n=" + std::to_string(n), normal(n, 0.0, 30.0, ++seed), t});
    }
    // Denormal inputs at T = 1 (read as 0 under DAZ: a difference below 1e-38).
    std::vector<float> d = normal(n, 0.0, 1.0, ++seed);
    for (std::size_t i = 0; i < n; i += 2) d[i] = std::ldexp(d[i], -130);
    rows.push_back({"denormal inputs n=" + std::to_string(n), d, 1.0f});
  }
  return rows;
}

class FpState : public IsaTest {};
SST_INSTANTIATE_ALL_ISAS(FpState);

TEST_P(FpState, OrdinaryRowsStayWithinBounds) {
  const std::vector<Row> rows = ordinary_rows();
  std::vector<Reference> refs;
  for (const Row& r : rows) refs.push_back(reference(r.x.data(), r.x.size(), r.t));
  for (const Mode& mode : modes()) {
    for (std::size_t k = 0; k < rows.size(); ++k) {
      const Row& r = rows[k];
      const std::size_t n = r.x.size();
      for (Op op : {Op::softmax, Op::log_softmax}) {
        SCOPED_TRACE(::testing::Message() << mode.name << ", " << op_name(op) << ", " << r.what << " T=" << r.t);
        std::vector<float> y = sentinel_buffer(n + 8);
        ASSERT_TRUE(run_under(mode, [&] { call_row(op, r.x.data(), y.data(), n, opts(r.t)); }));
        EXPECT_TRUE(check_op(op, r.x.data(), y.data(), n, r.t, &refs[k]));
        EXPECT_EQ(first_touched(y.data(), n, n + 8), n + 8);
      }
    }
  }
}

TEST_P(FpState, BatchesStayWithinBounds) {
  const std::size_t rows = 19, cols = 45, stride = 48;
  const std::vector<float> x = normal(rows * stride, -3.0, 5.0, 9100);
  std::vector<Reference> refs;
  for (std::size_t r = 0; r < rows; ++r) refs.push_back(reference(x.data() + r * stride, cols, 2.5f));
  for (const Mode& mode : modes()) {
    for (Op op : {Op::softmax, Op::log_softmax}) {
      SCOPED_TRACE(::testing::Message() << mode.name << ", " << op_name(op));
      std::vector<float> y = x;  // in place
      ASSERT_TRUE(run_under(mode, [&] { call_strided(op, y.data(), stride, y.data(), stride, rows, cols, opts(2.5f)); }));
      for (std::size_t r = 0; r < rows; ++r)
        EXPECT_TRUE(check_op(op, x.data() + r * stride, y.data() + r * stride, cols, 2.5f, &refs[r])) << "row " << r;
    }
  }
}

TEST_P(FpState, SpecialRowsKeepTheirExactResults) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (std::size_t n : {3u, 17u, 300u}) {
    std::vector<float> with_nan = normal(n, 0.0, 1.0, 9200), with_inf = with_nan, masked(n, -kInf),
                       extremes = with_nan;
    with_nan[n / 2] = nan;
    with_inf[1] = kInf;
    with_inf[n - 1] = kInf;
    for (std::size_t i = 0; i < n; ++i) extremes[i] = i % 2 ? 3e38f : -3e38f;
    for (const Mode& mode : modes()) {
      for (Op op : {Op::softmax, Op::log_softmax}) {
        SCOPED_TRACE(::testing::Message() << mode.name << ", " << op_name(op) << ", n=" << n);
        std::vector<float> a(n), b(n), c(n), d(n);
        ASSERT_TRUE(run_under(mode, [&] {
          call_row(op, with_nan.data(), a.data(), n, opts());
          call_row(op, with_inf.data(), b.data(), n, opts());
          call_row(op, masked.data(), c.data(), n, opts());
          call_row(op, extremes.data(), d.data(), n, opts(0.5f));
        }));
        const bool soft = op == Op::softmax;
        for (std::size_t i = 0; i < n; ++i) {
          EXPECT_TRUE(std::isnan(a[i])) << "NaN row, i=" << i;
          const bool hit = with_inf[i] == kInf;
          const float want_inf_row = soft ? (hit ? 0.5f : 0.0f) : (hit ? -std::log(2.0f) : -kInf);
          if (hit) {
            EXPECT_NEAR(b[i], want_inf_row, 1e-6f) << "+inf row, i=" << i;
          } else {
            EXPECT_EQ(b[i], want_inf_row) << "+inf row, i=" << i;
          }
          EXPECT_EQ(c[i], soft ? 0.0f : -kInf) << "masked row, i=" << i;
          EXPECT_TRUE(std::isfinite(d[i]) || (!soft && d[i] == -kInf)) << "extremes, i=" << i << " y=" << d[i];
        }
        EXPECT_TRUE(check_op(op, extremes.data(), d.data(), n, 0.5f)) << "extremes";
      }
    }
  }
}

// Bad arguments throw under every mode, and the state is still the caller's.
TEST_P(FpState, RejectedCallsLeaveTheStateAlone) {
  const std::vector<float> x = normal(16, 0.0, 1.0, 9300);
  for (const Mode& mode : modes()) {
    SCOPED_TRACE(mode.name);
    std::vector<float> y = sentinel_buffer(16);
    bool thrown = false;
    ASSERT_TRUE(run_under(mode, [&] {
      try {
        call_row(Op::softmax, x.data(), y.data(), 16, opts(0.0f));
      } catch (const std::invalid_argument&) {
        thrown = true;
      }
    }));
    EXPECT_TRUE(thrown);
    EXPECT_EQ(first_touched(y.data(), 0, 16), 16u);
  }
}

// See the top of the file: with DAZ/FZ, denormal inputs are read as zero.
TEST_P(FpState, DenormalInputsUnderDaz) {
  if (!kHaveFlush) GTEST_SKIP() << "no flush-to-zero control on this architecture";
  const Mode flush{kFlushName, true, FE_TONEAREST};
  std::vector<Row> rows;
  rows.push_back({"{2^-140, 0} T=2^-126", {std::ldexp(1.0f, -140), 0.0f}, FLT_MIN});
  std::vector<float> d = normal(40, 0.0, 1.0, 9400);
  for (float& f : d) f = std::ldexp(f, -135);  // every entry denormal
  rows.push_back({"40 denormals T=4*FLT_MIN", d, 4 * FLT_MIN});
  rows.push_back({"40 denormals T=1", d, 1.0f});
  for (const Row& r : rows) {
    const std::size_t n = r.x.size();
    const std::vector<float> xf = flushed(r.x);
    for (Op op : {Op::softmax, Op::log_softmax}) {
      SCOPED_TRACE(::testing::Message() << op_name(op) << ", " << r.what);
      std::vector<float> y(n);
      ASSERT_TRUE(run_under(flush, [&] { call_row(op, r.x.data(), y.data(), n, opts(r.t)); }));
      const auto exact = check_op(op, r.x.data(), y.data(), n, r.t);
      EXPECT_TRUE(exact) << (check_op(op, xf.data(), y.data(), n, r.t)
                                 ? "the result is that of the input with its denormals read as 0 (the caller's DAZ/FZ leaked in)"
                                 : "");
    }
  }
}

// Options::threads > 1 under a non-default caller state gives the same bits
// as threads = 1 under that state: both a batch split by rows and one long row
// split into chunks (src/parallel.cpp). The thread pool is started first in
// the default state, as it would be in a program that set its mode later.
TEST_P(FpState, ThreadsComputeUnderTheCallersState) {
  const std::size_t rows = 64, cols = 2048, long_row = 2 * 65536 + 77;
  const std::vector<float> xb = normal(rows * cols, 0.0, 10.0, 9500), xl = normal(long_row, 0.0, 10.0, 9501);
  const Reference ref_long = reference(xl.data(), long_row, 0.3f);
  Options o2 = opts(0.3f), o1 = opts(0.3f);
  o2.threads = 2;
  {  // start the pool in the default state
    std::vector<float> warm(rows * cols);
    simdsoftmax::softmax_rows(xb.data(), warm.data(), rows, cols, o2);
  }
  for (const Mode& mode : modes()) {
    for (Op op : {Op::softmax, Op::log_softmax}) {
      SCOPED_TRACE(::testing::Message() << mode.name << ", " << op_name(op));
      std::vector<float> b1(xb.size()), b2(xb.size()), l1(long_row), l2(long_row);
      ASSERT_TRUE(run_under(mode, [&] {
        call_rows(op, xb.data(), b1.data(), rows, cols, o1);
        call_rows(op, xb.data(), b2.data(), rows, cols, o2);
        call_row(op, xl.data(), l1.data(), long_row, o1);
        call_row(op, xl.data(), l2.data(), long_row, o2);
      }));
      std::size_t diff_b = 0, diff_l = 0;
      for (std::size_t i = 0; i < b1.size(); ++i) diff_b += bits(b1[i]) != bits(b2[i]);
      for (std::size_t i = 0; i < l1.size(); ++i) diff_l += bits(l1[i]) != bits(l2[i]);
      EXPECT_EQ(diff_b, 0u) << "batch " << rows << "x" << cols << ": threads=2 differs from threads=1 in " << diff_b
                            << " of " << b1.size() << " floats";
      EXPECT_EQ(diff_l, 0u) << "row of " << long_row << ": threads=2 differs from threads=1 in " << diff_l
                            << " of " << l1.size() << " floats";
      EXPECT_TRUE(check_op(op, xl.data(), l1.data(), long_row, 0.3f, &ref_long));
    }
  }
}

}  // namespace
}  // namespace sst
