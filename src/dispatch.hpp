// Registry of compiled-in kernels and the runtime choice among them (baseline flags).
#pragma once

#include <simdsoftmax/simdsoftmax.hpp>

#include "../kernels/kernels.hpp"

namespace simdsoftmax::detail {

// True when the CPU and the OS (saved register state) can run this ISA's kernel.
bool cpu_can_run(Isa isa) noexcept;
// The kernel table for an available ISA, or nullptr (not compiled in or not runnable).
const kernels::Table* table_for(Isa isa) noexcept;
// The table chosen once per process (SIMDSOFTMAX_ISA or the best available).
const kernels::Table& active_table() noexcept;

}  // namespace simdsoftmax::detail
