// Batches with row strides (x_stride != y_stride, gaps in y untouched) and
// in-place operation (single row and batch), on every ISA.
#include <cstring>

#include "support/test_support.hpp"

namespace sst {
namespace {

class Batch : public IsaTest {};
SST_INSTANTIATE_ALL_ISAS(Batch);

TEST_P(Batch, StridedXandYDiffer) {
  struct Shape {
    std::size_t rows, cols, xs, ys;
  };
  const std::vector<Shape> shapes = {
      {1, 1, 1, 3},     {3, 1, 2, 5},      {5, 7, 9, 7},     {4, 16, 16, 21},   {6, 17, 40, 19},
      {3, 33, 33, 48},  {2, 49, 64, 50},   {9, 15, 31, 16},  {3, 1000, 1003, 1017}, {2, 4097, 4100, 4097},
  };
  for (const Shape& s : shapes) {
    const std::vector<float> xin = normal(s.rows * s.xs, 3.0f, 5.0f, 1000 + static_cast<std::uint32_t>(s.cols));
    for (Op op : {Op::softmax, Op::log_softmax}) {
      for (float t : {1.0f, 3.7f}) {
        SCOPED_TRACE(::testing::Message() << op_name(op) << " rows=" << s.rows << " cols=" << s.cols
                                          << " x_stride=" << s.xs << " y_stride=" << s.ys << " T=" << t);
        std::vector<float> x = xin;
        const std::size_t ylen = (s.rows - 1) * s.ys + s.cols + 16;  // + guard after the last row
        std::vector<float> y = sentinel_buffer(ylen);
        call_strided(op, x.data(), s.xs, y.data(), s.ys, s.rows, s.cols, opts(t));
        ASSERT_EQ(x, xin) << "x modified";
        for (std::size_t r = 0; r < s.rows; ++r) {
          ASSERT_TRUE(check_op(op, x.data() + r * s.xs, y.data() + r * s.ys, s.cols, t)) << "row " << r;
          const std::size_t gap_end = r + 1 < s.rows ? (r + 1) * s.ys : ylen;
          ASSERT_EQ(first_touched(y.data(), r * s.ys + s.cols, gap_end), gap_end)
              << "wrote into the gap after row " << r;
        }
      }
    }
  }
}

TEST_P(Batch, InPlaceSingleRow) {
  for (std::size_t n : {1u, 2u, 15u, 16u, 17u, 33u, 49u, 1000u, 4097u}) {
    const std::vector<float> x = normal(n, 1000.0f, 4.0f, 1100 + static_cast<std::uint32_t>(n));
    for (Op op : {Op::softmax, Op::log_softmax}) {
      for (std::size_t off : {0u, 3u}) {
        AlignedBuf b(n + 32);
        std::copy(x.begin(), x.end(), b.data() + off);
        call_row(op, b.data() + off, b.data() + off, n, opts(0.5f));
        EXPECT_TRUE(check_op(op, x.data(), b.data() + off, n, 0.5f)) << op_name(op) << " n=" << n << " offset=" << off;
        EXPECT_EQ(first_touched(b.data(), 0, off), off);
        EXPECT_EQ(first_touched(b.data(), off + n, b.size()), b.size()) << "wrote past the row";
      }
    }
  }
}

TEST_P(Batch, InPlaceBatch) {
  for (std::size_t cols : {1u, 13u, 16u, 48u, 1000u}) {
    const std::size_t rows = 5;
    for (std::size_t stride : {cols, cols + 7}) {
      const std::vector<float> xin = normal(rows * stride, -2.0f, 3.0f, 1200 + static_cast<std::uint32_t>(cols));
      for (Op op : {Op::softmax, Op::log_softmax}) {
        std::vector<float> b = xin;
        if (stride == cols)
          call_rows(op, b.data(), b.data(), rows, cols, opts(3.7f));
        else
          call_strided(op, b.data(), stride, b.data(), stride, rows, cols, opts(3.7f));
        for (std::size_t r = 0; r < rows; ++r) {
          EXPECT_TRUE(check_op(op, xin.data() + r * stride, b.data() + r * stride, cols, 3.7f))
              << op_name(op) << " cols=" << cols << " stride=" << stride << " row " << r;
          for (std::size_t j = cols; j < stride && r * stride + j < b.size(); ++j)
            ASSERT_EQ(bits(b[r * stride + j]), bits(xin[r * stride + j])) << "gap changed, row " << r;
        }
      }
    }
  }
}

// Rows of different character in one batch are independent of each other.
TEST_P(Batch, RowsAreIndependent) {
  const std::size_t cols = 37, rows = 4;
  std::vector<float> x = normal(rows * cols, 0.0f, 1.0f, 1300);
  for (std::size_t j = 0; j < cols; ++j) x[1 * cols + j] += 1e4f;  // offset row
  for (std::size_t j = 0; j < cols; ++j) x[2 * cols + j] *= 50.0f; // wide row
  for (Op op : {Op::softmax, Op::log_softmax}) {
    std::vector<float> y = sentinel_buffer(rows * cols);
    call_rows(op, x.data(), y.data(), rows, cols, opts());
    for (std::size_t r = 0; r < rows; ++r)
      EXPECT_TRUE(check_op(op, x.data() + r * cols, y.data() + r * cols, cols, 1.0f)) << op_name(op) << " row " << r;
  }
}

// Batches of many rows, with special rows among ordinary ones, at the lengths
// where kernels group rows: the in-register path (fours, pairs, software-pipelined),
// and three-pass log-softmax, which takes one vector log per group of W rows
// and finishes a group after the next group's passes (W = 4, 8, 16; 37 rows
// leave a partial last group). A one-hot row has sum == 1, so its pass 3 is
// skipped; a NaN in the last row reaches its outputs only through log(sum).
TEST_P(Batch, RowGroupsWithSpecialRows) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::size_t rows = 37;
  for (std::size_t cols : {9u, 16u, 32u, 65u, 100u, 200u, 240u, 300u, 513u, 1000u}) {
    std::vector<float> x = normal(rows * cols, 0.0f, 3.0f, 1400 + static_cast<std::uint32_t>(cols));
    auto row = [&](std::size_t r) { return x.data() + r * cols; };
    row(3)[cols / 2] = nan;
    std::fill(row(8), row(9), -inf);                   // fully masked
    row(17)[1] = inf, row(17)[cols - 1] = inf;         // two +inf share the mass
    std::fill(row(24), row(25), -200.0f), row(24)[cols / 3] = 0.0f;     // one-hot: sum == 1
    row(36)[cols - 1] = nan;
    for (Op op : {Op::softmax, Op::log_softmax}) {
      for (float t : {1.0f, 3.7f}) {
        for (bool in_place : {false, true}) {
          SCOPED_TRACE(::testing::Message() << op_name(op) << " cols=" << cols << " T=" << t << " in place " << in_place);
          std::vector<float> y = in_place ? x : sentinel_buffer(rows * cols);
          call_rows(op, in_place ? y.data() : x.data(), y.data(), rows, cols, opts(t));
          const bool log = op == Op::log_softmax;
          for (std::size_t r = 0; r < rows; ++r) {
            const float* yr = y.data() + r * cols;
            for (std::size_t i = 0; i < cols; ++i) {
              const float xi = row(r)[i];
              if (r == 3 || r == 36) {
                ASSERT_TRUE(std::isnan(yr[i]) && !is_sentinel(yr[i])) << "row " << r << " i=" << i;
              } else if (r == 8) {
                ASSERT_EQ(yr[i], log ? -inf : 0.0f) << "masked row, i=" << i;
              } else if (r == 17) {
                ASSERT_EQ(yr[i], xi == inf ? (log ? -std::log(2.0f) : 0.5f) : (log ? -inf : 0.0f)) << "+inf row, i=" << i;
              }
            }
            if (r != 3 && r != 36 && r != 8 && r != 17) {
              ASSERT_TRUE(check_op(op, row(r), yr, cols, t)) << "row " << r;
            }
          }
          if (t == 1.0f) {  // e^-200 is 0 in float: exactly one-hot, and log-softmax is a_i - log(1) = x_i
            const float* y24 = y.data() + 24 * cols;
            for (std::size_t i = 0; i < cols; ++i)
              ASSERT_EQ(y24[i], log ? row(24)[i] : (i == cols / 3 ? 1.0f : 0.0f)) << "one-hot row, i=" << i;
          }
        }
      }
    }
  }
}

// Batches of three-pass rows are software-pipelined (pass 2 of row r runs with
// pass 1 of row r + 1 and pass 3 of row r - 1, or r - 2) up to kPipelineBytes = 8 MiB of
// x and y, and run pass by pass past that (kernels/softmax.hpp). Either way
// each row must get the bits of the same row computed alone. Rows of two sum
// chunks (64K + 17), row strides, and special rows at the start of the
// pipeline, inside it and at its end.
TEST_P(Batch, PipelinedRowsMatchRowsAlone) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::size_t cols = 65536 + 17, xs = cols + 5, ys = cols + 3;
  // x and y: 3.0 and 5.0 MiB (pipelined; log-softmax from 8 rows scales row r - 2 beside row r), 9.0 MiB (pass by pass)
  for (std::size_t rows : {6u, 10u, 18u}) {
    std::vector<float> x = normal(rows * xs, 0.0f, 3.0f, 1500 + static_cast<std::uint32_t>(rows));
    auto row = [&](std::size_t r) { return x.data() + r * xs; };
    std::fill(row(0), row(0) + cols, -inf);         // fully masked, first
    row(rows / 2)[cols - 1] = nan;                  // NaN, inside
    row(rows - 1)[cols - 1] = inf;                  // one +inf in the tail, last
    for (std::size_t j = 0; j < cols; ++j) row(1)[j] += 1e4f;  // offset logits
    // Row 2's max is taken beside row 1's exp pass, backwards, chunk by chunk:
    // put it where that pass ends, at the first element of the last (17-float)
    // chunk, with a runner-up at the row's first element. A max pass that
    // missed it would give row 2 other bits than the row alone.
    row(2)[cols - 17] = 60.0f;
    row(2)[0] = 59.5f;
    for (auto [op, t] : {std::pair{Op::softmax, 1.0f}, std::pair{Op::log_softmax, 3.7f}}) {
      SCOPED_TRACE(::testing::Message() << op_name(op) << " rows=" << rows << " T=" << t);
      std::vector<float> y = sentinel_buffer(rows * ys), alone = sentinel_buffer(cols);
      call_strided(op, x.data(), xs, y.data(), ys, rows, cols, opts(t));
      for (std::size_t r = 0; r < rows; ++r) {
        const float* yr = y.data() + r * ys;
        call_strided(op, row(r), xs, alone.data(), cols, 1, cols, opts(t));
        if (r == rows / 2) {  // NaN rows are all NaN (the NaN's bits may differ)
          for (std::size_t i = 0; i < cols; ++i) {
            ASSERT_TRUE(std::isnan(yr[i]) && !is_sentinel(yr[i])) << "i=" << i;
          }
          continue;
        }
        ASSERT_EQ(std::memcmp(yr, alone.data(), cols * sizeof(float)), 0) << "row " << r << " differs from the row alone";
        if (r == 1 || r == 2) {
          ASSERT_TRUE(check_op(op, row(r), yr, cols, t)) << "row " << r;
        }
      }
      ASSERT_EQ(y[0], op == Op::log_softmax ? -inf : 0.0f);
      ASSERT_EQ(y[(rows - 1) * ys + cols - 1], op == Op::log_softmax ? 0.0f : 1.0f);
    }
  }
}

