#include "electra/config/electra_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "electra/util/error.h"
#include "util/files.h"
#include "util/config_reader.h"

namespace electra {
namespace {

using json = nlohmann::json;

Error key_error(const std::string& source, const std::string& key, const std::string& problem) {
  return Error(source + ": key \"" + key + "\": " + problem);
}

std::int64_t get_int(const json& j, const std::string& key, const std::string& source) {
  const json& v = j.at(key);
  if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    throw key_error(source, key, "integer out of range, got " + v.dump());
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()) {
    // 2^63 itself does not fit: the largest double below it does.
    if (!(std::fabs(v.get<double>()) < 9.2233720368547758e18)) {
      throw key_error(source, key, "integer out of range, got " + v.dump());
    }
    return static_cast<std::int64_t>(v.get<double>());
  }
  throw key_error(source, key, "expected an integer, got " + v.dump());
}

double get_double(const json& j, const std::string& key, const std::string& source) {
  const json& v = j.at(key);
  if (!v.is_number()) throw key_error(source, key, "expected a number, got " + v.dump());
  return v.get<double>();
}

}  // namespace

Activation parse_activation(const std::string& name) {
  if (name == "gelu") return Activation::gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::gelu_new;
  if (name == "relu") return Activation::relu;
  if (name == "silu" || name == "swish") return Activation::silu;
  throw Error("unknown hidden_act \"" + name + "\" (expected gelu, gelu_new, relu or silu)");
}

std::string to_string(Activation act) {
  switch (act) {
    case Activation::gelu: return "gelu";
    case Activation::gelu_new: return "gelu_new";
    case Activation::relu: return "relu";
    case Activation::silu: return "silu";
  }
  return "gelu";
}

