// The simdsoftmax benchmark suite (Google Benchmark): every ISA x op x shape
// through the public API, plus references timed in the same run:
//   memcpy  copies the same bytes: the memory-traffic floor;
//   naive   a plain three-pass loop with std::exp, what a user writes by hand;
//   onednn  oneDNN's softmax primitive, when CMake found oneDNN.
//
// Names:  <op>/<impl>/<rows>x<cols>  op   = softmax | log_softmax
//                                    impl = scalar | avx2 | avx512 | neon | auto | naive | onednn
//         memcpy/<rows>x<cols>
//         softmax_threads/<impl>/<rows>x<cols>/t<N>   impl = auto | avx512 | avx2 | traffic
//                                    (the shape's memory traffic alone, see run_traffic; Google
//                                    Benchmark appends /process_time/real_time)
// "auto" is the dispatched path (no Options::isa). Counters: items_per_second
// (elements/s) and bytes_per_second (8 bytes per element: a float read, a float written).
// Single thread (CPU time of the calling thread), except softmax_threads: Options::threads = N,
// timed by the wall clock, with cpu_time = the whole process's CPU time (so cpu_time / real_time
// shows how many threads were busy). benchmarks/report.py runs this binary and turns its JSON
// into a table and a chart.
#include <benchmark/benchmark.h>

#include <simdsoftmax/simdsoftmax.hpp>

#include <alloca.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#ifdef SIMDSOFTMAX_BENCH_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif
#ifdef SIMDSOFTMAX_BENCH_OMP
#include <omp.h>
#endif

namespace ss = simdsoftmax;

namespace {

// What every case but softmax_threads runs with. threads goes to Options::threads; the
// suite is single-thread. A --threads=N flag would set it, suffix the names with
// /threads:N, and give oneDNN and the naive loop the same number of threads.
struct Config {
  int threads = 1;
};

enum class Op { softmax, log_softmax };
const char* name(Op op) { return op == Op::softmax ? "softmax" : "log_softmax"; }

struct Shape {
  std::size_t rows, cols;
  std::size_t elems() const { return rows * cols; }
  std::string str() const { return std::to_string(rows) + "x" + std::to_string(cols); }
};

// ---- the machine -----------------------------------------------------------

// Largest cache level's size. sysfs and sysconf may disagree inside VMs (one
// reported 32 MiB vs 320 MiB): take the larger claim, so "beyond" is beyond both.
std::size_t llc_bytes() {
  std::size_t best = 0;
  for (int i = 0; i < 8; ++i) {
    std::ifstream f("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/size");
    std::size_t v = 0;
    char unit = 0;
    if (f >> v >> unit) best = std::max(best, v << (unit == 'K' ? 10 : unit == 'M' ? 20 : 0));
  }
#ifdef _SC_LEVEL3_CACHE_SIZE
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  if (l3 > 0) best = std::max(best, static_cast<std::size_t>(l3));
#endif
  return best;
}

std::size_t available_memory_bytes() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  std::size_t kib;
  while (f >> key >> kib) {
    if (key == "MemAvailable:") return kib << 10;
    f.ignore(256, '\n');
  }
  return static_cast<std::size_t>(sysconf(_SC_AVPHYS_PAGES)) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#else
  return "unknown compiler";
#endif
}

// ---- shapes: three working-set classes -------------------------------------

struct ShapeClass {
  const char* name;
  std::vector<Shape> shapes;
};

std::vector<ShapeClass> shape_classes() {
  // One row of 2^28 floats = 1 GiB in + 1 GiB out; doubled until the input
  // alone is at least 2x the last-level cache.
  std::size_t big = std::size_t{1} << 28;
  while (big * sizeof(float) < 2 * llc_bytes()) big *= 2;
  return {
      // ~16K floats = 64 KiB in + 64 KiB out: stays in L2.
      // 1x32000 (125 KiB in) is the shortest row of that length.
      {"in-cache", {{512, 32}, {128, 128}, {16, 1000}, {4, 4096}, {1, 32000}}},
      // ~4M floats = 16 MiB in + 16 MiB out: past L2, within a large L3.
      {"llc",
       {{131072, 32}, {32768, 128}, {4096, 1000}, {1024, 4096}, {131, 32000}, {32, 128000}, {4, 1048576}}},
      {"beyond-llc", {{1, big}}},
  };
}

