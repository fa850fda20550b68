// Options::threads on every ISA: the result must be bit-identical for every
// thread count and meet design.md's bounds on each path src/parallel.cpp can
// take. The shapes are chosen by its constants (2^15 elements per thread at
// least, 64K-element chunks, two-pass rows from 2^22 elements):
//   64 x 1024          split by rows (64K elements: two threads)
//   3 x 4097           more threads than rows, too little work to split
//   1 x (2*64K + 29)   one row split by chunks (three-pass form)
//   2 x 300001         by rows on 2 threads, each row by chunks on 3 or 8
//   1 x (2^22 + 29)    the two-pass form (per-chunk max and sum, streamed y);
//                      scalar softmax: three passes split by chunks (its
//                      Table::two_pass_softmax is false)
//   2048 x 4096        32 MiB out (past this L3), split by rows
//   9000 x 128, 20000 x 64, 600 x 1800
//                      x and y just past 8 MiB: pipelined across rows only
//                      when split (kernels/softmax.hpp, kPipelineBytes)
// and tiny batches with more threads than rows or elements.
//   BitIdenticalAcrossThreadCounts  the shapes above, threads 1, 2, 3, 8, 0
//   ThreadsGreaterThanRows          rows < threads, rows long enough to split
//   TinyBatches                     1x1 ... 5x1 with threads 8 and 0
//   TwoPassRowAccuracy              chunk maxes far apart, offset logits, y at
//                                   every alignment of the streaming head peel
//   TwoPassRowSemantics             NaN, +inf, a fully masked chunk, all -inf
//   LargeStridedBatchAccuracy       strided 2048 x 4097 with unaligned rows
// Under qemu (SIMDSOFTMAX_TEST_EMULATED=1), where a 2^22-element long-double
// reference alone takes 6 s (x86) to 17 s (aarch64), fewer thread counts,
// temperatures, inputs and y offsets run, and BitIdenticalAcrossThreadCounts
// leaves the two-pass row and the large batch to the three tests made for
// them (it says so in its output); every path above still runs on every ISA.
#include <iostream>

#include "support/test_support.hpp"

namespace sst {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr std::size_t kChunk = std::size_t{1} << 16;         // sum / two-pass chunk (src/parallel.cpp)
constexpr std::size_t kTwoPassCols = std::size_t{1} << 22;   // rows this long take the two-pass form
// 64 full chunks and a 29-element one: on AVX-512 its sum takes the lone-vector
// step (16) and the masked tail (13), which gcov showed the two-pass form never
// ran with 13 elements alone
constexpr std::size_t kLongRow = kTwoPassCols + 29;
constexpr std::size_t kGuard = 16;                           // sentinel floats after every output

class OptionsThreads : public IsaTest {
 protected:
  Options topts(float temperature, int threads) const {
    Options o = opts(temperature);
    o.threads = threads;
    return o;
  }
};
SST_INSTANTIATE_ALL_ISAS(OptionsThreads);

// Thread counts besides the default 1: an odd team (3), more threads than cores
// (8; src/parallel.cpp caps it by the work per thread) and all of them (0).
std::vector<int> other_thread_counts() {
  if (emulated()) return {3, 0};
  return {2, 3, 8, 0};
}

std::vector<float> temperatures() {
  if (emulated()) return {1.0f};
  return {1.0f, 3.7f};
}

std::string hex_bits(float f) {
  std::ostringstream s;
  s << "0x" << std::hex << bits(f);
  return s.str();
}

// Success if got and want hold the same bits; else how many floats differ and
// the first of them.
::testing::AssertionResult same_bits(const float* got, const float* want, std::size_t n) {
  if (std::memcmp(got, want, n * sizeof(float)) == 0) return ::testing::AssertionSuccess();
  std::size_t i = 0;
  while (bits(got[i]) == bits(want[i])) ++i;
  std::size_t count = 0;
  for (std::size_t j = i; j < n; ++j) count += bits(got[j]) != bits(want[j]);
  return ::testing::AssertionFailure() << count << " of " << n << " floats differ from threads = 1; first at index "
                                       << i << ": " << (is_sentinel(got[i]) ? "never written" : fmt(got[i]))
                                       << " (" << hex_bits(got[i]) << ") instead of "
                                       << fmt(want[i]) << " (" << hex_bits(want[i]) << ")";
}

// Every float of y[begin, end) has exactly the bits of v; else names the first that doesn't.
::testing::AssertionResult all_equal(const float* y, std::size_t begin, std::size_t end, float v) {
  for (std::size_t i = begin; i < end; ++i)
    if (bits(y[i]) != bits(v))
      return ::testing::AssertionFailure() << "y[" << i << "] = " << fmt(y[i]) << ", want " << fmt(v);
  return ::testing::AssertionSuccess();
}

// Index of the first sentinel (a float never written) in p[begin, end), or end.
std::size_t first_unwritten(const float* p, std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i)
    if (is_sentinel(p[i])) return i;
  return end;
}

