// A/B timing of simdsoftmax builds in one process (benchmarks/ab.sh builds them).
// Usage: ab_driver ISA OP REPS lib1.so lib2.so ... -- ROWSxCOLS ...
// Each library is dlopen'ed privately; per shape, the libraries take turns of
// >= 0.05 s on the same page-aligned buffers, REPS rounds, and the median
// Gelem/s of each is printed. Alternating within one process cancels most of
// a shared machine's drift, which separate runs do not.
#include <simdsoftmax/simdsoftmax.hpp>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstdlib>
#include <cstring>
#include <vector>

using Rows = void (*)(const float*, float*, std::size_t, std::size_t, const simdsoftmax::Options&);

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s ISA softmax|log_softmax REPS lib.so... -- ROWSxCOLS...\n", argv[0]);
    return 2;
  }
  // The Isa enum is plain data: no library symbol is needed to name it.
  using simdsoftmax::Isa;
  const std::string_view isa_name = argv[1];
  const Isa isa = isa_name == "avx512" ? Isa::avx512 : isa_name == "avx2" ? Isa::avx2 : isa_name == "neon" ? Isa::neon : Isa::scalar;
  const bool log = std::strcmp(argv[2], "log_softmax") == 0;
  const int reps = std::atoi(argv[3]);
  const char* symbol = log ? "_ZN11simdsoftmax16log_softmax_rowsEPKfPfmmRKNS_7OptionsE"
                           : "_ZN11simdsoftmax12softmax_rowsEPKfPfmmRKNS_7OptionsE";
  std::vector<Rows> fns;
  int a = 4;
  for (; a < argc && std::strcmp(argv[a], "--") != 0; ++a) {
    void* h = dlopen(argv[a], RTLD_NOW | RTLD_LOCAL);
    void* f = h ? dlsym(h, symbol) : nullptr;
    if (!f) {
      std::fprintf(stderr, "%s: %s\n", argv[a], dlerror());
      return 1;
    }
    fns.push_back(reinterpret_cast<Rows>(f));
  }
  for (++a; a < argc; ++a) {
    std::size_t rows = 0, cols = 0;
    if (std::sscanf(argv[a], "%zux%zu", &rows, &cols) != 2 || rows * cols == 0) return 2;
    const std::size_t bytes = (rows * cols * sizeof(float) + 4095) / 4096 * 4096;
    float* x = static_cast<float*>(std::aligned_alloc(4096, bytes));
    // AB_Y_OFFSETS=a,b,... (bytes): one column per build and offset, y starting
    // that far past a page boundary (x is page-aligned); default 0.
    std::vector<std::size_t> offs;
    for (const char* p = std::getenv("AB_Y_OFFSETS"); p && *p; p += *p == ',')
      offs.push_back(std::strtoul(p, const_cast<char**>(&p), 10) / sizeof(float));
    if (offs.empty()) offs.push_back(0);
    float* y_base = static_cast<float*>(std::aligned_alloc(4096, bytes + 4096));
    for (std::size_t i = 0; i < rows * cols; ++i) x[i] = static_cast<float>((i * 2654435761u) % 1000) / 100.0f;
    simdsoftmax::Options o;
    o.isa = isa;
    if (const char* t = std::getenv("AB_THREADS")) o.threads = std::atoi(t);  // Options::threads (default 1)
    std::vector<std::vector<double>> g(fns.size() * offs.size());
    for (int k = 0; k < reps; ++k)
      for (std::size_t c = 0; c < g.size(); ++c) {
        const std::size_t f = c / offs.size();
        float* y = y_base + offs[c % offs.size()];
        std::size_t calls = 0;
        double dt = 0.0;
        const auto t0 = std::chrono::steady_clock::now();
        do {
          fns[f](x, y, rows, cols, o);
          ++calls;
          dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        } while (dt < 0.05);
        g[c].push_back(static_cast<double>(calls * rows * cols) / dt / 1e9);
      }
    std::printf("%-14s", argv[a]);
    for (auto& v : g) {
      std::sort(v.begin(), v.end());
      std::printf(" %7.3f", v[v.size() / 2]);
    }
    std::printf("\n");
    std::free(x);
    std::free(y_base);
  }
}
