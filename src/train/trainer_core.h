#pragma once
// Internal: what pre-training and fine-tuning share around their own batches, losses and
// evaluations. The core owns the device and precision, the AdamW parameter groups, the loss
// scaler, the gradient reducer, the update that ends a step, the ranks' agreement on when to
// stop, metrics.jsonl, and the checkpoints (a trainer adds its own state as JSON). A trainer's
// step is then, whatever it trains:
//
//   core.begin_step();
//   for each micro-batch:
//     { auto autocast = core.autocast(); loss = <forward>; }
//     core.backward(loss, /*last=*/micro == last);
//   core.finish_step(lr);
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/optim/adamw.h>
#include <torch/types.h>

#include "electra/dist/distributed.h"
#include "electra/train/adamw.h"
#include "electra/train/checkpoint.h"
#include "train/loss_scaler.h"
#include "electra/train/precision.h"
#include "train/adamw_update.h"
#include "train/autocast_scope.h"
#include "train/event_file.h"

namespace electra {

struct CoreSettings {
  std::string device = "auto";  // train.device: auto | cpu | cuda | cuda:N (cuda means cuda:local_rank)
  Precision precision = Precision::fp32;
  uint64_t seed = 42;
  std::string output;       // the run folder
  std::string config_file;  // the resolved config's name in it
  // AdamW
  double learning_rate = 1e-4, weight_decay = 0.01, beta1 = 0.9, beta2 = 0.999, eps = 1e-6;
  double max_grad_norm = 1.0;  // <= 0: no clipping
  AdamWKernel adamw_kernel = AdamWKernel::automatic;
  // Steps are checked for non-finite gradients (a host sync) when step % check_every == 0 and
  // before anything is logged, evaluated or written; in between nothing waits for the device.
  int64_t check_every = 1;
};

// From a config's train and optimizer sections (both configs name these fields alike).
template <typename Train, typename Optimizer>
CoreSettings core_settings(const Train& t, const Optimizer& o, std::string config_file) {
  CoreSettings s;
  s.device = t.device;
  s.precision = t.precision;
  s.seed = t.seed;
  s.output = t.output;
  s.config_file = std::move(config_file);
  s.learning_rate = o.learning_rate;
  s.weight_decay = o.weight_decay;
  s.beta1 = o.beta1;
  s.beta2 = o.beta2;
  s.eps = o.eps;
  s.max_grad_norm = o.max_grad_norm;
  s.adamw_kernel = o.implementation;
  s.check_every = t.log_every;
  return s;
}

class TrainerCore {
 public:
  // Picks this rank's device (fp16 is refused off the GPU) and seeds the global RNG, so that a
  // model built after this starts from the same weights on every run with this seed.
  TrainerCore(CoreSettings settings, std::shared_ptr<Distributed> group);

  // Moves `model` to the device, gives every rank rank 0's weights and builds AdamW with one
  // parameter group per (learning-rate multiplier, decayed or not). `lr_multiplier(name)`: the
  // group's share of the learning rate (default 1).
  void attach(torch::nn::Module& model, const std::function<double(const std::string&)>& lr_multiplier = {});

  // --- the step ---
  void begin_step();  // zeroes the gradients
  AutocastScope autocast() const { return AutocastScope(settings_.precision, device_); }
  // Backward through the (fp16: scaled) loss; the `last` micro-batch of a step starts the
  // gradient all-reduce while backward is still running.
  void backward(const torch::Tensor& loss, bool last);
  // The ranks' mean gradient, unscaled (fp16), clipped, then one AdamW step at `lr` x each
  // group's multiplier; counts the step in progress(). Nothing here waits for the device. A
  // step whose gradients are not finite changes no weight: with fp16 the loss scale drops and
  // the run goes on; otherwise the run stops with an error at the next check (require_finite),
  // which is here every check_every steps.
  void finish_step(double lr);
  // Runs `step` (one training step that waits for its own results) under LibTorch's operator
  // profiler and writes the operators to <output>/profile-step-N.json, N the step it runs (Chrome
  // trace format; scripts/profile_top_ops.py ranks them by self time).
  void profile(const std::function<void()>& step);
  // Throws (one line naming the steps) when a step since the last check had gradients that were
  // not finite (fp16: when every one of them was skipped at loss scale 1). Reads one number
  // back from the device; free when nothing is pending.
  void require_finite();

