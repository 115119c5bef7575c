#include "electra/io/model_dir.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "electra/util/error.h"
#include "tokenization/tokenizer_json.h"
#include "util/files.h"
#include "util/json_reader.h"

namespace fs = std::filesystem;

namespace electra {
namespace {

using json = nlohmann::json;

std::string join(const std::string& dir, const std::string& name) { return (fs::path(dir) / name).string(); }

void require_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw file_error(dir, "model directory does not exist");
  if (!fs::is_directory(dir, ec)) throw file_error(dir, "expected a model directory, found a file");
}

}  // namespace

ModelKind model_kind(const ElectraConfig& config) {
  for (const auto& a : config.architectures) {
    if (a == "ElectraForPreTraining") return ModelKind::discriminator;
    if (a == "ElectraForMaskedLM") return ModelKind::generator;
  }
  return ModelKind::unknown;
}

ElectraConfig load_config(const std::string& dir) {
  require_dir(dir);
  return ElectraConfig::from_file(join(dir, "config.json"));
}

namespace {

std::optional<HeadKind> head_kind(const ElectraConfig& config) {
  for (const auto& a : config.architectures) {
    for (auto kind : {HeadKind::sequence_classification, HeadKind::question_answering, HeadKind::token_classification}) {
      if (a == to_string(kind)) return kind;
    }
  }
  return std::nullopt;
}

std::vector<std::string> id2label(const json& extra) {
  const auto it = extra.find("id2label");
  if (it == extra.end() || !it->is_object()) return {};
  std::vector<std::string> labels(it->size());
  for (auto entry = it->begin(); entry != it->end(); ++entry) {
    const auto& key = entry.key();
    if (key.empty() || key.size() > 9 || key.find_first_not_of("0123456789") != std::string::npos) return {};
    const size_t id = std::stoul(key);
    if (id >= labels.size() || !entry.value().is_string()) return {};
    labels[id] = entry.value().get<std::string>();
  }
  return labels;
}

}  // namespace

ModelDirectory read_model_dir(const std::string& dir) {
  ModelDirectory m;
  m.path = dir;
  m.config = load_config(dir);
  m.kind = model_kind(m.config);
  const auto head = head_kind(m.config);
  if (m.kind != ModelKind::unknown || !head) return m;
  const auto extra = json::parse(m.config.extra_json);
  TaskHead t;
  t.kind = *head;
  if (const auto it = extra.find("classifier_head"); it != extra.end()) {
    if (!it->is_string()) throw file_error(join(dir, "config.json"), "\"classifier_head\" must be a string");
    try {
      t.classifier_head = parse_classifier_head(it->get<std::string>());
    } catch (const Error& e) {
      throw file_error(join(dir, "config.json"), e.what());
    }
  }
  const auto answerable = extra.find("answerable_classifier");
  t.answerable_classifier = answerable != extra.end() && answerable->is_boolean() && answerable->get<bool>();
  t.labels = id2label(extra);
  const auto problem = extra.find("problem_type");
  t.regression = problem != extra.end() && *problem == "regression";
  m.task_head = t;
  return m;
}

ElectraConfig with_task_head(ElectraConfig config, const TaskHead& head, int64_t num_labels) {
  config.architectures = {to_string(head.kind)};
  auto extra = json::parse(config.extra_json);
  for (const char* key : {"id2label", "label2id", "num_labels", "problem_type", "summary_type", "summary_use_proj",
                          "summary_activation", "summary_last_dropout", "classifier_head", "answerable_classifier"}) {
    extra.erase(key);
  }
  if (head.kind != HeadKind::question_answering) {
    json ids = json::object(), names = json::object();
    for (int64_t i = 0; i < num_labels; ++i) {
      const auto n = static_cast<size_t>(i);
      const std::string name = n < head.labels.size() ? head.labels[n] : "LABEL_" + std::to_string(i);
      ids[std::to_string(i)] = name;
      names[name] = i;
    }
    extra["id2label"] = ids;
    extra["label2id"] = names;
  }
  if (head.kind == HeadKind::sequence_classification) {
    extra["problem_type"] = head.regression ? "regression" : "single_label_classification";
    if (head.classifier_head != ClassifierHead::transformers) extra["classifier_head"] = to_string(head.classifier_head);
  }
  if (head.kind == HeadKind::question_answering && head.answerable_classifier) extra["answerable_classifier"] = true;
  config.extra_json = extra.dump();
  return config;
}