// Every tail length in pipelined batches of three-pass rows. exp_sum's loop
// runs pairs of vectors, then at most one lone vector, then a masked tail, and
// the next row's max and the previous row's scale ride along each (Side in
// kernels/softmax.hpp). Lengths T + k, k = 0..2W+1 (W = 16, the widest
// vector), around 256, 512 and 1024 floats: where log-softmax rows leave the
// groups of W rows for rows_three_pass (avx512 past 256, avx2 past 512, scalar
// and neon past 1024) and where rows span more than one sum block. 3 rows:
// first, middle, last; 9: log-softmax scales row r - 2 beside row r. Each row
// must be accurate and equal the row alone, bit for bit; the float after the
// batch keeps its sentinel. (Coverage showed scalar's lone-vector step beside
// a riding pass untested before this.)
TEST_P(Batch, ThreePassBatchTailsMatchRowsAlone) {
  for (std::size_t base : {256u, 512u, 1024u}) {
    for (std::size_t k = 0; k <= 2 * 16 + 1; ++k) {
      const std::size_t cols = base + k;
      const float t = k % 2 ? 0.8f : 1.0f;  // both logit forms (Scaled or not)
      for (std::size_t rows : {3u, 9u}) {
        const std::vector<float> x = normal(rows * cols, 0.0f, 4.0f, 1900 + static_cast<std::uint32_t>(cols + rows));
        for (Op op : {Op::softmax, Op::log_softmax}) {
          SCOPED_TRACE(::testing::Message() << op_name(op) << " cols=" << cols << " rows=" << rows << " T=" << t);
          std::vector<float> y = sentinel_buffer(rows * cols + 1), alone = sentinel_buffer(cols);
          call_rows(op, x.data(), y.data(), rows, cols, opts(t));
          for (std::size_t r = 0; r < rows; ++r) {
            const float* xr = x.data() + r * cols;
            const float* yr = y.data() + r * cols;
            call_rows(op, xr, alone.data(), 1, cols, opts(t));
            ASSERT_TRUE(check_op(op, xr, yr, cols, t)) << "row " << r;
            ASSERT_EQ(std::memcmp(yr, alone.data(), cols * sizeof(float)), 0) << "row " << r << " differs from the row alone";
          }
          ASSERT_TRUE(is_sentinel(y[rows * cols]));
        }
      }
    }
  }
}

