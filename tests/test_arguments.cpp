// Every bad argument of design.md throws std::invalid_argument whose message
// names the argument, through every entry point, and writes nothing.
#include <regex>
#include <stdexcept>

#include "support/test_support.hpp"

namespace sst {
namespace {

// The six entry points, each seen as a strided batch call; the single-row and
// contiguous forms only take the arguments that they have.
enum class Entry { softmax, log_softmax, softmax_rows, log_softmax_rows, softmax_strided, log_softmax_strided };
const Entry kEntries[] = {Entry::softmax,      Entry::log_softmax,     Entry::softmax_rows,
                          Entry::log_softmax_rows, Entry::softmax_strided, Entry::log_softmax_strided};
const char* entry_name(Entry e) {
  switch (e) {
    case Entry::softmax: return "softmax";
    case Entry::log_softmax: return "log_softmax";
    case Entry::softmax_rows: return "softmax_rows";
    case Entry::log_softmax_rows: return "log_softmax_rows";
    case Entry::softmax_strided: return "softmax_rows(strided)";
    case Entry::log_softmax_strided: return "log_softmax_rows(strided)";
  }
  return "?";
}
bool single_row(Entry e) { return e == Entry::softmax || e == Entry::log_softmax; }
bool strided(Entry e) { return e == Entry::softmax_strided || e == Entry::log_softmax_strided; }

struct Call {
  const float* x;
  std::size_t xs;
  float* y;
  std::size_t ys;
  std::size_t rows, cols;
  Options o;
};

void invoke(Entry e, const Call& c) {
  switch (e) {
    case Entry::softmax: return simdsoftmax::softmax(c.x, c.y, c.cols, c.o);
    case Entry::log_softmax: return simdsoftmax::log_softmax(c.x, c.y, c.cols, c.o);
    case Entry::softmax_rows: return simdsoftmax::softmax_rows(c.x, c.y, c.rows, c.cols, c.o);
    case Entry::log_softmax_rows: return simdsoftmax::log_softmax_rows(c.x, c.y, c.rows, c.cols, c.o);
    case Entry::softmax_strided: return simdsoftmax::softmax_rows(c.x, c.xs, c.y, c.ys, c.rows, c.cols, c.o);
    case Entry::log_softmax_strided:
      return simdsoftmax::log_softmax_rows(c.x, c.xs, c.y, c.ys, c.rows, c.cols, c.o);
  }
}

// True when `name` occurs in `msg` as a whole identifier (so "x" is not found in "max").
bool names(const std::string& msg, const std::string& name) {
  const std::string esc = std::regex_replace(name, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)");
  return std::regex_search(msg, std::regex("(^|[^A-Za-z0-9_])" + esc + "($|[^A-Za-z0-9_])"));
}

// Calls `e` on `c` (whose y points into `buf`), expects std::invalid_argument
// naming every string in `needles`, and `buf` unchanged byte for byte.
void expect_rejected(Entry e, const Call& c, const std::vector<float>& buf_before, const std::vector<float>& buf,
                     const std::vector<std::string>& needles, const std::string& what) {
  SCOPED_TRACE(::testing::Message() << entry_name(e) << ": " << what);
  std::string msg;
  bool thrown = false;
  try {
    invoke(e, c);
  } catch (const std::invalid_argument& ex) {
    thrown = true;
    msg = ex.what();
  } catch (const std::exception& ex) {
    ADD_FAILURE() << "threw something other than std::invalid_argument: " << ex.what();
    return;
  }
  ASSERT_TRUE(thrown) << "no exception";
  for (const std::string& n : needles) EXPECT_TRUE(names(msg, n)) << "message does not name '" << n << "': " << msg;
  EXPECT_EQ(0, std::memcmp(buf_before.data(), buf.data(), buf.size() * sizeof(float))) << "output buffer modified";
}

class Arguments : public IsaTest {
 protected:
  static constexpr std::size_t kRows = 3, kCols = 20, kStride = 24, kLen = 256;
  void SetUp() override {
    IsaTest::SetUp();
    xbuf = normal(kLen, 0.0f, 1.0f, 3000);
    ybuf = sentinel_buffer(kLen);
  }
  // A valid call: for each entry it would succeed.
  Call valid(Entry e) {
    Call c{xbuf.data(), kStride, ybuf.data(), kStride, kRows, kCols, opts()};
    if (single_row(e)) c.rows = 1;
    if (!strided(e)) c.xs = c.ys = c.cols;
    return c;
  }
  std::vector<float> xbuf, ybuf;
};
SST_INSTANTIATE_ALL_ISAS(Arguments);

TEST_P(Arguments, ValidCallSucceeds) {  // the baseline every case below breaks in one way
  for (Entry e : kEntries) {
    ybuf = sentinel_buffer(kLen);
    const Call c = valid(e);
    EXPECT_NO_THROW(invoke(e, c)) << entry_name(e);
    EXPECT_FALSE(is_sentinel(ybuf[0])) << entry_name(e);
  }
}

TEST_P(Arguments, NullX) {
  for (Entry e : kEntries) {
    Call c = valid(e);
    c.x = nullptr;
    expect_rejected(e, c, sentinel_buffer(kLen), ybuf, {"x"}, "x == nullptr");
  }
}

TEST_P(Arguments, NullY) {
  for (Entry e : kEntries) {
    Call c = valid(e);
    c.y = nullptr;
    expect_rejected(e, c, sentinel_buffer(kLen), ybuf, {"y"}, "y == nullptr");
  }
}

TEST_P(Arguments, StrideBelowCols) {
  for (Entry e : kEntries) {
    if (!strided(e)) continue;
    Call c = valid(e);
    c.xs = kCols - 1;
    expect_rejected(e, c, sentinel_buffer(kLen), ybuf, {"x_stride"}, "x_stride < cols");
    c = valid(e);
    c.ys = kCols - 1;
    expect_rejected(e, c, sentinel_buffer(kLen), ybuf, {"y_stride"}, "y_stride < cols");
    c = valid(e);
    c.xs = 0;
    c.rows = 1;
    expect_rejected(e, c, sentinel_buffer(kLen), ybuf, {"x_stride"}, "x_stride == 0, one row");
  }
}

TEST_P(Arguments, BadTemperature) {
  const float bad[] = {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
                       std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                       0.0f, -0.0f, -1.0f, -FLT_MIN, FLT_MIN / 2, std::numeric_limits<float>::denorm_min(),
                       std::nextafter(FLT_MIN, 0.0f)};
  for (Entry e : kEntries) {
    for (float t : bad) {
      Call c = valid(e);
      c.o.temperature = t;
      expect_rejected(e, c, sentinel_buffer(kLen), ybuf, {"options.temperature"},
                      "temperature " + fmt(t));
    }
  }
}

TEST_P(Arguments, PartialOverlap) {
  for (Entry e : kEntries) {
    // Shifted by less than a row, in both directions; y inside the sentinel buffer,
    // x inside it too (the buffer holds x's values here).
    for (std::ptrdiff_t shift : {std::ptrdiff_t{1}, std::ptrdiff_t{5}, std::ptrdiff_t{-1}, std::ptrdiff_t{-7}, static_cast<std::ptrdiff_t>(kCols - 1)}) {
      std::vector<float> buf = normal(kLen, 0.0f, 1.0f, 3100);
      const std::vector<float> before = buf;
      Call c = valid(e);
      c.y = buf.data() + 64;
      c.x = buf.data() + 64 + shift;
      expect_rejected(e, c, before, buf, {"x", "y"}, "y = x - " + std::to_string(shift));
    }
    // The last row of x overlaps the first row of y.
    if (!single_row(e)) {
      std::vector<float> buf = normal(kLen, 0.0f, 1.0f, 3200);
      const std::vector<float> before = buf;
      Call c = valid(e);
      c.x = buf.data();
      c.y = buf.data() + (kRows - 1) * c.xs + 3;
      expect_rejected(e, c, before, buf, {"x", "y"}, "last row of x overlaps first row of y");
    }
  }
}

TEST_P(Arguments, InPlaceWithDifferentStrides) {
  for (Entry e : kEntries) {
    if (!strided(e)) continue;
    std::vector<float> buf = normal(kLen, 0.0f, 1.0f, 3300);
    const std::vector<float> before = buf;
    Call c = valid(e);
    c.x = c.y = buf.data();
    c.xs = kStride;
    c.ys = kStride + 4;
    expect_rejected(e, c, before, buf, {"x", "y"}, "y == x, x_stride != y_stride");
    c.xs = kCols;
    c.ys = kStride;
    expect_rejected(e, c, before, buf, {"x", "y"}, "y == x, x_stride = cols != y_stride");
  }
}

TEST_P(Arguments, ExtentOverflowsSizeT) {
  const std::size_t big = std::numeric_limits<std::size_t>::max() / 2 + 1;
  for (Entry e : kEntries) {
    if (strided(e)) {
      Call c = valid(e);
      c.rows = 3;
      c.xs = big;
      expect_rejected(e, c, sentinel_buffer(kLen), ybuf, {"x_stride"}, "rows * x_stride overflows");
      c = valid(e);
      c.rows = 3;
      c.ys = big;
      expect_rejected(e, c, sentinel_buffer(kLen), ybuf, {"y_stride"}, "rows * y_stride overflows");
    } else if (!single_row(e)) {
      Call c = valid(e);
      c.rows = big;  // rows * cols overflows
      expect_rejected(e, c, sentinel_buffer(kLen), ybuf, {"rows"}, "rows * cols overflows");
    } else {
      Call c = valid(e);
      c.cols = big;  // n * sizeof(float) overflows
      expect_rejected(e, c, sentinel_buffer(kLen), ybuf, {}, "n * sizeof(float) overflows");
    }
  }
}

// A forced ISA not in available_isas() is rejected (testable only where one is missing).
TEST(ArgumentsIsa, ForcedUnavailableIsa) {
  std::vector<Isa> missing;
  for (Isa isa : all_isas())
    if (!is_available(isa)) missing.push_back(isa);
  if (missing.empty()) {
    GTEST_SKIP() << "every ISA is available here; nothing to reject";
  }
  const std::vector<float> x = normal(64, 0.0f, 1.0f, 3400);
  for (Isa isa : missing) {
    for (Entry e : kEntries) {
      std::vector<float> y = sentinel_buffer(x.size());
      Call c{x.data(), 16, y.data(), 16, 2, 16, Options{}};
      if (single_row(e)) c.rows = 1;
      c.o.isa = isa;
      expect_rejected(e, c, sentinel_buffer(x.size()), y, {"options.isa"},
                      "isa=" + std::string(simdsoftmax::to_string(isa)) + " (" + unavailable_reason(isa) + ")");
    }
  }
}

}  // namespace
}  // namespace sst
