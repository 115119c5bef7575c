#include "electra/io/convert.h"

#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "electra/io/model_dir.h"
#include "electra/io/state_dict.h"
#include "electra/models/electra_model.h"
#include "electra/util/error.h"
#include "io/model_card.h"
#include "io/tf_checkpoint.h"
#include "io/torch_pickle.h"
#include "tokenization/tokenizer_json.h"
#include "util/files.h"
#include "util/json_reader.h"

namespace fs = std::filesystem;

namespace electra {
namespace {

using json = nlohmann::json;
using TensorMap = std::map<std::string, torch::Tensor>;

std::string join(const std::string& dir, const std::string& name) { return (fs::path(dir) / name).string(); }
bool exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}
bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

json read_json(const std::string& path) { return parse_json(read_text_file(path), path); }

// ---------------------------------------------------------------- where the checkpoint is

// A sentence-transformers folder keeps its encoder where modules.json's Transformer module says
// ("" today, "0_Transformer" in older releases).
std::string encoder_dir(const std::string& dir) {
  const std::string modules = join(dir, "modules.json");
  if (!exists(modules)) return dir;
  const json list = read_json(modules);
  if (!list.is_array()) throw file_error(modules, "expected a list of modules");
  for (const auto& m : list) {
    if (m.is_object() && m.value("type", "") == "sentence_transformers.models.Transformer") {
      const std::string path = m.value("path", "");
      if (path.find("..") != std::string::npos) throw file_error(modules, "module path \"" + path + "\" leaves the folder");
      return path.empty() ? dir : join(dir, path);
    }
  }
  throw file_error(modules, "names no sentence_transformers.models.Transformer module");
}

bool has_tf_index(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".index") return true;
  }
  return false;
}

// ---------------------------------------------------------------- reading tensors

TensorMap read_hf_weights(const std::string& dir) {
  TensorMap tensors;
  auto add_safetensors = [&](const std::string& path) {
    SafetensorsFile file(path);
    for (const auto& e : file.entries()) tensors[e.name] = file.load(e.name);
  };
  const std::string index = join(dir, "model.safetensors.index.json");
  if (exists(join(dir, "model.safetensors"))) {
    add_safetensors(join(dir, "model.safetensors"));
  } else if (exists(index)) {
    const json j = read_json(index);
    if (!j.contains("weight_map") || !j["weight_map"].is_object()) throw file_error(index, "missing \"weight_map\"");
    std::set<std::string> shards;
    for (const auto& [name, shard] : j["weight_map"].items()) {
      if (!shard.is_string() || shard.get<std::string>().find('/') != std::string::npos) {
        throw file_error(index, "weight_map[\"" + name + "\"] must be a file name in the same folder");
      }
      shards.insert(shard.get<std::string>());
    }
    for (const auto& shard : shards) add_safetensors(join(dir, shard));
  } else if (exists(join(dir, "pytorch_model.bin"))) {
    for (auto& [name, tensor] : read_torch_state_dict(join(dir, "pytorch_model.bin"))) tensors[name] = tensor;
  } else {
    throw file_error(dir, "holds no model.safetensors, model.safetensors.index.json or pytorch_model.bin");
  }
  return tensors;
}

// TensorFlow names in the dotted Hugging Face style: "layer_3" -> "layer.3", gamma/beta ->
// weight/bias, kernels transposed from TF's [in, out] to torch's [out, in].
std::pair<std::string, torch::Tensor> tf_to_dotted(const std::string& name, torch::Tensor value) {
  std::string out;
  std::string part;
  std::vector<std::string> parts;
  for (char c : name + "/") {
    if (c != '/') {
      part += c;
      continue;
    }
    parts.push_back(part);
    part.clear();
  }
  for (auto& p : parts) {
    if (starts_with(p, "layer_") && p.size() > 6 && p.find_first_not_of("0123456789", 6) == std::string::npos) {
      p = "layer." + p.substr(6);
    }
  }
  std::string& last = parts.back();
  if (last == "kernel" || last == "output_weights") {
    last = "weight";
    if (value.dim() == 2 && name.find("output_weights") == std::string::npos) value = value.t().contiguous();
  } else if (last == "gamma") {
    last = "weight";
  } else if (last == "beta") {
    last = "bias";
  } else if (ends_with(last, "_embeddings")) {
    parts.push_back("weight");
  }
  for (const auto& p : parts) out += (out.empty() ? "" : ".") + p;
  return {out, value};
}

