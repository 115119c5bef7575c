#pragma once
// Word + position + token-type embeddings, summed, then LayerNorm and dropout.
#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "electra/config/electra_config.h"

namespace electra {

// LayerNorm in its parameters' dtype. LibTorch 1.13's CPU autocast leaves layer_norm
// alone, and its kernel refuses bf16 input with fp32 weights: normalising in fp32 is
// also what autocast does on CUDA.
torch::Tensor layer_norm(torch::nn::LayerNorm& norm, const torch::Tensor& x);

// The module's dropout (its p, its training flag); src/nn/dropout.cpp. On the CPU its keep mask
// is drawn by a counter-based generator seeded from LibTorch's (so torch::manual_seed and
// checkpointed RNG state still decide it), and fp32 is masked and scaled in the same pass.
// LibTorch's path draws a uniform float per element on one thread, then masks and scales in
// three more passes: a sixth (fp32) to a quarter (bf16) of a fine-tuning step, profiled. On
// CUDA, LibTorch's fused dropout.
torch::Tensor dropout(torch::nn::Dropout& module, const torch::Tensor& x);

// The flat positions in [B * S] of the real tokens of a [B, S] 0/1 attention mask, ascending:
// [T] int64, or an undefined tensor when less than `min_padding` of the batch is padding. Given
// to a model's forward, the encoder computes those T rows only, and padding costs nothing outside
// attention's scores; compute it where the mask is built (on the host) so that the device never
// waits for T. Leaving rows out has a price (gathering, scattering, a new shape every step): with
// 3.5% padding (pre-training batches) it cost a fifth of the step's speed and a quarter more peak
// memory, with 32% (MRPC) it gained a fifth; hence the default.
torch::Tensor real_token_index(const torch::Tensor& attention_mask, double min_padding = 0.25);

class ElectraEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit ElectraEmbeddingsImpl(const ElectraConfig& config);

  // input_ids, token_type_ids: [B, S] int64 (token_type_ids may be undefined: all zeros).
  // Returns [B, S, E]; with `token_index` (the real tokens' flat positions in [B * S], see
  // real_token_index), only those tokens: [T, E].
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids = {},
                        const torch::Tensor& token_index = {});

  torch::nn::Embedding word_embeddings{nullptr};
  torch::nn::Embedding position_embeddings{nullptr};
  torch::nn::Embedding token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};  // HF's name
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(ElectraEmbeddings);

}  // namespace electra
