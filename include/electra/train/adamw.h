#pragma once
// How the AdamW update and gradient clipping run (config key optimizer.implementation).
#include <string>

namespace electra {

// fused: one ATen kernel per parameter group (`_fused_adamw_`, CPU and CUDA, LibTorch >= 2.4);
//        a step whose gradients are not finite is skipped on the device, without a host sync.
// foreach: multi-tensor `_foreach_*` operators (every LibTorch this builds with).
// plain: LibTorch's torch::optim::AdamW and clip_grad_norm_, a loop over the parameters; the
//        reference the other two are tested against.
// automatic ("auto"): fused where this build has it, else foreach.
enum class AdamWKernel { automatic, fused, foreach, plain };
AdamWKernel parse_adamw_kernel(const std::string& name);
std::string to_string(AdamWKernel kernel);

// Whether the LibTorch this was built with has the fused AdamW kernels.
bool fused_adamw_available();

}  // namespace electra
