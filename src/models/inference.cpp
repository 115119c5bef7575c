#include "electra/models/inference.h"

#include <torch/torch.h>

#include "electra/util/error.h"

namespace electra {
namespace {

Encoding encode(const WordPieceTokenizer& tokenizer, const std::string& text, const std::string& pair,
                std::size_t max_length) {
  EncodeOptions options;
  options.max_length = max_length;
  return pair.empty() ? tokenizer.encode(text, options) : tokenizer.encode_pair(text, pair, options);
}

torch::Tensor row(const std::vector<std::int32_t>& values) {
  return torch::tensor(std::vector<int64_t>(values.begin(), values.end()), torch::kLong).unsqueeze(0);  // [1, S]
}

template <typename T>
std::vector<float> to_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

Detection detect_replaced_tokens(ElectraForPreTraining& model, const WordPieceTokenizer& tokenizer,
                                 const std::string& text, const std::string& text_pair, std::size_t max_length) {
  const auto& config = model->electra->config();
  Detection d;
  d.encoding = encode(tokenizer, text, text_pair,
                      std::min<std::size_t>(max_length, static_cast<std::size_t>(config.max_position_embeddings)));
  torch::NoGradGuard no_grad;
  model->eval();
  const auto device = model->discriminator_predictions->dense->weight.device();
  auto logits = model->forward(row(d.encoding.input_ids).to(device), row(d.encoding.attention_mask).to(device),
                               row(d.encoding.token_type_ids).to(device))[0];  // [S]
  d.logits = to_vector<float>(logits.cpu());
  d.probabilities = to_vector<float>(torch::sigmoid(logits).cpu());
  return d;
}

MaskFill fill_masks(ElectraForMaskedLM& model, const WordPieceTokenizer& tokenizer, const std::string& text,
                    const std::string& text_pair, std::size_t top_k, std::size_t max_length) {
  const auto& config = model->electra->config();
  MaskFill fill;
  fill.encoding = encode(tokenizer, text, text_pair,
                         std::min<std::size_t>(max_length, static_cast<std::size_t>(config.max_position_embeddings)));
  std::vector<int64_t> positions;
  for (std::size_t i = 0; i < fill.encoding.input_ids.size(); ++i) {
    if (fill.encoding.input_ids[i] == tokenizer.mask_id()) positions.push_back(static_cast<int64_t>(i));
  }
  if (positions.empty()) throw Error("the text has no " + tokenizer.options().mask_token + " token to fill");
  torch::NoGradGuard no_grad;
  model->eval();
  const auto device = model->generator_lm_head->bias.device();
  auto hidden = model->electra(row(fill.encoding.input_ids).to(device), row(fill.encoding.attention_mask).to(device),
                               row(fill.encoding.token_type_ids).to(device))[0];  // [S, Hg]
  auto index = torch::tensor(positions, torch::kLong).to(device);
  auto probs = torch::softmax(model->logits(hidden.index_select(0, index)).to(torch::kFloat), -1).cpu();  // [M, V]
  const auto k = static_cast<int64_t>(std::min<std::size_t>(top_k, static_cast<std::size_t>(probs.size(1))));
  auto [values, ids] = probs.topk(k, -1);
  for (std::size_t m = 0; m < positions.size(); ++m) {
    MaskPrediction p;
    p.position = static_cast<std::size_t>(positions[m]);
    for (int64_t j = 0; j < k; ++j) {
      const auto id = static_cast<std::int32_t>(ids[m][j].item<int64_t>());
      const std::string token = id < tokenizer.vocab().size() ? tokenizer.vocab().token(id) : "[id " + std::to_string(id) + "]";
      p.candidates.emplace_back(token, values[m][j].item<float>());
    }
    fill.predictions.push_back(std::move(p));
  }
  return fill;
}

}  // namespace electra