// Optimizer slots and step counters: training state, not the model.
bool is_training_state(const std::string& name) {
  for (const char* suffix : {"/adam_m", "/adam_v", "/Adam", "/Adam_1", "/Momentum"}) {
    if (ends_with(name, suffix)) return true;
  }
  return name == "global_step" || name == "beta1_power" || name == "beta2_power" || name == "good_steps" ||
         name == "loss_scale" || starts_with(name, "current_loss_scale");
}

TensorMap read_tf_weights(const TfCheckpoint& checkpoint, std::vector<std::string>& dropped) {
  TensorMap tensors;
  std::vector<std::string> state;
  for (const auto& v : checkpoint.variables()) {
    if (is_training_state(v.name)) {
      state.push_back(v.name);
      continue;
    }
    auto [name, value] = tf_to_dotted(v.name, checkpoint.load(v.name));
    tensors[name] = value.to(torch::kFloat);
  }
  if (!state.empty()) {  // one line, not one per optimizer slot
    dropped.push_back(std::to_string(state.size()) + " training-state tensors (" + state.front() +
                      (state.size() > 1 ? ", " + state.back() + ", ..." : "") + "): optimizer slots and step counters");
  }
  return tensors;
}

// ---------------------------------------------------------------- configurations

const torch::Tensor& need(const TensorMap& t, const std::string& name, const std::string& source) {
  const auto it = t.find(name);
  if (it == t.end()) throw file_error(source, "has no tensor " + name + "; is this the checkpoint you meant?");
  return it->second;
}

// Sizes read off the tensors under `prefix` ("electra.", "generator."); the head count is not in
// any shape, so it comes from the options, a config file, or the 64-wide heads ELECTRA and BERT use.
ElectraConfig config_from_shapes(const TensorMap& t, const std::string& prefix, const std::string& embeddings,
                                 std::optional<int64_t> heads, const std::string& source) {
  ElectraConfig c;
  const auto& word = need(t, embeddings + "embeddings.word_embeddings.weight", source);
  c.vocab_size = word.size(0);
  c.embedding_size = word.size(1);
  c.max_position_embeddings = need(t, embeddings + "embeddings.position_embeddings.weight", source).size(0);
  c.type_vocab_size = need(t, embeddings + "embeddings.token_type_embeddings.weight", source).size(0);
  c.hidden_size = need(t, prefix + "encoder.layer.0.attention.self.query.weight", source).size(0);
  c.intermediate_size = need(t, prefix + "encoder.layer.0.intermediate.dense.weight", source).size(0);
  c.num_hidden_layers = 0;
  while (t.count(prefix + "encoder.layer." + std::to_string(c.num_hidden_layers) + ".attention.self.query.weight")) {
    ++c.num_hidden_layers;
  }
  c.num_attention_heads = heads.value_or(std::max<int64_t>(1, c.hidden_size / 64));
  c.hidden_act = Activation::gelu;
  c.validate(source);
  return c;
}

