#pragma once
// Tagged loggers ("[train]", "[data]", ...) on top of spdlog. Only rank 0 of a
// distributed run should log: set_log_enabled(false) silences the others.
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "electra/util/cpu_runtime.h"

namespace electra {

std::shared_ptr<spdlog::logger> logger(const std::string& tag);
void set_log_level(spdlog::level::level_enum level);
void set_log_enabled(bool enabled);

// Intra-op threads for LibTorch: `requested` when > 0, else OMP_NUM_THREADS when the user
// set it, else every core (LibTorch's default here is 1). OpenBLAS gets as many threads for
// fp32 work and one for bf16 work (its pool would only compete with oneDNN's), unless
// OPENBLAS_NUM_THREADS is set. Also keeps freed memory in the heap. Returns the count in effect.
int configure_threads(int requested = 0, MatmulBackend backend = MatmulBackend::onednn_bf16);

}  // namespace electra
