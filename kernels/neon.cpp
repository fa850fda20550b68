// aarch64 only (Advanced SIMD is part of the base ISA there).
#include "simd_xsimd.hpp"
#include "softmax.hpp"

namespace simdsoftmax::kernels {
const Table neon = table_for<Simd<xsimd::neon64>>();
}