// In-cache batches of in-register rows (run_mixed on AVX-512 and AVX2, for
// some lengths and ops, with the sums of W rows reduced together): every row,
// special rows among them, equals the row passed alone, bit for bit, and the
// batch is accurate; row counts leave a partial group of W rows.
TEST_P(Batch, SmallInRegisterBatchesMatchRowsAlone) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (std::size_t cols : {8u, 16u, 24u, 32u, 48u, 64u, 100u, 128u, 224u}) {
    for (std::size_t rows : {5u, 53u, 83u}) {  // 83: 6 groups (avx512 log-softmax rows of 2-3 vectors: run_mixed_lag)
      std::vector<float> x = normal(rows * cols, 1.0f, 4.0f, 1700 + static_cast<std::uint32_t>(cols + rows));
      auto row = [&](std::size_t r) { return x.data() + r * cols; };
      row(2)[cols - 1] = nan;
      std::fill(row(4), row(5), -inf);
      if (rows > 40) {
        row(17)[0] = inf;
        std::fill(row(33), row(34), -200.0f), row(33)[cols / 2] = 0.0f;
        row(rows - 1)[cols / 3] = nan;
      }
      for (Op op : {Op::softmax, Op::log_softmax}) {
        for (float t : {1.0f, 0.6f}) {
          SCOPED_TRACE(::testing::Message() << op_name(op) << " cols=" << cols << " rows=" << rows << " T=" << t);
          std::vector<float> y = sentinel_buffer(rows * cols), alone = sentinel_buffer(cols);
          call_rows(op, x.data(), y.data(), rows, cols, opts(t));
          for (std::size_t r = 0; r < rows; ++r) {
            call_rows(op, row(r), alone.data(), 1, cols, opts(t));
            const float* yr = y.data() + r * cols;
            if (std::isnan(alone[0])) {
              for (std::size_t i = 0; i < cols; ++i) ASSERT_TRUE(std::isnan(yr[i]) && !is_sentinel(yr[i])) << "row " << r;
              continue;
            }
            ASSERT_EQ(std::memcmp(yr, alone.data(), cols * sizeof(float)), 0) << "row " << r << " differs from the row alone";
            if (r % 7 == 0 && r != 4) {
              ASSERT_TRUE(check_op(op, row(r), yr, cols, t)) << "row " << r;
            }
          }
          for (std::size_t i = 0; i < cols; ++i) ASSERT_EQ(y[4 * cols + i], op == Op::log_softmax ? -inf : 0.0f);
        }
      }
    }
  }
}

