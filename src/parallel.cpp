#include "parallel.hpp"

#include "fpenv.hpp"

#include <cmath>

#ifdef SIMDSOFTMAX_OPENMP
#include <omp.h>
#endif

namespace simdsoftmax::detail {
namespace {

// A row of more than kMaxChunks * 64K elements gets proportionally larger chunks,
// so the per-chunk partial results of a row fit in a fixed stack array.
constexpr std::size_t kMinChunk = std::size_t{1} << 16, kMaxChunks = 256;

// Below this many elements per thread, a thread costs more than it saves
// (measured on this 2-core machine, see README "Threads"): the work stays on
// the calling thread.
constexpr std::size_t kMinWorkPerThread = std::size_t{1} << 15;

using kernels::Job;
using kernels::Table;

void run_rows(const Table& t, bool log, const Job& job) { (log ? t.log_softmax_rows : t.softmax_rows)(job); }

// Every thread that runs kernel code, the caller's (src/api.cpp) and OpenMP's
// workers alike, computes under the default floating-point environment
// (fpenv.hpp), so the result depends neither on the caller's MXCSR/FPCR nor on
// the thread count.

#ifdef SIMDSOFTMAX_OPENMP
// One long row across `threads` threads, chunk by chunk: max per chunk (exact
// in any order), exp and sum per chunk, chunk sums added in index order (the
// same order the single-threaded kernel uses), then the scale pass per chunk.
void split_row(const Table& t, bool log, const Job& row, int threads) {
  const std::size_t n = row.cols, chunk = row.chunk, chunks = (n + chunk - 1) / chunk;
  float maxes[kMaxChunks];
  double sums[kMaxChunks];
  float m = 0.0f, f = 0.0f;
  bool finite = true;
  const auto len = [&](std::size_t k) { return k + 1 < chunks ? chunk : n - k * chunk; };
#pragma omp parallel num_threads(threads)
  {
    const DefaultFpEnv env;
#pragma omp for schedule(static)
    for (std::size_t k = 0; k < chunks; ++k) maxes[k] = t.row_max(row.x + k * chunk, len(k));
#pragma omp single
    {
      m = maxes[0];
      for (std::size_t k = 1; k < chunks; ++k)
        if (maxes[k] > m || maxes[k] != maxes[k]) m = maxes[k];
      finite = m - m == 0.0f;
    }
    if (finite) {
#pragma omp for schedule(static)
      for (std::size_t k = 0; k < chunks; ++k)
        sums[k] = t.exp_sum(row.x + k * chunk, row.y + k * chunk, len(k), m, row.inv_temperature, log);
#pragma omp single
      {
        double total = 0.0;
        for (std::size_t k = 0; k < chunks; ++k) total += sums[k];
        f = static_cast<float>(log ? std::log(total) : 1.0 / total);
      }
#pragma omp for schedule(static)
      for (std::size_t k = 0; k < chunks; ++k) t.finish(row.y + k * chunk, len(k), f, log);
    }
  }
  if (!finite) run_rows(t, log, row);  // NaN / inf rows: rare, exact rules, one thread
}
#endif

}  // namespace

std::size_t sum_chunk(std::size_t cols) noexcept {
  const std::size_t c = (cols + kMaxChunks - 1) / kMaxChunks;
  return c <= kMinChunk ? kMinChunk : (c + kMinChunk - 1) / kMinChunk * kMinChunk;
}

void execute(const Table& t, bool log, const Job& job, int threads) {
#ifdef SIMDSOFTMAX_OPENMP
  std::size_t n = threads == 0 ? static_cast<std::size_t>(omp_get_num_procs()) : static_cast<std::size_t>(threads);
  const std::size_t work = job.rows * job.cols;  // no overflow: checked by the caller
  if (n > work / kMinWorkPerThread) n = work / kMinWorkPerThread;
  if (n > 1 && job.rows >= n) {
    // Rows in contiguous blocks, one per thread: every row still goes through
    // the same kernel call, so its bits do not depend on n.
#pragma omp parallel num_threads(static_cast<int>(n))
    {
      const DefaultFpEnv env;
      const std::size_t id = static_cast<std::size_t>(omp_get_thread_num()), teams = static_cast<std::size_t>(omp_get_num_threads());
      const std::size_t r0 = job.rows * id / teams, r1 = job.rows * (id + 1) / teams;
      Job part = job;
      part.x += r0 * job.x_stride;
      part.y += r0 * job.y_stride;
      part.rows = r1 - r0;
      if (part.rows) run_rows(t, log, part);
    }
    return;
  }
  if (n > 1 && job.cols >= 2 * job.chunk) {  // fewer rows than threads, and rows long enough to split
    for (std::size_t r = 0; r < job.rows; ++r) {
      Job row = job;
      row.x += r * job.x_stride;
      row.y += r * job.y_stride;
      row.rows = 1;
      split_row(t, log, row, static_cast<int>(n));
    }
    return;
  }
#else
  (void)threads;
#endif
  run_rows(t, log, job);
}

}  // namespace simdsoftmax::detail