// ---- data ------------------------------------------------------------------

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using Floats = std::unique_ptr<float[], FreeDeleter>;

// Page-aligned, so that every shape and every process sees the same address
// bits below 4 KiB (speed can depend on them: see the oneDNN notes below).
Floats alloc_floats(std::size_t n) {
  constexpr std::size_t kAlign = 4096;
  const std::size_t bytes = (n * sizeof(float) + kAlign - 1) / kAlign * kAlign;
  return Floats(static_cast<float*>(std::aligned_alloc(kAlign, bytes)));
}

// One input/output pair of n floats, shared by all cases of that size and
// kept for the whole run (report.py interleaves the repetitions of all cases,
// so sizes alternate; every repetition of a size then sees the same buffers,
// not a fresh allocation). Input: normal(0, 4) logits. Output: written once
// here so that page faults stay out of the timed loop. When memory is short,
// the other sizes' buffers are freed first; returns false after SkipWithError
// if it is still short (about 3 GiB hold every size of --full at once).
struct Buffers {
  std::size_t n = 0;
  Floats x, y;
};

bool get_buffers(benchmark::State& state, std::size_t n, const float** x, float** y) {
  static std::map<std::size_t, Buffers> held;
  Buffers& b = held[n];
  if (b.n != n) {
    constexpr std::size_t kSlack = std::size_t{256} << 20;  // leave the system 256 MiB
    const std::size_t need = 2 * n * sizeof(float);
    std::size_t have = available_memory_bytes();
    if (need + kSlack > have && held.size() > 1) {
      for (auto& [size, other] : held) other = Buffers{};
      have = available_memory_bytes();
    }
    if (need + kSlack > have) {
      const std::string msg = "needs " + std::to_string(need >> 20) + " MiB, " +
                              std::to_string(have >> 20) + " MiB available";
      state.SkipWithError(msg.c_str());
      return false;
    }
    b.x = alloc_floats(n);
    b.y = alloc_floats(n);
    if (!b.x || !b.y) {
      b = Buffers{};
      state.SkipWithError(("allocating 2 x " + std::to_string(n * sizeof(float) >> 20) + " MiB failed").c_str());
      return false;
    }
    // Random numbers cost ~14 ns each: draw at most 4M (16 MiB) and repeat them
    // for longer inputs; the kernels' speed does not depend on the pattern.
    constexpr std::size_t kDrawn = std::size_t{1} << 22;
    std::mt19937 rng(2024);
    std::normal_distribution<float> normal(0.0f, 4.0f);
    const std::size_t drawn = std::min(n, kDrawn);
    for (std::size_t i = 0; i < drawn; ++i) b.x[i] = normal(rng);
    for (std::size_t i = drawn; i < n; i += drawn)
      std::memcpy(&b.x[i], &b.x[0], std::min(drawn, n - i) * sizeof(float));
    std::memset(b.y.get(), 0, n * sizeof(float));
    b.n = n;
  }
  *x = b.x.get();
  *y = b.y.get();
  return true;
}

void set_counters(benchmark::State& state, const Shape& s) {
  const auto elems = static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(s.elems());
  state.SetItemsProcessed(elems);
  state.SetBytesProcessed(elems * 8);  // 4 bytes read + 4 bytes written per element
}

// ---- the cases ---------------------------------------------------------------

