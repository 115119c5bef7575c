#pragma once
// Post-LayerNorm transformer layers and the stack of them (encoder.layer.{i}).
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "electra/config/electra_config.h"
#include "electra/nn/attention.h"

namespace electra {

torch::Tensor activate(const torch::Tensor& x, Activation act);

class ElectraIntermediateImpl : public torch::nn::Module {
 public:
  explicit ElectraIntermediateImpl(const ElectraConfig& config);
  torch::Tensor forward(const torch::Tensor& x);  // [B, S, H] -> [B, S, FFN]

  torch::nn::Linear dense{nullptr};

 private:
  Activation act_;
};
TORCH_MODULE(ElectraIntermediate);

class ElectraLayerImpl : public torch::nn::Module {
 public:
  explicit ElectraLayerImpl(const ElectraConfig& config);
  // [B, S, H], or [T, H] with `token_index` (see ElectraSelfAttention).
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& bias, const torch::Tensor& token_index = {});

  ElectraAttention attention{nullptr};
  ElectraIntermediate intermediate{nullptr};
  ElectraResidualOutput output{nullptr};
};
TORCH_MODULE(ElectraLayer);

class ElectraEncoderImpl : public torch::nn::Module {
 public:
  explicit ElectraEncoderImpl(const ElectraConfig& config);
  // [B, S, H], or [T, H] with `token_index` (see ElectraSelfAttention).
  torch::Tensor forward(torch::Tensor hidden, const torch::Tensor& bias, const torch::Tensor& token_index = {});

  torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(ElectraEncoder);

}  // namespace electra
