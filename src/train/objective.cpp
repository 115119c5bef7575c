#include "electra/train/objective.h"

#include <torch/torch.h>

namespace electra {

torch::Tensor sample_tokens(const torch::Tensor& logits, double temperature, torch::Generator& rng) {
  torch::NoGradGuard no_grad;
  // Inverse-CDF sampling: one uniform draw per row against the running sum of the softmax.
  // torch::multinomial draws an exponential per vocabulary entry on LibTorch 2.x (13% of a
  // `small` bf16 step on the CPU, profiled); a cumulative sum costs a few percent of that.
  const auto V = logits.size(-1);
  auto probs = torch::softmax(logits.to(torch::kFloat).reshape({-1, V}) / temperature, -1);  // [R, V]
  auto cdf = probs.cumsum(-1);                                                                 // [R, V]
  // Scaled by each row's total, so that rounding in the sum never leaves a draw past the end.
  auto u = torch::rand({cdf.size(0), 1}, rng, cdf.options()) * cdf.narrow(1, V - 1, 1);      // [R, 1]
  // The first entry whose running sum exceeds u: a token of zero probability never is.
  auto tokens = torch::searchsorted(cdf, u, /*out_int32=*/false, /*right=*/true).clamp_max(V - 1);  // [R, 1]
  return tokens.view(logits.sizes().slice(0, logits.dim() - 1));
}

ObjectiveOutput compute_objective(ElectraPretrainingModel& model, const PretrainingBatch& batch,
                                  const SpecialIds& special, const ObjectiveOptions& options, int64_t max_seq_len,
                                  torch::Generator& rng) {
  const auto& gen_config = model->generator_config();
  auto masked = mask_tokens(batch.input_ids, batch.attention_mask, special, options.masking, gen_config.vocab_size,
                            max_seq_len, rng);
  const int64_t B = masked.positions.size(0), N = masked.positions.size(1);

  // Generator: hidden states everywhere, vocabulary logits only at the chosen positions.
  auto hidden = model->generator->electra(masked.input_ids, batch.attention_mask, batch.token_type_ids,
                                          batch.token_index);  // [B, S, Hg]
  auto index = masked.positions.unsqueeze(-1).expand({B, N, hidden.size(2)});
  auto logits = model->generator->logits(hidden.gather(1, index)).to(torch::kFloat);  // [B, N, V]
  auto token_loss = torch::nn::functional::cross_entropy(
      logits.view({B * N, -1}), masked.labels.view({B * N}),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));  // [B*N]
  const auto weights = masked.weights.view({B * N});
  const auto denominator = weights.sum().clamp_min(1.0);

  ObjectiveOutput out;
  out.masked = masked;
  out.mlm_loss = (token_loss * weights).sum() / denominator;
  {
    torch::NoGradGuard no_grad;
    const auto valid = weights > 0;
    out.masked_tokens = valid.sum();
    out.mlm_correct = ((logits.argmax(-1).view({B * N}) == masked.labels.view({B * N})) & valid).sum();
  }
  if (!model->has_discriminator()) {
    out.disc_loss = torch::zeros({}, out.mlm_loss.options());
    out.loss = options.mlm_weight * out.mlm_loss;
    return out;
  }

  // Discriminator input: original tokens with the samples written into every chosen slot.
  torch::Tensor disc_input, replaced;
  {
    torch::NoGradGuard no_grad;
    auto sampled = sample_tokens(logits.detach(), options.temperature, rng);  // [B, N]
    out.sampled = sampled;
    out.sampled_correct = ((sampled == masked.labels) & (masked.weights > 0)).sum();
    auto written = torch::where(masked.weights > 0, sampled, batch.input_ids.gather(1, masked.positions));
    disc_input = batch.input_ids.clone().scatter_(1, masked.positions, written);
    // A sample equal to the original counts as real.
    replaced = (disc_input != batch.input_ids).to(torch::kFloat);  // [B, S]
  }
  auto disc_logits =
      model->discriminator->forward(disc_input, batch.attention_mask, batch.token_type_ids, batch.token_index)
          .to(torch::kFloat);  // [B, S]
  const auto real = batch.attention_mask.to(torch::kFloat);
  auto per_token = torch::binary_cross_entropy_with_logits(disc_logits, replaced, {}, {}, at::Reduction::None);
  out.disc_loss = (per_token * real).sum() / real.sum().clamp_min(1.0);
  out.loss = options.mlm_weight * out.mlm_loss + options.disc_weight * out.disc_loss;
  out.disc_scores = torch::sigmoid(disc_logits.detach());  // [B, S]
  out.disc_labels = replaced;                                // [B, S]
  return out;
}

}  // namespace electra