// A BERT config.json / bert_config.json as the discriminator's body: same keys, no embedding
// projection. Keys ELECTRA has no use for are left behind.
ElectraConfig config_from_bert_json(const std::string& path) {
  const json bert = read_json(path);
  if (!bert.is_object()) throw file_error(path, "expected a JSON object");
  if (bert.contains("model_type") && bert["model_type"] != "bert") {
    throw file_error(path, "model_type is " + bert["model_type"].dump() +
                               "; electra-convert reads BERT-architecture checkpoints (model_type \"bert\")");
  }
  if (bert.contains("position_embedding_type") && bert["position_embedding_type"] != "absolute") {
    throw file_error(path, "position_embedding_type " + bert["position_embedding_type"].dump() +
                               " is not ELECTRA's (absolute position embeddings)");
  }
  json e = json::object();
  for (const char* key : {"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                          "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob", "max_position_embeddings",
                          "type_vocab_size", "initializer_range", "layer_norm_eps", "pad_token_id"}) {
    if (bert.contains(key)) e[key] = bert[key];
  }
  if (!e.contains("hidden_size")) throw file_error(path, "missing \"hidden_size\"");
  e["embedding_size"] = e["hidden_size"];
  return ElectraConfig::from_json_string(e.dump(), path);
}

// ---------------------------------------------------------------- filling the modules

// Copies `source[name]` into every tensor of `module`; afterwards `source` holds what was not used.
ConvertedModel fill(torch::nn::Module& module, ElectraConfig config, TensorMap& source, const std::string& origin) {
  ConvertedModel out;
  out.config = std::move(config);
  torch::NoGradGuard no_grad;
  for (auto& [name, dst] : named_tensors(module)) {
    const auto it = source.find(name);
    if (it == source.end()) throw file_error(origin, "has no tensor for " + name);
    if (it->second.sizes() != dst.sizes()) {
      throw file_error(origin, name + " has shape " + c10::str(it->second.sizes()) + ", the config implies " +
                                   c10::str(dst.sizes()) + " (pass the head count or a config if it is not 64-wide)");
    }
    if (!torch::isfinite(it->second).all().item<bool>()) throw file_error(origin, name + " holds NaN or infinite values");
    out.tensors.emplace_back(name, it->second.to(torch::kFloat).contiguous());
  }
  for (const auto& [name, _] : out.tensors) source.erase(name);
  return out;
}

void reject_leftovers(const TensorMap& left, const std::string& origin) {
  if (left.empty()) return;
  std::string names;
  int shown = 0;
  for (const auto& [name, _] : left) {
    if (shown++ < 5) names += (names.empty() ? "" : ", ") + name;
  }
  throw file_error(origin, std::to_string(left.size()) + " tensor(s) this converter does not know: " + names +
                               (left.size() > 5 ? ", ..." : ""));
}

// The body and, from an MLM head, a generator. `t` holds BERT's names without the "bert." prefix.
Conversion convert_bert(TensorMap t, ElectraConfig config, const std::string& origin, Conversion conv) {
  TensorMap body, head;
  for (auto& [name, value] : t) {
    if (name == "embeddings.position_ids") {
      conv.dropped.push_back(name + ": a buffer that transformers recomputes");
    } else if (starts_with(name, "embeddings.") || starts_with(name, "encoder.")) {
      body["electra." + name] = value;
    } else if (starts_with(name, "pooler.")) {
      conv.dropped.push_back(name + ": ELECTRA has no pooler (its task heads start from the [CLS] vector)");
    } else if (starts_with(name, "cls.seq_relationship.")) {
      conv.dropped.push_back(name + ": the next-sentence head has no ELECTRA counterpart");
    } else if (starts_with(name, "cls.predictions.transform.")) {
      head["generator_predictions." + name.substr(26)] = value;
    } else if (name == "cls.predictions.bias" || name == "cls.predictions.decoder.bias") {
      head["generator_lm_head.bias"] = value;
    } else if (name == "cls.predictions.decoder.weight") {
      head["decoder.weight"] = value;
    } else {
      body[name] = value;  // reported as unknown below
    }
  }
  config.architectures = {"ElectraModel"};
  ElectraModel model(config);
  {
    TensorMap named;
    for (auto& [name, value] : body) named[starts_with(name, "electra.") ? name.substr(8) : name] = value;
    conv.discriminator = fill(*model, config, named, origin);
    reject_leftovers(named, origin);
  }
  if (head.empty()) return conv;

  // BERT's MLM head is an ELECTRA generator head on the same body when its output layer is the
  // word embeddings (tied) and its transform uses GELU, as ELECTRA's always does.
  const auto& words = body.at("electra.embeddings.word_embeddings.weight");
  const auto decoder = head.find("decoder.weight");
  const bool has_decoder = decoder != head.end();
  const bool tied = !has_decoder || torch::equal(decoder->second, words);
  if (!tied || config.hidden_act != Activation::gelu) {
    for (const auto& [name, _] : head) {
      conv.dropped.push_back("cls.predictions." + name + ": the MLM head is " +
                             (tied ? "not GELU" : "not tied to the word embeddings") + ", unlike ELECTRA's generator");
    }
    return conv;
  }
  head.erase("decoder.weight");
  for (auto& [name, value] : body) head[name] = value;
  auto gen_config = config;
  gen_config.architectures = {"ElectraForMaskedLM"};
  ElectraForMaskedLM generator(gen_config);
  conv.generator = fill(*generator, gen_config, head, origin);
  reject_leftovers(head, origin);
  if (has_decoder) conv.dropped.push_back("cls.predictions.decoder.weight: tied to the word embeddings");
  return conv;
}

