// Argument checks and routing of a row or a batch to one kernel.
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "dispatch.hpp"
#include "fpenv.hpp"
#include "parallel.hpp"

namespace simdsoftmax {

std::string_view to_string(Isa isa) noexcept {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::neon: return "neon";
  }
  return "unknown";
}

std::optional<Isa> isa_from_string(std::string_view name) noexcept {
  for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon})
    if (name == to_string(isa)) return isa;
  return std::nullopt;
}

namespace {

[[noreturn]] void fail(const char* fn, const std::string& what) {
  throw std::invalid_argument(std::string("simdsoftmax::") + fn + ": " + what);
}

// How the caller spelled the sizes, for messages that name its arguments.
enum class Form { row, contiguous, strided };

// Elements spanned by a batch: (rows-1)*stride + cols, or fail on overflow.
std::size_t extent(const char* fn, Form form, const char* stride_name, std::size_t rows, std::size_t stride,
                   std::size_t cols) {
  std::size_t span;
  if (__builtin_mul_overflow(rows - 1, stride, &span) || __builtin_add_overflow(span, cols, &span) ||
      span > SIZE_MAX / sizeof(float)) {
    const std::string what = form == Form::row          ? "n = " + std::to_string(cols) + " floats"
                             : form == Form::contiguous ? "rows * cols"
                                                        : std::string("(rows - 1) * ") + stride_name + " + cols";
    fail(fn, what + " overflows the address space");
  }
  return span;
}

void run(const char* fn, Form form, bool log, const float* x, std::size_t x_stride, float* y,
         std::size_t y_stride, std::size_t rows, std::size_t cols, const Options& o) {
  if (x_stride < cols) fail(fn, "x_stride (" + std::to_string(x_stride) + ") < cols (" + std::to_string(cols) + ")");
  if (y_stride < cols) fail(fn, "y_stride (" + std::to_string(y_stride) + ") < cols (" + std::to_string(cols) + ")");
  const float t = o.temperature;
  if (!std::isfinite(t) || !(t >= FLT_MIN))
    fail(fn, "options.temperature must be finite and >= FLT_MIN, got " + std::to_string(t));
  if (o.threads < 0) fail(fn, "options.threads must be >= 0 (0 = all hardware threads), got " + std::to_string(o.threads));
  const kernels::Table* table = &detail::active_table();
  if (o.isa) {
    table = detail::table_for(*o.isa);
    if (!table) fail(fn, "options.isa = " + std::string(to_string(*o.isa)) + " is not available on this CPU/build");
  }
  if (rows == 0 || cols == 0) return;
  const detail::DefaultFpEnv env;  // also for 1/T below: the caller's rounding mode must not reach the result
  if (!x) fail(fn, "x is null");
  if (!y) fail(fn, "y is null");
  const std::size_t nx = extent(fn, form, "x_stride", rows, x_stride, cols);
  const std::size_t ny = extent(fn, form, "y_stride", rows, y_stride, cols);
  const auto xa = reinterpret_cast<std::uintptr_t>(x), ya = reinterpret_cast<std::uintptr_t>(y);
  if (xa > UINTPTR_MAX - nx * sizeof(float)) fail(fn, "x + extent wraps around the address space");
  if (ya > UINTPTR_MAX - ny * sizeof(float)) fail(fn, "y + extent wraps around the address space");
  const bool in_place = xa == ya && x_stride == y_stride;
  if (!in_place && xa < ya + ny * sizeof(float) && ya < xa + nx * sizeof(float))
    fail(fn, "x and y overlap (only y == x with equal strides is allowed)");
  const kernels::Job job{x, x_stride, y, y_stride, rows, cols, 1.0f / t, detail::sum_chunk(cols)};
  detail::execute(*table, log, job, o.threads);
}

}  // namespace

void softmax(const float* x, float* y, std::size_t n, const Options& o) {
  run("softmax", Form::row, false, x, n, y, n, 1, n, o);
}
void log_softmax(const float* x, float* y, std::size_t n, const Options& o) {
  run("log_softmax", Form::row, true, x, n, y, n, 1, n, o);
}
void softmax_rows(const float* x, float* y, std::size_t rows, std::size_t cols, const Options& o) {
  run("softmax_rows", Form::contiguous, false, x, cols, y, cols, rows, cols, o);
}
void log_softmax_rows(const float* x, float* y, std::size_t rows, std::size_t cols, const Options& o) {
  run("log_softmax_rows", Form::contiguous, true, x, cols, y, cols, rows, cols, o);
}
void softmax_rows(const float* x, std::size_t x_stride, float* y, std::size_t y_stride, std::size_t rows,
                  std::size_t cols, const Options& o) {
  run("softmax_rows", Form::strided, false, x, x_stride, y, y_stride, rows, cols, o);
}
void log_softmax_rows(const float* x, std::size_t x_stride, float* y, std::size_t y_stride,
                      std::size_t rows, std::size_t cols, const Options& o) {
  run("log_softmax_rows", Form::strided, true, x, x_stride, y, y_stride, rows, cols, o);
}

}  // namespace simdsoftmax