// isa == nullopt: the dispatched ("auto") path.
void run_library(benchmark::State& state, const Config& cfg, Op op, std::optional<ss::Isa> isa, Shape s) {
  if (isa) {
    const auto avail = ss::available_isas();
    if (std::find(avail.begin(), avail.end(), *isa) == avail.end()) {
      state.SkipWithError((std::string(ss::to_string(*isa)) + " not available on this CPU").c_str());
      return;
    }
  }
  const float* x;
  float* y;
  if (!get_buffers(state, s.elems(), &x, &y)) return;
  ss::Options options;
  options.isa = isa;
  options.threads = cfg.threads;
  for (auto _ : state) {
    if (op == Op::softmax)
      ss::softmax_rows(x, y, s.rows, s.cols, options);
    else
      ss::log_softmax_rows(x, y, s.rows, s.cols, options);
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

// What a user writes by hand: per row, a max pass, an exp-and-sum pass, a scale pass.
void naive_softmax(const float* x, float* y, std::size_t rows, std::size_t cols) {
  for (std::size_t r = 0; r < rows; ++r, x += cols, y += cols) {
    float max = x[0];
    for (std::size_t i = 1; i < cols; ++i) max = std::max(max, x[i]);
    float sum = 0.0f;
    for (std::size_t i = 0; i < cols; ++i) {
      y[i] = std::exp(x[i] - max);
      sum += y[i];
    }
    for (std::size_t i = 0; i < cols; ++i) y[i] /= sum;
  }
}

void naive_log_softmax(const float* x, float* y, std::size_t rows, std::size_t cols) {
  for (std::size_t r = 0; r < rows; ++r, x += cols, y += cols) {
    float max = x[0];
    for (std::size_t i = 1; i < cols; ++i) max = std::max(max, x[i]);
    float sum = 0.0f;
    for (std::size_t i = 0; i < cols; ++i) sum += std::exp(x[i] - max);
    const float shift = max + std::log(sum);
    for (std::size_t i = 0; i < cols; ++i) y[i] = x[i] - shift;
  }
}

void run_naive(benchmark::State& state, const Config&, Op op, Shape s) {
  const float* x;
  float* y;
  if (!get_buffers(state, s.elems(), &x, &y)) return;
  for (auto _ : state) {
    (op == Op::softmax ? naive_softmax : naive_log_softmax)(x, y, s.rows, s.cols);
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

void run_memcpy(benchmark::State& state, const Config&, Shape s) {
  const float* x;
  float* y;
  if (!get_buffers(state, s.elems(), &x, &y)) return;
  for (auto _ : state) {
    std::memcpy(y, x, s.elems() * sizeof(float));
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

#ifdef SIMDSOFTMAX_BENCH_ONEDNN
// oneDNN 2.6's JIT softmax speed depends on where the stack is. Measured at
// 4x4096 on this machine: 2.0 or 1.4 Gelem/s depending on the stack address
// mod 32 (probably stack data split across cache lines), and 0.8 at some
// offsets mod 4 KiB (probably 4K aliasing with the rows). Each process gets
// a random stack offset, so the peer's figure changed from run to run. To
// compare with it at its best instead, the suite times it on a slice of the
// problem at 16 stack positions (0/16/32/48 bytes within a cache line x 4
// positions 1 KiB apart, all mod 4 KiB), once per op and shape, and runs the
// timed loop at the fastest one.
struct OnednnRun {
  const dnnl::primitive* primitive;
  dnnl::stream* stream;
  const std::unordered_map<int, dnnl::memory>* args;
  benchmark::State* state;  // run under its timing loop, or if null:
  int times;                // this many times
};

// One function for the calibration and the timed loop, so that oneDNN is called
// from the same stack position in both.
__attribute__((noinline)) void onednn_execute(const OnednnRun& r) {
  if (r.state) {
    for (auto _ : *r.state) {
      r.primitive->execute(*r.stream, *r.args);
      r.stream->wait();
    }
  } else {
    for (int i = 0; i < r.times; ++i) r.primitive->execute(*r.stream, *r.args);
    r.stream->wait();
  }
}

// Calls onednn_execute with the stack at `position` mod 4 KiB (to 16 bytes).
__attribute__((noinline)) void onednn_execute_at(std::size_t position, const OnednnRun& r) {
  const auto frame = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  volatile char* pad = static_cast<char*>(alloca((frame - position) % 4096 + 1));
  pad[0] = 0;  // keeps the allocation
  onednn_execute(r);
}

std::size_t onednn_best_stack_position(const dnnl::engine& engine, dnnl::algorithm alg, const float* x,
                                       float* y, Shape s) {
  static std::map<std::tuple<dnnl::algorithm, std::size_t, std::size_t>, std::size_t> chosen;
  const auto key = std::make_tuple(alg, s.rows, s.cols);
  if (auto it = chosen.find(key); it != chosen.end()) return it->second;
  constexpr std::size_t kSlice = std::size_t{1} << 16;  // elements: ~50 us per call
  const std::size_t cols = std::min(s.cols, kSlice);
  const std::size_t rows = std::clamp<std::size_t>(kSlice / cols, 1, s.rows);
  const dnnl::memory::desc md({static_cast<dnnl::memory::dim>(rows), static_cast<dnnl::memory::dim>(cols)},
                              dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab);
  const dnnl::softmax_v2_forward slice({{dnnl::prop_kind::forward_inference, alg, md, md, 1}, engine});
  dnnl::stream stream(engine);
  const std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dnnl::memory(md, engine, const_cast<float*>(x))},
                                                   {DNNL_ARG_DST, dnnl::memory(md, engine, y)}};
  std::size_t best_position = 0;
  double best = 1e300;
  for (int i = 0; i < 16; ++i) {
    const std::size_t position = std::size_t(i / 4) * 1024 + std::size_t(i % 4) * 16;
    onednn_execute_at(position, {&slice, &stream, &args, nullptr, 1});  // warm-up
    const auto t0 = std::chrono::steady_clock::now();
    onednn_execute_at(position, {&slice, &stream, &args, nullptr, 20});
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (t < best) best = t, best_position = position;
  }
  return chosen[key] = best_position;
}

// oneDNN's softmax primitive (softmax_accurate / softmax_log, f32, axis = cols),
// created outside the timed loop. The label records the implementation it picked.
void run_onednn(benchmark::State& state, const Config&, Op op, Shape s) {
  const float* x;
  float* y;
  if (!get_buffers(state, s.elems(), &x, &y)) return;
  using dnnl::memory;
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  const memory::desc md({static_cast<memory::dim>(s.rows), static_cast<memory::dim>(s.cols)},
                        memory::data_type::f32, memory::format_tag::ab);
  const auto alg = op == Op::softmax ? dnnl::algorithm::softmax_accurate : dnnl::algorithm::softmax_log;
  const dnnl::softmax_v2_forward::primitive_desc pd(
      {dnnl::prop_kind::forward_inference, alg, md, md, /*axis=*/1}, engine);
  const dnnl::softmax_v2_forward softmax(pd);
  const std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(md, engine, const_cast<float*>(x))},
                                             {DNNL_ARG_DST, memory(md, engine, y)}};
  const std::size_t position = onednn_best_stack_position(engine, alg, x, y, s);
  onednn_execute_at(position, {&softmax, &stream, &args, &state, 0});
  state.SetLabel(pd.impl_info_str());
  set_counters(state, s);
}
std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
}
#endif

// The memory roof of the threads cases: the bytes the library moves for a shape,
// with no arithmetic, on N threads (std::thread, split as the library splits:
// rows in blocks, a single row in halves). Rows of 2^22 floats and more are
// read twice (the two-pass form, src/parallel.cpp), shorter rows once (their
// second read hits the caches); y is written with non-temporal stores, as the
// library does for batches past the L3 and for long rows. Its tN / t1 is how
// much faster this machine moves those bytes on N threads than on one: the
// ceiling of the library's speedup once the data is past the caches.
#ifdef __SSE2__
float traffic_sum(const float* x, std::size_t n) {
  __m128 s0 = _mm_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm_add_ps(s0, _mm_loadu_ps(x + i)), s1 = _mm_add_ps(s1, _mm_loadu_ps(x + i + 4));
    s2 = _mm_add_ps(s2, _mm_loadu_ps(x + i + 8)), s3 = _mm_add_ps(s3, _mm_loadu_ps(x + i + 12));
  }
  alignas(16) float b[4];
  _mm_store_ps(b, _mm_add_ps(_mm_add_ps(s0, s1), _mm_add_ps(s2, s3)));
  float t = b[0] + b[1] + b[2] + b[3];
  for (; i < n; ++i) t += x[i];
  return t;
}
void traffic_copy(const float* x, float* y, std::size_t n) {
  std::size_t i = 0;
  for (; i < n && reinterpret_cast<std::uintptr_t>(y + i) % 16; ++i) y[i] = x[i];
  for (; i + 4 <= n; i += 4) _mm_stream_ps(y + i, _mm_loadu_ps(x + i));
  for (; i < n; ++i) y[i] = x[i];
  _mm_sfence();
}
#else
float traffic_sum(const float* x, std::size_t n) { return std::accumulate(x, x + n, 0.0f); }
void traffic_copy(const float* x, float* y, std::size_t n) { std::memcpy(y, x, n * sizeof(float)); }
#endif

