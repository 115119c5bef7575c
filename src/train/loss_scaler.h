#pragma once
// Dynamic loss scaling for fp16 (the rule of torch.cuda.amp.GradScaler). fp16's
// narrow exponent flushes small gradients to zero, so the loss is multiplied by a large scale
// before backward and the gradients divided back before clipping. A step whose gradients
// overflowed is skipped and the scale halved; after `growth_interval` clean steps it doubles.
#include <torch/torch.h>

#include <cmath>
#include <vector>

namespace electra {

class LossScaler {
 public:
  explicit LossScaler(bool enabled, double initial_scale = 65536.0, int64_t growth_interval = 2000)
      : enabled_(enabled), scale_(enabled ? initial_scale : 1.0), growth_interval_(growth_interval) {}

  bool enabled() const { return enabled_; }
  double scale() const { return scale_; }
  void set_scale(double scale) {
    if (enabled_ && scale > 0) scale_ = scale;
  }

  torch::Tensor scaled(const torch::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }

  // Divides the gradients by the scale; false when any is inf or NaN (skip this step). Call it
  // after the gradients are averaged over ranks, so every rank decides the same.
  bool unscale(const std::vector<torch::Tensor>& params) const {
    if (!enabled_) return true;
    torch::NoGradGuard no_grad;
    torch::Tensor total;
    for (const auto& p : params) {
      if (!p.grad().defined()) continue;
      auto g = p.mutable_grad();
      g.mul_(1.0 / scale_);
      auto s = g.sum().to(torch::kFloat64);  // inf and NaN survive a sum
      total = total.defined() ? total + s : s;
    }
    return !total.defined() || std::isfinite(total.item<double>());
  }

  // After each step: halve on overflow, double after growth_interval clean steps.
  void update(bool finite) {
    if (!enabled_) return;
    if (!finite) {
      scale_ = std::max(scale_ * 0.5, 1.0);
      clean_steps_ = 0;
    } else if (++clean_steps_ >= growth_interval_) {
      scale_ *= 2.0;
      clean_steps_ = 0;
    }
  }

 private:
  bool enabled_;
  double scale_;
  int64_t growth_interval_;
  int64_t clean_steps_ = 0;
};

}  // namespace electra
