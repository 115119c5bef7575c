#include "electra/nn/encoder.h"

#include <torch/torch.h>

namespace electra {

torch::Tensor activate(const torch::Tensor& x, Activation act) {
  switch (act) {
    case Activation::gelu: return torch::gelu(x);  // exact erf form, as BERT/ELECTRA
    case Activation::gelu_new: return torch::gelu(x, "tanh");
    case Activation::relu: return torch::relu(x);
    case Activation::silu: return torch::silu(x);
  }
  return torch::gelu(x);
}

ElectraIntermediateImpl::ElectraIntermediateImpl(const ElectraConfig& c) : act_(c.hidden_act) {
  dense = register_module("dense", torch::nn::Linear(c.hidden_size, c.intermediate_size));
}

torch::Tensor ElectraIntermediateImpl::forward(const torch::Tensor& x) { return activate(dense(x), act_); }

ElectraLayerImpl::ElectraLayerImpl(const ElectraConfig& c) {
  attention = register_module("attention", ElectraAttention(c));
  intermediate = register_module("intermediate", ElectraIntermediate(c));
  output = register_module("output", ElectraResidualOutput(c.intermediate_size, c));
}

torch::Tensor ElectraLayerImpl::forward(const torch::Tensor& hidden, const torch::Tensor& bias,
                                       const torch::Tensor& token_index) {
  auto attended = attention(hidden, bias, token_index);
  return output(intermediate(attended), attended);
}

ElectraEncoderImpl::ElectraEncoderImpl(const ElectraConfig& c) {
  layer = register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layer->push_back(ElectraLayer(c));
}

torch::Tensor ElectraEncoderImpl::forward(torch::Tensor hidden, const torch::Tensor& bias,
                                         const torch::Tensor& token_index) {
  for (const auto& l : *layer) hidden = l->as<ElectraLayer>()->forward(hidden, bias, token_index);
  return hidden;
}

}  // namespace electra
