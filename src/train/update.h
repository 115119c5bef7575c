#pragma once
// What both trainers do the same way around their own batches and losses: pick the device, and
// turn the gradients of one step into an update. Private to the library.
#include <string>
#include <vector>

#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include "electra/dist/distributed.h"
#include "electra/train/loss_scaler.h"
#include "electra/train/precision.h"

namespace electra {

// train.device for this rank (cuda means cuda:local_rank); fp16 is refused off the GPU.
torch::Device training_device(const std::string& spec, const Distributed& group, Precision precision);

// After the step's backward passes: the ranks' mean gradient (reducer), unscaled (fp16; an
// overflowed step is skipped and the scale lowered), clipped to max_grad_norm (<= 0: no
// clipping), then one optimizer step with group g's learning rate lr x multipliers[g] (1 when
// multipliers is empty). Returns whether the step was taken.
bool apply_update(GradientReducer& reducer, LossScaler& scaler, const std::vector<torch::Tensor>& parameters,
                  double max_grad_norm, torch::optim::Optimizer& optimizer, double lr,
                  const std::vector<double>& multipliers = {});

std::string format_duration(double seconds);  // h:mm:ss, for progress lines

}  // namespace electra
