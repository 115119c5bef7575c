#include "electra/nn/embeddings.h"

#include <torch/torch.h>

#include "electra/util/error.h"

namespace electra {

torch::Tensor layer_norm(torch::nn::LayerNorm& norm, const torch::Tensor& x) {
  const auto type = norm->weight.scalar_type();
  return norm(x.scalar_type() == type ? x : x.to(type));
}

torch::Tensor real_token_index(const torch::Tensor& attention_mask, double min_padding) {
  const auto real = attention_mask.reshape({-1}).ne(0);
  const auto padding = real.numel() - real.sum().item<int64_t>();
  if (padding == 0 || static_cast<double>(padding) < min_padding * static_cast<double>(real.numel())) return {};
  return real.nonzero().reshape({-1});
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

torch::Tensor ElectraEmbeddingsImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids,
                                             const torch::Tensor& token_index) {
  const int64_t seq_len = input_ids.size(1);
  if (seq_len > position_embeddings->weight.size(0)) {
    throw Error("sequence of " + std::to_string(seq_len) + " tokens is longer than max_position_embeddings " +
                std::to_string(position_embeddings->weight.size(0)));
  }
  if (token_index.defined()) {  // the real tokens only; a token's position is its column
    auto real = [&](const torch::Tensor& t) { return t.reshape({-1}).index_select(0, token_index); };  // [T]
    auto x = word_embeddings(real(input_ids)) + position_embeddings(token_index.remainder(seq_len));  // [T, E]
    x = x + (token_type_ids.defined() ? token_type_embeddings(real(token_type_ids)) : token_type_embeddings->weight[0]);
    return electra::dropout(dropout, layer_norm(LayerNorm, x));
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
