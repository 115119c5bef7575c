#pragma once
// Dynamic loss scaling for fp16 (the rule of torch.cuda.amp.GradScaler). fp16's narrow exponent
// flushes small gradients to zero, so the loss is multiplied by a large scale before backward
// and the gradients divided back before clipping. A step whose gradients overflowed is skipped
// (AdamWUpdate changes no weight when they are not finite) and the scale halved; after
// `growth_interval` clean steps in a row it doubles. The scale lives on the device and every
// decision is made there: a step never waits for the scaler.
#include <torch/torch.h>

#include <vector>

namespace electra {

class LossScaler {
 public:
  explicit LossScaler(bool enabled, const torch::Device& device = torch::kCPU, double initial_scale = 65536.0,
                      int64_t growth_interval = 2000)
      : enabled_(enabled), growth_interval_(growth_interval) {
    const auto on = torch::TensorOptions().device(device);
    scale_ = torch::full({}, enabled ? initial_scale : 1.0, on.dtype(torch::kFloat));
    clean_steps_ = torch::zeros({}, on.dtype(torch::kLong));
  }

  bool enabled() const { return enabled_; }
  double scale() const { return scale_.item<double>(); }  // reads it back: for logs and checkpoints
  void set_scale(double scale) {
    if (enabled_ && scale > 0) scale_.fill_(scale);
  }

  torch::Tensor scaled(const torch::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }

  // Divides the gradients by the scale. Call it after the gradients are averaged over ranks, so
  // that every rank holds the same ones (and skips alike).
  void unscale(const std::vector<torch::Tensor>& params) const {
    if (!enabled_) return;
    torch::NoGradGuard no_grad;
    const auto inverse = scale_.reciprocal();
    for (const auto& p : params) {
      if (p.grad().defined()) p.mutable_grad().mul_(inverse);
    }
  }

  // After each step; `skipped`: 0-dim, non-zero when the step's gradients were not finite. Halves
  // the scale (not below 1) after a skipped step, doubles it after growth_interval clean ones.
  void update(const torch::Tensor& skipped) {
    if (!enabled_) return;
    torch::NoGradGuard no_grad;
    const auto overflow = skipped.to(scale_.device()).ne(0);
    clean_steps_.copy_(torch::where(overflow, torch::zeros_like(clean_steps_), clean_steps_ + 1));
    const auto grow = clean_steps_ >= growth_interval_;
    scale_.copy_(torch::where(overflow, (scale_ * 0.5).clamp_min(1.0), torch::where(grow, scale_ * 2.0, scale_)));
    clean_steps_.masked_fill_(grow, 0);
  }

 private:
  bool enabled_;
  int64_t growth_interval_;
  torch::Tensor scale_;        // 0-dim float on the device
  torch::Tensor clean_steps_;  // 0-dim long: clean steps since the scale last changed
};

}  // namespace electra