// Batches just past 8 MiB (x and y) take rows_three_pass, the rows alone an
// in-register or grouped path (AVX2 rows of 65-512 floats, 65-256 for
// log-softmax): every row equals the row passed alone, bit for bit, so a row's
// bits do not depend on the batch size or on how threads split the batch.
TEST_P(Batch, BatchesPast8MiBMatchRowsAlone) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (std::size_t cols : {72u, 100u, 128u, 200u, 300u, 512u}) {
    const std::size_t rows = (8u << 20) / (2 * sizeof(float) * cols) + 21;
    std::vector<float> x = normal(rows * cols, 0.5f, 5.0f, 1800 + static_cast<std::uint32_t>(cols));
    auto row = [&](std::size_t r) { return x.data() + r * cols; };
    row(5)[cols / 2] = nan;
    std::fill(row(9), row(10), -inf);
    row(12)[0] = inf;
    for (Op op : {Op::softmax, Op::log_softmax}) {
      for (float t : {1.0f, 0.4f}) {
        SCOPED_TRACE(::testing::Message() << op_name(op) << " cols=" << cols << " rows=" << rows << " T=" << t);
        std::vector<float> y(rows * cols), alone(cols);
        call_rows(op, x.data(), y.data(), rows, cols, opts(t));
        for (std::size_t r = 0; r < rows; r += (r < 40 ? 1 : 97)) {
          call_rows(op, row(r), alone.data(), 1, cols, opts(t));
          const float* yr = y.data() + r * cols;
          if (std::isnan(alone[0])) {
            for (std::size_t i = 0; i < cols; ++i) ASSERT_TRUE(std::isnan(yr[i])) << "row " << r;
            continue;
          }
          ASSERT_EQ(std::memcmp(yr, alone.data(), cols * sizeof(float)), 0) << "row " << r << " differs from the row alone";
        }
        ASSERT_TRUE(check_op(op, row(0), y.data(), cols, t));
      }
    }
  }
}

