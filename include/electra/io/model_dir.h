#pragma once
// Hugging Face model directories: config.json, model.safetensors, vocab.txt, tokenizer.json,
// tokenizer_config.json, special_tokens_map.json, README.md (the model card).
#include <optional>
#include <string>
#include <vector>

#include "electra/config/electra_config.h"
#include "electra/models/head_kind.h"
#include "electra/io/safetensors.h"
#include "electra/io/state_dict.h"
#include "electra/models/electra_model.h"
#include "electra/tokenization/wordpiece.h"

namespace electra {

enum class ModelKind { discriminator, generator, unknown };

// From config.json's "architectures" (ElectraForPreTraining / ElectraForMaskedLM).
ModelKind model_kind(const ElectraConfig& config);

ElectraConfig load_config(const std::string& dir);  // <dir>/config.json

// The head of a fine-tuned directory as config.json describes it: the architecture,
// transformers' id2label and problem_type, and the markers only this library writes.
struct TaskHead {
  HeadKind kind = HeadKind::sequence_classification;
  ClassifierHead classifier_head = ClassifierHead::transformers;  // "classifier_head"
  bool answerable_classifier = false;                             // "answerable_classifier"
  std::vector<std::string> labels;  // id2label in id order; empty when absent or not ids 0..N-1
  bool regression = false;          // problem_type "regression"
};

// A model directory's config.json, read once: the encoder, and what kind of model it holds.
struct ModelDirectory {
  std::string path;
  ElectraConfig config;
  ModelKind kind = ModelKind::unknown;  // a pre-trained discriminator or generator
  std::optional<TaskHead> task_head;    // a fine-tuned task model
};
ModelDirectory read_model_dir(const std::string& dir);

// `config` describing `head`: architectures, id2label/label2id (labels, or LABEL_i for
// num_labels entries), problem_type and the library's markers; earlier values are replaced.
// question answering has no labels; num_labels counts the others' classes or tags.
ElectraConfig with_task_head(ElectraConfig config, const TaskHead& head, int64_t num_labels);
// Opens <dir>/model.safetensors; a directory with only pytorch_model.bin gets an error
// that says how to convert it (LibTorch cannot read torch.save'd state dicts).
std::unique_ptr<SafetensorsFile> open_weights(const std::string& dir);
void load_weights(torch::nn::Module& model, const std::string& dir, const LoadOptions& options = {});

ElectraForPreTraining load_discriminator(const std::string& dir);
ElectraForMaskedLM load_generator(const std::string& dir);

// vocab.txt and/or tokenizer.json (a BERT-style WordPiece one; when both exist they must agree),
// lowercasing from tokenizer_config.json's do_lower_case, else tokenizer.json's normalizer, else
// true. Refuses a vocabulary with more entries than config.vocab_size (its ids would not fit).
WordPieceTokenizer load_tokenizer(const std::string& dir, const ElectraConfig& config);

struct SaveOptions {
  torch::ScalarType dtype = torch::kFloat;  // storage dtype of floating tensors
  bool lowercase = true;                    // written to tokenizer_config.json
  std::size_t model_max_length = 512;
  std::string model_card;                   // README.md (Hugging Face model card) when not empty
};

// Writes a directory `transformers` loads without missing/unexpected-key warnings. Each file
// is written atomically; the directory is created when needed. `vocab` may be null; when given,
// vocab.txt, tokenizer.json (BERT's fast tokenizer) and the tokenizer configuration are written.
void save_model_dir(const std::string& dir, const NamedTensors& tensors, const ElectraConfig& config,
                    const Vocab* vocab, const SaveOptions& options = {});
void save_model_dir(const std::string& dir, const torch::nn::Module& model, const ElectraConfig& config,
                    const Vocab* vocab, const SaveOptions& options = {});

}  // namespace electra
