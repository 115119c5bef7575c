#include "electra/train/masking.h"

#include <torch/torch.h>

#include <cmath>

namespace electra {

int64_t max_predictions(double mask_prob, int64_t max_seq_len) {
  return static_cast<int64_t>((mask_prob + 0.005) * static_cast<double>(max_seq_len));
}

MaskedBatch mask_tokens(const torch::Tensor& input_ids, const torch::Tensor& attention_mask, const SpecialIds& special,
                        const MaskingOptions& options, int64_t vocab_size, int64_t max_seq_len,
                        torch::Generator& rng) {
  torch::NoGradGuard no_grad;
  const int64_t S = input_ids.size(1);
  const int64_t N = std::max<int64_t>(1, std::min(max_predictions(options.mask_prob, max_seq_len), S));
  const auto real = attention_mask.to(torch::kBool);  // [B, S]
  const auto candidate = real & (input_ids != special.cls) & (input_ids != special.sep) & (input_ids != special.mask);

  // Python's round() on the official side rounds half to even; torch::round does the same.
  auto count = torch::round(real.sum(1).to(torch::kDouble) * options.mask_prob).to(torch::kLong);  // [B]
  count = count.clamp(1, N).minimum(candidate.sum(1));

  // Uniform choice without replacement: the N largest of uniform scores over candidates.
  auto scores = torch::rand(input_ids.sizes(), rng, torch::dtype(torch::kFloat).device(input_ids.device()));
  scores = scores.masked_fill(~candidate, -1.0);
  auto positions = std::get<1>(scores.topk(N, 1));                                        // [B, N]
  auto slot = torch::arange(N, torch::dtype(torch::kLong).device(input_ids.device())).unsqueeze(0);  // [1, N]
  auto valid = slot < count.unsqueeze(1);                                                  // [B, N]
  positions = positions.masked_fill(~valid, 0);
  auto labels = input_ids.gather(1, positions);

  // Each chosen slot: [MASK] with 1 - keep - random, a random token with `random`, else kept.
  auto u = torch::rand(positions.sizes(), rng, torch::dtype(torch::kFloat).device(input_ids.device()));
  const double mask_share = 1.0 - options.keep_original_prob - options.random_token_prob;
  auto replacement = labels.clone();
  replacement.masked_fill_(u < mask_share, special.mask);
  if (options.random_token_prob > 0.0) {
    auto random = torch::randint(vocab_size, positions.sizes(), rng, torch::dtype(torch::kLong).device(input_ids.device()));
    auto use_random = (u >= mask_share) & (u < mask_share + options.random_token_prob);
    replacement = torch::where(use_random, random, replacement);
  }
  auto masked = input_ids.clone();
  // Padding slots point at position 0 ([CLS]) and write its own id back: a no-op.
  masked.scatter_(1, positions, torch::where(valid, replacement, input_ids.gather(1, positions)));
  return {masked, positions, labels, valid.to(torch::kFloat)};
}

}  // namespace electra