// In-register rows past kPipelineBytes (8 MiB of x and y), where rows alone
// take run_mixed or run_scratch: log-softmax rows go through a scratch buffer
// in groups on AVX-512 (InRegisters::run_scratch), softmax rows of 3-8
// vectors on AVX2 and of 9-14 on AVX-512 run group by group (InRegisters::run;
// coverage showed AVX2's 3-5 and 7 vectors and AVX-512's 11-12 untested before
// softmax joined this test). Each row must get the bits of the same row alone,
// with special rows at group boundaries (groups of 4-16 rows, pairs at two
// vectors), strides, in place, and a last group cut short.
TEST_P(Batch, LargeInRegisterBatchesMatchRowsAlone) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::pair<Op, std::size_t>> cases;
  for (std::size_t cols : {20u, 33u, 48u, 64u, 100u, 112u, 128u}) cases.emplace_back(Op::log_softmax, cols);
  // avx2: 3 vectors (partial), 4 (full), 5 (partial), 7 (partial, full), 8 (partial); avx512: 11, 12
  for (std::size_t cols : {20u, 32u, 36u, 52u, 56u, 60u, 170u, 192u}) cases.emplace_back(Op::softmax, cols);
  for (auto [op, cols] : cases) {
    const std::size_t rows = (8u << 20) / (2 * sizeof(float) * cols) + 37, xs = cols + 5, ys = cols + 3;
    std::vector<float> x = normal(rows * xs, 0.0f, 3.0f, 1600 + static_cast<std::uint32_t>(cols));
    auto row = [&](std::size_t r) { return x.data() + r * xs; };
    for (std::size_t r : {0u, 9u, 16u, 31u, 32u}) row(r)[cols - 1] = nan;
    for (std::size_t r : {7u, 8u, 15u}) std::fill(row(r), row(r) + cols, -inf);
    for (std::size_t r : {1u, 17u}) row(r)[r % cols] = inf;
    std::fill(row(3), row(3) + cols, -200.0f), row(3)[cols / 2] = 0.0f;  // one-hot: log(sum) = 0, softmax 1
    row(rows - 1)[0] = inf;
    for (float t : {1.0f, 3.7f}) {
      for (bool in_place : {false, true}) {
        SCOPED_TRACE(::testing::Message() << op_name(op) << " cols=" << cols << " rows=" << rows << " T=" << t << " in place " << in_place);
        std::vector<float> y = sentinel_buffer(rows * ys), alone = sentinel_buffer(cols);
        if (in_place) {
          for (std::size_t r = 0; r < rows; ++r) std::copy(row(r), row(r) + cols, y.data() + r * ys);
          call_strided(op, y.data(), ys, y.data(), ys, rows, cols, opts(t));
        } else {
          call_strided(op, x.data(), xs, y.data(), ys, rows, cols, opts(t));
        }
        for (std::size_t r = 0; r < rows; ++r) {
          const float* yr = y.data() + r * ys;
          call_strided(op, row(r), xs, alone.data(), cols, 1, cols, opts(t));
          if (std::isnan(alone[0])) {
            for (std::size_t i = 0; i < cols; ++i) {
              ASSERT_TRUE(std::isnan(yr[i]) && !is_sentinel(yr[i])) << "row " << r << " i=" << i;
            }
            continue;
          }
          ASSERT_EQ(std::memcmp(yr, alone.data(), cols * sizeof(float)), 0) << "row " << r << " differs from the row alone";
          if (r + 1 < rows) {
            ASSERT_TRUE(is_sentinel(y[r * ys + cols])) << "row " << r << ": stride gap written";
          }
        }
        ASSERT_TRUE(check_op(op, row(2), y.data() + 2 * ys, cols, t));
        ASSERT_EQ(y[3 * ys + cols / 2], op == Op::log_softmax ? 0.0f : 1.0f);
      }
    }
  }
}

