// Differential fuzz target (libFuzzer entry point; tests/fuzz/replay_main.cpp
// gives it a main() for ordinary builds, which replay the corpus).
//
// The input bytes decode into one call: op (softmax / log-softmax), form (row,
// contiguous batch, strided batch), in place or not, a forced ISA (possibly
// one this CPU lacks), rows, cols, strides, temperature (from a table or raw
// bits, possibly invalid), pointer offsets (every alignment mod 64 bytes),
// Options::threads, an optional bad argument (stride < cols, partial overlap,
// null pointer, negative threads, size/stride overflow, pointer wrap), and the
// row data (raw float bits, or one byte per float from a table of specials:
// NaN, +-inf, +-0, denormals, +-3e38, FLT_MAX, ... and small values).
//
// A call that design.md says must be rejected must throw std::invalid_argument
// (naming the argument, where the argument is a plain one) with x and y
// untouched. Any other call runs on every available ISA and with the default
// ISA, and each result must:
//   - leave canaries before and after y, and the gaps between strided rows, untouched,
//     and x untouched (unless in place);
//   - obey the semantics lines: NaN row -> all NaN; +inf entries share the mass
//     (1/k, -log k), the rest 0 / -inf; all -inf -> 0 / -inf;
//   - otherwise be within design.md's bounds of the long-double reference
//     (tests/support/test_support.hpp's checkers);
//   - agree with the scalar kernel (same NaN/inf pattern, within twice the bound);
//   - be bit-identical to threads = 1 when threads != 1, and the default-ISA
//     call bit-identical to forcing active_isa().
// Any violation prints the case and aborts, which libFuzzer records as a crash.
#include <simdsoftmax/simdsoftmax.hpp>

#include <cfloat>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__has_include)
#if __has_include(<sanitizer/asan_interface.h>)
#include <sanitizer/asan_interface.h>
#endif
#endif
#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#endif

#include "support/test_support.hpp"

