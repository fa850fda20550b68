// Concurrency, built as its own executable (simdsoftmax_concurrency_tests) so
// that CI can build just these under ThreadSanitizer (.ci/stage-sanitizers.sh).
// ctest runs each test in a fresh process, so in FirstCallDispatchRace the
// automatic ISA choice (and the one read of SIMDSOFTMAX_ISA) is resolved for
// the first time while 16 threads race for it; tests/reliability.cmake also
// runs it once per SIMDSOFTMAX_ISA value.
//   FirstCallDispatchRace        16 threads, first library calls of the process
//   BatchCallsFrom16Threads      every ISA, op, shape, stride, in place, at once
//   ThreadsOptionFromSeveralCallers  Options::threads = 2 / 0 (OpenMP inside)
//                                from 4 caller threads at once, batches split by
//                                rows and long rows split into chunks
// Every result is compared bit for bit with a single-threaded run.
#include <atomic>
#include <mutex>
#include <thread>

#include "support/test_support.hpp"

namespace sst {
namespace {

// Starts `n` threads running f(tid) as close to simultaneously as possible.
template <class F>
void race(std::size_t n, F f) {
  std::atomic<std::size_t> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      ++ready;
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      f(i);
    });
  while (ready.load() < n) std::this_thread::yield();
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
}

