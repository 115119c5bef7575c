#include "train/update.h"

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <cstdio>

#include "electra/util/device.h"
#include "electra/util/error.h"

namespace electra {

torch::Device training_device(const std::string& spec, const Distributed& group, Precision precision) {
  const auto device = resolve_device(spec, group.local_rank());
  if (precision == Precision::fp16 && !device.is_cuda()) {
    throw Error("train.precision fp16 needs a CUDA device (dynamic loss scaling); on the CPU use bf16");
  }
  return device;
}

bool apply_update(GradientReducer& reducer, LossScaler& scaler, const std::vector<torch::Tensor>& parameters,
                  double max_grad_norm, torch::optim::Optimizer& optimizer, double lr,
                  const std::vector<double>& multipliers) {
  reducer.finish();  // a rank without rows this step starts every bucket here, with zeros
  const bool finite = scaler.unscale(parameters);
  if (finite) {
    if (max_grad_norm > 0) torch::nn::utils::clip_grad_norm_(parameters, max_grad_norm);
    auto& groups = optimizer.param_groups();
    for (size_t g = 0; g < groups.size(); ++g) {
      static_cast<torch::optim::AdamWOptions&>(groups[g].options()).lr(multipliers.empty() ? lr : lr * multipliers[g]);
    }
    optimizer.step();
  }
  scaler.update(finite);
  return finite;
}

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, seconds));
  char out[32];
  std::snprintf(out, sizeof out, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return out;
}

}  // namespace electra
