#pragma once
// The pre-training loop: generator + discriminator, AdamW, warmup + linear decay,
// gradient accumulation and clipping, periodic evaluation, checkpoints that resume
// exactly, Hugging Face export at the end.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

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

// What one or more objective outputs measured. The sums stay on the device, so add() waits for
// nothing; metrics() reads them back in one transfer (run() does that on logging steps only).
class PretrainStats {
 public:
  // keep_scores (evaluation): also keeps every replaced-token score for the AUC, which reads
  // each batch back as it is added.
  explicit PretrainStats(bool keep_scores = false) : keep_scores_(keep_scores) {}
  void add(const ObjectiveOutput& out, const torch::Tensor& attention_mask, int64_t real_tokens);
  PretrainMetrics metrics() const;
  int64_t tokens() const { return tokens_; }  // real tokens, counted on the host

 private:
  torch::Tensor sums_;  // [10] float64: 3 losses, masked, mlm/sampled correct, tp, fp, fn, tn
  int64_t parts_ = 0, tokens_ = 0;
  bool keep_scores_;
  std::vector<float> scores_;
  std::vector<uint8_t> labels_;
};

class TrainerCore;
struct PreparedStep;
template <typename T>
class Prefetcher;

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

  // One optimizer update (all accumulation micro-batches); its statistics are still on the device.
  PretrainStats train_step();
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
  // train_step() under the profiler, its operators written to <output>/profile-step-N.json.
  PretrainStats profile_step();
  // (Re)starts the background thread that collates batches ahead, from the progress's position.
  void start_prefetching();

  PretrainConfig config_;
  PretrainData data_;
  std::unique_ptr<TrainerCore> core_;  // device, AdamW, step, checkpoints (train/trainer_core.h)
  ElectraPretrainingModel model_{nullptr};
  LinearSchedule schedule_;
  std::unique_ptr<Prefetcher<PreparedStep>> prefetcher_;
};

}  // namespace electra