::testing::AssertionResult all_nan(const float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isnan(y[i]) || is_sentinel(y[i]))
      return ::testing::AssertionFailure() << "y[" << i << "] = " << fmt(y[i]) << (is_sentinel(y[i]) ? " (never written)" : "")
                                           << ", want NaN";
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------

TEST_P(OptionsThreads, BitIdenticalAcrossThreadCounts) {
  SST_SKIP_IF_UNAVAILABLE(GetParam());
  struct Shape {
    std::size_t rows, cols;
    const char* path;
    const char* emulated_in;  // the test that runs this path under qemu instead
  };
  const std::vector<Shape> shapes = {
      {64, 1024, "split by rows", nullptr},
      {3, 4097, "more threads than rows, not split", nullptr},
      {1, 2 * kChunk + 29, "one row split by chunks", nullptr},
      {2, 300001, "by rows (2 threads) or each row by chunks (3, 8)", nullptr},
      {1, kLongRow, "two-pass row", "TwoPassRowAccuracy and TwoPassRowSemantics"},
      {2048, 4096, "32 MiB out, split by rows", "LargeStridedBatchAccuracy"},
      // x and y just past kPipelineBytes (8 MiB, kernels/softmax.hpp): software-
      // pipelined across rows on 2 or more threads (each thread's part is
      // smaller), not on 1; the bits must not change.
      {9000, 128, "in-register rows, 8.8 MiB: pipelined when split", nullptr},
      {20000, 64, "in-register rows, 9.8 MiB: pipelined when split", nullptr},
      {600, 1800, "three-pass rows, 8.2 MiB: pipelined when split", nullptr},
  };
  for (std::size_t s = 0; s < shapes.size(); ++s) {
    const Shape& sh = shapes[s];
    const std::size_t n = sh.rows * sh.cols;
    if (emulated() && sh.emulated_in) {
      std::cout << "[   NOTE   ] emulated: " << sh.rows << "x" << sh.cols << " (" << sh.path << ") left to "
                << sh.emulated_in << "\n";
      continue;
    }
    const std::vector<float> x = normal(n, 0.0, 4.0, 7000 + static_cast<std::uint32_t>(s));
    for (float t : temperatures()) {
      // threads = 1 for both ops, checked row by row (one reference per row for both).
      std::vector<float> want[2] = {sentinel_buffer(n + kGuard), sentinel_buffer(n + kGuard)};
      for (Op op : {Op::softmax, Op::log_softmax})
        call_rows(op, x.data(), want[op == Op::log_softmax].data(), sh.rows, sh.cols, topts(t, 1));
      for (std::size_t r = 0; r < sh.rows; ++r) {
        const Reference ref = reference(x.data() + r * sh.cols, sh.cols, t);
        for (Op op : {Op::softmax, Op::log_softmax})
          ASSERT_TRUE(check_op(op, x.data() + r * sh.cols, want[op == Op::log_softmax].data() + r * sh.cols, sh.cols, t, &ref))
              << sh.rows << "x" << sh.cols << " (" << sh.path << ") " << op_name(op) << " T=" << t << " threads=1 row " << r;
      }
      std::vector<float> y(n + kGuard);
      for (Op op : {Op::softmax, Op::log_softmax}) {
        const std::vector<float>& w = want[op == Op::log_softmax];
        ASSERT_EQ(first_unwritten(w.data(), 0, n), n) << op_name(op) << " threads=1 left an output unwritten";
        ASSERT_EQ(first_touched(w.data(), n, n + kGuard), n + kGuard) << op_name(op) << " threads=1 wrote past the output";
        for (int threads : other_thread_counts()) {
          SCOPED_TRACE(::testing::Message() << sh.rows << "x" << sh.cols << " (" << sh.path << ") " << op_name(op)
                                            << " T=" << t << " threads=" << threads);
          std::fill(y.begin(), y.end(), sentinel());
          call_rows(op, x.data(), y.data(), sh.rows, sh.cols, topts(t, threads));
          ASSERT_TRUE(same_bits(y.data(), w.data(), n));
          ASSERT_EQ(first_touched(y.data(), n, n + kGuard), n + kGuard) << "wrote past the output";
        }
      }
    }
  }
}

