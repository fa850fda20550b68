// Compiled with -mavx512f -mavx512dq -mavx512bw -mavx512vl -mfma: xsimd 8.1.0's
// avx512f code itself uses DQ instructions (hadd), so the tag is avx512bw.
#include "simd_xsimd.hpp"
#include "softmax.hpp"

namespace simdsoftmax::kernels {
const Table avx512 = table_for<Simd<xsimd::avx512bw>>();
}
