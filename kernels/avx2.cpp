// Compiled with -mavx2 -mfma. Plain xsimd::avx2 has no hardware fma: use fma3<avx2>.
#include "simd_xsimd.hpp"
#include "softmax.hpp"

namespace simdsoftmax::kernels {
const Table avx2 = table_for<Simd<xsimd::fma3<xsimd::avx2>>>();
}