// Each shape with threads 8 and 0 against threads 1: every row within bounds,
// the same bits, nothing written past the output.
void check_more_threads_than_rows(Op op, const float* x, std::size_t rows, std::size_t cols, float t,
                                  const std::vector<Reference>& refs, const Options& one, Options many) {
  const std::size_t n = rows * cols;
  std::vector<float> want = sentinel_buffer(n + kGuard);
  call_rows(op, x, want.data(), rows, cols, one);
  for (int threads : {8, 0}) {
    SCOPED_TRACE(::testing::Message() << rows << "x" << cols << " " << op_name(op) << " T=" << t
                                      << " threads=" << threads);
    many.threads = threads;
    std::vector<float> y = sentinel_buffer(n + kGuard);
    call_rows(op, x, y.data(), rows, cols, many);
    for (std::size_t r = 0; r < rows; ++r)
      ASSERT_TRUE(check_op(op, x + r * cols, y.data() + r * cols, cols, t, &refs[r])) << "row " << r;
    ASSERT_TRUE(same_bits(y.data(), want.data(), n));
    ASSERT_EQ(first_touched(y.data(), n, n + kGuard), n + kGuard) << "wrote past the output";
  }
}

// Fewer rows than threads: rows long enough to be split by chunks (each row in
// turn across all threads), and rows that are not (cols < 2 chunks).
TEST_P(OptionsThreads, ThreadsGreaterThanRows) {
  SST_SKIP_IF_UNAVAILABLE(GetParam());
  const std::size_t shapes[][2] = {{2, 2 * kChunk}, {3, 140001}, {7, kChunk + 1}};
  for (const auto& sh : shapes) {
    const std::size_t rows = sh[0], cols = sh[1];
    const std::vector<float> x = normal(rows * cols, 5.0, 3.0, 7100 + static_cast<std::uint32_t>(cols));
    for (float t : temperatures()) {
      std::vector<Reference> refs;
      for (std::size_t r = 0; r < rows; ++r) refs.push_back(reference(x.data() + r * cols, cols, t));
      for (Op op : {Op::softmax, Op::log_softmax})
        check_more_threads_than_rows(op, x.data(), rows, cols, t, refs, topts(t, 1), topts(t, 1));
    }
  }
}

// Batches far below the per-thread minimum, with more threads than rows (or
// than elements): they stay on the calling thread and give the same result.
TEST_P(OptionsThreads, TinyBatches) {
  SST_SKIP_IF_UNAVAILABLE(GetParam());
  const std::size_t shapes[][2] = {{1, 1}, {1, 5}, {2, 3}, {3, 17}, {5, 1}};
  for (const auto& sh : shapes) {
    const std::size_t rows = sh[0], cols = sh[1], n = rows * cols;
    const std::vector<float> x = normal(n, -1.0, 3.0, 7200 + static_cast<std::uint32_t>(n));
    for (float t : {1.0f, 3.7f}) {
      std::vector<Reference> refs;
      for (std::size_t r = 0; r < rows; ++r) refs.push_back(reference(x.data() + r * cols, cols, t));
      for (Op op : {Op::softmax, Op::log_softmax})
        check_more_threads_than_rows(op, x.data(), rows, cols, t, refs, topts(t, 1), topts(t, 1));
    }
  }
}

