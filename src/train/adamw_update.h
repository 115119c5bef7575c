#pragma once
// Internal: gradient clipping and the AdamW update that end a step (TrainerCore::finish_step),
// in the kernel the config picks. The moments and step counts stay in the torch::optim::AdamW
// it is given, so a checkpoint is the same whichever kernel wrote it and resumes under any.
#include <unordered_map>

#include <torch/optim/adamw.h>
#include <torch/types.h>

#include "electra/train/adamw.h"

namespace electra {

class AdamWUpdate {
 public:
  // `kernel` automatic resolves here; fused is refused (one clear line) on a build without it.
  AdamWUpdate(torch::optim::AdamW& optimizer, AdamWKernel kernel);
  AdamWKernel kernel() const { return kernel_; }

  // Scales the gradients down to a total 2-norm of `max_norm` (<= 0: no clipping), then one
  // AdamW step with each group's current options. Returns a 0-dim float tensor on the
  // parameters' device: 1 when the gradients held a NaN or Inf (and then no weight changed), 0
  // otherwise. fused decides this on the device, so nothing waits for it; foreach and plain
  // read it back first (one host sync).
  torch::Tensor step(double max_norm);

  // After the optimizer's state was loaded from a checkpoint: its step counts are read again.
  void reload() { device_steps_.clear(); }
  // Before the optimizer's state is saved: fused counts steps on the device, where a skipped
  // step (fp16's overflows) is not counted; the state takes those counts (a host sync).
  void sync_step_counts();

 private:
  torch::Tensor plain_step(double max_norm);  // LibTorch's clip_grad_norm_ and AdamW::step

  torch::optim::AdamW& optimizer_;
  AdamWKernel kernel_;
  // fused reads each parameter's step count from a tensor on its device; these mirror the
  // counts in the optimizer's state, which is what checkpoints hold.
  std::unordered_map<const void*, torch::Tensor> device_steps_;
};

}  // namespace electra
