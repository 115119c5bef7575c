#pragma once
// Internal: bf16 autocast around a forward pass on CPU (the loss and the weights stay fp32).
#include <ATen/autocast_mode.h>

namespace electra {

// bf16 autocast for the forward pass on CPU; the loss and the weights stay fp32.
class AutocastScope {
 public:
  explicit AutocastScope(bool enabled) : enabled_(enabled) {
    if (!enabled_) return;
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  }
  ~AutocastScope() {
    if (!enabled_) return;
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
  }

 private:
  bool enabled_;
};

}  // namespace electra
