// Guard pages: rows placed so that their last element ends exactly at a page
// boundary followed by a PROT_NONE page, or so that their first element starts
// right after one, for inputs and outputs, on every ISA. A kernel that reads or
// writes one float past either end of the row (a tail load/store of a full
// vector, an off-by-one in a mask, a look-ahead) dies of SIGSEGV here instead of
// passing silently inside a larger heap allocation. The handler below prints
// which case was running before the process dies, and ctest reports the crash
// as a failure.
//
// Lengths: every tail 0..2W+1 (W = 16, the widest vector) around each path:
//   1..2W+1            rows held in registers (all ISAs; scalar W = 4 goes
//                      three-pass from 33 on, avx2 from 65, avx512 from 257),
//   64..64+2W+1        avx2's last in-register length and its first three-pass ones,
//   256..257+2W+1      avx512's last in-register length and its first three-pass ones,
//   3*1024+7           a row spanning several pages (and blocks of the sum),
//   65536+17           a row of two sum chunks (Job::chunk = 64K),
//   2*65536+13         split across threads (Options::threads = 2; chunk tails),
//   2^22+13            the two-pass form (src/parallel.cpp; scalar softmax:
//                      three passes): streamed stores
//                      after a masked head that aligns y, masked tail.
// Placements: x and y at the guard (separate buffers), in place at the guard,
// strided batches whose last row ends at the guard / whose first row starts
// after it, and contiguous batches of W+1 rows (log-softmax's group of W rows).
// Besides not faulting, every result is checked against the reference, and
// every accessible output float outside the rows must keep its sentinel.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <cstdio>

#include "support/test_support.hpp"

