#pragma once
// A downstream task as the fine-tuning loop sees it: model inputs per split, the loss of its
// head, and how logits become scores and prediction files. GLUE and the user's own
// classification/regression tables, CoNLL tagging and SQuAD each implement it.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "electra/models/task_models.h"
#include "electra/tokenization/wordpiece.h"
#include "electra/train/finetune_config.h"

namespace electra {

enum class Split { train, dev, predict };
std::string to_string(Split split);

// One model input row, unpadded.
struct TaskFeature {
  std::vector<std::int32_t> input_ids, token_type_ids;
  std::vector<std::int64_t> token_labels;  // tagging: per token, -100 where not scored
  std::int64_t label = 0;                  // classification: class id
  float target = 0;                        // regression
  std::int32_t start = 0, end = 0;         // span extraction (token indices)
};

struct TaskBatch {
  torch::Tensor input_ids, attention_mask, token_type_ids;  // [B, S], S = longest member
  torch::Tensor labels;  // [B] long | [B] float | [B, S] long | [B, 2] long (start, end)
  torch::Tensor token_index;  // [T]: real_token_index(attention_mask); undefined without padding

  TaskBatch to(const torch::Device& device) const {
    if (input_ids.device() == device) return *this;
    auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(device, /*non_blocking=*/true) : t; };
    return {move(input_ids), move(attention_mask), move(token_type_ids), move(labels), move(token_index)};
  }
  TaskBatch pinned() const;  // page-locked copies, so that to(cuda) overlaps compute
};

// Pads `rows` of `features` to their longest member (dynamic padding).
TaskBatch collate(const std::vector<TaskFeature>& features, const std::vector<std::size_t>& rows, HeadKind head,
                  bool regression, std::int32_t pad_id);

struct TaskScores {
  std::vector<std::pair<std::string, double>> values;  // main metric first
  double main() const { return values.empty() ? 0.0 : values.front().second; }
  std::string main_name() const { return values.empty() ? "" : values.front().first; }
  std::string summary() const;  // "f1 88.12, accuracy 84.00"
};

class FinetuneTask {
 public:
  virtual ~FinetuneTask() = default;
  virtual std::string name() const = 0;
  virtual HeadKind head() const = 0;
  virtual std::int64_t num_labels() const = 0;  // 1 for regression; 2 (start, end) for spans
  bool regression() const { return head() == HeadKind::sequence_classification && num_labels() == 1; }
  // The label strings in id order (classification and tagging), for config.json's id2label.
  virtual std::vector<std::string> labels() const { return {}; }
  virtual bool has(Split split) const { return !features(split).empty(); }
  virtual const std::vector<TaskFeature>& features(Split split) const = 0;
  // Examples behind the features (a SQuAD question has several windows).
  virtual std::size_t num_examples(Split split) const { return features(split).size(); }

  // The loss of a batch from the head's logits.
  torch::Tensor loss(const torch::Tensor& logits, const TaskBatch& batch) const;
  // Weight of the answerability classifier's loss (span logits with a third channel).
  virtual double no_answer_weight() const { return 0; }
  // logits[i]: the head output of features(split)[i] without padding ([labels], [S_i, 2] or [S_i, labels]).
  virtual TaskScores score(Split split, const std::vector<torch::Tensor>& logits) const = 0;
  // Prediction files in the formats users expect (GLUE submission TSV, SQuAD predictions.json
  // + nbest_predictions.json + null_odds.json, CoNLL word/gold/predicted columns).
  virtual void write_predictions(Split split, const std::vector<torch::Tensor>& logits,
                                 const std::string& dir) const = 0;
};

// Reads and tokenizes the task's files: train/dev from `data_dir` (the config's file names,
// or the GLUE names), `predict_file` (may be empty) for unlabelled prediction.
std::unique_ptr<FinetuneTask> make_task(const FinetuneConfig& config, const WordPieceTokenizer& tokenizer,
                                        const std::string& data_dir, const std::string& predict_file);

}  // namespace electra
