#pragma once
// Training checkpoints: a folder per checkpoint with everything needed to continue
// exactly (model, optimizer, RNG states, step, data position, resolved config). Written
// under a temporary name and renamed, so a crash never leaves one that looks complete.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

namespace electra {

constexpr int kCheckpointFormatVersion = 1;

struct TrainingProgress {
  int64_t step = 0;         // optimizer updates done
  int64_t epoch = 0;        // data passes started
  int64_t cursor = 0;       // examples of this epoch's order already consumed
  int64_t tokens_seen = 0;  // real tokens trained on
  double elapsed_seconds = 0.0;
  double loss_scale = 0.0;  // fp16's dynamic loss scale; 0 when not used
  int64_t world_size = 1;   // data-parallel ranks that wrote it (resume needs the same)
};

struct CheckpointContents {
  TrainingProgress progress;
  std::string config_json;        // the run's resolved config
  std::string extra_json = "{}";  // a trainer's own state (fine-tuning: the best score so far)
};

// Writes <root>/step-<step>/ and removes all but the newest `keep` checkpoints.
std::string save_checkpoint(const std::string& root, const torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                             const CheckpointContents& contents, int keep);

// The complete checkpoints under root (step-N folders with a trainer state), oldest first.
std::vector<std::string> list_checkpoints(const std::string& root);

// Throws, naming the checkpoint and the first difference, unless the checkpoint's resolved config
// (contents.config_json) and this run's agree on these sections and train.* keys: what the
// weights, the schedule and the data order depend on, so that resuming continues exactly.
void require_resumable_config(const std::string& checkpoint, const CheckpointContents& contents,
                              const std::string& config_json, const std::vector<std::string>& sections,
                              const std::vector<std::string>& train_keys);

// The newest complete checkpoint under root, or "" when there is none.
std::string latest_checkpoint(const std::string& root);

// Restores model tensors, optimizer state and the global RNGs (dropout's: the CPU's, and the
// GPU's when the model is on one; masking streams are derived from seed, step and slot); returns
// the progress and config recorded in it. Tensors go to the model's device wherever they were
// saved, so a checkpoint written on a GPU resumes on the CPU and back.
CheckpointContents load_checkpoint(const std::string& dir, torch::nn::Module& model, torch::optim::Optimizer& optimizer);

}  // namespace electra