// Batches (x and y) of at least 24 MiB of in-register rows on AVX-512 write y
// with non-temporal stores (kernels/softmax.hpp, kStreamRowsBytes; softmax
// rows of 3-14 vectors, log-softmax rows of 4-14 with a vector log per row,
// pipelined up to 8 vectors, one row at a time past) when the rows are whole vectors
// and y and its stride are aligned; otherwise not. Either way every row equals
// the row passed alone, bit for bit, special rows included (in and across
// groups, the last row), stride gaps stay untouched and in place works.
TEST_P(Batch, StreamedInRegisterBatchesMatchRowsAlone) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  enum class Layout { contiguous, strided, in_place, y_misaligned };
  for (std::size_t cols : {48u, 64u, 96u, 128u, 120u, 160u, 224u}) {
    const std::size_t rows = (24u << 20) / (2 * sizeof(float) * cols) + 19;
    const std::size_t xs = cols + 5;
    std::vector<float> x = normal(rows * xs, 0.0f, 4.0f, 1900 + static_cast<std::uint32_t>(cols));
    auto row = [&](std::size_t r) { return x.data() + r * xs; };
    row(3)[cols - 1] = nan;
    std::fill(row(8), row(8) + cols, -inf);
    row(9)[cols / 2] = inf;
    std::fill(row(17), row(17) + cols, -300.0f), row(17)[cols / 3] = 0.0f;  // one-hot: sum 1, log(sum) 0
    row(rows - 1)[0] = nan;
    for (Layout layout : {Layout::contiguous, Layout::strided, Layout::in_place, Layout::y_misaligned}) {
      const std::size_t ys = layout == Layout::strided ? cols + 16 : cols;
      const std::size_t off = layout == Layout::y_misaligned ? 1 : 0;
      for (Op op : {Op::softmax, Op::log_softmax}) {
        for (float t : {1.0f, 0.7f}) {
          if (t != 1.0f && layout != Layout::contiguous) continue;
          SCOPED_TRACE(::testing::Message() << op_name(op) << " cols=" << cols << " rows=" << rows << " T=" << t
                                            << " layout " << static_cast<int>(layout));
          AlignedBuf yb(rows * ys + off);
          float* y = yb.data() + off;
          if (layout == Layout::in_place) {
            for (std::size_t r = 0; r < rows; ++r) std::copy(row(r), row(r) + cols, y + r * ys);
            call_strided(op, y, ys, y, ys, rows, cols, opts(t));
          } else {
            call_strided(op, x.data(), xs, y, ys, rows, cols, opts(t));
          }
          std::vector<float> alone(cols);
          std::vector<std::size_t> checked = {rows - 2, rows - 1};
          for (std::size_t r = 0; r + 2 < rows; r += (r < 40 ? 1 : 97)) checked.push_back(r);
          for (std::size_t r : checked) {
            call_strided(op, row(r), xs, alone.data(), cols, 1, cols, opts(t));
            const float* yr = y + r * ys;
            if (std::isnan(alone[0])) {
              for (std::size_t i = 0; i < cols; ++i) ASSERT_TRUE(std::isnan(yr[i]) && !is_sentinel(yr[i])) << "row " << r;
            } else {
              ASSERT_EQ(std::memcmp(yr, alone.data(), cols * sizeof(float)), 0) << "row " << r << " differs from the row alone";
            }
            if (ys > cols && r + 1 < rows) {
              ASSERT_EQ(first_touched(y, r * ys + cols, (r + 1) * ys), (r + 1) * ys) << "row " << r << ": stride gap written";
            }
          }
          ASSERT_TRUE(check_op(op, row(0), y, cols, t));
          ASSERT_TRUE(check_op(op, row(rows - 2), y + (rows - 2) * ys, cols, t));
          ASSERT_EQ(y[8 * ys], op == Op::log_softmax ? -inf : 0.0f);
          ASSERT_EQ(y[17 * ys + cols / 3], op == Op::log_softmax ? 0.0f : 1.0f);
        }
      }
    }
  }
}

