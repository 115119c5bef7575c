#include "electra/nn/heads.h"

#include <torch/torch.h>

#include "electra/nn/embeddings.h"
#include "electra/nn/encoder.h"

namespace electra {

DiscriminatorPredictionsImpl::DiscriminatorPredictionsImpl(const ElectraConfig& c) : act_(c.hidden_act) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  dense_prediction = register_module("dense_prediction", torch::nn::Linear(c.hidden_size, 1));
}

torch::Tensor DiscriminatorPredictionsImpl::forward(const torch::Tensor& hidden) {
  return dense_prediction(activate(dense(hidden), act_)).squeeze(-1);
}

GeneratorPredictionsImpl::GeneratorPredictionsImpl(const ElectraConfig& c) {
  // HF registers LayerNorm before dense; the order only matters for listings.
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.embedding_size}).eps(c.layer_norm_eps)));
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.embedding_size));
}

torch::Tensor GeneratorPredictionsImpl::forward(const torch::Tensor& hidden) {
  // HF's generator head always uses the erf GELU, whatever hidden_act says.
  return layer_norm(LayerNorm, torch::gelu(dense(hidden)));
}

TiedLmHeadImpl::TiedLmHeadImpl(int64_t vocab_size) { bias = register_parameter("bias", torch::zeros({vocab_size})); }

torch::Tensor TiedLmHeadImpl::forward(const torch::Tensor& x, const torch::Tensor& word_embeddings) {
  return torch::nn::functional::linear(x, word_embeddings, bias);
}

}  // namespace electra
