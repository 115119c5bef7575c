#pragma once
// The fine-tuning loop: a pre-trained discriminator (or any ELECTRA directory) plus a task
// head, AdamW with layer-wise learning-rate decay, warmup then linear decay, evaluation after
// each epoch, the best model kept as a Hugging Face directory, optional early stopping.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <torch/optim/adamw.h>

#include "electra/dist/distributed.h"
#include "electra/io/model_dir.h"
#include "electra/models/task_models.h"
#include "electra/tokenization/wordpiece.h"
#include "electra/train/loss_scaler.h"
#include "electra/train/finetune_config.h"
#include "electra/train/finetune_task.h"
#include "electra/train/schedule.h"

namespace electra {

struct FinetuneResult {
  TaskScores best;          // dev scores of the kept model (empty without a dev set)
  double best_epoch = 0;
  int64_t steps = 0;
  bool interrupted = false;
  std::string best_dir;     // <output>/best: the kept model, loadable by transformers
};

class Distributed;

class Finetuner {
 public:
  // Loads `model` (read_model_dir; its model.safetensors) into a task model. A discriminator or
  // generator directory gets a fresh head; a directory fine-tuned for the same head and label
  // count keeps its head. train.random_init keeps the architecture but not the weights.
  // With `distributed` (world size > 1), each rank trains on its share of every global batch
  // and gradients are averaged; rank 0 evaluates and writes.
  Finetuner(FinetuneConfig config, const ModelDirectory& model, const FinetuneTask& task,
            const WordPieceTokenizer& tokenizer, std::string output_dir,
            std::shared_ptr<Distributed> distributed = nullptr);  // null: Distributed::single_process()

  // Trains, evaluating on dev after every epoch; writes metrics.jsonl, the best model and its
  // dev predictions under the output folder. Stops early when *stop becomes true. A checkpoint
  // (<output>/checkpoints/step-N) is written after every epoch and when stopped; `resume`
  // continues from it exactly (one process: the same losses and weights as an uninterrupted run).
  // A run that completes removes its checkpoints.
  FinetuneResult run(const std::atomic<bool>* stop = nullptr, bool resume = false);
  // Head logits of every feature of a split (see FinetuneTask::score), in eval mode.
  std::vector<torch::Tensor> predict(Split split);
  // Writes predictions for the `predict` split with the current weights into <output>.
  void write_predictions();

  TaskModel& model() { return model_; }
  const std::vector<double>& lr_multipliers() const { return lr_multipliers_; }

 private:
  // What a checkpoint holds beyond weights, optimizer and RNGs.
  struct RunState {
    int64_t epoch = 0;   // data passes started
    int64_t cursor = 0;  // rows of this pass's order already trained on
    bool have_best = false;
    int evaluations_without_gain = 0;
  };
  void save_best(const TaskScores& scores, double epoch);
  void save_checkpoint(const FinetuneResult& result, const RunState& state);
  void restore_checkpoint(FinetuneResult& result, RunState& state);

  FinetuneConfig config_;
  const FinetuneTask& task_;
  const WordPieceTokenizer& tokenizer_;
  std::string output_;
  ElectraConfig model_config_;
  TaskModel model_{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::vector<double> lr_multipliers_;  // one per parameter group
  std::vector<torch::Tensor> parameters_;
  std::shared_ptr<Distributed> distributed_;
  torch::Device device_{torch::kCPU};
  LossScaler scaler_{false};
  std::unique_ptr<GradientReducer> reducer_;  // data parallel: all-reduce overlapped with backward
  bool is_main() const;
};

}  // namespace electra
