// 8 threads call the library at once, with different ISAs (and the automatic
// choice, resolved for the first time while they race), shapes and entry
// points; each verifies every result.
#include <atomic>
#include <mutex>
#include <thread>

#include "support/test_support.hpp"

namespace sst {
namespace {

struct Job {
  std::optional<Isa> isa;  // nullopt: automatic choice
  Op op;
  std::size_t rows, cols, xs, ys;
  float t;
  bool in_place;
};

TEST(Threads, EightThreadsConcurrently) {
  // No library call before the threads start: the automatic choice is resolved under contention.
  const std::vector<Isa> avail = simdsoftmax::available_isas();
  std::vector<Job> jobs;
  const std::size_t shapes[][4] = {{1, 1000, 1000, 1000}, {8, 37, 40, 45}, {3, 4097, 4097, 4097}, {16, 16, 16, 16},
                                   {5, 1, 3, 1},          {2, 49, 64, 49}, {6, 333, 333, 340},    {1, 100000, 100000, 100000}};
  for (std::size_t i = 0; i < 8; ++i) {
    Job j;
    j.isa = (i % 3 == 2) ? std::nullopt : std::optional<Isa>(avail[i % avail.size()]);
    j.op = i % 2 ? Op::log_softmax : Op::softmax;
    j.rows = shapes[i][0], j.cols = shapes[i][1], j.xs = shapes[i][2], j.ys = shapes[i][3];
    j.t = i % 4 == 1 ? 3.7f : i % 4 == 3 ? 0.5f : 1.0f;
    j.in_place = (i == 3 || i == 6);
    if (j.in_place) j.ys = j.xs;
    jobs.push_back(j);
  }
  const std::size_t iterations = reps(60, 10);

  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::mutex mu;
  std::vector<std::string> failures;
  auto fail = [&](std::size_t tid, const std::string& m) {
    std::lock_guard<std::mutex> lock(mu);
    failures.push_back("thread " + std::to_string(tid) + ": " + m);
  };

  auto worker = [&](std::size_t tid) {
    const Job& j = jobs[tid];
    const std::vector<float> x = normal(j.rows * j.xs, tid * 100.0f, 3.0f, 5000 + static_cast<std::uint32_t>(tid));
    std::vector<Reference> refs;
    for (std::size_t r = 0; r < j.rows; ++r) refs.push_back(reference(x.data() + r * j.xs, j.cols, j.t));
    Options o;
    o.temperature = j.t;
    o.isa = j.isa;
    const std::size_t ylen = (j.rows - 1) * j.ys + j.cols;
    std::vector<float> first;
    ++ready;
    while (!go.load()) std::this_thread::yield();
    for (std::size_t it = 0; it < iterations; ++it) {
      std::vector<float> y = j.in_place ? x : sentinel_buffer(ylen + 8);
      const float* xin = j.in_place ? y.data() : x.data();
      call_strided(j.op, xin, j.xs, y.data(), j.ys, j.rows, j.cols, o);
      if (it == 0) {
        for (std::size_t r = 0; r < j.rows; ++r) {
          const auto res = check_op(j.op, x.data() + r * j.xs, y.data() + r * j.ys, j.cols, j.t, &refs[r]);
          if (!res) fail(tid, "row " + std::to_string(r) + ": " + res.message());
        }
        if (!j.in_place && first_touched(y.data(), ylen, ylen + 8) != ylen + 8) fail(tid, "wrote past the batch");
        first = y;
      } else if (std::memcmp(first.data(), y.data(), y.size() * sizeof(float)) != 0) {
        fail(tid, "iteration " + std::to_string(it) + " differs from the first");
        return;
      }
    }
  };

  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < jobs.size(); ++i) threads.emplace_back(worker, i);
  while (ready.load() < static_cast<int>(jobs.size())) std::this_thread::yield();
  go = true;
  for (auto& t : threads) t.join();
  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_TRUE(is_available(simdsoftmax::active_isa()));
}

}  // namespace
}  // namespace sst
