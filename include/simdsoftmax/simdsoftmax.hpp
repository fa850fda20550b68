// simdsoftmax: row-wise softmax and log-softmax over float rows and batches,
// with a kernel per ISA (avx512, avx2, neon, scalar) chosen at run time.
// This header is the whole public API; it needs nothing but the C++17 library.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace simdsoftmax {

enum class Isa { scalar, avx2, avx512, neon };

// "scalar" "avx2" "avx512" "neon"
std::string_view to_string(Isa isa) noexcept;
// Inverse of to_string; nullopt for any other text.
std::optional<Isa> isa_from_string(std::string_view name) noexcept;
// Compiled in AND runnable on this CPU/OS, best first, scalar last.
std::vector<Isa> available_isas();
// The kernel a call without Options::isa uses: SIMDSOFTMAX_ISA if it names an
// available ISA (read once per process), else the best available one.
Isa active_isa();

struct Options {
  float temperature = 1.0f;  // logits are divided by it; finite and >= FLT_MIN
  std::optional<Isa> isa;    // force one kernel (tests, benchmarks); must be available
  // 1: run on the calling thread (the default: the caller owns its threads).
  // 0: all hardware threads; N: up to N. Batches split by rows, a long row into
  // chunks; small work stays on the calling thread. Results are bit-identical
  // for every value. Ignored (1) when built with SIMDSOFTMAX_OPENMP=OFF.
  int threads = 1;
};

// One row of n floats. y may equal x (in place); any other overlap throws.
void softmax(const float* x, float* y, std::size_t n, const Options& options = {});
void log_softmax(const float* x, float* y, std::size_t n, const Options& options = {});

// A batch: rows x cols, row-major, contiguous.
void softmax_rows(const float* x, float* y, std::size_t rows, std::size_t cols,
                  const Options& options = {});
void log_softmax_rows(const float* x, float* y, std::size_t rows, std::size_t cols,
                      const Options& options = {});

// A batch with row strides, in elements (each >= cols). In place needs y == x
// and y_stride == x_stride.
void softmax_rows(const float* x, std::size_t x_stride, float* y, std::size_t y_stride,
                  std::size_t rows, std::size_t cols, const Options& options = {});
void log_softmax_rows(const float* x, std::size_t x_stride, float* y, std::size_t y_stride,
                      std::size_t rows, std::size_t cols, const Options& options = {});

}  // namespace simdsoftmax
