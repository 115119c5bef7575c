#pragma once
// CPU start-up shared by the LibTorch tools: environment fixes (which may re-execute the tool,
// see tune_cpu_runtime) and thread counts, chosen by what the run's matmuls go through.
#include "electra/train/pretrain_config.h"
#include "electra/util/cpu_runtime.h"
#include "electra/util/logging.h"

namespace electra::tools {

// Returns the intra-op thread count in effect.
inline int configure_cpu(char** argv, Precision precision, int threads) {
  const auto backend = precision == Precision::fp32 ? MatmulBackend::openblas_fp32 : MatmulBackend::onednn_bf16;
  tune_cpu_runtime(argv, backend);
  return configure_threads(threads, backend);
}

}  // namespace electra::tools
