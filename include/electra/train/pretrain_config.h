#pragma once
// Everything a pre-training run is configured by, as typed structs. JSON is parsed into
// them at the edge (configs/pretrain/*.json plus --set overrides); precedence:
// built-in defaults < config file < command-line overrides.
#include <cstdint>
#include <string>
#include <vector>

#include "electra/config/electra_config.h"
#include "electra/models/pretraining_model.h"
#include "electra/train/adamw.h"
#include "electra/train/objective.h"
#include "electra/train/precision.h"

namespace electra {


struct ModelSection {
  ElectraConfig discriminator;  // vocab_size is taken from the data set's vocabulary
  double generator_hidden_fraction = 0.25;
  // Explicit generator sizes override the fraction rule when > 0.
  int64_t generator_hidden_size = 0;
  int64_t generator_num_attention_heads = 0;
  int64_t generator_intermediate_size = 0;
  int64_t generator_num_hidden_layers = 0;
};

struct OptimizerSection {
  double learning_rate = 5e-4;
  double weight_decay = 0.01;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-6;
  int64_t warmup_steps = 10000;
  double max_grad_norm = 1.0;
  AdamWKernel implementation = AdamWKernel::automatic;  // fused where the build has it, else foreach
};

struct TrainSection {
  std::string data;    // folder written by electra-prepare
  std::string output;  // run folder: checkpoints, metrics.jsonl, exported models
  int64_t steps = 1000000;
  int64_t batch_size = 128;
  int64_t grad_accum_steps = 1;
  uint64_t seed = 42;
  Precision precision = Precision::fp32;
  std::string device = "auto";  // auto | cpu | cuda | cuda:N (resolve_device)
  int threads = 0;           // 0: OMP_NUM_THREADS or every core
  double max_minutes = 0.0;  // > 0: stop (with a checkpoint) after this much wall time
  int64_t log_every = 100;
  // Steps whose batches a background thread collates ahead (0: on the training thread).
  int64_t prefetch_batches = 2;
  // Pads every batch to the data's sequence length: one shape for every step, which CUDA graphs
  // and shape-keyed caches need, at the cost of computing on the padding.
  bool static_shapes = false;
  // > 0: the operators of that step go to <output>/profile-step-N.json (Chrome trace format;
  // scripts/profile_top_ops.py ranks them by self time).
  int64_t profile_step = 0;
  int64_t eval_every = 2000;
  int64_t eval_batches = 20;
  int64_t save_every = 5000;
  int keep_checkpoints = 3;
  std::string init_discriminator;  // continue pre-training from HF directories
  std::string init_generator;
};

struct PretrainConfig {
  ModelSection model;
  Objective objective = Objective::electra;
  ObjectiveOptions objective_options;
  OptimizerSection optimizer;
  TrainSection train;

  // Generator config derived from the model section (after vocab_size is known).
  ElectraConfig generator_config() const;
  void validate() const;  // throws electra::Error naming the key

  // `overrides`: "section.key=value" (value parsed as JSON, else taken as a string).
  static PretrainConfig load(const std::string& path, const std::vector<std::string>& overrides = {});
  static PretrainConfig from_json_string(const std::string& text, const std::string& source,
                                         const std::vector<std::string>& overrides = {});
  std::string to_json_string() const;  // the fully resolved config
};

}  // namespace electra
