#include "dispatch.hpp"

#include <cstdint>
#include <cstdlib>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace simdsoftmax {
namespace detail {
namespace {

#if defined(__x86_64__) || defined(__i386__)
struct X86Features {
  bool avx2_fma = false;
  bool avx512 = false;  // F + DQ + BW + VL (Skylake-SP and later)
};

// cpuid says what the CPU has; XCR0 (read with xgetbv) says which register
// state the OS saves. AVX needs XMM|YMM (bits 1,2); AVX-512 also opmask|ZMM_Hi256|Hi16_ZMM (5,6,7).
X86Features detect_x86() noexcept {
  X86Features f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28);
  if (!(osxsave && avx)) return f;
  std::uint32_t xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const bool os_ymm = (xcr0_lo & 0x6u) == 0x6u, os_zmm = (xcr0_lo & 0xE6u) == 0xE6u;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  const bool avx2 = b & (1u << 5);
  const std::uint32_t k512 = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);  // F DQ BW VL
  f.avx2_fma = os_ymm && avx2 && fma;
  f.avx512 = os_zmm && (b & k512) == k512 && f.avx2_fma;
  return f;
}
#endif

struct Entry {
  Isa isa;
  const kernels::Table* table;  // nullptr: not compiled in
};

// Best first, scalar last.
constexpr Entry kRegistry[] = {
#ifdef SIMDSOFTMAX_HAVE_AVX512
    {Isa::avx512, &kernels::avx512},
#endif
#ifdef SIMDSOFTMAX_HAVE_AVX2
    {Isa::avx2, &kernels::avx2},
#endif
#ifdef SIMDSOFTMAX_HAVE_NEON
    {Isa::neon, &kernels::neon},
#endif
    {Isa::scalar, &kernels::scalar},
};

const kernels::Table* choose() noexcept {
  if (const char* env = std::getenv("SIMDSOFTMAX_ISA"))
    if (auto isa = isa_from_string(env))
      if (auto* t = table_for(*isa)) return t;
  for (const Entry& e : kRegistry)
    if (cpu_can_run(e.isa)) return e.table;
  return &kernels::scalar;
}

}  // namespace

bool cpu_can_run(Isa isa) noexcept {
  switch (isa) {
    case Isa::scalar:
      return true;
#if defined(__x86_64__) || defined(__i386__)
    case Isa::avx2: {
      static const bool ok = detect_x86().avx2_fma;
      return ok;
    }
    case Isa::avx512: {
      static const bool ok = detect_x86().avx512;
      return ok;
    }
#endif
#if defined(__aarch64__)
    case Isa::neon:
      return true;  // Advanced SIMD is mandatory in AArch64
#endif
    default:
      return false;
  }
}

const kernels::Table* table_for(Isa isa) noexcept {
  for (const Entry& e : kRegistry)
    if (e.isa == isa) return cpu_can_run(isa) ? e.table : nullptr;
  return nullptr;
}

const kernels::Table& active_table() noexcept {
  static const kernels::Table* const table = choose();  // thread-safe, once
  return *table;
}

}  // namespace detail

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (const detail::Entry& e : detail::kRegistry)
    if (detail::cpu_can_run(e.isa)) out.push_back(e.isa);
  return out;
}

Isa active_isa() {
  const kernels::Table* t = &detail::active_table();
  for (const detail::Entry& e : detail::kRegistry)
    if (e.table == t) return e.isa;
  return Isa::scalar;
}

}  // namespace simdsoftmax
