#include "parallel.hpp"

#include "fpenv.hpp"

#include <algorithm>
#include <cmath>

#ifdef SIMDSOFTMAX_OPENMP
#include <omp.h>
#endif

namespace simdsoftmax::detail {
namespace {

// A row of more than kMaxChunks * 64K elements gets proportionally larger chunks,
// so the per-chunk partial results of a row fit in a fixed stack array.
constexpr std::size_t kMinChunk = std::size_t{1} << 16, kMaxChunks = 256;

// Rows of at least this many elements (16 MiB: x and y together fill this
// machine's 32 MiB L3) take the two-pass form (long_row below), in chunks of
// kTwoPassChunk (256 KiB: a chunk stays in the 1 MiB L2 between its two reads).
// A/B in commit 2888974: two-pass ahead from 2^22 (1.74 vs 1.62 Gelem/s) to
// 2^28; at 4x2^20 (in L3) the three-pass form is 10% faster. The per-chunk
// arrays of a row (kTwoPassMaxChunks, 48 KiB) live on the caller's stack.
constexpr std::size_t kTwoPassCols = std::size_t{1} << 22, kTwoPassChunk = std::size_t{1} << 16,
                      kTwoPassMaxChunks = 4096;

// Below this many elements per thread, a thread costs more than it saves
// (measured on this 2-core machine, see README "Threads"): the work stays on
// the calling thread.
constexpr std::size_t kMinWorkPerThread = std::size_t{1} << 15;

using kernels::Job;
using kernels::Table;
constexpr float kInf = __builtin_inff();

void run_rows(const Table& t, bool log, const Job& job) { (log ? t.log_softmax_rows : t.softmax_rows)(job); }

// Rows [r0, r0 + count) of a job.
Job rows_of(const Job& job, std::size_t r0, std::size_t count) {
  Job part = job;
  part.x += r0 * job.x_stride;
  part.y += r0 * job.y_stride;
  part.rows = count;
  return part;
}

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
        // the kernel's log of a long row's sum (log_of_sum in softmax.hpp): the same bits as one thread
        const float s = static_cast<float>(total);
        float l = 0.0f;
        if (log) t.log(&s, &l, 1);
        f = log ? -l : static_cast<float>(1.0 / total);
      }
#pragma omp for schedule(static)
      for (std::size_t k = 0; k < chunks; ++k) t.finish(row.y + k * chunk, len(k), f, log);
    }
  }
  if (!finite) run_rows(t, log, row);  // NaN / inf rows: rare, exact rules, one thread
}
#endif

// The two-pass form of a row too long for the caches: x is read twice and y
// written once (the three-pass form reads x twice and y once and writes y twice).
//   1. per chunk k: m_k = max, s_k = sum of exp((x_i - m_k)c); the chunk is read
//      for the max and again for the exps, both from L2: chunk k + 1 is
//      prefetched during chunk k's exps (max_exp_sum_chunk in softmax.hpp);
//   2. M = max m_k, S = sum of s_k exp((m_k - M)c) in index order, in double;
//      per chunk, y_i = e_i exp((m_k - M)c) / S or a_i + (m_k - M)c - log S,
//      with e_i (a_i) recomputed from x, and streamed to memory.
// e_i and a_i are relative to the chunk's max, so each is as accurate as in the
// three-pass form; the chunk factors are computed in double and rounded once.
// Nothing depends on the thread count: the bits are the same on any number.
struct LongRow {
  const Table& t;
  bool log;
  const Job& row;
  std::size_t chunk, chunks;
  float m[kTwoPassMaxChunks], f[kTwoPassMaxChunks];
  double s[kTwoPassMaxChunks];
  bool finite = true;

