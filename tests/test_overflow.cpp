// Size, stride and pointer arithmetic that does not fit: rows*cols or
// (rows-1)*stride + cols overflowing size_t, an extent whose byte count
// overflows, and spans that would run past the top of the address space
// (pointer wrap). Each must throw std::invalid_argument naming an argument of
// the entry point that was called, before anything is read or written: x and y
// are real buffers of a few floats holding sentinels (a call that went ahead
// would read or write far outside them and crash or trip ASan), and must come
// back bit for bit unchanged. Fake pointers near the top of the address space
// are never dereferenced by a correct library; if one were, the test dies.
//
// Also the other side of the boundary: rows == 0 or cols == 0 with otherwise
// absurd sizes is a valid no-op, and a batch whose extent fits is accepted.
#include <regex>
#include <stdexcept>

#include "support/test_support.hpp"

namespace sst {
namespace {

constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kFloatsMax = kMax / sizeof(float);  // largest extent whose bytes fit

enum class Form { row, contiguous, strided };
const char* form_name(Form f) { return f == Form::row ? "row" : f == Form::contiguous ? "contiguous" : "strided"; }

struct Call {
  Form form;
  Op op;
  const float* x;
  std::size_t xs;
  float* y;
  std::size_t ys;
  std::size_t rows, cols;
};

void invoke(const Call& c, const Options& o) {
  switch (c.form) {
    case Form::row: return call_row(c.op, c.x, c.y, c.cols, o);
    case Form::contiguous: return call_rows(c.op, c.x, c.y, c.rows, c.cols, o);
    case Form::strided: return call_strided(c.op, c.x, c.xs, c.y, c.ys, c.rows, c.cols, o);
  }
}

std::string describe(const Call& c) {
  std::ostringstream s;
  s << op_name(c.op) << " (" << form_name(c.form) << ") x=" << static_cast<const void*>(c.x) << " x_stride=" << c.xs
    << " y=" << static_cast<const void*>(c.y) << " y_stride=" << c.ys << " rows=" << c.rows << " cols=" << c.cols;
  return s.str();
}

bool names(const std::string& msg, const std::string& name) {
  return std::regex_search(msg, std::regex("(^|[^A-Za-z0-9_])" + name + "($|[^A-Za-z0-9_])"));
}

class Overflow : public IsaTest {
 protected:
  static constexpr std::size_t kBuf = 64;
  void SetUp() override {
    IsaTest::SetUp();
    x_ = normal(kBuf, 0.0f, 1.0f, 8000);
    x_before_ = x_;
    y_ = sentinel_buffer(kBuf);
  }
  float* x() { return x_.data(); }
  float* y() { return y_.data(); }

  // Expects std::invalid_argument whose message names at least one of `any_of`
  // (the entry point's own parameter names), x and y buffers untouched.
  void expect_rejected(const Call& c, const std::vector<std::string>& any_of) {
    SCOPED_TRACE(describe(c));
    std::string msg;
    bool thrown = false;
    try {
      invoke(c, opts());
    } catch (const std::invalid_argument& e) {
      thrown = true;
      msg = e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw something other than std::invalid_argument: " << e.what();
      return;
    }
    ASSERT_TRUE(thrown) << "accepted";
    bool named = any_of.empty();
    for (const std::string& n : any_of) named |= names(msg, n);
    std::string list;
    for (const std::string& n : any_of) list += (list.empty() ? "" : " or ") + n;
    EXPECT_TRUE(named) << "message names none of the call's parameters " << list << ": " << msg;
    EXPECT_EQ(first_touched(y_.data(), 0, kBuf), kBuf) << "y written";
    EXPECT_EQ(0, std::memcmp(x_.data(), x_before_.data(), kBuf * sizeof(float))) << "x written";
  }

