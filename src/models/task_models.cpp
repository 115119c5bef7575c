#include "electra/models/task_models.h"

#include <torch/torch.h>

#include <cmath>

#include "electra/util/error.h"

namespace electra {

std::string to_string(HeadKind kind) {
  switch (kind) {
    case HeadKind::sequence_classification: return "ElectraForSequenceClassification";
    case HeadKind::question_answering: return "ElectraForQuestionAnswering";
    case HeadKind::token_classification: return "ElectraForTokenClassification";
  }
  return "?";
}

ClassifierHead parse_classifier_head(const std::string& name) {
  if (name == "transformers") return ClassifierHead::transformers;
  if (name == "linear") return ClassifierHead::linear;
  throw Error("unknown classifier head \"" + name + "\" (expected transformers or linear)");
}

std::string to_string(ClassifierHead head) { return head == ClassifierHead::linear ? "linear" : "transformers"; }

ElectraClassificationHeadImpl::ElectraClassificationHeadImpl(const ElectraConfig& config, int64_t num_labels,
                                                             ClassifierHead head) {
  if (head == ClassifierHead::transformers) {
    dense = register_module("dense", torch::nn::Linear(config.hidden_size, config.hidden_size));
  }
  dropout = register_module("dropout", torch::nn::Dropout(config.hidden_dropout_prob));
  out_proj = register_module("out_proj", torch::nn::Linear(config.hidden_size, num_labels));
}

torch::Tensor ElectraClassificationHeadImpl::forward(const torch::Tensor& hidden) {
  auto x = electra::dropout(dropout, hidden.select(1, 0));  // [B, H]: the [CLS] position
  // transformers' ElectraClassificationHead uses gelu here whatever hidden_act says.
  if (dense) x = electra::dropout(dropout, torch::gelu(dense(x)));
  return out_proj(x);  // [B, labels]
}

AnswerableClassifierImpl::AnswerableClassifierImpl(const ElectraConfig& config) {
  // 512 as in the official code, whatever the encoder's width.
  dense = register_module("dense", torch::nn::Linear(2 * config.hidden_size, 512));
  out_proj = register_module("out_proj", torch::nn::Linear(512, 1));
}

torch::Tensor AnswerableClassifierImpl::forward(const torch::Tensor& hidden, const torch::Tensor& start_logits) {
  const auto start_p = torch::softmax(start_logits.to(torch::kFloat), -1).to(hidden.scalar_type());  // [B, S]
  const auto start_feature = torch::matmul(start_p.unsqueeze(1), hidden).squeeze(1);                 // [B, H]
  const auto x = torch::cat({hidden.select(1, 0), start_feature}, -1);                                // [B, 2H]
  return out_proj(torch::gelu(dense(x))).squeeze(-1);                                                 // [B]
}

TaskModelImpl::TaskModelImpl(const ElectraConfig& config, HeadKind kind, int64_t num_labels,
                             ClassifierHead classifier_head, bool answerable_classifier)
    : kind_(kind), num_labels_(kind == HeadKind::question_answering ? 2 : num_labels) {
  if (num_labels_ < 1) throw Error("a task head needs at least one label");
  electra = register_module("electra", ElectraModel(config));
  switch (kind) {
    case HeadKind::sequence_classification:
      classifier = register_module("classifier", ElectraClassificationHead(config, num_labels_, classifier_head));
      break;
    case HeadKind::question_answering:
      qa_outputs = register_module("qa_outputs", torch::nn::Linear(config.hidden_size, 2));
      if (answerable_classifier) {
        this->answerable_classifier = register_module("answerable_classifier", AnswerableClassifier(config));
      }
      break;
    case HeadKind::token_classification:
      dropout = register_module("dropout", torch::nn::Dropout(config.hidden_dropout_prob));
      token_classifier = register_module("classifier", torch::nn::Linear(config.hidden_size, num_labels_));
      break;
  }
  init_weights(*this, config.initializer_range);
}

torch::Tensor TaskModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                     const torch::Tensor& token_type_ids, const torch::Tensor& token_index) {
  auto hidden = electra(input_ids, attention_mask, token_type_ids, token_index);  // [B, S, H]
  switch (kind_) {
    case HeadKind::sequence_classification: return classifier(hidden);
    case HeadKind::question_answering: {
      auto spans = qa_outputs(hidden);  // [B, S, 2]
      if (!answerable_classifier) return spans;
      // Padding must not draw start probability (the official code masks it the same way).
      const auto starts = spans.select(2, 0).masked_fill(attention_mask.eq(0), -1e4);
      const auto no_answer = answerable_classifier(hidden, starts);  // [B]
      return torch::cat({spans, no_answer.to(spans.scalar_type()).view({-1, 1, 1}).expand({-1, spans.size(1), 1})}, 2);
    }
    case HeadKind::token_classification: return token_classifier(electra::dropout(dropout, hidden));
  }
  return {};
}

std::string TaskModelImpl::head_prefix() const {
  return kind_ == HeadKind::question_answering ? "qa_outputs." : "classifier.";
}

double layer_lr_multiplier(const std::string& name, int64_t num_layers, double decay) {
  int64_t depth = num_layers + 2;  // the task head
  const std::string layer_prefix = "electra.encoder.layer.";
  if (name.rfind("electra.embeddings", 0) == 0) {
    depth = 0;  // embeddings and embeddings_project
  } else if (name.rfind(layer_prefix, 0) == 0) {
    depth = std::stoll(name.substr(layer_prefix.size())) + 1;
  } else if (name.rfind("electra.", 0) == 0) {
    depth = num_layers;  // anything else inside the encoder: treat as its top
  }
  return std::pow(decay, static_cast<double>(num_layers + 2 - depth));
}

}  // namespace electra
