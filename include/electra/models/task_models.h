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

// Every task model: an encoder named `electra`, a head, and one forward that returns the
// head's logits: [B, labels] (sequence), [B, S, 2] (span start/end), [B, S, labels] (token).
class TaskModelImpl : public torch::nn::Module {
 public:
  // num_labels: classes (1 = regression) or tags; ignored for question answering.
  // classifier_head: which sentence-level head (sequence classification only).
  TaskModelImpl(const ElectraConfig& config, HeadKind kind, int64_t num_labels,
                ClassifierHead classifier_head = ClassifierHead::transformers);
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        const torch::Tensor& token_type_ids);

  HeadKind kind() const { return kind_; }
  int64_t num_labels() const { return num_labels_; }
  const ElectraConfig& config() const { return electra->config(); }
  // The name prefix of the head's parameters ("classifier." or "qa_outputs.").
  std::string head_prefix() const;

  ElectraModel electra{nullptr};
  ElectraClassificationHead classifier{nullptr};    // sequence_classification
  torch::nn::Linear qa_outputs{nullptr};           // question_answering
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
