#pragma once
// Dynamic masking for pre-training (reference doc section 2).
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace electra {

struct MaskingOptions {
  double mask_prob = 0.15;          // share of real tokens chosen per sequence
  double keep_original_prob = 0.15;  // chosen positions left unchanged (ELECTRA: 15%, no random tokens)
  double random_token_prob = 0.0;    // chosen positions given a random token (BERT's 80/10/10: 0.1)
};

struct SpecialIds {
  int64_t pad = 0, cls = 101, sep = 102, mask = 103;
};

struct MaskedBatch {
  torch::Tensor input_ids;  // [B, S] with [MASK] (or kept/random tokens) at chosen positions
  torch::Tensor positions;  // [B, N] int64 chosen positions; padding slots point at 0
  torch::Tensor labels;     // [B, N] int64 original token ids
  torch::Tensor weights;    // [B, N] float 1 for chosen slots, 0 for padding slots
};

// N = int((mask_prob + 0.005) * max_seq_len): the official code's cap (19 at 128 / 0.15).
int64_t max_predictions(double mask_prob, int64_t max_seq_len);

// Per sequence: count = max(1, min(N, round(real_tokens * mask_prob))) positions drawn
// uniformly without replacement among real tokens other than [CLS], [SEP], [MASK] and
// padding. `attention_mask` [B, S] is 1 on real tokens.
MaskedBatch mask_tokens(const torch::Tensor& input_ids, const torch::Tensor& attention_mask, const SpecialIds& special,
                        const MaskingOptions& options, int64_t vocab_size, int64_t max_seq_len,
                        torch::Generator& rng);

}  // namespace electra
