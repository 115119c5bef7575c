#pragma once
// The pre-training loop: generator + discriminator, AdamW, warmup + linear decay,
// gradient accumulation and clipping, periodic evaluation, checkpoints that resume
// exactly, Hugging Face export at the end.
#include <atomic>
#include <memory>
#include <string>

#include <torch/optim/adamw.h>

#include "electra/dist/distributed.h"
#include "electra/models/pretraining_model.h"
#include "electra/train/batching.h"
#include "electra/train/checkpoint.h"
#include "electra/train/loss_scaler.h"
#include "electra/train/pretrain_config.h"
#include "electra/train/schedule.h"

namespace electra {

struct PretrainMetrics {
  double loss = 0, mlm_loss = 0, disc_loss = 0;
  double mlm_accuracy = 0, sampled_accuracy = 0;
  double disc_accuracy = 0, disc_precision = 0, disc_recall = 0, disc_auc = 0.5;
  double replaced_share = 0;
  int64_t tokens = 0;  // real tokens in the batch(es)
};

class Distributed;

struct PretrainData {
  const ExampleSource* train = nullptr;
  const ExampleSource* eval = nullptr;  // may be null: no evaluation
  SpecialIds special;
  int64_t vocab_size = 0;
  int64_t max_seq_len = 128;
  std::string vocab_path;  // copied into exported model directories
  bool lowercase = true;   // recorded in the exported tokenizer_config.json
  // Data-parallel group (null: Distributed::single_process()). Rank r runs the micro-batch
  // slots r*A .. r*A+A-1 of each global batch (A = grad_accum_steps); only rank 0 writes.
  std::shared_ptr<Distributed> distributed;
};

struct PretrainResult {
  int64_t steps = 0;
  bool interrupted = false;
  std::string checkpoint;  // the last one written
  std::string discriminator_dir, generator_dir;
  PretrainMetrics last_eval;
};

class Pretrainer {
 public:
  // `config.model.discriminator.vocab_size` is replaced by data.vocab_size.
  Pretrainer(PretrainConfig config, PretrainData data);

  // Continues from the newest checkpoint under <output>/checkpoints when `resume`.
  // Stops early (with a checkpoint) when *stop becomes true or the time budget runs out.
  PretrainResult run(bool resume, const std::atomic<bool>* stop = nullptr);

  PretrainMetrics train_step();  // one optimizer update (all accumulation micro-batches)
  PretrainMetrics evaluate();    // fixed batches and masking: comparable across the run
  std::string save();            // checkpoint now
  void restore(const std::string& checkpoint_dir);
  void export_models(PretrainResult& result);

  ElectraPretrainingModel& model() { return model_; }
  const TrainingProgress& progress() const { return progress_; }
  const PretrainConfig& config() const { return config_; }
  const torch::Device& device() const { return device_; }

 private:
  void initialise_from_pretrained();
  bool is_main() const;

  PretrainConfig config_;
  PretrainData data_;
  ElectraPretrainingModel model_{nullptr};
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  LinearSchedule schedule_;
  std::vector<torch::Tensor> parameters_;
  std::unique_ptr<BatchCursor> cursor_;
  TrainingProgress progress_;
  torch::Device device_{torch::kCPU};
  LossScaler scaler_{false};
  std::unique_ptr<GradientReducer> reducer_;  // data parallel: all-reduce overlapped with backward
};

}  // namespace electra