void ElectraConfig::validate(const std::string& source) const {
  auto positive = [&](const char* key, std::int64_t v) {
    if (v <= 0) throw key_error(source, key, "must be positive, got " + std::to_string(v));
  };
  positive("vocab_size", vocab_size);
  positive("embedding_size", embedding_size);
  positive("hidden_size", hidden_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("intermediate_size", intermediate_size);
  positive("max_position_embeddings", max_position_embeddings);
  positive("type_vocab_size", type_vocab_size);
  // Bounds far above any published model: a hostile or mistyped config.json is refused here,
  // not by an allocation that exhausts memory.
  auto at_most = [&](const char* key, std::int64_t v, std::int64_t limit) {
    if (v > limit) throw key_error(source, key, std::to_string(v) + " is more than the " + std::to_string(limit) + " allowed");
  };
  at_most("vocab_size", vocab_size, 4'000'000);
  at_most("embedding_size", embedding_size, 32'768);
  at_most("hidden_size", hidden_size, 32'768);
  at_most("num_hidden_layers", num_hidden_layers, 512);
  at_most("num_attention_heads", num_attention_heads, 1'024);
  at_most("intermediate_size", intermediate_size, 131'072);
  at_most("max_position_embeddings", max_position_embeddings, 1'048'576);
  at_most("type_vocab_size", type_vocab_size, 1'024);
  const double parameters = static_cast<double>(vocab_size + max_position_embeddings + type_vocab_size) * embedding_size +
                            static_cast<double>(num_hidden_layers) *
                                (4.0 * hidden_size * hidden_size + 2.0 * hidden_size * intermediate_size);
  if (parameters > 20e9) {
    throw key_error(source, "num_hidden_layers", "the sizes ask for about " + std::to_string(static_cast<int64_t>(parameters / 1e9)) +
                                                     " billion parameters; more than 20 billion is refused");
  }
  if (hidden_size % num_attention_heads != 0) {
    throw key_error(source, "hidden_size", "hidden_size " + std::to_string(hidden_size) +
                                               " is not divisible by num_attention_heads " +
                                               std::to_string(num_attention_heads));
  }
  auto probability = [&](const char* key, double p) {
    if (!(p >= 0.0 && p < 1.0)) throw key_error(source, key, "must be in [0, 1), got " + std::to_string(p));
  };
  probability("hidden_dropout_prob", hidden_dropout_prob);
  probability("attention_probs_dropout_prob", attention_probs_dropout_prob);
  if (!(initializer_range > 0.0)) throw key_error(source, "initializer_range", "must be positive");
  if (!(layer_norm_eps > 0.0)) throw key_error(source, "layer_norm_eps", "must be positive");
  if (pad_token_id < 0 || pad_token_id >= vocab_size) {
    throw key_error(source, "pad_token_id", "must be in [0, vocab_size), got " + std::to_string(pad_token_id));
  }
}

ElectraConfig ElectraConfig::from_json_string(const std::string& text, const std::string& source) {
  json j = parse_json_object(text, source);

  ElectraConfig c;
  json extra = json::object();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    if (key == "vocab_size") c.vocab_size = get_int(j, key, source);
    else if (key == "embedding_size") c.embedding_size = get_int(j, key, source);
    else if (key == "hidden_size") c.hidden_size = get_int(j, key, source);
    else if (key == "num_hidden_layers") c.num_hidden_layers = get_int(j, key, source);
    else if (key == "num_attention_heads") c.num_attention_heads = get_int(j, key, source);
    else if (key == "intermediate_size") c.intermediate_size = get_int(j, key, source);
    else if (key == "max_position_embeddings") c.max_position_embeddings = get_int(j, key, source);
    else if (key == "type_vocab_size") c.type_vocab_size = get_int(j, key, source);
    else if (key == "pad_token_id") c.pad_token_id = it->is_null() ? 0 : get_int(j, key, source);
    else if (key == "hidden_dropout_prob") c.hidden_dropout_prob = get_double(j, key, source);
    else if (key == "attention_probs_dropout_prob") c.attention_probs_dropout_prob = get_double(j, key, source);
    else if (key == "initializer_range") c.initializer_range = get_double(j, key, source);
    else if (key == "layer_norm_eps") c.layer_norm_eps = get_double(j, key, source);
    else if (key == "hidden_act") {
      if (!it->is_string()) throw key_error(source, key, "expected a string, got " + it->dump());
      try {
        c.hidden_act = parse_activation(it->get<std::string>());
      } catch (const Error& e) {
        throw key_error(source, key, e.what());
      }
    } else if (key == "architectures") {
      if (!it->is_array()) throw key_error(source, key, "expected a list of strings");
      for (const auto& a : *it) {
        if (!a.is_string()) throw key_error(source, key, "expected a list of strings");
        c.architectures.push_back(a.get<std::string>());
      }
    } else if (key == "model_type") {
      if (!it->is_string() || it->get<std::string>() != "electra") {
        throw key_error(source, key, "expected \"electra\", got " + it->dump());
      }
    } else {
      extra[key] = *it;
    }
  }
  c.extra_json = extra.dump();
  c.validate(source);
  return c;
}

ElectraConfig ElectraConfig::from_file(const std::string& path) {
  return from_json_string(read_text_file(path), path);
}

std::string ElectraConfig::to_json_string() const {
  json j = json::parse(extra_json);  // nlohmann's object keeps keys sorted
  j["vocab_size"] = vocab_size;
  j["embedding_size"] = embedding_size;
  j["hidden_size"] = hidden_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["intermediate_size"] = intermediate_size;
  j["hidden_act"] = to_string(hidden_act);
  j["hidden_dropout_prob"] = hidden_dropout_prob;
  j["attention_probs_dropout_prob"] = attention_probs_dropout_prob;
  j["max_position_embeddings"] = max_position_embeddings;
  j["type_vocab_size"] = type_vocab_size;
  j["initializer_range"] = initializer_range;
  j["layer_norm_eps"] = layer_norm_eps;
  j["pad_token_id"] = pad_token_id;
  j["model_type"] = "electra";
  j["architectures"] = architectures;
  return j.dump(2) + "\n";
}

void ElectraConfig::save(const std::string& path) const { write_file_atomic(path, to_json_string()); }

ElectraConfig ElectraConfig::small() {
  ElectraConfig c;
  c.embedding_size = 128;
  c.hidden_size = 256;
  c.num_hidden_layers = 12;
  c.num_attention_heads = 4;
  c.intermediate_size = 1024;
  return c;
}

ElectraConfig ElectraConfig::base() {
  ElectraConfig c;
  c.embedding_size = 768;
  c.hidden_size = 768;
  c.num_hidden_layers = 12;
  c.num_attention_heads = 12;
  c.intermediate_size = 3072;
  return c;
}

ElectraConfig ElectraConfig::large() {
  ElectraConfig c;
  c.embedding_size = 1024;
  c.hidden_size = 1024;
  c.num_hidden_layers = 24;
  c.num_attention_heads = 16;
  c.intermediate_size = 4096;
  return c;
}

ElectraConfig generator_config(const ElectraConfig& discriminator, double hidden_fraction) {
  if (!(hidden_fraction > 0.0 && hidden_fraction <= 1.0)) {
    throw Error("generator hidden fraction must be in (0, 1], got " + std::to_string(hidden_fraction));
  }
  ElectraConfig g = discriminator;
  g.hidden_size = static_cast<std::int64_t>(std::lround(discriminator.hidden_size * hidden_fraction));
  g.intermediate_size = 4 * g.hidden_size;
  g.num_attention_heads = std::max<std::int64_t>(1, g.hidden_size / 64);
  if (g.hidden_size % g.num_attention_heads != 0) g.num_attention_heads = 1;
  g.architectures = {"ElectraForMaskedLM"};
  g.validate("generator config");
  return g;
}

}  // namespace electra