Conversion convert_tf_electra(TensorMap t, const ConvertOptions& options, const std::string& origin, Conversion conv) {
  TensorMap disc, gen;
  const bool own_gen_embeddings = t.count("generator.embeddings.word_embeddings.weight") > 0;
  for (auto& [name, value] : t) {
    if (starts_with(name, "electra.")) {
      disc[name] = value;
      if (starts_with(name, "electra.embeddings.") && !own_gen_embeddings) gen[name] = value;  // shared
    } else if (const std::string top = "discriminator_predictions.dense_1."; starts_with(name, top)) {
      disc["discriminator_predictions.dense_prediction." + name.substr(top.size())] = value;  // TF's second dense
    } else if (starts_with(name, "discriminator_predictions.")) {
      disc[name] = value;
    } else if (starts_with(name, "generator.")) {
      gen["electra." + name.substr(10)] = value;
    } else if (name == "generator_predictions.output_bias") {
      gen["generator_lm_head.bias"] = value;
    } else if (starts_with(name, "generator_predictions.")) {
      gen[name] = value;
    } else {
      disc[name] = value;  // reported as unknown below
    }
  }
  auto config = config_from_shapes(disc, "electra.", "electra.", options.num_attention_heads, origin);
  config.architectures = {"ElectraForPreTraining"};
  ElectraForPreTraining discriminator(config);
  conv.discriminator = fill(*discriminator, config, disc, origin);
  reject_leftovers(disc, origin);
  if (gen.empty()) return conv;
  auto gen_config = config_from_shapes(gen, "electra.", "electra.", options.generator_num_attention_heads, origin);
  gen_config.architectures = {"ElectraForMaskedLM"};
  ElectraForMaskedLM generator(gen_config);
  conv.generator = fill(*generator, gen_config, gen, origin);
  reject_leftovers(gen, origin);
  return conv;
}

std::string strip_bert_prefix(const std::string& name) { return starts_with(name, "bert.") ? name.substr(5) : name; }

// tokenizer_config.json's do_lower_case, else tokenizer.json's normalizer, else true.
bool lowercase_of(const std::string& dir) {
  const std::string path = join(dir, "tokenizer_config.json");
  if (exists(path)) {
    const json j = read_json(path);
    if (j.is_object() && j.contains("do_lower_case") && j["do_lower_case"].is_boolean()) return j["do_lower_case"].get<bool>();
  }
  const std::string tokenizer = join(dir, "tokenizer.json");
  return exists(tokenizer) ? read_tokenizer_json(tokenizer).options.lowercase : true;
}

