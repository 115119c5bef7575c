#pragma once
// The pre-training loop: generator + discriminator, AdamW, warmup + linear decay,
// gradient accumulation and clipping, periodic evaluation, checkpoints that resume
// exactly, Hugging Face export at the end.
#include <atomic>
#include <memory>
#include <string>

#include "electra/dist/distributed.h"
#include "electra/models/pretraining_model.h"
#include "electra/train/batching.h"
#include "electra/train/checkpoint.h"
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

class TrainerCore;

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
  ~Pretrainer();

  // Trains to train.steps (or train.max_minutes), writing metrics.jsonl, checkpoints and, at the
  // end, the exported models under train.output. Continues from the newest checkpoint there when
  // `resume`. Stops early (with a checkpoint) when *stop becomes true or the time budget runs out.
  PretrainResult run(bool resume = false, const std::atomic<bool>* stop = nullptr);

  PretrainMetrics train_step();  // one optimizer update (all accumulation micro-batches)
  PretrainMetrics evaluate();    // fixed batches and masking: comparable across the run
  std::string save();            // checkpoint now
  void restore(const std::string& checkpoint_dir);
  void export_models(PretrainResult& result);

  ElectraPretrainingModel& model() { return model_; }
  const TrainingProgress& progress() const;
  const PretrainConfig& config() const { return config_; }
  const torch::Device& device() const;

 private:
  void initialise_from_pretrained();

  PretrainConfig config_;
  PretrainData data_;
  std::unique_ptr<TrainerCore> core_;  // device, AdamW, step, checkpoints (train/trainer_core.h)
  ElectraPretrainingModel model_{nullptr};
  LinearSchedule schedule_;
  std::unique_ptr<BatchCursor> cursor_;
};

}  // namespace electra
