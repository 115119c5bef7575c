#pragma once
// The number of CPU cores, never 0: the default for every "one per core" setting.
#include <algorithm>
#include <thread>

namespace electra {

inline int core_count() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

}  // namespace electra
