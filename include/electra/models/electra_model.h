#pragma once
// The public model types: ElectraModel (the encoder), ElectraForPreTraining (the
// discriminator) and ElectraForMaskedLM (the generator), registered under Hugging
// Face's state_dict names so checkpoints load by name.
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "electra/config/electra_config.h"
#include "electra/nn/embeddings.h"
#include "electra/nn/encoder.h"
#include "electra/nn/heads.h"

namespace electra {

// HF/BERT initialisation: normal(0, initializer_range) for Linear and Embedding weights
// (padding row zeroed), zero biases, LayerNorm weight 1 and bias 0.
void init_weights(torch::nn::Module& module, double initializer_range);

class ElectraModelImpl : public torch::nn::Module {
 public:
  // With `shared_embeddings`, the embeddings belong to another model (the generator
  // in pre-training uses the discriminator's) and are not registered here again.
  explicit ElectraModelImpl(const ElectraConfig& config, ElectraEmbeddings shared_embeddings = nullptr);

  // input_ids [B, S]; attention_mask [B, S] (1 = token, 0 = padding) and token_type_ids
  // [B, S] may be undefined. Returns the last hidden state [B, S, H]. With `token_index`
  // (real_token_index(attention_mask)), every layer computes the real tokens only, and the
  // hidden state of padding is zeros instead of what attending from a pad token would give.
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {},
                        const torch::Tensor& token_type_ids = {}, const torch::Tensor& token_index = {});

  const ElectraConfig& config() const { return config_; }
  bool owns_embeddings() const { return owns_embeddings_; }

  ElectraEmbeddings embeddings{nullptr};
  torch::nn::Linear embeddings_project{nullptr};  // only when E != H
  ElectraEncoder encoder{nullptr};

 private:
  ElectraConfig config_;
  bool owns_embeddings_;
};
TORCH_MODULE(ElectraModel);

class ElectraForPreTrainingImpl : public torch::nn::Module {
 public:
  explicit ElectraForPreTrainingImpl(const ElectraConfig& config, ElectraEmbeddings shared_embeddings = nullptr);
  // Replaced-token logits [B, S] (token_index: see ElectraModel::forward).
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {},
                        const torch::Tensor& token_type_ids = {}, const torch::Tensor& token_index = {});

  ElectraModel electra{nullptr};
  DiscriminatorPredictions discriminator_predictions{nullptr};
};
TORCH_MODULE(ElectraForPreTraining);

class ElectraForMaskedLMImpl : public torch::nn::Module {
 public:
  explicit ElectraForMaskedLMImpl(const ElectraConfig& config, ElectraEmbeddings shared_embeddings = nullptr);
  // Vocabulary logits [B, S, V] at every position.
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask = {},
                        const torch::Tensor& token_type_ids = {});
  // Logits only for selected hidden states ([N, Hg] -> [N, V]): pre-training asks for the
  // masked positions only, which is most of the generator's saving.
  torch::Tensor logits(const torch::Tensor& hidden);

  ElectraModel electra{nullptr};
  GeneratorPredictions generator_predictions{nullptr};
  TiedLmHead generator_lm_head{nullptr};
};
TORCH_MODULE(ElectraForMaskedLM);

}  // namespace electra
