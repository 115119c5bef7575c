#pragma once
// The replaced-token-detection objective (reference doc section 2) and the MLM baseline.
#include <torch/types.h>

#include "electra/models/pretraining_model.h"
#include "electra/train/masking.h"

namespace electra {

struct ObjectiveOptions {
  MaskingOptions masking;
  double mlm_weight = 1.0;
  double disc_weight = 50.0;
  double temperature = 1.0;  // sampling temperature of the generator
};

struct PretrainingBatch {
  torch::Tensor input_ids;       // [B, S] int64
  torch::Tensor attention_mask;  // [B, S] int64, 1 = token
  torch::Tensor token_type_ids;  // [B, S] int64
  torch::Tensor token_index;     // [T]: real_token_index(attention_mask); undefined without padding

  PretrainingBatch to(const torch::Device& device) const {
    if (input_ids.device() == device) return *this;
    auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(device, /*non_blocking=*/true) : t; };
    return {move(input_ids), move(attention_mask), move(token_type_ids), move(token_index)};
  }
  PretrainingBatch pinned() const {  // page-locked copies, so that to(cuda) overlaps compute
    auto pin = [](const torch::Tensor& t) { return t.defined() ? t.pin_memory() : t; };
    return {pin(input_ids), pin(attention_mask), pin(token_type_ids), pin(token_index)};
  }
};

// Everything one step computes: the loss to back-propagate and detached statistics.
struct ObjectiveOutput {
  torch::Tensor loss;      // scalar, mlm_weight * mlm_loss + disc_weight * disc_loss
  torch::Tensor mlm_loss;  // scalar
  torch::Tensor disc_loss;  // scalar (zero for the mlm objective)
  // Detached statistics, left on the batch's device so that nothing here waits for it: 0-dim
  // int64 counts (sampled_correct undefined for mlm) and per-token tensors.
  torch::Tensor masked_tokens, mlm_correct, sampled_correct;
  torch::Tensor disc_scores;  // [B, S] float sigmoid outputs (undefined for mlm); padding is not scored
  torch::Tensor disc_labels;  // [B, S] float 1 = replaced (0 on padding)
  // What the step drew, for inspection and reference checks.
  MaskedBatch masked;
  torch::Tensor sampled;  // [B, N] generator samples (undefined for mlm)
};

ObjectiveOutput compute_objective(ElectraPretrainingModel& model, const PretrainingBatch& batch,
                                  const SpecialIds& special, const ObjectiveOptions& options, int64_t max_seq_len,
                                  torch::Generator& rng);

// One categorical sample per row of softmax(logits / temperature), without gradient.
torch::Tensor sample_tokens(const torch::Tensor& logits, double temperature, torch::Generator& rng);

}  // namespace electra
