// Names, the registry order, CPU detection, the active choice and the
// SIMDSOFTMAX_ISA override.
#include "support/test_support.hpp"

namespace sst {
namespace {

// Preference order of the registry (design.md: best first, scalar last).
int rank(Isa isa) {
  switch (isa) {
    case Isa::avx512: return 0;
    case Isa::avx2: return 1;
    case Isa::neon: return 2;
    case Isa::scalar: return 3;
  }
  return 99;
}

std::string join(const std::vector<Isa>& v) {
  std::string s;
  for (Isa isa : v) s += (s.empty() ? "" : ",") + std::string(simdsoftmax::to_string(isa));
  return s;
}

TEST(Dispatch, IsaNamesRoundTrip) {
  const std::pair<Isa, const char*> names[] = {
      {Isa::scalar, "scalar"}, {Isa::avx2, "avx2"}, {Isa::avx512, "avx512"}, {Isa::neon, "neon"}};
  for (const auto& [isa, name] : names) {
    EXPECT_EQ(simdsoftmax::to_string(isa), name);
    const auto back = simdsoftmax::isa_from_string(name);
    ASSERT_TRUE(back.has_value()) << name;
    EXPECT_EQ(*back, isa) << name;
  }
  for (const char* bad : {"", "AVX2", "Scalar", "avx", "avx512f", "sse2", "scalar ", " neon", "bogus"})
    EXPECT_FALSE(simdsoftmax::isa_from_string(bad).has_value()) << "'" << bad << "'";
}

TEST(Dispatch, AvailableIsasBestFirstScalarLast) {
  const std::vector<Isa> v = simdsoftmax::available_isas();
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v.back(), Isa::scalar) << join(v);
  for (std::size_t i = 1; i < v.size(); ++i) EXPECT_LT(rank(v[i - 1]), rank(v[i])) << "order: " << join(v);
  // Exactly the compiled-in ISAs this CPU can run, each with a kernel table.
  for (Isa isa : all_isas()) {
    const bool listed = std::find(v.begin(), v.end(), isa) != v.end();
    const bool expected = compiled_in(isa) && simdsoftmax::detail::cpu_can_run(isa);
    EXPECT_EQ(listed, expected) << simdsoftmax::to_string(isa) << " in " << join(v);
    EXPECT_EQ(simdsoftmax::detail::table_for(isa) != nullptr, listed) << simdsoftmax::to_string(isa);
  }
  // Distinct kernels per ISA.
  for (std::size_t i = 0; i < v.size(); ++i)
    for (std::size_t j = i + 1; j < v.size(); ++j)
      EXPECT_NE(simdsoftmax::detail::table_for(v[i]), simdsoftmax::detail::table_for(v[j]));
}

// The library's cpuid/XCR0 detection agrees with the compiler's (libgcc checks OS support too).
TEST(Dispatch, DetectionAgreesWithCompilerBuiltins) {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  EXPECT_EQ(simdsoftmax::detail::cpu_can_run(Isa::avx2), avx2);
  EXPECT_EQ(simdsoftmax::detail::cpu_can_run(Isa::avx512), avx512);
  EXPECT_FALSE(simdsoftmax::detail::cpu_can_run(Isa::neon));
#elif defined(__aarch64__)
  EXPECT_TRUE(simdsoftmax::detail::cpu_can_run(Isa::neon));  // mandatory in AArch64
  EXPECT_FALSE(simdsoftmax::detail::cpu_can_run(Isa::avx2));
  EXPECT_FALSE(simdsoftmax::detail::cpu_can_run(Isa::avx512));
#else
  GTEST_SKIP() << "no independent CPU feature check on this architecture";
#endif
  EXPECT_TRUE(simdsoftmax::detail::cpu_can_run(Isa::scalar));
}

TEST(Dispatch, ActiveIsaIsAvailableAndMatchesActiveTable) {
  const Isa a = simdsoftmax::active_isa();
  EXPECT_TRUE(is_available(a)) << simdsoftmax::to_string(a);
  EXPECT_EQ(&simdsoftmax::detail::active_table(), simdsoftmax::detail::table_for(a));
  if (!std::getenv("SIMDSOFTMAX_ISA")) {
    EXPECT_EQ(a, simdsoftmax::available_isas().front()) << "without SIMDSOFTMAX_ISA the best ISA is active";
  }
}

// CI sets SIMDSOFTMAX_EXPECT_ISA (and optionally SIMDSOFTMAX_EXPECT_AVAILABLE, a
// comma list) when it runs the suite under an emulated CPU.
TEST(Dispatch, ActiveIsaMatchesExpectation) {
  const char* expect = std::getenv("SIMDSOFTMAX_EXPECT_ISA");
  if (!expect) {
    GTEST_SKIP() << "SIMDSOFTMAX_EXPECT_ISA not set";
  }
  EXPECT_EQ(std::string(simdsoftmax::to_string(simdsoftmax::active_isa())), expect);
  if (const char* avail = std::getenv("SIMDSOFTMAX_EXPECT_AVAILABLE")) {
    std::vector<std::string> want, got;
    std::istringstream in(avail);
    for (std::string w; std::getline(in, w, ',');)
      if (!w.empty()) want.push_back(w);
    for (Isa isa : simdsoftmax::available_isas()) got.emplace_back(simdsoftmax::to_string(isa));
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want) << "available_isas() = " << join(simdsoftmax::available_isas());
  }
}

// Run by ctest with SIMDSOFTMAX_ISA set to several values (see tests/CMakeLists.txt):
// a name of an available ISA is used; anything else leaves the best ISA active.
// Calls without Options::isa then run exactly the active ISA's kernel.
TEST(EnvOverride, ActiveIsaFollowsSimdsoftmaxIsa) {
  const char* env = std::getenv("SIMDSOFTMAX_ISA");
  const std::vector<Isa> avail = simdsoftmax::available_isas();
  Isa expected = avail.front();
  if (env) {
    const auto named = simdsoftmax::isa_from_string(env);
    if (named && is_available(*named)) expected = *named;
  }
  EXPECT_EQ(simdsoftmax::active_isa(), expected)
      << "SIMDSOFTMAX_ISA=" << (env ? env : "(unset)") << ", available " << join(avail);
  RecordProperty("SIMDSOFTMAX_ISA", env ? env : "(unset)");
  std::cout << "SIMDSOFTMAX_ISA=" << (env ? env : "(unset)") << " -> active "
            << simdsoftmax::to_string(simdsoftmax::active_isa()) << "\n";

  const std::size_t n = 1000;
  const std::vector<float> x = normal(n, 0.0f, 3.0f, 4000);
  Options forced;
  forced.isa = expected;
  forced.temperature = 0.7f;
  Options dflt;
  dflt.temperature = 0.7f;
  for (Op op : {Op::softmax, Op::log_softmax}) {
    std::vector<float> yd = sentinel_buffer(n), yf = sentinel_buffer(n);
    call_row(op, x.data(), yd.data(), n, dflt);
    call_row(op, x.data(), yf.data(), n, forced);
    EXPECT_EQ(0, std::memcmp(yd.data(), yf.data(), n * sizeof(float)))
        << op_name(op) << ": a default call differs from a call forced to the active ISA";
  }
}

}  // namespace
}  // namespace sst
