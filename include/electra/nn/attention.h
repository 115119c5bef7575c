#pragma once
// Multi-head self-attention with HF's module layout: attention.self.{query,key,value}
// and attention.output.{dense,LayerNorm}.
#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "electra/config/electra_config.h"

namespace electra {

// Additive attention bias from a [B, S] 0/1 mask: 0 for visible keys, the dtype's
// lowest finite value for padding (HF's rule). Returns [B, 1, 1, S] in `dtype`.
torch::Tensor make_attention_bias(const torch::Tensor& attention_mask, torch::ScalarType dtype);

// How softmax(q k^T / sqrt(d) + bias) v is computed. Both are the same maths: `explicit_matmul`
// is matmul-softmax-matmul as Hugging Face's "eager" attention; `sdpa` is LibTorch 2.x's
// scaled_dot_product_attention (fused flash / memory-efficient kernels where the build has them).
// The default is sdpa where LibTorch has it (2.1 and newer), explicit_matmul before.
enum class AttentionKernel { explicit_matmul, sdpa };
bool sdpa_available();
AttentionKernel default_attention_kernel();
// Sets the kernel of every self-attention inside `model`. sdpa on a LibTorch without it throws.
void set_attention_kernel(torch::nn::Module& model, AttentionKernel kernel);

class ElectraSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit ElectraSelfAttentionImpl(const ElectraConfig& config);
  // hidden: [B, S, H]; bias: [B, 1, 1, S] or undefined. Returns the context [B, S, H].
  // With `token_index` (real_token_index of the mask behind `bias`, which is then required),
  // hidden and the context hold the real tokens only: [T, H].
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& bias, const torch::Tensor& token_index = {});

  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
  torch::nn::Dropout dropout{nullptr};
  AttentionKernel kernel = default_attention_kernel();

 private:
  int64_t num_heads_, head_dim_;
  double dropout_prob_;
};
TORCH_MODULE(ElectraSelfAttention);

// dense -> dropout -> LayerNorm(x + residual); shared by attention and FFN outputs.
class ElectraResidualOutputImpl : public torch::nn::Module {
 public:
  ElectraResidualOutputImpl(int64_t in_features, const ElectraConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& residual);

  torch::nn::Linear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(ElectraResidualOutput);

class ElectraAttentionImpl : public torch::nn::Module {
 public:
  explicit ElectraAttentionImpl(const ElectraConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& bias, const torch::Tensor& token_index = {});

  ElectraSelfAttention self{nullptr};
  ElectraResidualOutput output{nullptr};
};
TORCH_MODULE(ElectraAttention);

}  // namespace electra