namespace {

using simdsoftmax::Isa;
using simdsoftmax::Options;
using sst::Op;

constexpr std::size_t kMaxSpan = std::size_t{1} << 18;  // floats per batch array, to keep executions fast
constexpr std::size_t kCanary = 16;                     // floats before and after y

// Bytes in, integers out; zeros once the input is used up.
class Reader {
 public:
  Reader(const std::uint8_t* p, std::size_t n) : p_(p), n_(n) {}
  std::uint8_t u8() { return i_ < n_ ? p_[i_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(u16()) | (static_cast<std::uint32_t>(u16()) << 16); }
  std::uint64_t u64() { return static_cast<std::uint64_t>(u32()) | (static_cast<std::uint64_t>(u32()) << 32); }
  std::size_t pos() const { return i_; }
  std::size_t left() const { return n_ - i_; }

 private:
  const std::uint8_t* p_;
  std::size_t n_, i_ = 0;
};

enum class Form { row, contiguous, strided };
enum class Bad { none, x_stride, y_stride, overlap, null_x, null_y, threads, overflow, wrap };
const char* bad_name(Bad b) {
  switch (b) {
    case Bad::none: return "none";
    case Bad::x_stride: return "x_stride < cols";
    case Bad::y_stride: return "y_stride < cols";
    case Bad::overlap: return "partial overlap";
    case Bad::null_x: return "null x";
    case Bad::null_y: return "null y";
    case Bad::threads: return "negative threads";
    case Bad::overflow: return "size/stride overflow";
    case Bad::wrap: return "pointer wrap";
  }
  return "?";
}

struct Case {
  Op op = Op::softmax;
  Form form = Form::row;
  bool in_place = false;
  std::optional<Isa> forced;
  std::size_t rows = 1, cols = 0, xs = 0, ys = 0;
  float t = 1.0f;
  std::size_t xoff = 0, yoff = 0;
  int threads = 1;
  Bad bad = Bad::none;
  std::size_t extra_at = 0;  // where the bad argument's own bytes start (they double as data)
  std::vector<float> data;  // the row values, cycled over x
};

std::string describe(const Case& c) {
  char b[512];
  std::snprintf(b, sizeof b,
                "op=%s form=%s in_place=%d forced_isa=%s rows=%zu cols=%zu x_stride=%zu y_stride=%zu T=%a (%g) "
                "x_off=%zu y_off=%zu threads=%d bad=%s data=%zu floats",
                sst::op_name(c.op), c.form == Form::row ? "row" : c.form == Form::contiguous ? "contiguous" : "strided",
                c.in_place, c.forced ? std::string(simdsoftmax::to_string(*c.forced)).c_str() : "(none)", c.rows, c.cols,
                c.xs, c.ys, static_cast<double>(c.t), static_cast<double>(c.t), c.xoff, c.yoff, c.threads,
                bad_name(c.bad), c.data.size());
  return b;
}

[[noreturn]] void fail(const Case& c, const std::string& what) {
  std::fprintf(stderr, "\n*** simdsoftmax fuzz failure: %s\n*** case: %s\n", what.c_str(), describe(c).c_str());
  std::fflush(stderr);
  std::abort();
}

float special(std::uint8_t b) {
  static const float table[16] = {
      std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
      std::numeric_limits<float>::infinity(),  -std::numeric_limits<float>::infinity(),
      0.0f,                                    -0.0f,
      std::numeric_limits<float>::denorm_min(), -FLT_MIN / 3,
      3e38f,                                   -3e38f,
      FLT_MAX,                                 -FLT_MAX,
      FLT_MIN,                                 88.7f,
      -87.4f,                                  1e30f,
  };
  return table[b & 15];
}

float temperature(Reader& r) {
  const std::uint8_t k = r.u8();
  switch (k % 16) {
    case 0: case 1: case 2: return 1.0f;
    case 3: return 0.5f;
    case 4: return 3.7f;
    case 5: return 1e-3f;
    case 6: return FLT_MIN;
    case 7: return 1e-30f;
    case 8: return 1e30f;
    case 9: return FLT_MAX;
    case 10: return 0.1f;
    default: return sst::from_bits(r.u32());  // anything, valid or not
  }
}

Case decode(const std::uint8_t* p, std::size_t n) {
  Reader r(p, n);
  Case c;
  const std::uint8_t flags = r.u8();
  c.op = flags & 1 ? Op::log_softmax : Op::softmax;
  const unsigned form = (flags >> 1) & 3;
  c.form = form == 0 ? Form::row : form == 1 ? Form::contiguous : Form::strided;
  c.in_place = flags & 8;
  const bool bad = flags & 16;
  const unsigned th = (flags >> 5) & 3;
  c.threads = th == 1 ? 2 : th == 2 ? 0 : 1;
  const bool raw = flags & 128;

  const std::uint8_t isa = r.u8() % 6;
  if (isa >= 2) c.forced = static_cast<Isa>(isa - 2);

  const std::uint8_t rows = r.u8();
  const std::uint16_t cols = r.u16();
  // Long rows now and then: up to 163835 floats (two sum chunks of 64K, and
  // more than 2 chunks: split across threads when threads != 1).
  c.cols = cols & 0x8000 ? (cols & 0x7FFF) * 5u : cols % 600u;
  c.rows = c.form == Form::row ? 1 : rows == 255 ? 0 : 1 + rows % 24u;
  const std::uint8_t xpad = r.u8(), ypad = r.u8();
  c.xs = c.cols + (c.form == Form::strided ? xpad % 20u : 0u);
  c.ys = c.in_place ? c.xs : c.cols + (c.form == Form::strided ? ypad % 20u : 0u);
  c.t = temperature(r);
  const std::uint8_t offs = r.u8();
  c.xoff = offs & 15;
  c.yoff = offs >> 4;

  // Keep the arrays within kMaxSpan floats.
  while (c.rows > 1 && (c.rows - 1) * std::max(c.xs, c.ys) + c.cols > kMaxSpan) --c.rows;

  if (bad) {
    const std::uint8_t kind = r.u8();
    c.bad = static_cast<Bad>(1 + kind % 8);
    c.extra_at = r.pos();
  }

  // The data: what is left, 4 bytes per float (raw) or 1 byte per float.
  if (raw) {
    while (r.left() >= 4) c.data.push_back(sst::from_bits(r.u32()));
  } else {
    while (r.left() > 0) {
      const std::uint8_t b = r.u8();
      c.data.push_back(b < 16 ? special(b) : static_cast<float>(static_cast<int>(b) - 136) / 8.0f);
    }
  }
  if (c.data.empty()) c.data.push_back(0.0f);
  // The output sentinel is a NaN payload; a NaN row may pass its input payload
  // through, so inputs never carry that exact pattern (any other NaN will do).
  for (float& f : c.data)
    if (sst::is_sentinel(f)) f = sst::from_bits(sst::kSentinelBits ^ 1u);
  return c;
}

// memcmp that accepts empty (possibly null) ranges.
bool same(const void* a, const void* b, std::size_t bytes) { return bytes == 0 || std::memcmp(a, b, bytes) == 0; }

bool available(Isa isa) {
  for (Isa a : simdsoftmax::available_isas())
    if (a == isa) return true;
  return false;
}

void call(Op op, Form form, const float* x, std::size_t xs, float* y, std::size_t ys, std::size_t rows,
          std::size_t cols, const Options& o) {
  switch (form) {
    case Form::row: return sst::call_row(op, x, y, cols, o);
    case Form::contiguous: return sst::call_rows(op, x, y, rows, cols, o);
    case Form::strided: return sst::call_strided(op, x, xs, y, ys, rows, cols, o);
  }
}

// Elements spanned, or false when (rows-1)*stride + cols or its bytes overflow.
bool extent(std::size_t rows, std::size_t stride, std::size_t cols, std::size_t* span) {
  return !__builtin_mul_overflow(rows - 1, stride, span) && !__builtin_add_overflow(*span, cols, span) &&
         *span <= SIZE_MAX / sizeof(float);
}

// A 64-byte aligned array of exactly `n` floats as far as ASan is concerned.
struct Buffer {
  explicit Buffer(std::size_t n) : n(n) {
    void* p = nullptr;
    if (posix_memalign(&p, 64, (n ? n : 1) * sizeof(float)) != 0) std::abort();
    data = static_cast<float*>(p);
    for (std::size_t i = 0; i < n; ++i) data[i] = sst::sentinel();
  }
  ~Buffer() {
    ASAN_UNPOISON_MEMORY_REGION(data, n * sizeof(float));
    std::free(data);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  float* data;
  std::size_t n;
};

// ---------------------------------------------------------------------------
// Bad arguments: the call must throw std::invalid_argument and write nothing.

struct Args {
  const float* x;
  std::size_t xs;
  float* y;
  std::size_t ys;
  std::size_t rows, cols;
  Options o;
};

// design.md's rejection rules, computed independently of the library. Returns
// whether the call must be rejected; `names` gets the argument of every rule
// that applies (the message must name one of them; "" when a rule has no
// single argument to name, e.g. an overflowing extent, which test_overflow.cpp checks).
bool must_reject(const Args& a, std::vector<std::string>* names) {
  names->clear();
  if (a.xs < a.cols) names->push_back("x_stride");
  if (a.ys < a.cols) names->push_back("y_stride");
  if (!std::isfinite(a.o.temperature) || !(a.o.temperature >= FLT_MIN)) names->push_back("options.temperature");
  if (a.o.threads < 0) names->push_back("options.threads");
  if (a.o.isa && !available(*a.o.isa)) names->push_back("options.isa");
  if (!names->empty()) return true;
  if (a.rows == 0 || a.cols == 0) return false;  // nothing read or written: valid
  if (!a.x) names->push_back("x");
  if (!a.y) names->push_back("y");
  if (!names->empty()) return true;
  std::size_t nx, ny;
  if (!extent(a.rows, a.xs, a.cols, &nx) || !extent(a.rows, a.ys, a.cols, &ny)) return names->push_back(""), true;
  const auto xa = reinterpret_cast<std::uintptr_t>(a.x), ya = reinterpret_cast<std::uintptr_t>(a.y);
  if (xa > UINTPTR_MAX - nx * sizeof(float)) names->push_back("x");
  if (ya > UINTPTR_MAX - ny * sizeof(float)) names->push_back("y");
  if (!names->empty()) return true;
  const bool in_place = xa == ya && a.xs == a.ys;
  if (!in_place && xa < ya + ny * sizeof(float) && ya < xa + nx * sizeof(float)) {
    names->push_back("x");
    names->push_back("y");
  }
  return !names->empty();
}

bool names(const std::string& msg, const std::string& name) {
  for (std::size_t at = msg.find(name); at != std::string::npos; at = msg.find(name, at + 1)) {
    const auto ident = [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; };
    const bool left = at == 0 || !ident(msg[at - 1]);
    const bool right = at + name.size() == msg.size() || !ident(msg[at + name.size()]);
    if (left && right) return true;
  }
  return false;
}

void expect_rejected(const Case& c, const Args& a, const std::vector<std::string>& any_of, const float* watch,
                     std::size_t watch_n) {
  std::vector<std::uint32_t> before(watch_n);
  if (watch_n) std::memcpy(before.data(), watch, watch_n * sizeof(float));
  std::string msg;
  bool thrown = false;
  try {
    call(c.op, c.form, a.x, a.xs, a.y, a.ys, a.rows, a.cols, a.o);
  } catch (const std::invalid_argument& e) {
    thrown = true;
    msg = e.what();
  } catch (...) {
    fail(c, "a bad argument threw something other than std::invalid_argument");
  }
  std::string list;
  bool named = false;
  for (const std::string& n : any_of) {
    list += (list.empty() ? "" : " or ") + (n.empty() ? std::string("(none)") : n);
    named |= n.empty() || names(msg, n);
  }
  if (!thrown) fail(c, "a bad argument was accepted (expected std::invalid_argument naming " + list + ")");
  if (!named) fail(c, "message names none of " + list + ": " + msg);
  if (!same(before.data(), watch, watch_n * sizeof(float))) fail(c, "a rejected call modified memory");
}

// Forms with fewer arguments pin the strides (and rows) to what the call implies.
void normalize(Form form, Args& a) {
  if (form == Form::row) a.rows = 1;
  if (form != Form::strided) a.xs = a.ys = a.cols;
}

void run_bad(Case& c, Reader extra) {
  Options o;
  o.temperature = c.t;
  o.isa = c.forced;
  o.threads = c.threads;
  std::size_t span;
  if (!extent(std::max<std::size_t>(c.rows, 1), std::max(c.xs, c.ys), c.cols, &span)) return;
  Buffer buf(2 * span + 64);
  float* const base = buf.data + 32;
  for (std::size_t i = 0; i < span; ++i) base[i] = c.data[i % c.data.size()];
  float* const y0 = base + span;  // a separate region of the same buffer
  Args a{base, c.xs, y0, c.ys, c.rows, c.cols, o};
  switch (c.bad) {
    case Bad::x_stride:
    case Bad::y_stride: {
      if (c.cols == 0) return;
      c.form = Form::strided;
      const std::size_t s = c.cols - 1 - extra.u8() % c.cols;
      (c.bad == Bad::x_stride ? a.xs : a.ys) = s;
      break;
    }
    case Bad::overlap: {
      // y shifted against x by less than their extents, or y == x with different strides.
      const std::size_t shift = extra.u8() % (span + 1);
      const bool down = extra.u8() & 1;
      a.y = const_cast<float*>(down ? base + shift : base);
      a.x = down ? base : base + shift;
      if (shift == 0 && c.form == Form::strided && a.xs == a.ys) a.ys = a.xs + 1 + extra.u8() % 4;
      break;
    }
    case Bad::null_x: a.x = nullptr; break;
    case Bad::null_y: a.y = nullptr; break;
    case Bad::threads: a.o.threads = -1 - static_cast<int>(extra.u8()); break;
    case Bad::overflow: {
      // Sizes from raw 64-bit values: called only when they must be rejected.
      const std::uint64_t r = extra.u64(), s = extra.u64(), k = extra.u64();
      a.rows = static_cast<std::size_t>(r >> (extra.u8() % 64));
      a.cols = static_cast<std::size_t>(k >> (extra.u8() % 64));
      a.xs = a.ys = std::max<std::size_t>(a.cols, static_cast<std::size_t>(s >> (extra.u8() % 64)));
      if (extra.u8() & 1) a.ys = a.cols;
      break;
    }
    case Bad::wrap: {  // a (never dereferenced) pointer near the top of the address space
      const std::uintptr_t top = UINTPTR_MAX - 63 - (static_cast<std::uintptr_t>(extra.u16()) << 6);
      if (extra.u8() & 1)
        a.x = reinterpret_cast<const float*>(top);
      else
        a.y = reinterpret_cast<float*>(top);
      break;
    }
    case Bad::none: return;
  }
  normalize(c.form, a);
  std::vector<std::string> names;
  if (!must_reject(a, &names)) {
    // Valid after all. Run it only if it stays inside our buffer.
    const bool own = [&] {
      std::size_t nx, ny;
      if (!extent(a.rows, a.xs, a.cols, &nx) || !extent(a.rows, a.ys, a.cols, &ny)) return false;
      const auto in = [&](const float* p, std::size_t k) {
        return p >= buf.data && p + k <= buf.data + buf.n;  // pointers of our own buffer only
      };
      return a.rows == 0 || a.cols == 0 || (a.x && a.y && in(a.x, nx) && in(a.y, ny));
    }();
    if (own && (a.rows == 0 || a.cols == 0)) {
      try {
        call(c.op, c.form, a.x, a.xs, a.y, a.ys, a.rows, a.cols, a.o);
      } catch (const std::exception& e) {
        fail(c, std::string("an empty call threw: ") + e.what());
      }
    }
    return;
  }
  expect_rejected(c, a, names, buf.data, buf.n);
  if (std::getenv("SIMDSOFTMAX_FUZZ_VERBOSE"))
    std::fprintf(stderr, "  rejected as expected: rows=%zu cols=%zu x_stride=%zu y_stride=%zu x=%p y=%p\n", a.rows,
                 a.cols, a.xs, a.ys, static_cast<const void*>(a.x), static_cast<void*>(a.y));
}

// ---------------------------------------------------------------------------
// Valid calls.

struct RowClass {
  bool nan = false;
  std::size_t pos_inf = 0;
  bool all_neg_inf = true;
};

RowClass classify(const float* x, std::size_t n) {
  RowClass k;
  for (std::size_t i = 0; i < n; ++i) {
    k.nan |= std::isnan(x[i]);
    k.pos_inf += std::isinf(x[i]) && x[i] > 0;
    k.all_neg_inf &= std::isinf(x[i]) && x[i] < 0;
  }
  return k;
}

// The semantics lines and the bounds for one output row.
std::string check_row(Op op, const float* x, const float* y, std::size_t n, float t, const sst::Reference* ref) {
  const RowClass k = classify(x, n);
  const bool soft = op == Op::softmax;
  char b[256];
  if (k.nan) {
    for (std::size_t i = 0; i < n; ++i)
      if (!std::isnan(y[i]) || sst::is_sentinel(y[i])) {
        std::snprintf(b, sizeof b, "NaN row: y[%zu] = %a, want NaN", i, static_cast<double>(y[i]));
        return b;
      }
    return "";
  }
  if (k.pos_inf) {
    const double share = 1.0 / static_cast<double>(k.pos_inf), lshare = -std::log(static_cast<double>(k.pos_inf));
    for (std::size_t i = 0; i < n; ++i) {
      const bool hit = std::isinf(x[i]) && x[i] > 0;
      const bool ok = hit ? (soft ? std::fabs(y[i] - share) <= 2e-6 * share : std::fabs(y[i] - lshare) <= 2e-6 * (1 - lshare))
                          : y[i] == (soft ? 0.0f : -INFINITY);
      if (!ok) {
        std::snprintf(b, sizeof b, "+inf row (k=%zu): y[%zu] = %a for x = %a", k.pos_inf, i, static_cast<double>(y[i]),
                      static_cast<double>(x[i]));
        return b;
      }
    }
    return "";
  }
  if (k.all_neg_inf) {
    for (std::size_t i = 0; i < n; ++i)
      if (!(y[i] == (soft ? 0.0f : -INFINITY))) {
        std::snprintf(b, sizeof b, "all -inf row: y[%zu] = %a", i, static_cast<double>(y[i]));
        return b;
      }
    return "";
  }
  const auto res = sst::check_op(op, x, y, n, t, ref);
  if (!res) return res.message();
  if (soft)
    for (std::size_t i = 0; i < n; ++i)
      if (!std::isfinite(y[i])) return "softmax gave a non-finite value for a row with a finite max";
  return "";
}

// Against the scalar kernel: the same NaN/inf pattern, values within twice the bound.
std::string check_vs_scalar(Op op, const float* x, const float* y, const float* ys, std::size_t n,
                            const sst::Reference* ref) {
  char b[256];
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(y[i]) != std::isnan(ys[i])) {
      std::snprintf(b, sizeof b, "NaN pattern differs from scalar at %zu: %a vs %a", i, static_cast<double>(y[i]),
                    static_cast<double>(ys[i]));
      return b;
    }
    if (std::isnan(y[i]) || y[i] == ys[i]) continue;
    if (!ref) {  // special rows: exact rules, the same value
      if (std::fabs(static_cast<double>(y[i]) - ys[i]) <= 4e-6 * std::fabs(static_cast<double>(ys[i]))) continue;
    } else {
      const double r = op == Op::softmax ? ref->soft[i] : ref->log[i];
      const double bound =
          op == Op::softmax ? sst::softmax_bound(r, ref->a[i], n) : sst::log_softmax_bound(r);
      const bool beyond_float = r < -static_cast<double>(FLT_MAX);
      if (std::isinf(y[i]) || std::isinf(ys[i])) {
        if (beyond_float) continue;  // either may round to -inf there
      } else if (std::fabs(static_cast<double>(y[i]) - ys[i]) <= 2 * bound) {
        continue;
      }
    }
    std::snprintf(b, sizeof b, "differs from scalar at %zu (x = %a): %a vs %a", i, static_cast<double>(x[i]),
                  static_cast<double>(y[i]), static_cast<double>(ys[i]));
    return b;
  }
  return "";
}

void run_valid(const Case& c) {
  const std::size_t rows = c.rows, cols = c.cols;
  const std::size_t xspan = rows && cols ? (rows - 1) * c.xs + cols : 0;
  const std::size_t yspan = rows && cols ? (rows - 1) * c.ys + cols : 0;

  // x: exactly xoff + xspan floats for ASan, the first xoff poisoned.
  std::vector<float> x0(xspan);
  for (std::size_t i = 0; i < xspan; ++i) x0[i] = c.data[i % c.data.size()];

  // References of the rows with a finite max (shared by every ISA).
  std::vector<sst::Reference> refs(rows);
  std::vector<bool> ordinary(rows, false);
  for (std::size_t r = 0; r < rows && cols; ++r) {
    const float* xr = x0.data() + r * c.xs;
    const RowClass k = classify(xr, cols);
    ordinary[r] = !k.nan && !k.pos_inf && !k.all_neg_inf;
    if (ordinary[r]) refs[r] = sst::reference(xr, cols, c.t);
  }

  std::vector<std::optional<Isa>> runs;
  for (Isa isa : simdsoftmax::available_isas()) runs.emplace_back(isa);
  runs.emplace_back(std::nullopt);  // the default choice

  std::vector<std::pair<Isa, std::vector<float>>> results;  // packed rows of each forced ISA
  std::vector<float> active_y;
  const Isa active = simdsoftmax::active_isa();
  for (const auto& isa : runs) {
    const std::size_t ylen = kCanary + c.yoff + yspan + kCanary;
    Buffer ybuf(c.in_place ? kCanary + c.xoff + xspan + kCanary : ylen);
    Buffer xbuf(c.xoff + xspan);
    float* const x = xbuf.data + c.xoff;
    std::copy(x0.begin(), x0.end(), x);
    float* y = ybuf.data + kCanary + c.yoff;
    std::size_t ybegin = kCanary + c.yoff;
    if (c.in_place) {
      y = ybuf.data + kCanary + c.xoff;
      ybegin = kCanary + c.xoff;
      std::copy(x0.begin(), x0.end(), y);
    }
    ASAN_POISON_MEMORY_REGION(xbuf.data, c.xoff * sizeof(float));
    Options o;
    o.temperature = c.t;
    o.isa = isa;
    o.threads = c.threads;
    const float* xin = c.in_place ? y : x;
    try {
      call(c.op, c.form, xin, c.xs, y, c.ys, rows, cols, o);
    } catch (const std::exception& e) {
      fail(c, std::string("a valid call threw: ") + e.what());
    }
    ASAN_UNPOISON_MEMORY_REGION(xbuf.data, c.xoff * sizeof(float));
    const std::string who = isa ? std::string(simdsoftmax::to_string(*isa)) : "default";

    // Memory outside the rows.
    if (!c.in_place && !same(x, x0.data(), xspan * sizeof(float))) fail(c, who + ": x modified");
    for (std::size_t i = 0; i < ybegin; ++i)
      if (!sst::is_sentinel(ybuf.data[i])) fail(c, who + ": wrote before y (canary " + std::to_string(i) + ")");
    const std::size_t ys = c.in_place ? c.xs : c.ys, yend = ybegin + (c.in_place ? xspan : yspan);
    for (std::size_t i = yend; i < ybuf.n; ++i)
      if (!sst::is_sentinel(ybuf.data[i])) fail(c, who + ": wrote past y (canary " + std::to_string(i - yend) + ")");
    for (std::size_t r = 0; r + 1 < rows && cols; ++r)
      for (std::size_t j = cols; j < ys; ++j) {
        const float g = y[r * ys + j];
        if (c.in_place ? sst::bits(g) != sst::bits(x0[r * ys + j]) : !sst::is_sentinel(g))
          fail(c, who + ": wrote into the gap after row " + std::to_string(r));
      }
    if (rows == 0 || cols == 0) {
      if (c.in_place ? !same(y, x0.data(), xspan * sizeof(float)) : false) fail(c, who + ": empty call wrote");
      continue;
    }

    // Semantics and bounds, per row.
    for (std::size_t r = 0; r < rows; ++r) {
      const float* xr = x0.data() + r * c.xs;
      const std::string e = check_row(c.op, xr, y + r * ys, cols, c.t, ordinary[r] ? &refs[r] : nullptr);
      if (!e.empty()) fail(c, who + ": row " + std::to_string(r) + ": " + e);
    }

    // Packed rows of this run, for the comparisons across runs.
    std::vector<float> packed(rows * cols);
    for (std::size_t r = 0; r < rows; ++r) std::copy(y + r * ys, y + r * ys + cols, packed.begin() + r * cols);

    if (c.threads != 1) {  // bit-identical to one thread
      Options o1 = o;
      o1.threads = 1;
      Buffer y1(yspan + (c.in_place ? xspan : 0));
      float* yy = y1.data;
      if (c.in_place) std::copy(x0.begin(), x0.end(), yy);
      call(c.op, c.form, c.in_place ? yy : x, c.xs, yy, ys, rows, cols, o1);
      for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t j = 0; j < cols; ++j) {
          const float a = yy[r * ys + j], b = packed[r * cols + j];
          // Bit-identical, except that a NaN's sign and payload are not
          // promised: in a NaN row the scalar kernel gives -NaN on one thread
          // and +NaN on two (the NaN comes out of different arithmetic).
          if (sst::bits(a) != sst::bits(b) && !(std::isnan(a) && std::isnan(b)))
            fail(c, who + ": threads=" + std::to_string(c.threads) + " differs from threads=1 in row " +
                        std::to_string(r) + " at " + std::to_string(j));
        }
    }
    if (isa && *isa == active) active_y = packed;
    if (!isa && !same(packed.data(), active_y.data(), packed.size() * sizeof(float)))
      fail(c, "the default call differs from forcing active_isa() = " + std::string(simdsoftmax::to_string(active)));
    if (isa) results.emplace_back(*isa, std::move(packed));
  }

