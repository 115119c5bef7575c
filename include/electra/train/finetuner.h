#pragma once
// The fine-tuning loop: a pre-trained discriminator (or any ELECTRA directory) plus a task
// head, AdamW with layer-wise learning-rate decay, warmup then linear decay, evaluation after
// each epoch, the best model kept as a Hugging Face directory, optional early stopping.
#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "electra/dist/distributed.h"
#include "electra/io/model_dir.h"
#include "electra/models/task_models.h"
#include "electra/tokenization/wordpiece.h"
#include "electra/train/checkpoint.h"
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
  double train_seconds = 0; // inside training steps (evaluations and checkpoints excluded)
  int64_t train_tokens = 0; // real tokens those steps trained on (this rank)
};

struct FinetuneMetrics {  // of one step
  // This rank's mean loss over its rows: 0-dim, detached, still on the device (undefined when
  // the rank had no rows), so that a step does not wait for it.
  torch::Tensor loss;
  double learning_rate = 0;  // before the group multipliers
  int64_t examples = 0;      // this rank's rows
  int64_t tokens = 0;        // this rank's real (not padding) tokens
};

class TrainerCore;
struct PreparedBatch;
template <typename T>
class Prefetcher;

class Finetuner {
 public:
  // Loads `model` (read_model_dir; its model.safetensors) into a task model. A discriminator or
  // generator directory gets a fresh head; a directory fine-tuned for the same head and label
  // count keeps its head. train.random_init keeps the architecture but not the weights.
  // With a `distributed` group of several ranks, each rank trains on its share of every global
  // batch and gradients are averaged; rank 0 evaluates and writes under train.output.
  Finetuner(FinetuneConfig config, const ModelDirectory& model, const FinetuneTask& task,
            const WordPieceTokenizer& tokenizer, std::shared_ptr<Distributed> distributed = nullptr);
  ~Finetuner();

  // Trains, evaluating on dev after every epoch; writes metrics.jsonl, the best model and its
  // dev predictions under train.output. Stops early when *stop becomes true. A checkpoint
  // (<output>/checkpoints/step-N) is written after every epoch and when stopped; `resume`
  // continues from it exactly (one process: the same losses and weights as an uninterrupted run).
  // A run that completes removes its checkpoints.
  FinetuneResult run(bool resume = false, const std::atomic<bool>* stop = nullptr);

  // One optimizer update on the next global batch of this epoch's shuffled order (after the
  // last batch of an epoch: the first of the next).
  FinetuneMetrics train_step();
  // Head logits of every feature of a split (see FinetuneTask::score), in eval mode.
  std::vector<torch::Tensor> predict(Split split);
  // Writes predictions for the `predict` split with the current weights into train.output.
  void write_predictions();

  TaskModel& model() { return model_; }
  const std::vector<double>& lr_multipliers() const;  // one per AdamW parameter group
  const TrainingProgress& progress() const;
  int64_t total_steps() const { return schedule_.total_steps; }

 private:
  // The dev results so far: what a checkpoint holds beyond the core's state.
  struct Best {
    bool have = false;
    TaskScores scores;
    double epoch = 0;
    int evaluations_without_gain = 0;
  };
  void load_pretrained(const ModelDirectory& model, bool answerable);
  void evaluate(double epoch);
  void save_best(const TaskScores& scores, double epoch);
  std::string save_checkpoint();
  void restore(const std::string& dir);
  void start_prefetching(int64_t epoch, int64_t cursor);  // train.prefetch_batches ahead of (epoch, cursor)
  FinetuneMetrics profile_step();  // train_step() under the operator profiler
  double epochs_done() const;

  FinetuneConfig config_;
  const FinetuneTask& task_;
  const WordPieceTokenizer& tokenizer_;
  ElectraConfig model_config_;
  std::string base_model_;  // the folder the weights came from (for the model card)
  std::unique_ptr<TrainerCore> core_;  // device, AdamW, step, checkpoints (train/trainer_core.h)
  TaskModel model_{nullptr};
  LinearSchedule schedule_;
  int64_t steps_per_epoch_ = 0;
  // Collates the next steps' batches; next_batch_ is the (epoch, cursor) its next one starts at.
  std::unique_ptr<Prefetcher<PreparedBatch>> prefetcher_;
  std::pair<int64_t, int64_t> next_batch_{-1, -1};
  Best best_;
};

}  // namespace electra
