// The kernels compute under the default floating-point environment whatever the
// caller set: round to nearest (the exp's range reduction rounds with it),
// no flush-to-zero / denormals-are-zero. A guard switches to it only when the
// thread's state differs (one status-register read otherwise) and restores the
// caller's state, sticky exception flags included, when it leaves.
#pragma once

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace simdsoftmax::detail {

class DefaultFpEnv {
 public:
#if defined(__x86_64__) || defined(__i386__)
  // MXCSR: FTZ (bit 15), rounding control (13-14), DAZ (6).
  static constexpr unsigned kModeBits = 0x8000u | 0x6000u | 0x0040u;
  DefaultFpEnv() noexcept : saved_(_mm_getcsr()) {
    if (saved_ & kModeBits) _mm_setcsr(saved_ & ~kModeBits);
  }
  ~DefaultFpEnv() { _mm_setcsr(saved_); }  // also restores the sticky flags

 private:
  unsigned saved_;
#elif defined(__aarch64__)
  // FPCR: RMode (bits 22-23), FZ (24), DN (25).
  static constexpr std::uint64_t kModeBits = 0xFull << 22;
  DefaultFpEnv() noexcept {
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr_));
    __asm__ volatile("mrs %0, fpsr" : "=r"(fpsr_));
    if (fpcr_ & kModeBits) __asm__ volatile("msr fpcr, %0" ::"r"(fpcr_ & ~kModeBits));
  }
  ~DefaultFpEnv() {
    __asm__ volatile("msr fpcr, %0" ::"r"(fpcr_));
    __asm__ volatile("msr fpsr, %0" ::"r"(fpsr_));
  }

 private:
  std::uint64_t fpcr_, fpsr_;
#else
  DefaultFpEnv() noexcept {}  // other targets: the caller's environment
#endif
  DefaultFpEnv(const DefaultFpEnv&) = delete;
  DefaultFpEnv& operator=(const DefaultFpEnv&) = delete;
};

}  // namespace simdsoftmax::detail
