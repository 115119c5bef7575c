#pragma once
// Published checkpoints into ELECTRA model directories that libelectra and `transformers` load:
// Hugging Face BERT-architecture directories (BERT's encoder is the discriminator's body) and
// original TensorFlow 1 checkpoints of ELECTRA and BERT.
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "electra/config/electra_config.h"

namespace electra {

enum class CheckpointFormat {
  hf_bert,      // config.json with model_type "bert" (BertModel, BertForMaskedLM, BertForPreTraining,
                // sentence-transformers); model.safetensors (sharded or not) or pytorch_model.bin
  tf_bert,      // bert_model.ckpt.{index,data-*} (+ bert_config.json)
  tf_electra,   // the official ELECTRA release: electra/..., generator/..., *_predictions/...
};
std::string to_string(CheckpointFormat format);

// What the source says nothing about (TensorFlow checkpoints carry no head count).
struct ConvertOptions {
  std::optional<std::int64_t> num_attention_heads;            // default: hidden_size / 64
  std::optional<std::int64_t> generator_num_attention_heads;  // default: generator hidden / 64
  std::optional<bool> lowercase;      // default: tokenizer_config.json's do_lower_case, else true
  std::string vocab;                  // default: the source's vocab.txt
  torch::ScalarType dtype = torch::kFloat;
};

// Every named tensor of the source is accounted for: loaded, or dropped with a reason.
struct ConvertedModel {
  ElectraConfig config;     // architectures: ElectraForPreTraining, ElectraForMaskedLM or ElectraModel
  std::vector<std::pair<std::string, torch::Tensor>> tensors;  // Hugging Face ELECTRA names
};
struct Conversion {
  CheckpointFormat format;
  ConvertedModel discriminator;                // ElectraModel when the source has no RTD head (BERT)
  std::optional<ConvertedModel> generator;     // from an MLM head (ELECTRA's generator, BERT's cls.predictions)
  std::string vocab_file;                      // vocab.txt, else tokenizer.json; empty when none was found
  bool lowercase = true;
  std::vector<std::string> dropped;            // "bert/pooler/dense/kernel: ELECTRA has no pooler", ...
  std::string source;                          // as given to convert_checkpoint (for the model card)
  std::string license, language;               // from the source's README.md metadata; empty when not stated
};

// Finds the format of `source` (a directory, a TF checkpoint prefix or .index file), reads it whole
// and maps every tensor; throws electra::Error naming the file at the first problem.
CheckpointFormat detect_checkpoint_format(const std::string& source);
Conversion convert_checkpoint(const std::string& source, const ConvertOptions& options = {});

// Writes <output>/discriminator and, when there is one, <output>/generator (config.json,
// model.safetensors, vocab.txt, tokenizer files, a README.md model card naming the source).
void save_conversion(const Conversion& conversion, const std::string& output, const ConvertOptions& options = {});

}  // namespace electra