void run_traffic(benchmark::State& state, const Config& cfg, Shape s) {
  const float* x;
  float* y;
  if (!get_buffers(state, s.elems(), &x, &y)) return;
  const std::size_t n = static_cast<std::size_t>(cfg.threads);
  const bool split_row = s.rows < n, twice = s.cols >= (std::size_t{1} << 22);
  std::vector<float> sums(n);
  const auto each = [&](auto body) {  // body(begin, end) on element ranges, one per thread
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < n; ++t) {
      const std::size_t unit = split_row ? s.cols : s.rows, b = unit * t / n, e = unit * (t + 1) / n;
      const std::size_t k = split_row ? 1 : s.cols;  // elements per unit
      pool.emplace_back([&body, b, e, k, t] { body(b * k, e * k, t); });
    }
    for (std::thread& th : pool) th.join();
  };
  for (auto _ : state) {
    for (std::size_t r = 0; r < (split_row ? s.rows : 1); ++r) {
      const float* xr = x + r * s.cols;
      float* yr = y + r * s.cols;
      if (twice) each([&](std::size_t b, std::size_t e, std::size_t t) { sums[t] += traffic_sum(xr + b, e - b); });
      each([&](std::size_t b, std::size_t e, std::size_t) { traffic_copy(xr + b, yr + b, e - b); });
    }
    benchmark::DoNotOptimize(sums.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, s);
}