  // Every ISA against the scalar kernel.
  const std::vector<float>* scalar_y = nullptr;
  for (const auto& [isa, y] : results)
    if (isa == Isa::scalar) scalar_y = &y;
  if (!scalar_y || rows == 0 || cols == 0) return;
  for (const auto& [isa, y] : results) {
    if (isa == Isa::scalar) continue;
    for (std::size_t r = 0; r < rows; ++r) {
      const std::string e = check_vs_scalar(c.op, x0.data() + r * c.xs, y.data() + r * cols,
                                            scalar_y->data() + r * cols, cols, ordinary[r] ? &refs[r] : nullptr);
      if (!e.empty()) fail(c, std::string(simdsoftmax::to_string(isa)) + " vs scalar: row " + std::to_string(r) + ": " + e);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Case c = decode(data, size);
  static const bool verbose = std::getenv("SIMDSOFTMAX_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "case: %s\n", describe(c).c_str());
  Options o;
  o.temperature = c.t;
  o.isa = c.forced;
  o.threads = c.threads;
  if (c.bad != Bad::none) {
    run_bad(c, Reader(data + c.extra_at, size - c.extra_at));
    return 0;
  }
  // A temperature or forced ISA that is bad on its own: a small real call must be rejected.
  if (!std::isfinite(c.t) || !(c.t >= FLT_MIN) || (c.forced && !available(*c.forced))) {
    const std::size_t n = std::min(c.cols, c.data.size());
    std::vector<float> ybuf(std::max<std::size_t>(n, 1), sst::sentinel());
    Args a{c.data.data(), n, ybuf.data(), n, 1, n, o};
    std::vector<std::string> names;
    if (!must_reject(a, &names)) fail(c, "internal: expected a plain bad argument");
    Case c1 = c;
    c1.form = Form::strided;
    expect_rejected(c1, a, names, ybuf.data(), ybuf.size());
    return 0;
  }
  run_valid(c);
  return 0;
}