  std::vector<float> x_, x_before_, y_;
};
SST_INSTANTIATE_ALL_ISAS(Overflow);

// One row of n floats: n * sizeof(float) overflows size_t.
TEST_P(Overflow, RowLengthBytesOverflow) {
  for (Op op : {Op::softmax, Op::log_softmax})
    for (std::size_t n : {kFloatsMax + 1, kFloatsMax + 2, kMax / 2, kMax - 1, kMax}) {
      expect_rejected({Form::row, op, x(), n, y(), n, 1, n}, {"n"});
    }
}

// Contiguous batch: rows * cols overflows size_t, or its bytes do.
TEST_P(Overflow, RowsTimesColsOverflow) {
  const std::size_t h = std::size_t{1} << (sizeof(std::size_t) * 4);  // 2^32 on 64-bit
  const struct {
    std::size_t rows, cols;
  } cases[] = {
      {kMax, 2},        {2, kMax},         {h, h},          {h + 1, h - 1}, {kMax / 3 + 1, 3},
      {kFloatsMax + 1, 1}, {1, kFloatsMax + 1}, {kFloatsMax / 2 + 1, 2}, {h / 4, h},  // bytes overflow
  };
  for (Op op : {Op::softmax, Op::log_softmax})
    for (const auto& c : cases) expect_rejected({Form::contiguous, op, x(), c.cols, y(), c.cols, c.rows, c.cols}, {"rows", "cols"});
}

// Strided batch: (rows - 1) * stride overflows, + cols overflows, or the bytes
// of the extent overflow; for x_stride and for y_stride, each named.
TEST_P(Overflow, RowsTimesStrideOverflow) {
  const struct {
    std::size_t rows, stride, cols;
  } cases[] = {
      {3, kMax / 2 + 1, 4},         // (rows-1)*stride = 2^64 exactly
      {kMax, 2, 2},                 // (rows-1)*stride wraps
      {2, kMax - 3, 10},            // (rows-1)*stride fits, + cols wraps
      {2, kMax, 1},                 // likewise, by one
      {2, kFloatsMax, 1},           // extent kFloatsMax + 1: its bytes overflow
      {2, std::size_t{1} << (sizeof(std::size_t) * 8 - 2), 1},  // 2^62 + 1 floats
      {kFloatsMax / 7 + 2, 7, 7},   // bytes overflow by a row
  };
  // When rows x cols alone overflows too, the other array's extent may be the
  // one reported: then any of the sizes is a fair name.
  const auto fits = [](std::size_t rows, std::size_t stride, std::size_t cols) {
    std::size_t span;
    return !__builtin_mul_overflow(rows - 1, stride, &span) && !__builtin_add_overflow(span, cols, &span) &&
           span <= kFloatsMax;
  };
  for (Op op : {Op::softmax, Op::log_softmax}) {
    for (const auto& c : cases) {
      const bool dense_fits = fits(c.rows, c.cols, c.cols);
      const std::vector<std::string> any = {"x_stride", "y_stride", "rows", "cols"};
      expect_rejected({Form::strided, op, x(), c.stride, y(), c.cols, c.rows, c.cols},
                      dense_fits ? std::vector<std::string>{"x_stride"} : any);
      expect_rejected({Form::strided, op, x(), c.cols, y(), c.stride, c.rows, c.cols},
                      dense_fits ? std::vector<std::string>{"y_stride"} : any);
      // In place with the same huge stride.
      expect_rejected({Form::strided, op, x(), c.stride, x(), c.stride, c.rows, c.cols}, {"x_stride", "y_stride"});
    }
  }
}

// Spans whose bytes fit in size_t but run past the top of the address space
// from where x or y points. The one-past-the-end pointer must be representable,
// so a span ending exactly at 2^N is rejected as well.
TEST_P(Overflow, PointerWrap) {
  const std::uintptr_t top = std::numeric_limits<std::uintptr_t>::max();
  const auto at = [](std::uintptr_t a) { return reinterpret_cast<float*>(a); };
  const std::uintptr_t near_top = (top - 4095) & ~std::uintptr_t{63};  // 4 KiB below the top, aligned
  const std::size_t fits = (top - near_top + 1) / sizeof(float);       // floats from near_top to 2^N
  for (Op op : {Op::softmax, Op::log_softmax}) {
    for (std::size_t n : {fits, fits + 1, fits + 1000, kFloatsMax}) {
      expect_rejected({Form::row, op, at(near_top), n, y(), n, 1, n}, {"x"});
      // (for the largest n, x + n wraps from the real buffer as well)
      const bool x_wraps_too = reinterpret_cast<std::uintptr_t>(x()) > top - n * sizeof(float);
      expect_rejected({Form::row, op, x(), n, at(near_top), n, 1, n},
                      x_wraps_too ? std::vector<std::string>{"x", "y"} : std::vector<std::string>{"y"});
      expect_rejected({Form::row, op, at(near_top), n, at(near_top), n, 1, n}, {"x", "y"});  // in place
    }
    // Strided: the last row wraps, the first one does not.
    const std::size_t stride = fits / 2 + 1;
    expect_rejected({Form::strided, op, at(near_top), stride, y(), 4, 3, 4}, {"x"});
    expect_rejected({Form::strided, op, x(), 4, at(near_top), stride, 3, 4}, {"y"});
    // Contiguous: many short rows.
    expect_rejected({Form::contiguous, op, at(near_top), 16, y(), 16, fits / 16 + 1, 16}, {"x"});
    expect_rejected({Form::contiguous, op, x(), 16, at(near_top), 16, fits / 16 + 1, 16}, {"y"});
    // A huge x far below the top, still wrapping.
    expect_rejected({Form::row, op, at((top / 2) & ~std::uintptr_t{63}), kFloatsMax / 2 + 8, y(), 0, 1, kFloatsMax / 2 + 8},
                    {"x"});
  }
}

// rows == 0 or cols == 0: nothing is read or written, whatever the other sizes
// (design.md: valid), even with pointers that could not be read.
TEST_P(Overflow, EmptyBatchesWithHugeSizesAreValidNoOps) {
  const std::uintptr_t top = std::numeric_limits<std::uintptr_t>::max();
  float* const wild = reinterpret_cast<float*>(top & ~std::uintptr_t{63});
  for (Op op : {Op::softmax, Op::log_softmax}) {
    const Call calls[] = {
        {Form::strided, op, x(), kMax, y(), kMax, 0, 5},      {Form::strided, op, x(), kMax, y(), kMax / 2, 0, 9},
        {Form::strided, op, x(), 0, y(), 0, kMax, 0},         {Form::contiguous, op, x(), 0, y(), 0, kMax, 0},
        {Form::contiguous, op, x(), kMax, y(), kMax, 0, kMax}, {Form::strided, op, wild, kMax, wild, kMax, 0, 3},
        {Form::contiguous, op, nullptr, 0, nullptr, 0, kMax, 0}, {Form::row, op, wild, 0, x(), 0, 1, 0},
    };
    for (const Call& c : calls) {
      SCOPED_TRACE(describe(c));
      EXPECT_NO_THROW(invoke(c, opts()));
      EXPECT_EQ(first_touched(y_.data(), 0, kBuf), kBuf) << "y written";
      EXPECT_EQ(0, std::memcmp(x_.data(), x_before_.data(), kBuf * sizeof(float))) << "x written";
    }
  }
}

// A batch of one row never applies its stride: the extent is
// (rows - 1) * stride + cols, so even the largest stride is accepted there.
TEST_P(Overflow, StrideOfASingleRowIsNeverApplied) {
  for (Op op : {Op::softmax, Op::log_softmax}) {
    std::vector<float> y = sentinel_buffer(kBuf);
    EXPECT_NO_THROW(call_strided(op, x(), kMax, y.data(), kMax, 1, 20, opts()));
    EXPECT_TRUE(check_op(op, x(), y.data(), 20, 1.0f));
    EXPECT_EQ(first_touched(y.data(), 20, kBuf), kBuf);
  }
}

}  // namespace
}  // namespace sst
