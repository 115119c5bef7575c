#include "electra/models/electra_model.h"

#include <torch/torch.h>

#include "electra/util/error.h"

namespace electra {

void init_weights(torch::nn::Module& module, double range) {
  torch::NoGradGuard no_grad;
  module.apply([range](torch::nn::Module& m) {
    if (auto* linear = m.as<torch::nn::Linear>()) {
      linear->weight.normal_(0.0, range);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* embedding = m.as<torch::nn::Embedding>()) {
      embedding->weight.normal_(0.0, range);
      if (auto pad = embedding->options.padding_idx()) embedding->weight[*pad].zero_();
    } else if (auto* norm = m.as<torch::nn::LayerNorm>()) {
      norm->weight.fill_(1.0);
      norm->bias.zero_();
    } else if (auto* head = m.as<TiedLmHead>()) {
      head->bias.zero_();
    }
  });
}

ElectraModelImpl::ElectraModelImpl(const ElectraConfig& config, ElectraEmbeddings shared_embeddings)
    : config_(config), owns_embeddings_(!shared_embeddings) {
  config_.validate();
  if (shared_embeddings) {
    embeddings = shared_embeddings;
  } else {
    embeddings = register_module("embeddings", ElectraEmbeddings(config_));
  }
  if (config_.has_embeddings_project()) {
    embeddings_project =
        register_module("embeddings_project", torch::nn::Linear(config_.embedding_size, config_.hidden_size));
  }
  encoder = register_module("encoder", ElectraEncoder(config_));
}

torch::Tensor ElectraModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                        const torch::Tensor& token_type_ids, const torch::Tensor& token_index) {
  if (token_index.defined() && !attention_mask.defined()) {
    throw Error("ElectraModel: token_index without the attention_mask it was taken from");
  }
  auto hidden = embeddings(input_ids, token_type_ids, token_index);  // [B, S, E] or [T, E]
  if (embeddings_project) hidden = embeddings_project(hidden);      // [B, S, H] or [T, H]
  torch::Tensor bias;
  if (attention_mask.defined()) bias = make_attention_bias(attention_mask, hidden.scalar_type());  // [B, 1, 1, S]
  hidden = encoder(hidden, bias, token_index);
  if (!token_index.defined()) return hidden;
  // Back to the rows the heads read; padding's hidden states are zeros.
  const int64_t B = input_ids.size(0), S = input_ids.size(1);
  return torch::zeros({B * S, hidden.size(1)}, hidden.options()).index_copy(0, token_index, hidden).view({B, S, -1});
}

ElectraForPreTrainingImpl::ElectraForPreTrainingImpl(const ElectraConfig& config,
                                                     ElectraEmbeddings shared_embeddings) {
  electra = register_module("electra", ElectraModel(config, shared_embeddings));
  discriminator_predictions = register_module("discriminator_predictions", DiscriminatorPredictions(config));
  init_weights(*this, config.initializer_range);
}

torch::Tensor ElectraForPreTrainingImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                                 const torch::Tensor& token_type_ids, const torch::Tensor& token_index) {
  return discriminator_predictions(electra(input_ids, attention_mask, token_type_ids, token_index));
}

ElectraForMaskedLMImpl::ElectraForMaskedLMImpl(const ElectraConfig& config, ElectraEmbeddings shared_embeddings) {
  electra = register_module("electra", ElectraModel(config, shared_embeddings));
  generator_predictions = register_module("generator_predictions", GeneratorPredictions(config));
  generator_lm_head = register_module("generator_lm_head", TiedLmHead(config.vocab_size));
  init_weights(*this, config.initializer_range);
}

torch::Tensor ElectraForMaskedLMImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                                              const torch::Tensor& token_type_ids) {
  return logits(electra(input_ids, attention_mask, token_type_ids));
}

torch::Tensor ElectraForMaskedLMImpl::logits(const torch::Tensor& hidden) {
  return generator_lm_head(generator_predictions(hidden), electra->embeddings->word_embeddings->weight);
}

}  // namespace electra