// Options::threads scaling (issue: multi-core): softmax through the public API with
// threads = N, timed by the wall clock. A batch of 4096 rows, a batch of 64 vocab rows
// and one 2^26-element row (256 MiB in + 256 MiB out: split into chunks across threads).
const std::vector<Shape> kThreadShapes = {{4096, 4096}, {64, 32000}, {1, std::size_t{1} << 26}};
const int kThreadCounts[] = {1, 2};

void register_threads() {
  std::string shapes;  // "4096x4096,64x32000,...": tells report.py the row order
  for (const Shape& s : kThreadShapes) {
    shapes += std::string(shapes.empty() ? "" : ",") + s.str();
    // A fixed count of calls per repetition (about 0.1-0.2 s here): Google Benchmark
    // sizes a repetition from one trial call, and with interleaved repetitions every
    // repetition of a case keeps that size; a trial call that met a stalled vCPU (a
    // two-thread call waits for both) left 1 call per repetition, and those cases
    // measured 0.1-0.5x their usual speed (benchmarks/run.sh --full, 21 x 0.1 s).
    const auto iters = static_cast<benchmark::IterationCount>(std::max<std::size_t>(1, (std::size_t{1} << 29) / s.elems()));
    for (const char* impl : {"auto", "avx512", "avx2"}) {
      const std::optional<ss::Isa> isa = ss::isa_from_string(impl);  // nullopt for "auto"
      for (int n : kThreadCounts) {
        Config cfg;
        cfg.threads = n;
        const std::string name = std::string("softmax_threads/") + impl + "/" + s.str() + "/t" + std::to_string(n);
        benchmark::RegisterBenchmark(name.c_str(), run_library, cfg, Op::softmax, isa, s)
            ->UseRealTime()              // other threads' work shows only on the wall clock
            ->MeasureProcessCPUTime()    // cpu_time: every thread's, to show how many were busy
            ->Iterations(iters);
      }
    }
    for (int n : kThreadCounts) {
      Config cfg;
      cfg.threads = n;
      const std::string name = "softmax_threads/traffic/" + s.str() + "/t" + std::to_string(n);
      benchmark::RegisterBenchmark(name.c_str(), run_traffic, cfg, s)->UseRealTime()->MeasureProcessCPUTime()->Iterations(iters);
    }
  }
  benchmark::AddCustomContext("thread_shapes", shapes);
}

