// The portable kernel: baseline flags, one lane.
#include "simd_scalar.hpp"
#include "softmax.hpp"

namespace simdsoftmax::kernels {
const Table scalar = table_for<Simd<scalar_arch>>();
}
