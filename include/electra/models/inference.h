#pragma once
// Ready-made inference on raw text: replaced-token detection with a discriminator and
// [MASK] filling with a generator.
#include <string>
#include <vector>

#include "electra/models/electra_model.h"
#include "electra/tokenization/wordpiece.h"

namespace electra {

struct Detection {
  Encoding encoding;                 // every position, [CLS] and [SEP] included
  std::vector<float> logits;         // replaced-token logit per position
  std::vector<float> probabilities;  // sigmoid(logit): probability the token was replaced
};

// `text_pair` empty means a single segment. Runs without gradient in eval mode.
Detection detect_replaced_tokens(ElectraForPreTraining& model, const WordPieceTokenizer& tokenizer,
                                 const std::string& text, const std::string& text_pair = "",
                                 std::size_t max_length = 512);

struct MaskPrediction {
  std::size_t position;                                      // index into the encoding
  std::vector<std::pair<std::string, float>> candidates;     // token, probability (best first)
};

struct MaskFill {
  Encoding encoding;
  std::vector<MaskPrediction> predictions;  // one per [MASK] in the input
};

MaskFill fill_masks(ElectraForMaskedLM& model, const WordPieceTokenizer& tokenizer, const std::string& text,
                    const std::string& text_pair = "", std::size_t top_k = 5, std::size_t max_length = 512);

}  // namespace electra
