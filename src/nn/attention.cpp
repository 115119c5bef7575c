#include "electra/nn/attention.h"
#include "electra/nn/embeddings.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>
#include <limits>

#include "electra/util/error.h"

namespace electra {

torch::Tensor make_attention_bias(const torch::Tensor& attention_mask, torch::ScalarType dtype) {
  const double lowest = dtype == torch::kFloat64   ? std::numeric_limits<double>::lowest()
                        : dtype == torch::kBFloat16 ? -3.3895313892515355e38
                        : dtype == torch::kFloat16  ? -65504.0
                                                    : static_cast<double>(std::numeric_limits<float>::lowest());
  auto visible = attention_mask.to(dtype).unsqueeze(1).unsqueeze(2);  // [B, 1, 1, S]
  return (1.0 - visible) * lowest;
}

// scaled_dot_product_attention takes a `scale` (the query arrives scaled) from 2.1 on.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define ELECTRA_HAVE_SDPA 1
#else
#define ELECTRA_HAVE_SDPA 0
#endif

bool sdpa_available() { return ELECTRA_HAVE_SDPA != 0; }

AttentionKernel default_attention_kernel() {
  return sdpa_available() ? AttentionKernel::sdpa : AttentionKernel::explicit_matmul;
}

void set_attention_kernel(torch::nn::Module& model, AttentionKernel kernel) {
  if (kernel == AttentionKernel::sdpa && !sdpa_available()) {
    throw Error("scaled_dot_product_attention needs LibTorch 2.1 or newer (this is " TORCH_VERSION ")");
  }
  for (const auto& m : model.modules(/*include_self=*/true)) {
    if (auto* attention = m->as<ElectraSelfAttentionImpl>()) attention->kernel = kernel;
  }
}

ElectraSelfAttentionImpl::ElectraSelfAttentionImpl(const ElectraConfig& c)
    : num_heads_(c.num_attention_heads), head_dim_(c.head_dim()), dropout_prob_(c.attention_probs_dropout_prob) {
  query = register_module("query", torch::nn::Linear(c.hidden_size, c.hidden_size));
  key = register_module("key", torch::nn::Linear(c.hidden_size, c.hidden_size));
  value = register_module("value", torch::nn::Linear(c.hidden_size, c.hidden_size));
  dropout = register_module("dropout", torch::nn::Dropout(c.attention_probs_dropout_prob));
}

torch::Tensor ElectraSelfAttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& bias,
                                               const torch::Tensor& token_index) {
  // One matrix product for query, key and value: their weights side by side, [3H, H]. The
  // query's carry 1/sqrt(head_dim), so that no pass over the [B, nh, S, S] scores divides them.
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  const auto qkv_weight = torch::cat({query->weight * scale, key->weight, value->weight});
  const auto qkv_bias = torch::cat({query->bias * scale, key->bias, value->bias});
  auto qkv = torch::linear(hidden, qkv_weight, qkv_bias);  // [B, S, 3H], or [T, 3H] for the real tokens
  int64_t B = hidden.size(0), S = hidden.dim() == 3 ? hidden.size(1) : 1;
  if (token_index.defined()) {  // attention needs each token in its row: padding's rows are zeros
    B = bias.size(0);
    S = bias.size(-1);
    qkv = torch::zeros({B * S, qkv.size(1)}, qkv.options()).index_copy(0, token_index, qkv);
  }
  // One copy into head-major order, so that the matrix products below copy nothing; unbind, not
  // three selects, whose backward would each fill a zero tensor of all three.
  const auto heads = qkv.view({B, S, 3, num_heads_, head_dim_}).permute({2, 0, 3, 1, 4}).contiguous().unbind(0);
  const auto& q = heads[0], k = heads[1], v = heads[2];  // [B, nh, S, hd]
  torch::Tensor context;  // [B, nh, S, hd]
#if ELECTRA_HAVE_SDPA
  // Training on the CPU with attention dropout: SDPA would fall back to its math path, whose
  // bernoulli_ draws cost 8% of a `small` bf16 step (profiled); the explicit path's dropout
  // (electra::dropout) is the same distribution at a fraction of the cost.
  const bool cpu_dropout = is_training() && dropout_prob_ > 0 && !q.is_cuda();
  if (kernel == AttentionKernel::sdpa && !cpu_dropout) {
    // An undefined tensor inside an engaged optional is not "no mask" to every version: pass nullopt.
    const auto mask = bias.defined() ? c10::optional<at::Tensor>(bias.to(q.dtype())) : c10::nullopt;
    context = at::scaled_dot_product_attention(q, k, v, mask, is_training() ? dropout_prob_ : 0.0, /*is_causal=*/false,
                                               /*scale=*/1.0);  // q is scaled already
  }
#endif
  if (!context.defined()) {  // explicit_matmul, and every kernel on a LibTorch without SDPA
    auto scores = torch::matmul(q, k.transpose(-1, -2));  // [B, nh, S, S]
    if (bias.defined()) scores.add_(bias.to(scores.dtype()));  // in place: matmul's backward does not read it
    context = torch::matmul(electra::dropout(dropout, torch::softmax(scores, -1)), v);
  }
  context = context.transpose(1, 2).reshape({B, S, num_heads_ * head_dim_});  // [B, S, H]
  if (!token_index.defined()) return context;
  return context.view({B * S, -1}).index_select(0, token_index);  // [T, H]
}

ElectraResidualOutputImpl::ElectraResidualOutputImpl(int64_t in_features, const ElectraConfig& c) {
  dense = register_module("dense", torch::nn::Linear(in_features, c.hidden_size));
  LayerNorm = register_module(
      "LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
  dropout = register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
}

torch::Tensor ElectraResidualOutputImpl::forward(const torch::Tensor& x, const torch::Tensor& residual) {
  return layer_norm(LayerNorm, electra::dropout(dropout, dense(x)) + residual);
}

ElectraAttentionImpl::ElectraAttentionImpl(const ElectraConfig& c) {
  self = register_module("self", ElectraSelfAttention(c));
  output = register_module("output", ElectraResidualOutput(c.hidden_size, c));
}

torch::Tensor ElectraAttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& bias,
                                           const torch::Tensor& token_index) {
  return output(self(hidden, bias, token_index), hidden);
}

}  // namespace electra