// Every in-register row length, in each batch regime: a batch in cache (37
// rows), one past kPipelineBytes (8 MiB of x and y) and, for whole vectors,
// one past kStreamRowsBytes (24 MiB, contiguous and aligned: AVX-512 streams
// y there). InRegisters is instantiated per vector count (1-14 on AVX-512,
// 1-8 on AVX2 and NEON, 1-8 of 4 floats scalar), per logit form (temperature
// 1 or not) and per op, and the count decides the pairing, the pipelining and
// the mode, so each runs here: 16v - 9 floats (AVX-512: v vectors, the last
// one partial; AVX2: 2v - 1, partial), 16v (full; AVX2: 2v), and up to 64
// floats 16v - 8 and 16v - 4 (AVX2: 2v - 1 full, 2v partial). Coverage
// (gcov, per instantiation) showed AVX-512's streamed rows at 5, 7, 9 and
// 11-13 vectors, its log-softmax rows of 9 and 11-12 past 8 MiB, and AVX2's
// 7 and 8 vectors in log-softmax, never run before this test. Every sampled
// row equals the row alone, bit for bit (a NaN row and an all -inf row inside
// the first group), rows are accurate, and nothing past the batch is written.
// Emulated runs (no ISA they run streams) take the 24 MiB batches at T = 1 only.
TEST_P(Batch, EveryInRegisterLengthInEveryBatchRegime) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const std::size_t most = (24u << 20) / (2 * sizeof(float)) + 19 * 224;
  const std::vector<float> x0 = normal(most, 0.0f, 4.0f, 2000);
  std::vector<float> x = x0;
  AlignedBuf y(most + 1);
  std::vector<float> alone(224);
  std::vector<std::size_t> lengths;
  for (std::size_t v = 1; v <= 14; ++v) {
    lengths.insert(lengths.end(), {16 * v - 9, 16 * v});
    if (v <= 4) lengths.insert(lengths.end(), {16 * v - 8, 16 * v - 4});
  }
  for (std::size_t cols : lengths) {
    std::vector<std::size_t> regimes = {37, (8u << 20) / (2 * sizeof(float) * cols) + 37};
    if (cols % 16 == 0) regimes.push_back((24u << 20) / (2 * sizeof(float) * cols) + 19);
    for (std::size_t rows : regimes) {
      x[5 * cols + cols / 2] = nan;  // undone below
      std::fill(x.begin() + 6 * cols, x.begin() + 7 * cols, -inf);
      for (float t : {1.0f, 0.7f}) {
        if (t != 1.0f && emulated() && rows == regimes.back() && regimes.size() == 3) continue;
        for (Op op : {Op::softmax, Op::log_softmax}) {
          SCOPED_TRACE(::testing::Message() << op_name(op) << " cols=" << cols << " rows=" << rows << " T=" << t);
          y[rows * cols] = sentinel();
          call_rows(op, x.data(), y.data(), rows, cols, opts(t));
          ASSERT_TRUE(is_sentinel(y[rows * cols])) << "written past the batch";
          std::vector<std::size_t> checked = {rows - 2, rows - 1};
          for (std::size_t r = 0; r + 2 < rows; r += (r < 40 ? 1 : 997)) checked.push_back(r);
          for (std::size_t r : checked) {
            const float* xr = x.data() + r * cols;
            const float* yr = y.data() + r * cols;
            call_rows(op, xr, alone.data(), 1, cols, opts(t));
            if (r == 5) {
              for (std::size_t i = 0; i < cols; ++i) ASSERT_TRUE(std::isnan(yr[i])) << "NaN row, i=" << i;
              continue;
            }
            ASSERT_EQ(std::memcmp(yr, alone.data(), cols * sizeof(float)), 0) << "row " << r << " differs from the row alone";
            if (r == 6) {  // all -inf: no mass anywhere (design.md)
              for (std::size_t i = 0; i < cols; ++i) ASSERT_EQ(yr[i], op == Op::log_softmax ? -inf : 0.0f) << "i=" << i;
            } else if (r == 0 || r + 1 == rows) {
              ASSERT_TRUE(check_op(op, xr, yr, cols, t)) << "row " << r;
            }
          }
        }
      }
      std::copy(x0.begin() + 5 * cols, x0.begin() + 7 * cols, x.begin() + 5 * cols);
    }
  }
}

}  // namespace
}  // namespace sst
