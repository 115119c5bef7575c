#pragma once
// Internal: autocast around a forward pass (the loss and the weights stay fp32).
#include <ATen/autocast_mode.h>
#include <c10/core/Device.h>

#include "electra/train/pretrain_config.h"

namespace electra {

// bf16 on CPU or CUDA, fp16 on CUDA; fp32 does nothing.
class AutocastScope {
 public:
  AutocastScope(Precision precision, const c10::Device& device)
      : active_(precision != Precision::fp32), cuda_(device.is_cuda()) {
    if (!active_) return;
    if (cuda_) {
      at::autocast::set_enabled(true);
      at::autocast::set_autocast_gpu_dtype(precision == Precision::fp16 ? at::kHalf : at::kBFloat16);
    } else {
      at::autocast::set_cpu_enabled(true);
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    }
  }
  ~AutocastScope() {
    if (!active_) return;
    if (cuda_) {
      at::autocast::set_enabled(false);
    } else {
      at::autocast::set_cpu_enabled(false);
    }
    at::autocast::clear_cache();
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_, cuda_;
};

}  // namespace electra
