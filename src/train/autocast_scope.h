#pragma once
// Internal: autocast around a forward pass (the loss and the weights stay fp32).
#include <ATen/autocast_mode.h>
#include <c10/core/Device.h>
#include <torch/version.h>

#include "electra/train/precision.h"

namespace electra {

// bf16 on CPU or CUDA, fp16 on CUDA; fp32 does nothing.
class AutocastScope {
 public:
  AutocastScope(Precision precision, const c10::Device& device)
      : active_(precision != Precision::fp32), cuda_(device.is_cuda()) {
    if (!active_) return;
    set(true, precision == Precision::fp16 ? at::kHalf : at::kBFloat16);
  }
  ~AutocastScope() {
    if (!active_) return;
    set(false, at::kBFloat16);
    at::autocast::clear_cache();
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  void set(bool on, at::ScalarType dtype) const {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    // 2.4 made autocast per device type (the old per-backend calls are deprecated).
    const auto type = cuda_ ? at::kCUDA : at::kCPU;
    at::autocast::set_autocast_enabled(type, on);
    if (on) at::autocast::set_autocast_dtype(type, dtype);
#else
    if (cuda_) {
      at::autocast::set_enabled(on);
      if (on) at::autocast::set_autocast_gpu_dtype(dtype);
    } else {
      at::autocast::set_cpu_enabled(on);
      if (on) at::autocast::set_autocast_cpu_dtype(dtype);
    }
#endif
  }

  bool active_, cuda_;
};

}  // namespace electra