namespace sst {
namespace {

constexpr std::size_t kW = 16;  // widest vector (AVX-512) in floats

// ---------------------------------------------------------------------------
// Which case is running, for the SIGSEGV handler (async-signal-safe: a fixed
// buffer written with write(2)).
char g_case[512];
struct sigaction g_old_segv, g_old_bus;

void on_fault(int sig, siginfo_t* info, void*) {
  static const char head[] = "\n*** guard page hit (read or write past the row) while running: ";
  ssize_t ignored = write(2, head, sizeof head - 1);
  ignored = write(2, g_case, strnlen(g_case, sizeof g_case));
  char addr[64];
  const int len = std::snprintf(addr, sizeof addr, "\n*** fault address %p\n", info ? info->si_addr : nullptr);
  if (len > 0) ignored = write(2, addr, static_cast<std::size_t>(len));
  (void)ignored;
  // Hand the signal to whoever had it before (ASan's reporter, or the default
  // action): returning re-executes the faulting instruction.
  sigaction(sig, sig == SIGSEGV ? &g_old_segv : &g_old_bus, nullptr);
}

class FaultReporter {
 public:
  FaultReporter() {
    struct sigaction sa {};
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_old_segv);
    sigaction(SIGBUS, &sa, &g_old_bus);
  }
  ~FaultReporter() {
    sigaction(SIGSEGV, &g_old_segv, nullptr);
    sigaction(SIGBUS, &g_old_bus, nullptr);
  }
  FaultReporter(const FaultReporter&) = delete;
  FaultReporter& operator=(const FaultReporter&) = delete;
};

std::size_t page_size() {
  static const std::size_t p = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return p;
}

// `floats` accessible floats (rounded up to whole pages) between two PROT_NONE
// pages, filled with the sentinel.
class Guarded {
 public:
  explicit Guarded(std::size_t floats) {
    const std::size_t ps = page_size();
    rw_ = (floats * sizeof(float) + ps - 1) / ps * ps;
    if (rw_ == 0) rw_ = ps;
    total_ = rw_ + 2 * ps;
    void* p = mmap(nullptr, total_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    base_ = static_cast<char*>(p);
    if (mprotect(base_ + ps, rw_, PROT_READ | PROT_WRITE) != 0) {
      munmap(base_, total_);
      throw std::bad_alloc();
    }
    std::fill(begin(), end(), sentinel());
  }
  ~Guarded() { munmap(base_, total_); }
  Guarded(const Guarded&) = delete;
  Guarded& operator=(const Guarded&) = delete;

  float* begin() const { return reinterpret_cast<float*>(base_ + page_size()); }  // a PROT_NONE page before
  float* end() const { return begin() + rw_ / sizeof(float); }                      // a PROT_NONE page at it
  std::size_t size() const { return rw_ / sizeof(float); }

  // Where a span of `count` floats starts so that it touches a guard.
  float* at_end(std::size_t count) const { return end() - count; }
  float* at_begin() const { return begin(); }

 private:
  char* base_ = nullptr;
  std::size_t rw_ = 0, total_ = 0;
};

// ---------------------------------------------------------------------------
// The AVX2 and AVX-512 kernels load and store row tails with masked moves
// (vmaskmovps, AVX-512 masked loadu/storeu), whose masked-off lanes do not
// fault on real CPUs. qemu-user (7.2) emulates them as full-width accesses, so
// a masked tail next to a guard page faults under it although the kernel is
// correct. Probe the platform once, in a child process: if a masked access of
// one float before a PROT_NONE page faults, these ISAs' guard tests are
// skipped with that reason (they run natively in the native and sanitizer
// stages).
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) void masked_probe_avx2(float* end) {
  const __m256i first = _mm256_setr_epi32(-1, 0, 0, 0, 0, 0, 0, 0);
  const __m256 v = _mm256_maskload_ps(end - 1, first);  // lane 0 = the page's last float, lanes 1..7 beyond
  _mm256_maskstore_ps(end - 1, first, v);
}
__attribute__((target("avx512f"))) void masked_probe_avx512(float* end) {
  const __m512 v = _mm512_mask_loadu_ps(_mm512_setzero_ps(), 1, end - 1);
  _mm512_mask_storeu_ps(end - 1, 1, v);
}
#endif

template <class F>
bool survives(F probe) {
  const pid_t pid = fork();
  if (pid < 0) return true;  // cannot tell: run the tests
  if (pid == 0) {
    probe();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Empty when masked-off lanes do not fault here, else why the ISA's tests are skipped.
std::string masked_lanes_fault(Isa isa);

enum class Place { end, begin };
const char* place_name(Place p) { return p == Place::end ? "ends at guard" : "starts after guard"; }

std::vector<std::size_t> guard_lengths() {
  std::vector<std::size_t> v;
  for (std::size_t n = 1; n <= 2 * kW + 1; ++n) v.push_back(n);
  for (std::size_t n = 64; n <= 64 + 2 * kW + 1; ++n) v.push_back(n);
  for (std::size_t n = 256; n <= 257 + 2 * kW + 1; ++n) v.push_back(n);
  v.push_back(3 * 1024 + 7);
  v.push_back(65536 + 17);
  v.push_back(2 * 65536 + 13);
  v.push_back((std::size_t{1} << 22) + 13);  // the two-pass form: streamed y, masked head and tail
  return v;
}

// Input of a row: ordinary logits, with an occasional +inf row (the exact
// non-finite path, which reads x element by element).
std::vector<float> row_input(std::size_t n, std::uint32_t seed) {
  std::vector<float> x = normal(n, 0.5f, 4.0f, seed);
  if (seed % 7 == 3) x[n / 2] = std::numeric_limits<float>::infinity();
  return x;
}

// Checks one finished row (ordinary or with +inf entries).
::testing::AssertionResult check_row(Op op, const float* x, const float* y, std::size_t n, float t,
                                     const Reference* ref) {
  bool has_inf = false;
  for (std::size_t i = 0; i < n; ++i) has_inf |= std::isinf(x[i]) && x[i] > 0;
  if (!has_inf) return check_op(op, x, y, n, t, ref);
  for (std::size_t i = 0; i < n; ++i) {
    const bool hit = std::isinf(x[i]) && x[i] > 0;  // one +inf entry per row here
    const float want = op == Op::softmax ? (hit ? 1.0f : 0.0f) : (hit ? 0.0f : -INFINITY);
    if (!(y[i] == want)) return ::testing::AssertionFailure() << "+inf row: y[" << i << "]=" << y[i] << " want " << want;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult untouched(const Guarded& g, const float* skip_begin, const float* skip_end) {
  const std::size_t a = static_cast<std::size_t>(skip_begin - g.begin()), b = static_cast<std::size_t>(skip_end - g.begin());
  const std::size_t before = first_touched(g.begin(), 0, a), after = first_touched(g.begin(), b, g.size());
  if (before != a) return ::testing::AssertionFailure() << "wrote " << (a - before) << " floats before the output";
  if (after != g.size()) return ::testing::AssertionFailure() << "wrote at float " << (after - b) << " past the output";
  return ::testing::AssertionSuccess();
}

std::string masked_lanes_fault(Isa isa) {
#if defined(__x86_64__) || defined(__i386__)
  static const bool avx2_ok = !is_available(Isa::avx2) || survives([] {
    Guarded g(1);
    masked_probe_avx2(g.end());
  });
  static const bool avx512_ok = !is_available(Isa::avx512) || survives([] {
    Guarded g(1);
    masked_probe_avx512(g.end());
  });
  if ((isa == Isa::avx2 && !avx2_ok) || (isa == Isa::avx512 && !avx512_ok))
    return "masked-off lanes of masked loads/stores fault on this CPU/emulator (qemu-user emulates them "
           "full width), so a correct masked tail would hit the guard page; run natively";
#else
  (void)isa;
#endif
  return "";
}

class GuardPages : public IsaTest {
 protected:
  void SetUp() override {
    IsaTest::SetUp();
    if (IsSkipped()) return;
    const std::string why = masked_lanes_fault(GetParam());
    if (!why.empty()) GTEST_SKIP() << why;
    reporter_ = std::make_unique<FaultReporter>();
  }
  void TearDown() override { reporter_.reset(); }
  void set_case(const std::string& s) {
    std::snprintf(g_case, sizeof g_case, "%s isa=%s", s.c_str(),
                  std::string(simdsoftmax::to_string(GetParam())).c_str());
  }
  Options opts_threads(float t, int threads) const {
    Options o = opts(t);
    o.threads = threads;
    return o;
  }

 private:
  std::unique_ptr<FaultReporter> reporter_;
};
SST_INSTANTIATE_ALL_ISAS(GuardPages);

// One row, x and y in separate guarded buffers, both at the same kind of guard.
TEST_P(GuardPages, RowsAtTheGuard) {
  for (std::size_t n : guard_lengths()) {
    const std::vector<float> x0 = row_input(n, 7000 + static_cast<std::uint32_t>(n));
    const float t = n % 3 == 1 ? 0.7f : 1.0f;  // both logit paths (T == 1 skips the multiply)
    const Reference ref = reference(x0.data(), n, t);
    const int threads = n > 2 * 65536 ? 2 : 1;
    for (Place place : {Place::end, Place::begin}) {
      for (Op op : {Op::softmax, Op::log_softmax}) {
        const std::string what = std::string(op_name(op)) + " n=" + std::to_string(n) + " x,y " + place_name(place) +
                                 " T=" + fmt(t) + " threads=" + std::to_string(threads);
        SCOPED_TRACE(what);
        set_case(what);
        Guarded gx(n), gy(n);
        float* x = place == Place::end ? gx.at_end(n) : gx.at_begin();
        float* y = place == Place::end ? gy.at_end(n) : gy.at_begin();
        std::copy(x0.begin(), x0.end(), x);
        call_row(op, x, y, n, opts_threads(t, threads));
        ASSERT_TRUE(std::equal(x0.begin(), x0.end(), x, [](float a, float b) { return bits(a) == bits(b); }))
            << "x modified";
        ASSERT_TRUE(check_row(op, x0.data(), y, n, t, &ref));
        ASSERT_TRUE(untouched(gy, y, y + n));
      }
    }
  }
}

// In place: y == x, the row at either guard.
TEST_P(GuardPages, InPlaceAtTheGuard) {
  for (std::size_t n : guard_lengths()) {
    const std::vector<float> x0 = row_input(n, 7100 + static_cast<std::uint32_t>(n));
    const float t = n % 3 == 2 ? 3.7f : 1.0f;
    const Reference ref = reference(x0.data(), n, t);
    const int threads = n > 2 * 65536 ? 2 : 1;
    for (Place place : {Place::end, Place::begin}) {
      for (Op op : {Op::softmax, Op::log_softmax}) {
        const std::string what = std::string(op_name(op)) + " in place n=" + std::to_string(n) + " " +
                                 place_name(place) + " T=" + fmt(t) + " threads=" + std::to_string(threads);
        SCOPED_TRACE(what);
        set_case(what);
        Guarded g(n);
        float* b = place == Place::end ? g.at_end(n) : g.at_begin();
        std::copy(x0.begin(), x0.end(), b);
        call_row(op, b, b, n, opts_threads(t, threads));
        ASSERT_TRUE(check_row(op, x0.data(), b, n, t, &ref));
        ASSERT_TRUE(untouched(g, b, b + n));
      }
    }
  }
}

// Strided batches: the last row of x and y ends at the guard, or the first row
// starts right after it; x_stride != y_stride, gaps between rows must stay
// untouched (they hold the sentinel, which is a NaN: reading it into a row
// would also show as a NaN row). Also in place with equal strides.
TEST_P(GuardPages, StridedBatchesAtTheGuard) {
  const std::size_t rows = 3;
  std::vector<std::size_t> cols_list;
  for (std::size_t c = 1; c <= 2 * kW + 1; ++c) cols_list.push_back(c);
  for (std::size_t c : {64u, 65u, 255u, 256u, 257u, 273u, 289u, 290u}) cols_list.push_back(c);
  for (std::size_t cols : cols_list) {
    const std::size_t xs = cols + 1 + cols % 5, ys = cols + (cols % 2 ? 0 : 3);
    const std::size_t xspan = (rows - 1) * xs + cols, yspan = (rows - 1) * ys + cols;
    std::vector<std::vector<float>> x0;
    std::vector<Reference> refs;
    const float t = cols % 2 ? 1.0f : 0.5f;
    for (std::size_t r = 0; r < rows; ++r) {
      x0.push_back(row_input(cols, 7200 + static_cast<std::uint32_t>(cols * rows + r)));
      refs.push_back(reference(x0.back().data(), cols, t));
    }
    for (Place place : {Place::end, Place::begin}) {
      for (Op op : {Op::softmax, Op::log_softmax}) {
        for (bool in_place : {false, true}) {
          const std::size_t s_x = xs, s_y = in_place ? xs : ys, span_y = in_place ? xspan : yspan;
          const std::string what = std::string(op_name(op)) + (in_place ? " in place" : "") +
                                   " rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) +
                                   " x_stride=" + std::to_string(s_x) + " y_stride=" + std::to_string(s_y) + " " +
                                   place_name(place) + " T=" + fmt(t);
          SCOPED_TRACE(what);
          set_case(what);
          Guarded gx(xspan), gy(span_y);
          float* x = place == Place::end ? gx.at_end(xspan) : gx.at_begin();
          float* y = in_place ? x : place == Place::end ? gy.at_end(span_y) : gy.at_begin();
          for (std::size_t r = 0; r < rows; ++r) std::copy(x0[r].begin(), x0[r].end(), x + r * s_x);
          call_strided(op, x, s_x, y, s_y, rows, cols, opts(t));
          const Guarded& gout = in_place ? gx : gy;
          for (std::size_t r = 0; r < rows; ++r) {
            ASSERT_TRUE(check_row(op, x0[r].data(), y + r * s_y, cols, t, &refs[r])) << "row " << r;
            if (!in_place) {
              ASSERT_TRUE(std::equal(x0[r].begin(), x0[r].end(), x + r * s_x)) << "x modified, row " << r;
            }
            if (r + 1 < rows) {
              ASSERT_EQ(first_touched(y, r * s_y + cols, (r + 1) * s_y), (r + 1) * s_y) << "gap after row " << r;
            }
          }
          ASSERT_TRUE(untouched(gout, y, y + span_y));
        }
      }
    }
  }
}

// Contiguous batches of W+1 rows (a full group of W rows plus one: the
// in-register log-softmax finishes rows in groups of W), the last row ending
// at the guard or the first starting after it.
TEST_P(GuardPages, ContiguousBatchesAtTheGuard) {
  const std::size_t rows = kW + 1;
  std::vector<std::size_t> cols_list;
  for (std::size_t c = 1; c <= 2 * kW + 1; ++c) cols_list.push_back(c);
  for (std::size_t c : {63u, 64u, 65u, 257u, 271u}) cols_list.push_back(c);
  for (std::size_t cols : cols_list) {
    const std::size_t span = rows * cols;
    const std::vector<float> x0 = normal(span, -1.0f, 3.0f, 7300 + static_cast<std::uint32_t>(cols));
    std::vector<Reference> refs;
    for (std::size_t r = 0; r < rows; ++r) refs.push_back(reference(x0.data() + r * cols, cols, 1.0f));
    for (Place place : {Place::end, Place::begin}) {
      for (Op op : {Op::softmax, Op::log_softmax}) {
        const std::string what = std::string(op_name(op)) + " rows=" + std::to_string(rows) +
                                 " cols=" + std::to_string(cols) + " contiguous, " + place_name(place);
        SCOPED_TRACE(what);
        set_case(what);
        Guarded gx(span), gy(span);
        float* x = place == Place::end ? gx.at_end(span) : gx.at_begin();
        float* y = place == Place::end ? gy.at_end(span) : gy.at_begin();
        std::copy(x0.begin(), x0.end(), x);
        call_rows(op, x, y, rows, cols, opts());
        for (std::size_t r = 0; r < rows; ++r)
          ASSERT_TRUE(check_op(op, x0.data() + r * cols, y + r * cols, cols, 1.0f, &refs[r])) << "row " << r;
        ASSERT_TRUE(untouched(gy, y, y + span));
      }
    }
  }
}

// The guard itself works: touching the float right after a row placed at the
// end (or right before one placed at the start) kills the process. Without
// this, a broken Guarded would make every test above pass vacuously.
TEST(GuardPagesSelfTest, TouchingTheGuardDies) {
  const auto read_after = [] {
    Guarded g(5);
    volatile float* p = g.at_end(5);
    std::printf("%f\n", static_cast<double>(p[5]));
  };
  const auto write_before = [] {
    Guarded g(5);
    volatile float* p = g.at_begin();
    p[-1] = 1.0f;
  };
  const auto inside = [] {
    Guarded g(5);
    volatile float* p = g.at_end(5);
    p[0] = 1.0f;
    p[4] = 2.0f;
    volatile float* q = g.at_begin();
    q[0] = 3.0f;
    std::exit(0);
  };
  EXPECT_DEATH(read_after(), "");
  EXPECT_DEATH(write_before(), "");
  EXPECT_EXIT(inside(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace sst