void register_all(const Config& cfg) {
  std::string classes;  // "in-cache=512x32,128x128;llc=...": lets report.py group the rows
  for (const ShapeClass& c : shape_classes()) {
    classes += std::string(classes.empty() ? "" : ";") + c.name + "=";
    for (const Shape& s : c.shapes) {
      classes += s.str() + (&s == &c.shapes.back() ? "" : ",");
      const std::string shape = "/" + s.str();
      for (Op op : {Op::softmax, Op::log_softmax}) {
        const std::string prefix = std::string(name(op)) + "/";
        for (ss::Isa isa : {ss::Isa::scalar, ss::Isa::avx2, ss::Isa::avx512, ss::Isa::neon})
          benchmark::RegisterBenchmark((prefix + std::string(ss::to_string(isa)) + shape).c_str(),
                                       run_library, cfg, op, isa, s);
        benchmark::RegisterBenchmark((prefix + "auto" + shape).c_str(), run_library, cfg, op,
                                     std::nullopt, s);
        benchmark::RegisterBenchmark((prefix + "naive" + shape).c_str(), run_naive, cfg, op, s);
#ifdef SIMDSOFTMAX_BENCH_ONEDNN
        benchmark::RegisterBenchmark((prefix + "onednn" + shape).c_str(), run_onednn, cfg, op, s);
#endif
      }
      benchmark::RegisterBenchmark(("memcpy" + shape).c_str(), run_memcpy, cfg, s);
    }
  }
  benchmark::AddCustomContext("shape_classes", classes);
}

}  // namespace

int main(int argc, char** argv) {
#ifdef SIMDSOFTMAX_BENCH_OMP
  // This oneDNN build threads with OpenMP: keep it on one thread. The setting is process-wide,
  // but simdsoftmax's parallel regions ask for num_threads(N) explicitly, which takes
  // precedence, so softmax_threads/.../t2 still runs on 2 threads (its cpu_time shows it).
  omp_set_num_threads(1);
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const Config cfg;

  std::string isas;
  for (ss::Isa isa : ss::available_isas()) isas += std::string(isas.empty() ? "" : ",") + std::string(ss::to_string(isa));
  benchmark::AddCustomContext("simdsoftmax_isas", isas);
  benchmark::AddCustomContext("simdsoftmax_auto", std::string(ss::to_string(ss::active_isa())));
  benchmark::AddCustomContext("compiler", compiler());
  benchmark::AddCustomContext("llc_bytes", std::to_string(llc_bytes()));
  benchmark::AddCustomContext("threads", std::to_string(cfg.threads));
#ifdef SIMDSOFTMAX_BENCH_ONEDNN
  benchmark::AddCustomContext("onednn", onednn_version());
#else
  std::fprintf(stderr, "bench_softmax: oneDNN was not found at configure time; running without the onednn peer\n");
  benchmark::AddCustomContext("onednn", "not found at configure time");
#endif
  register_all(cfg);
  register_threads();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
