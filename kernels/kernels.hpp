// The interface between src/ (baseline flags) and the per-ISA kernel objects.
// Plain declarations only: no xsimd, no intrinsics, nothing inline, so that
// nothing compiled with ISA flags can be shared with baseline code by the linker.
#pragma once

#include <cstddef>

namespace simdsoftmax::kernels {

// A batch job, already validated by src/: rows >= 1, cols >= 1, strides >= cols,
// inv_temperature = 1/T (finite, > 0). A row's sum of exponentials is the
// in-order double sum of the sums of its chunks of `chunk` elements (>= 1); src/
// picks chunk from cols alone, so a row gives the same bits on any thread count.
struct Job {
  const float* x;
  std::size_t x_stride;
  float* y;
  std::size_t y_stride;
  std::size_t rows;
  std::size_t cols;
  float inv_temperature;
  std::size_t chunk;
};

struct Table {
  void (*softmax_rows)(const Job& job);
  void (*log_softmax_rows)(const Job& job);
  // The three passes of one row, chunk by chunk, for splitting it across threads:
  float (*row_max)(const float* x, std::size_t n);
  // stores e_i = exp((x_i - m)c) (or a_i = (x_i - m)c when log) to y, returns the sum of e_i
  double (*exp_sum)(const float* x, float* y, std::size_t n, float m, float c, bool log);
  // y *= f, or y += f when log
  void (*finish)(float* y, std::size_t n, float f, bool log);
  // The two passes of a row too long for the caches (src/parallel.cpp):
  // *m = the chunk's max; if finite, returns the sum of e_i (stores nothing);
  // meanwhile prefetches next[0, n) (the next chunk, or null) into L2
  double (*max_exp_sum)(const float* x, std::size_t n, float c, bool log, float* m, const float* next);
  // y = e_i * f, or a_i + f when log, with non-temporal stores where the ISA has them
  void (*exp_scale)(const float* x, float* y, std::size_t n, float m, float c, float f, bool log);
  // y[i] = the kernel's exp(x[i]) for x[i] <= 0 (and NaN); exposed for the ulp sweep test.
  void (*exp)(const float* x, float* y, std::size_t n);
  // y[i] = the exp whose results log-softmax only adds up (SumOnly in kernels/softmax.hpp); for its test.
  void (*sum_exp)(const float* x, float* y, std::size_t n);
  // y[i] = the kernels' log(x[i]) of a row's sum (normal x[i] > 0, and NaN); for the log test, and
  // for rows split across threads (src/parallel.cpp: the same bits as rows_three_pass).
  void (*log)(const float* x, float* y, std::size_t n);
  // Rows at least this long take the two-pass form also below 2^22 floats when
  // their batch is past the last-level cache (src/parallel.cpp); 0: never.
  std::size_t two_pass_batch_cols;
  // Whether softmax rows take the two-pass form at all (it computes each exp
  // twice); false: three passes at every length. Log-softmax's two-pass form
  // computes each exp once and is taken on every ISA.
  bool two_pass_softmax;
};

// One per ISA compiled in (see cmake/SimdsoftmaxKernels.cmake).
extern const Table scalar;
extern const Table avx2;
extern const Table avx512;
extern const Table neon;

}  // namespace simdsoftmax::kernels