// ---------------------------------------------------------------------------
// The two-pass form: every chunk has its own max and sum, combined in double.

// normal(0, 4) with chunk 32 (of 65) shifted down by 300, so that its max is
// far below the row's and its factor exp((m_k - M)/T) underflows (its outputs,
// far below 1e-37, may be 0), and the row max in the last (29-element) chunk.
std::vector<float> far_apart_chunk_maxes() {
  std::vector<float> x = normal(kLongRow, 0.0, 4.0, 7300);
  const std::size_t mid = (kLongRow / kChunk / 2) * kChunk;
  for (std::size_t i = mid; i < mid + kChunk; ++i) x[i] -= 300.0f;
  x[kLongRow - 3] = *std::max_element(x.begin(), x.end()) + 0.5f;
  return x;
}

TEST_P(OptionsThreads, TwoPassRowAccuracy) {
  SST_SKIP_IF_UNAVAILABLE(GetParam());
  // Natively both rows at T = 1 and 3.7; under qemu the far-apart row at T = 1.
  const int nrows = emulated() ? 1 : 2;
  const std::vector<float> temps = emulated() ? std::vector<float>{1.0f} : std::vector<float>{1.0f, 3.7f};
  // y at every kind of offset from a 64-byte boundary: aligned (no head), by 1,
  // 7 and 15 floats (heads of 15, 9, 1 floats on AVX-512); x at an odd offset.
  const std::vector<std::size_t> y_offsets =
      emulated() ? std::vector<std::size_t>{0, 7} : std::vector<std::size_t>{0, 1, 7, 15};
  constexpr std::size_t kXOff = 3;
  AlignedBuf xb(kLongRow + kXOff), yb(kLongRow + 16 + kGuard);
  std::vector<float> want(kLongRow);
  for (int row = 0; row < nrows; ++row) {
    const char* name = row == 0 ? "far-apart chunk maxes" : "offset logits normal(1000, 4)";
    const std::vector<float> data = row == 0 ? far_apart_chunk_maxes() : normal(kLongRow, 1000.0, 4.0, 7301);
    std::copy(data.begin(), data.end(), xb.data() + kXOff);
    const float* x = xb.data() + kXOff;
    for (float t : temps) {
      const Reference ref = reference(data.data(), kLongRow, t);
      for (Op op : {Op::softmax, Op::log_softmax}) {
        for (std::size_t off : y_offsets) {
          for (int threads : {1, 2}) {
            SCOPED_TRACE(::testing::Message() << name << " " << op_name(op) << " T=" << t << " y offset=" << off
                                              << " threads=" << threads);
            std::fill(yb.data(), yb.data() + yb.size(), sentinel());
            float* y = yb.data() + off;
            call_row(op, x, y, kLongRow, topts(t, threads));
            ASSERT_EQ(first_touched(yb.data(), 0, off), off) << "wrote before y";
            ASSERT_EQ(first_touched(yb.data(), off + kLongRow, yb.size()), yb.size()) << "wrote past the end of y";
            if (threads == 1) {  // threads = 2 must give these bits, hence the same accuracy
              ASSERT_TRUE(check_op(op, data.data(), y, kLongRow, t, &ref));
              std::copy(y, y + kLongRow, want.begin());
            } else {
              ASSERT_TRUE(same_bits(y, want.data(), kLongRow));
            }
          }
        }
      }
      ASSERT_TRUE(std::equal(data.begin(), data.end(), x)) << "x modified";
    }
  }
}

