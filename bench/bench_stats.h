// Small helpers shared by the benchmark programs' latency figures. Standard library only.
#pragma once

#include <time.h>

#include <algorithm>
#include <vector>

namespace osprey::bench {

// The `quantile` (0..1) of `values` by nearest rank; 0 for no values.
inline double Percentile(std::vector<double> values, double quantile) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(quantile * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

// CPU time of the calling thread in milliseconds: with one intra-op thread, what a call's wall
// time would be on a quiet machine.
inline double ThreadCpuMs() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

}  // namespace osprey::bench