  // Element-wise sums over the ranks, for what every rank must decide alike (stopping, a fitted
  // schedule), or the others would wait for collectives forever.
  std::vector<double> agree(const std::vector<double>& values) { return group_->sum(values); }
  bool agree_to_stop(bool here) { return agree({here ? 1.0 : 0.0})[0] > 0; }
  // Runs `work` (evaluating, writing) on rank 0 only, after require_finite() on every rank
  // (every rank holds the same gradients, so all stop alike); then every rank learns whether it failed,
  // so that the others stop with it instead of waiting out the collective timeout.
  void on_main(const std::function<void()>& work, const std::string& what);

  // --- the run folder ---
  // Creates it; rank 0 writes the resolved config, appends to metrics.jsonl and starts a new
  // TensorBoard event file in <output>/tensorboard. After resume() (call it first), rank 0 first
  // drops from metrics.jsonl and the earlier event files what the interrupted run logged after
  // the checkpoint's step, so that no step appears twice.
  void open_run(const std::string& config_json);
  // One line of metrics.jsonl and its scalars (tensorboard_scalars) at its "step" (rank 0).
  void log_metrics(const nlohmann::json& record);

  // Writes <output>/checkpoints/step-N with the weights, AdamW, the RNGs, progress() and
  // `extra_json`; keeps the newest `keep`. Rank 0 only; returns its folder ("" elsewhere).
  std::string save_checkpoint(const std::string& config_json, const std::string& extra_json, int keep);
  // Restores a checkpoint into the model, AdamW, the RNGs, progress() and the loss scale;
  // returns what it holds (progress.world_size: the ranks that wrote it).
  CheckpointContents restore(const std::string& dir);
  // The newest checkpoint under <output>/checkpoints, handed to `restore` (the trainer's, which
  // checks its config). Throws `none` when there is none; when the newest is damaged, the error
  // names the one before it, which may be intact.
  std::string resume(const std::string& none, const std::function<void(const std::string&)>& restore);
  void remove_checkpoints();  // rank 0: a completed run leaves none

  const torch::Device& device() const { return device_; }
  Distributed& group() { return *group_; }
  bool is_main() const { return group_->is_main(); }
  TrainingProgress& progress() { return progress_; }
  const TrainingProgress& progress() const { return progress_; }
  double loss_scale() const { return scaler_.enabled() ? scaler_.scale() : 0.0; }  // reads it back
  // fp16: steps skipped for overflowing gradients, up to the last check (this process's run).
  int64_t overflowed_steps() const { return overflowed_steps_; }
  const std::vector<double>& lr_multipliers() const { return multipliers_; }  // one per group
  AdamWKernel adamw_kernel() const { return update_ ? update_->kernel() : settings_.adamw_kernel; }

 private:
  std::string checkpoint_root() const;

  CoreSettings settings_;
  std::shared_ptr<Distributed> group_;
  torch::Device device_{torch::kCPU};
  LossScaler scaler_{false};
  torch::nn::Module* model_ = nullptr;
  std::vector<torch::Tensor> parameters_;
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::unique_ptr<AdamWUpdate> update_;
  torch::Tensor skipped_;        // device: updates skipped since the last check (undefined: none pending)
  int64_t unchecked_from_ = 0, last_update_ = 0;  // the first and last step of those
  int64_t overflowed_steps_ = 0;
  std::vector<double> multipliers_;
  std::unique_ptr<GradientReducer> reducer_;
  TrainingProgress progress_;
  int64_t resumed_step_ = -1;  // the restored checkpoint's step; -1: not resumed
  std::ofstream metrics_;  // open on rank 0 only; a closed stream ignores output
  std::unique_ptr<EventFileWriter> events_;  // rank 0 only
};

std::string format_duration(double seconds);  // h:mm:ss, for progress lines

// A metrics record's TensorBoard scalars: every finite number but "split" and "step", tagged
// "train/<key>" for train records and "eval/<key>" for dev and eval ones ("<split>/<key>" for
// any other split). "epoch" stays: eval/epoch maps steps to epochs.
std::vector<Scalar> tensorboard_scalars(const nlohmann::json& record);

// For a run resumed at `step`: rewrites metrics.jsonl at `path` (temporary file + rename)
// without the records after `step` and without a line cut short by a crash. Leaves the file
// untouched when there is nothing to drop (or no file); returns the lines dropped.
size_t drop_metrics_after(const std::string& path, int64_t step);

}  // namespace electra
