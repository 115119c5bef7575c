#pragma once
// The library's log output (tagged lines on stderr: "[train]", "[data]", ...). Only rank 0 of a
// distributed run should log: set_log_enabled(false) silences the others. The loggers themselves
// (spdlog) are private to the library: research code that links it needs no spdlog.
#include "electra/util/cpu_runtime.h"

namespace electra {

enum class LogLevel { debug, info, warn, error, off };
void set_log_level(LogLevel level);
void set_log_enabled(bool enabled);

// Intra-op threads for LibTorch: `requested` when > 0, else OMP_NUM_THREADS when the user
// set it, else every core (LibTorch's default here is 1). OpenBLAS gets as many threads for
// fp32 work and one for bf16 work (its pool would only compete with oneDNN's), unless
// OPENBLAS_NUM_THREADS is set. Also keeps freed memory in the heap. Returns the count in effect.
int configure_threads(int requested = 0, MatmulBackend backend = MatmulBackend::onednn_bf16);

}  // namespace electra