// The licence and language the source's own model card states: what is converted keeps them.
// The card is informative only, so one that cannot be read is passed over.
void read_source_card(const std::string& dir, Conversion& conv) {
  const std::string readme = join(dir, "README.md");
  if (!exists(readme)) return;
  try {
    const auto meta = card_metadata(read_text_file(readme, 16ull << 20));
    if (const auto it = meta.find("license"); it != meta.end()) conv.license = it->second;
    if (const auto it = meta.find("language"); it != meta.end()) conv.language = it->second;
  } catch (const Error&) {
  }
}

}  // namespace

std::string to_string(CheckpointFormat format) {
  switch (format) {
    case CheckpointFormat::hf_bert: return "Hugging Face BERT";
    case CheckpointFormat::tf_bert: return "TensorFlow BERT";
    case CheckpointFormat::tf_electra: return "TensorFlow ELECTRA";
  }
  return "?";
}

CheckpointFormat detect_checkpoint_format(const std::string& source) {
  std::error_code ec;
  if (fs::is_directory(source, ec)) {
    const std::string config = join(encoder_dir(source), "config.json");
    if (exists(config)) {
      const json j = read_json(config);
      const std::string type = j.is_object() ? j.value("model_type", "") : "";
      if (type == "electra") {
        throw file_error(config, "already describes an ELECTRA model: use the folder as it is (no conversion needed)");
      }
      if (type != "bert") {
        throw file_error(config, "model_type \"" + type + "\": electra-convert reads BERT-architecture folders "
                                 "(model_type \"bert\") and TensorFlow checkpoints");
      }
      return CheckpointFormat::hf_bert;
    }
    if (!has_tf_index(source)) {
      throw file_error(source, "holds neither a config.json (Hugging Face) nor a TensorFlow checkpoint (*.index)");
    }
  } else if (!exists(source) && !exists(source + ".index")) {
    throw file_error(source, "does not exist");
  }
  const TfCheckpoint checkpoint(source);
  for (const auto& v : checkpoint.variables()) {
    if (starts_with(v.name, "bert/")) return CheckpointFormat::tf_bert;
    if (starts_with(v.name, "electra/")) return CheckpointFormat::tf_electra;
  }
  throw file_error(checkpoint.prefix() + ".index",
                   "has neither bert/... nor electra/... variables: not a BERT or ELECTRA checkpoint");
}

Conversion convert_checkpoint(const std::string& source, const ConvertOptions& options) {
  Conversion conv;
  conv.format = detect_checkpoint_format(source);
  std::string tokenizer_dir;
  if (conv.format == CheckpointFormat::hf_bert) {
    const std::string dir = encoder_dir(source);
    const auto config = config_from_bert_json(join(dir, "config.json"));
    TensorMap t;
    for (auto& [name, value] : read_hf_weights(dir)) t[strip_bert_prefix(name)] = value;
    // Old checkpoints name LayerNorm parameters gamma and beta.
    TensorMap renamed;
    for (auto& [name, value] : t) {
      std::string n = name;
      if (ends_with(n, "LayerNorm.gamma")) n = n.substr(0, n.size() - 5) + "weight";
      if (ends_with(n, "LayerNorm.beta")) n = n.substr(0, n.size() - 4) + "bias";
      renamed[n] = value.to(torch::kFloat);
    }
    conv = convert_bert(std::move(renamed), config, dir, std::move(conv));
    tokenizer_dir = exists(join(dir, "vocab.txt")) ? dir : source;
  } else {
    const TfCheckpoint checkpoint(source);
    const std::string origin = checkpoint.prefix() + ".index";
    tokenizer_dir = fs::path(checkpoint.prefix()).parent_path().string();
    auto t = read_tf_weights(checkpoint, conv.dropped);
    if (conv.format == CheckpointFormat::tf_electra) {
      conv = convert_tf_electra(std::move(t), options, origin, std::move(conv));
    } else {
      const std::string bert_config = join(tokenizer_dir, "bert_config.json");
      TensorMap named;
      for (auto& [name, value] : t) named[strip_bert_prefix(name)] = value;
      if (named.count("cls.predictions.output_bias")) {
        named["cls.predictions.bias"] = named["cls.predictions.output_bias"];
        named.erase("cls.predictions.output_bias");
      }
      auto config = exists(bert_config) ? config_from_bert_json(bert_config)
                                        : config_from_shapes(named, "", "", options.num_attention_heads, origin);
      if (options.num_attention_heads) config.num_attention_heads = *options.num_attention_heads;
      config.embedding_size = config.hidden_size;
      config.validate(origin);
      conv = convert_bert(std::move(named), config, origin, std::move(conv));
    }
  }
  conv.vocab_file = !options.vocab.empty()                          ? options.vocab
                    : exists(join(tokenizer_dir, "vocab.txt"))      ? join(tokenizer_dir, "vocab.txt")
                    : exists(join(tokenizer_dir, "tokenizer.json")) ? join(tokenizer_dir, "tokenizer.json")
                                                                    : "";
  conv.lowercase = options.lowercase.value_or(lowercase_of(tokenizer_dir));
  conv.source = source;
  std::error_code ec;
  read_source_card(fs::is_directory(source, ec) ? source : tokenizer_dir, conv);
  return conv;
}

