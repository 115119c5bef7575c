#pragma once
// Fine-tuning models: the discriminator's encoder with a task head, registered under the
// names `transformers` uses (ElectraForSequenceClassification, ElectraForQuestionAnswering,
// ElectraForTokenClassification), so a fine-tuned directory loads there unchanged.
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "electra/config/electra_config.h"
#include "electra/models/electra_model.h"
#include "electra/models/head_kind.h"

namespace electra {

// classifier: the ClassifierHead (head_kind.h), on the final hidden state of [CLS].
class ElectraClassificationHeadImpl : public torch::nn::Module {
 public:
  ElectraClassificationHeadImpl(const ElectraConfig& config, int64_t num_labels,
                                ClassifierHead head = ClassifierHead::transformers);
  torch::Tensor forward(const torch::Tensor& hidden);  // [B, S, H] -> [B, labels]

  torch::nn::Linear dense{nullptr}, out_proj{nullptr};  // dense: transformers' head only
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(ElectraClassificationHead);

// answerable_classifier (SQuAD 2.0, the official code's option): from the [CLS] state and the
// hidden states weighted by the start-position softmax, dense(2H, 512) -> gelu -> out_proj(1):
// the logit that a window holds no answer. transformers has no such head; it loads the rest.
class AnswerableClassifierImpl : public torch::nn::Module {
 public:
  explicit AnswerableClassifierImpl(const ElectraConfig& config);
  // hidden [B, S, H], start_logits [B, S] with padding already pushed down -> [B]
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& start_logits);

  torch::nn::Linear dense{nullptr}, out_proj{nullptr};
};
TORCH_MODULE(AnswerableClassifier);

// Every task model: an encoder named `electra`, a head, and one forward that returns the
// head's logits: [B, labels] (sequence), [B, S, 2] (span start/end), [B, S, labels] (token).
// With the answerability classifier the span logits gain a third channel, [B, S, 3], that holds
// the window's no-answer logit at every position: one tensor still carries everything the loss
// and the decoder need, through the same batching and gathering as the other heads.
class TaskModelImpl : public torch::nn::Module {
 public:
  // num_labels: classes (1 = regression) or tags; ignored for question answering.
  // classifier_head: which sentence-level head (sequence classification only).
  TaskModelImpl(const ElectraConfig& config, HeadKind kind, int64_t num_labels,
                ClassifierHead classifier_head = ClassifierHead::transformers, bool answerable_classifier = false);
  // token_index: see ElectraModel::forward (the logits are the same, padding's aside).
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        const torch::Tensor& token_type_ids, const torch::Tensor& token_index = {});

  HeadKind kind() const { return kind_; }
  int64_t num_labels() const { return num_labels_; }
  const ElectraConfig& config() const { return electra->config(); }
  // The name prefix of the head's parameters ("classifier." or "qa_outputs.").
  std::string head_prefix() const;
  static constexpr const char* kAnswerablePrefix = "answerable_classifier.";

  ElectraModel electra{nullptr};
  ElectraClassificationHead classifier{nullptr};    // sequence_classification
  torch::nn::Linear qa_outputs{nullptr};           // question_answering
  AnswerableClassifier answerable_classifier{nullptr};  // question_answering, optional
  torch::nn::Linear token_classifier{nullptr};     // token_classification, registered as "classifier"
  torch::nn::Dropout dropout{nullptr};             // token_classification

 private:
  HeadKind kind_;
  int64_t num_labels_;
};
TORCH_MODULE(TaskModel);

// Layer-wise learning-rate decay (the official ELECTRA rule, reference doc section 7):
// depth 0 = embeddings and embeddings_project, depth i+1 = encoder layer i, depth L+2 = the
// head; a parameter's rate is lr * decay^(L+2-depth). Returns that multiplier for a name.
double layer_lr_multiplier(const std::string& parameter_name, int64_t num_layers, double decay);

}  // namespace electra
