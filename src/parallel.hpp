// Running a validated job on one or more threads (OpenMP when built with it).
#pragma once

#include "../kernels/kernels.hpp"

namespace simdsoftmax::detail {

// Elements per chunk of a row's sum (Job::chunk): a function of cols alone.
std::size_t sum_chunk(std::size_t cols) noexcept;

// threads: 0 = all hardware threads, else at most that many. Results are
// bit-identical for every thread count.
void execute(const kernels::Table& table, bool log, const kernels::Job& job, int threads);

}  // namespace simdsoftmax::detail