TEST_P(OptionsThreads, TwoPassRowSemantics) {
  SST_SKIP_IF_UNAVAILABLE(GetParam());
  const std::vector<float> base = uniform(kLongRow, -10.0f, 10.0f, 7400);  // cheaper than normal() under qemu
  std::vector<float> x, y(kLongRow + kGuard);
  const float kHalfLog = static_cast<float>(-std::log(2.0));
  const auto run = [&](Op op, float t, int threads) {
    std::fill(y.begin(), y.end(), sentinel());
    call_row(op, x.data(), y.data(), kLongRow, topts(t, threads));
    return first_touched(y.data(), kLongRow, y.size()) == y.size();
  };
  for (int threads : {1, 2}) {
    for (Op op : {Op::softmax, Op::log_softmax}) {
      const bool log = op == Op::log_softmax;
      for (float t : temperatures()) {
        SCOPED_TRACE(::testing::Message() << op_name(op) << " T=" << t << " threads=" << threads);
        {  // NaN only in the very last element: the whole row is NaN.
          x = base;
          x.back() = std::numeric_limits<float>::quiet_NaN();
          ASSERT_TRUE(run(op, t, threads)) << "wrote past the row";
          ASSERT_TRUE(all_nan(y.data(), kLongRow)) << "NaN in the last element";
        }
        {  // +inf in a middle chunk and in the last chunk: they share the mass.
          x = base;
          const std::size_t a = 30 * kChunk + 123, b = kLongRow - 2;
          x[a] = x[b] = kInf;
          ASSERT_TRUE(run(op, t, threads)) << "wrote past the row";
          const float hit = log ? kHalfLog : 0.5f, miss = log ? -kInf : 0.0f;
          ASSERT_TRUE(all_equal(y.data(), a, a + 1, hit)) << "+inf entry in chunk 30";
          ASSERT_TRUE(all_equal(y.data(), b, b + 1, hit)) << "+inf entry in the last chunk";
          ASSERT_TRUE(all_equal(y.data(), 0, a, miss)) << "two +inf entries";
          ASSERT_TRUE(all_equal(y.data(), a + 1, b, miss)) << "two +inf entries";
          ASSERT_TRUE(all_equal(y.data(), b + 1, kLongRow, miss)) << "two +inf entries";
        }
        {  // Every entry -inf (fully masked): all 0 / all -inf, no NaN.
          x.assign(kLongRow, -kInf);
          ASSERT_TRUE(run(op, t, threads)) << "wrote past the row";
          ASSERT_TRUE(all_equal(y.data(), 0, kLongRow, log ? -kInf : 0.0f)) << "fully masked row";
        }
      }
    }
  }
  // Chunk 1, [65536, 131072), fully masked in an otherwise ordinary row: exactly
  // 0 / -inf there, the rest within the bounds (the reference gives those
  // entries 0 / -inf and leaves them out of the sum).
  x = base;
  std::fill(x.begin() + kChunk, x.begin() + 2 * kChunk, -kInf);
  for (float t : temperatures()) {
    const Reference ref = reference(x.data(), kLongRow, t);
    for (int threads : {1, 2}) {
      for (Op op : {Op::softmax, Op::log_softmax}) {
        SCOPED_TRACE(::testing::Message() << "masked chunk " << op_name(op) << " T=" << t << " threads=" << threads);
        ASSERT_TRUE(run(op, t, threads)) << "wrote past the row";
        ASSERT_TRUE(all_equal(y.data(), kChunk, 2 * kChunk, op == Op::log_softmax ? -kInf : 0.0f)) << "masked chunk";
        ASSERT_TRUE(check_op(op, x.data(), y.data(), kLongRow, t, &ref));
      }
    }
  }
}

