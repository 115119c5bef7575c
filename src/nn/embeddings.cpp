#include "electra/nn/embeddings.h"

#include <torch/torch.h>

#include "electra/util/error.h"

namespace electra {

torch::Tensor layer_norm(torch::nn::LayerNorm& norm, const torch::Tensor& x) {
  const auto type = norm->weight.scalar_type();
  return norm(x.scalar_type() == type ? x : x.to(type));
}

torch::Tensor dropout(torch::nn::Dropout& module, const torch::Tensor& x) {
  const double p = module->options.p();
  if (!module->is_training() || p <= 0.0) return x;
  if (p >= 1.0) return x * 0;
  const auto keep = torch::rand(x.sizes(), x.options().dtype(torch::kFloat)) >= p;
  // Scaled by a double after the mask, so bf16 activations are not scaled by a rounded 1/(1-p).
  return x.mul(keep.to(x.scalar_type())).mul(1.0 / (1.0 - p));
}

ElectraEmbeddingsImpl::ElectraEmbeddingsImpl(const ElectraConfig& c) {
  word_embeddings = register_module(
      "word_embeddings",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocab_size, c.embedding_size).padding_idx(c.pad_token_id)));
  position_embeddings = register_module(
      "position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.embedding_size));
  token_type_embeddings =
      register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.embedding_size));
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.embedding_size}).eps(c.layer_norm_eps)));
  dropout = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
}

torch::Tensor ElectraEmbeddingsImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids) {
  const int64_t seq_len = input_ids.size(1);
  if (seq_len > position_embeddings->weight.size(0)) {
    throw Error("sequence of " + std::to_string(seq_len) + " tokens is longer than max_position_embeddings " +
                std::to_string(position_embeddings->weight.size(0)));
  }
  auto x = word_embeddings(input_ids);                                        // [B, S, E]
  x = x + position_embeddings->weight.narrow(0, 0, seq_len).unsqueeze(0);     // [1, S, E]
  if (token_type_ids.defined()) {
    x = x + token_type_embeddings(token_type_ids);
  } else {
    x = x + token_type_embeddings->weight[0];
  }
  return electra::dropout(dropout, layer_norm(LayerNorm, x));
}

}  // namespace electra
