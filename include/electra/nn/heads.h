#pragma once
// Pre-training heads: the discriminator's per-token replaced/original logit and the
// generator's masked-LM head with its output embedding tied to the word embeddings.
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "electra/config/electra_config.h"

namespace electra {

// discriminator_predictions: dense(H,H) -> act -> dense_prediction(H,1) -> squeeze.
class DiscriminatorPredictionsImpl : public torch::nn::Module {
 public:
  explicit DiscriminatorPredictionsImpl(const ElectraConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden);  // [B, S, H] -> [B, S]

  torch::nn::Linear dense{nullptr}, dense_prediction{nullptr};

 private:
  Activation act_;
};
TORCH_MODULE(DiscriminatorPredictions);

// generator_predictions: dense(Hg,E) -> gelu -> LayerNorm(E).
class GeneratorPredictionsImpl : public torch::nn::Module {
 public:
  explicit GeneratorPredictionsImpl(const ElectraConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden);  // [.., Hg] -> [.., E]

  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(GeneratorPredictions);

// generator_lm_head: only its bias is a parameter here; the weight is the word
// embedding matrix, passed in, so the tie survives any load or optimizer step.
class TiedLmHeadImpl : public torch::nn::Module {
 public:
  explicit TiedLmHeadImpl(int64_t vocab_size);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& word_embeddings);  // [.., E] -> [.., V]

  torch::Tensor bias;
};
TORCH_MODULE(TiedLmHead);

}  // namespace electra
