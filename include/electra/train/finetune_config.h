#pragma once
// Everything a fine-tuning run is configured by (configs/finetune/<task>.json plus --set
// overrides; precedence: built-in defaults < config file < command line).
#include <cstdint>
#include <string>
#include <vector>

#include "electra/models/head_kind.h"
#include "electra/tasks/tabular.h"
#include "electra/train/adamw.h"
#include "electra/train/precision.h"

namespace electra {

enum class TaskType {
  glue,            // one of the GLUE tasks, files in the GLUE layout
  classification,  // the user's own sentence(-pair) classification, any TSV/CSV/JSONL
  regression,      // the same with a numeric target
  tagging,         // CoNLL-style token tagging (CoNLL-2000 chunking)
  squad            // SQuAD 1.1 / 2.0 span extraction
};
TaskType parse_task_type(const std::string& name);
std::string to_string(TaskType type);

struct TaskSection {
  TaskType type = TaskType::glue;
  std::string name;        // glue: the task ("mrpc"); others: a label for logs and file names
  std::string train_file;  // relative to --data; glue: defaults to the GLUE file names
  std::string dev_file;
  // classification / regression: the table layout and columns.
  TableOptions table;
  std::vector<std::string> labels;   // classification: label set (empty: collected from train)
  std::vector<std::string> metrics;  // classification: accuracy, f1, mcc; regression: pearson, spearman
  // tagging
  int word_column = 0;
  int tag_column = -1;
  // squad
  int squad_version = 1;
  // When train_file and dev_file are the same SQuAD file: the first train_articles
  // articles train, the rest evaluate (no SQuAD training set ships here).
  int64_t train_articles = 0;
  bool both_orders = false;  // sentence pairs: also train on (b, a), as the official code does for MRPC/STS-B
  // Sentence-level tasks: transformers' two-layer head (default) or the official code's linear one.
  ClassifierHead classifier_head = ClassifierHead::transformers;
};

struct FinetuneOptimizer {
  double learning_rate = 1e-4;
  double layer_decay = 0.8;        // lr * layer_decay^(L+2-depth); 1 disables it
  double weight_decay = 0.01;
  double warmup_proportion = 0.1;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-6;
  double max_grad_norm = 1.0;
  AdamWKernel implementation = AdamWKernel::automatic;  // fused where the build has it, else foreach
};

struct FinetuneTrain {
  std::string output;  // run folder: metrics.jsonl, checkpoints, best/ (electra-finetune --output)
  double epochs = 3;
  int64_t batch_size = 32;
  int64_t eval_batch_size = 64;
  int64_t max_seq_length = 128;
  uint64_t seed = 42;
  Precision precision = Precision::fp32;
  std::string device = "auto";  // auto | cpu | cuda | cuda:N (resolve_device)
  int threads = 0;
  int64_t log_every = 20;
  int early_stopping_patience = 0;  // > 0: stop after this many evaluations without improvement
  int64_t max_train_examples = 0;   // > 0: the first N training examples (quick runs)
  int64_t max_eval_examples = 0;
  bool random_init = false;         // ignore the pre-trained weights (baseline runs)
  // Steps whose batches a background thread collates ahead (0: on the training thread).
  int64_t prefetch_batches = 2;
  // > 0: the operators of that step go to <output>/profile-step-N.json (as in pre-training).
  int64_t profile_step = 0;
};

struct SquadSection {
  int64_t doc_stride = 128;
  int64_t max_query_length = 64;
  int64_t n_best = 20;
  int64_t max_answer_length = 30;
  double null_threshold = 0.0;
  // SQuAD 2.0: the official code's answerability classifier, a second head that predicts from
  // [CLS] and the start-probability-weighted hidden state whether a window holds no answer; its
  // logit (min over windows) replaces the span scores as the question's null score.
  bool answerable_classifier = false;
  double answerable_weight = 0.5;  // loss = span loss + answerable_weight * its binary cross-entropy
};

struct FinetuneConfig {
  TaskSection task;
  FinetuneOptimizer optimizer;
  FinetuneTrain train;
  SquadSection squad;

  void validate() const;  // throws electra::Error naming the key
  static FinetuneConfig load(const std::string& path, const std::vector<std::string>& overrides = {});
  static FinetuneConfig from_json_string(const std::string& text, const std::string& source,
                                         const std::vector<std::string>& overrides = {});
  std::string to_json_string() const;  // the fully resolved config
};

}  // namespace electra