class Failures {
 public:
  void add(std::size_t tid, const std::string& m) {
    std::lock_guard<std::mutex> lock(mu_);
    list_.push_back("thread " + std::to_string(tid) + ": " + m);
  }
  void report() const {
    for (const auto& f : list_) ADD_FAILURE() << f;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> list_;
};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// The ISA a process with this environment must pick.
Isa expected_active() {
  const std::vector<Isa> avail = simdsoftmax::available_isas();
  if (const char* env = std::getenv("SIMDSOFTMAX_ISA"))
    if (auto named = simdsoftmax::isa_from_string(env))
      if (is_available(*named)) return *named;
  return avail.front();
}

TEST(Concurrency, FirstCallDispatchRace) {
  // No library call before the race: its first calls are active_isa() from
  // some threads and softmax()/log_softmax() with default Options from others.
  constexpr std::size_t kThreads = 16;
  std::vector<std::vector<float>> inputs, outputs(kThreads);
  for (std::size_t i = 0; i < kThreads; ++i) inputs.push_back(normal(5 + 37 * i, 0.0, 3.0, 6000 + static_cast<std::uint32_t>(i)));
  std::vector<Isa> seen(kThreads);
  race(kThreads, [&](std::size_t tid) {
    const std::vector<float>& x = inputs[tid];
    outputs[tid].assign(x.size(), 0.0f);
    if (tid % 2 == 0) seen[tid] = simdsoftmax::active_isa();
    if (tid % 4 == 1)
      simdsoftmax::log_softmax(x.data(), outputs[tid].data(), x.size());
    else
      simdsoftmax::softmax(x.data(), outputs[tid].data(), x.size());
    if (tid % 2 == 1) seen[tid] = simdsoftmax::active_isa();
  });
  const Isa want = expected_active();
  const char* env = std::getenv("SIMDSOFTMAX_ISA");
  std::cout << "SIMDSOFTMAX_ISA=" << (env ? env : "(unset)") << " -> active " << simdsoftmax::to_string(want) << "\n";
  for (std::size_t tid = 0; tid < kThreads; ++tid) {
    EXPECT_EQ(seen[tid], want) << "thread " << tid;
    // The default call ran the active kernel: same bits as forcing it.
    Options forced;
    forced.isa = want;
    std::vector<float> y(inputs[tid].size());
    if (tid % 4 == 1)
      simdsoftmax::log_softmax(inputs[tid].data(), y.data(), y.size(), forced);
    else
      simdsoftmax::softmax(inputs[tid].data(), y.data(), y.size(), forced);
    EXPECT_TRUE(same_bits(y, outputs[tid])) << "thread " << tid << ": default call differs from forced "
                                            << simdsoftmax::to_string(want);
  }
}

struct Work {
  std::optional<Isa> isa;
  Op op;
  std::size_t rows, cols, xs, ys;
  float t;
  bool in_place;
  std::vector<float> x, want;
};

void run_work(const Work& w, std::vector<float>& y) {
  Options o;
  o.isa = w.isa;
  o.temperature = w.t;
  if (w.in_place) {
    y = w.x;
    call_strided(w.op, y.data(), w.xs, y.data(), w.xs, w.rows, w.cols, o);
  } else {
    y = sentinel_buffer((w.rows - 1) * w.ys + w.cols);
    call_strided(w.op, w.x.data(), w.xs, y.data(), w.ys, w.rows, w.cols, o);
  }
}

TEST(Concurrency, BatchCallsFrom16Threads) {
  constexpr std::size_t kThreads = 16;
  const std::vector<Isa> avail = simdsoftmax::available_isas();
  const std::size_t shapes[][4] = {{1, 1, 1, 1},    {4, 7, 9, 8},      {3, 16, 16, 20},  {17, 17, 17, 17},
                                   {2, 63, 64, 70}, {5, 100, 101, 100}, {2, 257, 260, 257}, {1, 3000, 3000, 3000}};
  std::vector<Work> work;
  for (std::size_t i = 0; i < kThreads; ++i) {
    Work w;
    w.isa = i % (avail.size() + 1) == avail.size() ? std::nullopt : std::optional<Isa>(avail[i % (avail.size() + 1)]);
    w.op = (i / 2) % 2 ? Op::log_softmax : Op::softmax;
    const auto& s = shapes[i % 8];
    w.rows = s[0], w.cols = s[1], w.xs = s[2], w.ys = s[3];
    w.t = i % 3 == 0 ? 1.0f : 0.6f;
    w.in_place = i % 5 == 4;
    w.x = normal(w.rows * w.xs, 2.0, 4.0, 6100 + static_cast<std::uint32_t>(i));
    run_work(w, w.want);  // single-threaded result, before the race
    work.push_back(std::move(w));
  }
  const std::size_t iterations = reps(20, 4);
  Failures failures;
  race(kThreads, [&](std::size_t tid) {
    std::vector<float> y;
    for (std::size_t it = 0; it < iterations; ++it) {
      run_work(work[tid], y);
      if (!same_bits(y, work[tid].want)) {
        failures.add(tid, "iteration " + std::to_string(it) + " differs from the single-threaded result");
        return;
      }
    }
  });
  failures.report();
}

TEST(Concurrency, ThreadsOptionFromSeveralCallers) {
  constexpr std::size_t kCallers = 4;
  const std::size_t rows = 64, cols = 1024, long_row = 2 * 65536 + 19;  // 64K floats: 2 threads by rows
  const std::vector<Isa> avail = simdsoftmax::available_isas();
  struct Case {
    Options o;
    Op op;
    std::vector<float> xb, xl, want_b, want_l;
  };
  std::vector<Case> cases;
  for (std::size_t i = 0; i < kCallers; ++i) {
    Case c;
    c.o.isa = avail[i % avail.size()];
    c.o.temperature = i % 2 ? 1.0f : 1.9f;
    c.op = i % 2 ? Op::log_softmax : Op::softmax;
    c.xb = normal(rows * cols, 0.0, 5.0, 6200 + static_cast<std::uint32_t>(i));
    c.xl = normal(long_row, 0.0, 5.0, 6300 + static_cast<std::uint32_t>(i));
    c.want_b.resize(c.xb.size());
    c.want_l.resize(c.xl.size());
    call_rows(c.op, c.xb.data(), c.want_b.data(), rows, cols, c.o);  // threads = 1
    call_row(c.op, c.xl.data(), c.want_l.data(), long_row, c.o);
    c.o.threads = i % 2 ? 2 : 0;
    cases.push_back(std::move(c));
  }
  const std::size_t iterations = reps(4, 4);
  Failures failures;
  race(kCallers, [&](std::size_t tid) {
    const Case& c = cases[tid];
    std::vector<float> yb(c.xb.size()), yl(c.xl.size());
    for (std::size_t it = 0; it < iterations; ++it) {
      call_rows(c.op, c.xb.data(), yb.data(), rows, cols, c.o);
      call_row(c.op, c.xl.data(), yl.data(), long_row, c.o);
      if (!same_bits(yb, c.want_b)) failures.add(tid, "batch differs from threads = 1");
      if (!same_bits(yl, c.want_l)) failures.add(tid, "long row differs from threads = 1");
    }
  });
  failures.report();
}

}  // namespace
}  // namespace sst