std::unique_ptr<SafetensorsFile> open_weights(const std::string& dir) {
  require_dir(dir);
  const std::string st = join(dir, "model.safetensors");
  std::error_code ec;
  if (!fs::exists(st, ec) && fs::exists(join(dir, "pytorch_model.bin"), ec)) {
    throw file_error(join(dir, "pytorch_model.bin"),
                     "legacy PyTorch pickle checkpoints cannot be read from C++; convert it once with "
                     "scripts/convert_bin_to_safetensors.py (needs python3-torch) and retry");
  }
  return std::make_unique<SafetensorsFile>(st);
}

void load_weights(torch::nn::Module& model, const std::string& dir, const LoadOptions& options) {
  auto file = open_weights(dir);
  load_state_dict(model, *file, options);
}

ElectraForPreTraining load_discriminator(const std::string& dir) {
  const auto config = load_config(dir);
  ElectraForPreTraining model(config);
  load_weights(*model, dir);
  model->eval();
  return model;
}

ElectraForMaskedLM load_generator(const std::string& dir) {
  const auto config = load_config(dir);
  ElectraForMaskedLM model(config);
  load_weights(*model, dir);
  model->eval();
  return model;
}

WordPieceTokenizer load_tokenizer(const std::string& dir, const ElectraConfig& config) {
  require_dir(dir);
  auto tokenizer = read_tokenizer_dir(dir);
  if (tokenizer.vocab().size() > config.vocab_size) {
    std::error_code ec;
    const std::string vocab_path = join(dir, fs::exists(join(dir, "vocab.txt"), ec) ? "vocab.txt" : "tokenizer.json");
    throw file_error(vocab_path, "has " + std::to_string(tokenizer.vocab().size()) +
                                     " tokens but config.json says vocab_size " + std::to_string(config.vocab_size) +
                                     ": this vocabulary does not belong to this model");
  }
  return tokenizer;
}

void save_model_dir(const std::string& dir, const NamedTensors& tensors, const ElectraConfig& config,
                    const Vocab* vocab, const SaveOptions& options) {
  // Rendered first: a vocabulary it refuses (no [CLS], say) leaves no half-written folder.
  std::string tokenizer_json;
  if (vocab) {
    WordPieceOptions tokenizer;
    tokenizer.lowercase = options.lowercase;
    tokenizer_json = tokenizer_json_text(*vocab, tokenizer, join(dir, "tokenizer.json"));
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw file_error(dir, "cannot create directory: " + ec.message());
  config.save(join(dir, "config.json"));
  save_safetensors(join(dir, "model.safetensors"), tensors, {}, options.dtype);
  if (vocab) {
    vocab->save(join(dir, "vocab.txt"));
    json tok = {{"do_lower_case", options.lowercase},
                {"model_max_length", options.model_max_length},
                {"tokenizer_class", "ElectraTokenizer"},
                {"strip_accents", nullptr},
                {"tokenize_chinese_chars", true},
                {"unk_token", "[UNK]"},
                {"sep_token", "[SEP]"},
                {"pad_token", "[PAD]"},
                {"cls_token", "[CLS]"},
                {"mask_token", "[MASK]"}};
    write_file_atomic(join(dir, "tokenizer_config.json"), tok.dump(2) + "\n");
    json special = {{"unk_token", "[UNK]"},
                    {"sep_token", "[SEP]"},
                    {"pad_token", "[PAD]"},
                    {"cls_token", "[CLS]"},
                    {"mask_token", "[MASK]"}};
    write_file_atomic(join(dir, "special_tokens_map.json"), special.dump(2) + "\n");
    write_file_atomic(join(dir, "tokenizer.json"), tokenizer_json);
  }
  if (!options.model_card.empty()) write_file_atomic(join(dir, "README.md"), options.model_card);
}

void save_model_dir(const std::string& dir, const torch::nn::Module& model, const ElectraConfig& config,
                    const Vocab* vocab, const SaveOptions& options) {
  save_model_dir(dir, named_tensors(model), config, vocab, options);
}

}  // namespace electra