namespace {

// A converted folder's card: where the weights came from and what of them was left out.
ModelCard conversion_card(const Conversion& conv, const ConvertedModel& model) {
  ModelCard card;
  card.origin = ModelOrigin::converted;
  card.architecture = model.config.architectures.empty() ? "" : model.config.architectures.front();
  card.base_model = conv.source;
  card.source_format = to_string(conv.format);
  card.license = conv.license;
  card.language = conv.language;
  card.tags = {"converted"};
  constexpr std::size_t kShown = 20;  // a TensorFlow checkpoint drops hundreds of optimizer slots
  for (std::size_t i = 0; i < conv.dropped.size() && i < kShown; ++i) {
    const std::string& d = conv.dropped[i];  // "name: why"
    const auto colon = d.find(": ");
    card.notes.push_back(colon == std::string::npos ? "Dropped " + d
                                                    : "Dropped `" + d.substr(0, colon) + "`: " + d.substr(colon + 2));
  }
  if (conv.dropped.size() > kShown) {
    card.notes.push_back("... and " + std::to_string(conv.dropped.size() - kShown) + " more dropped tensors");
  }
  if (conv.vocab_file.empty()) card.notes.push_back("The source had no vocabulary: this folder has no tokenizer files.");
  return card;
}

}  // namespace

void save_conversion(const Conversion& conv, const std::string& output, const ConvertOptions& options) {
  std::optional<Vocab> vocab;
  if (!conv.vocab_file.empty()) {
    vocab = read_vocab_file(conv.vocab_file);
    if (vocab->size() > conv.discriminator.config.vocab_size) {
      throw file_error(conv.vocab_file, "has " + std::to_string(vocab->size()) + " tokens but the checkpoint's "
                                            "embeddings have " + std::to_string(conv.discriminator.config.vocab_size) +
                                            " rows: this vocabulary does not belong to this model");
    }
  }
  SaveOptions save;
  save.dtype = options.dtype;
  save.lowercase = conv.lowercase;
  save.model_max_length = static_cast<std::size_t>(conv.discriminator.config.max_position_embeddings);
  const Vocab* v = vocab ? &*vocab : nullptr;
  save.model_card = render_model_card(conversion_card(conv, conv.discriminator));
  save_model_dir(join(output, "discriminator"), conv.discriminator.tensors, conv.discriminator.config, v, save);
  if (conv.generator) {
    save.model_card = render_model_card(conversion_card(conv, *conv.generator));
    save_model_dir(join(output, "generator"), conv.generator->tensors, conv.generator->config, v, save);
  }
}

}  // namespace electra