// ---------------------------------------------------------------------------
// A strided batch past the L3 (2048 rows of 4097, 32 MiB out), split by rows,
// with unaligned row starts (y_stride 4103): results, and the gaps left alone.
TEST_P(OptionsThreads, LargeStridedBatchAccuracy) {
  SST_SKIP_IF_UNAVAILABLE(GetParam());
  constexpr std::size_t rows = 2048, cols = 4093, xs = 4100, ys = 4103;  // 64 MiB: y streamed on 1 thread
  const std::vector<float> x = uniform(rows * xs, -12.0f, 8.0f, 7500);  // cheaper than normal() under qemu
  const std::size_t ylen = (rows - 1) * ys + cols + kGuard;
  std::vector<std::size_t> sample;
  for (std::size_t r = 0; r < rows; r += 97) sample.push_back(r);
  sample.push_back(rows - 1);
  std::vector<float> y(ylen), want(ylen);
  // Under qemu: softmax at T = 1 and log-softmax at T = 3.7 (both ops, and the
  // kernels for T = 1 and for a scaled temperature).
  for (float t : {1.0f, 3.7f}) {
    std::vector<Reference> refs;
    for (std::size_t r : sample) refs.push_back(reference(x.data() + r * xs, cols, t));
    for (Op op : {Op::softmax, Op::log_softmax}) {
      if (emulated() && (op == Op::softmax) != (t == 1.0f)) continue;
      for (int threads : {1, 2}) {
        SCOPED_TRACE(::testing::Message() << op_name(op) << " T=" << t << " threads=" << threads);
        std::fill(y.begin(), y.end(), sentinel());
        call_strided(op, x.data(), xs, y.data(), ys, rows, cols, topts(t, threads));
        for (std::size_t k = 0; k < sample.size(); ++k)
          ASSERT_TRUE(check_op(op, x.data() + sample[k] * xs, y.data() + sample[k] * ys, cols, t, &refs[k]))
              << "row " << sample[k];
        for (std::size_t r = 0; r < rows; ++r) {
          const std::size_t gap = r * ys + cols, gap_end = r + 1 < rows ? (r + 1) * ys : ylen;
          ASSERT_EQ(first_touched(y.data(), gap, gap_end), gap_end) << "wrote into the gap after row " << r;
          ASSERT_EQ(first_unwritten(y.data(), r * ys, gap), gap) << "row " << r << " not written in full";
        }
        if (threads == 1)
          want = y;
        else
          ASSERT_TRUE(same_bits(y.data(), want.data(), ylen));
      }
    }
  }
}

// Rows of 2^20 floats and more in a batch past 32 MiB (x and y) take the
// two-pass form on AVX-512 (src/parallel.cpp, two_pass; elsewhere the
// three-pass form): decided for the whole batch, so the bits are the same on
// every thread count. Strided, with a fully masked first chunk in row 1.
TEST_P(OptionsThreads, TwoPassBatchAccuracy) {
  SST_SKIP_IF_UNAVAILABLE(GetParam());
  constexpr std::size_t rows = 4, cols = (std::size_t{1} << 20) + 29, xs = cols + 3, ys = cols + 5;
  static_assert(2 * rows * cols * sizeof(float) >= (std::size_t{32} << 20), "past the batch threshold");
  std::vector<float> x = uniform(rows * xs, -20.0f, 20.0f, 7600);
  std::fill(x.begin() + xs, x.begin() + xs + kChunk, -kInf);
  const std::size_t ylen = (rows - 1) * ys + cols + kGuard;
  std::vector<float> y(ylen), want(ylen);
  for (float t : temperatures()) {
    std::vector<Reference> refs;
    for (std::size_t r = 0; r < rows; ++r) refs.push_back(reference(x.data() + r * xs, cols, t));
    for (Op op : {Op::softmax, Op::log_softmax}) {
      if (emulated() && op == Op::log_softmax) continue;  // under qemu: softmax (the path is avx512-only)
      for (int threads : {1, 2, 3}) {
        SCOPED_TRACE(::testing::Message() << op_name(op) << " T=" << t << " threads=" << threads);
        std::fill(y.begin(), y.end(), sentinel());
        call_strided(op, x.data(), xs, y.data(), ys, rows, cols, topts(t, threads));
        for (std::size_t r = 0; r < rows; ++r) {
          const std::size_t gap = r * ys + cols, gap_end = r + 1 < rows ? (r + 1) * ys : ylen;
          ASSERT_TRUE(check_op(op, x.data() + r * xs, y.data() + r * ys, cols, t, &refs[r])) << "row " << r;
          ASSERT_EQ(first_touched(y.data(), gap, gap_end), gap_end) << "wrote into the gap after row " << r;
        }
        ASSERT_TRUE(all_equal(y.data(), ys, ys + kChunk, op == Op::softmax ? 0.0f : -kInf)) << "masked chunk";
        if (threads == 1)
          want = y;
        else
          ASSERT_TRUE(same_bits(y.data(), want.data(), ylen));
      }
    }
  }
}

}  // namespace
}  // namespace sst