  std::size_t len(std::size_t k) const { return k + 1 < chunks ? chunk : row.cols - k * chunk; }
  void stats(std::size_t k) {
    const float* next = k + 1 < chunks && len(k + 1) == len(k) ? row.x + (k + 1) * chunk : nullptr;  // never past the row
    s[k] = t.max_exp_sum(row.x + k * chunk, len(k), row.inv_temperature, log, &m[k], next);
  }
  void combine() {
    float mx = m[0];
    for (std::size_t k = 1; k < chunks; ++k)
      if (m[k] > mx || m[k] != m[k]) mx = m[k];
    const double big = mx, c = row.inv_temperature;
    double sum = 0.0;
    for (std::size_t k = 0; k < chunks; ++k) sum += s[k] * std::exp((m[k] - big) * c);
    finite = mx - mx == 0.0f && sum == sum;  // else NaN or +inf in the row: exact rules in run_rows
    const double lsum = log ? std::log(sum) : 0.0;
    for (std::size_t k = 0; k < chunks; ++k)
      f[k] = static_cast<float>(log ? (m[k] - big) * c - lsum : std::exp((m[k] - big) * c) / sum);
  }
  void scale(std::size_t k) {
    float* y = row.y + k * chunk;
    if (m[k] == -kInf)  // a fully masked chunk in a finite row
      std::fill(y, y + len(k), log ? -kInf : 0.0f);
    else
      t.exp_scale(row.x + k * chunk, y, len(k), m[k], row.inv_temperature, f[k], log);
  }
};

void long_row(const Table& t, bool log, const Job& row, int threads) {
  const std::size_t chunk = std::max(kTwoPassChunk, (row.cols + kTwoPassMaxChunks - 1) / kTwoPassMaxChunks);
  LongRow r{t, log, row, chunk, (row.cols + chunk - 1) / chunk, {}, {}, {}};
  if (threads <= 1) {
    for (std::size_t k = 0; k < r.chunks; ++k) r.stats(k);
    r.combine();
    if (r.finite)
      for (std::size_t k = 0; k < r.chunks; ++k) r.scale(k);
  } else {
#ifdef SIMDSOFTMAX_OPENMP
#pragma omp parallel num_threads(threads)
    {
      const DefaultFpEnv env;
#pragma omp for schedule(static)
      for (std::size_t k = 0; k < r.chunks; ++k) r.stats(k);
#pragma omp single
      r.combine();
      if (r.finite) {
#pragma omp for schedule(static)
        for (std::size_t k = 0; k < r.chunks; ++k) r.scale(k);
      }
    }
#endif
  }
  if (!r.finite) run_rows(t, log, row);  // NaN / inf rows: rare, exact rules, one thread
}

// Whether a job's rows take the two-pass form: rows of 2^22 floats and more;
// on ISAs where it measured faster (Table::two_pass_batch_cols), shorter rows
// too when the whole batch (x and y) is past this machine's 32 MiB L3; never
// for softmax where Table::two_pass_softmax is false (scalar). Decided
// once for the whole job, before it is split across threads, so a row's bits
// do not depend on the thread count (they may differ from the same row alone).
constexpr std::size_t kTwoPassBatchBytes = std::size_t{32} << 20;
bool two_pass(const Table& t, const Job& job, bool log) {
  if (!log && !t.two_pass_softmax) return false;
  if (job.cols >= kTwoPassCols) return true;
  return t.two_pass_batch_cols && job.cols >= t.two_pass_batch_cols &&
         2 * job.rows * job.cols * sizeof(float) >= kTwoPassBatchBytes;
}

// Rows on the calling thread.
void serial(const Table& t, bool log, const Job& job, bool two) {
  if (!two) return run_rows(t, log, job);
  for (std::size_t r = 0; r < job.rows; ++r) long_row(t, log, rows_of(job, r, 1), 1);
}

}  // namespace

std::size_t sum_chunk(std::size_t cols) noexcept {
  const std::size_t c = (cols + kMaxChunks - 1) / kMaxChunks;
  return c <= kMinChunk ? kMinChunk : (c + kMinChunk - 1) / kMinChunk * kMinChunk;
}

void execute(const Table& t, bool log, const Job& job, int threads) {
  const bool two = two_pass(t, job, log);
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
      if (r1 > r0) serial(t, log, rows_of(job, r0, r1 - r0), two);
    }
    return;
  }
  if (n > 1 && job.cols >= 2 * job.chunk) {  // fewer rows than threads, and rows long enough to split
    for (std::size_t r = 0; r < job.rows; ++r) {
      const Job row = rows_of(job, r, 1);
      two ? long_row(t, log, row, static_cast<int>(n)) : split_row(t, log, row, static_cast<int>(n));
    }
    return;
  }
#else
  (void)threads;
#endif
  serial(t, log, job, two);
}

}  // namespace simdsoftmax::detail
