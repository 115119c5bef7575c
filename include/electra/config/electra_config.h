#pragma once
// The encoder's architecture, read from and written to Hugging Face config.json
// (reference doc section 5). Unknown keys are kept so a round trip loses nothing.
#include <cstdint>
#include <string>
#include <vector>

namespace electra {

enum class Activation { gelu, gelu_new, relu, silu };

Activation parse_activation(const std::string& name);  // throws electra::Error
std::string to_string(Activation act);

struct ElectraConfig {
  std::int64_t vocab_size = 30522;
  std::int64_t embedding_size = 128;
  std::int64_t hidden_size = 256;
  std::int64_t num_hidden_layers = 12;
  std::int64_t num_attention_heads = 4;
  std::int64_t intermediate_size = 1024;
  Activation hidden_act = Activation::gelu;
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  std::int64_t max_position_embeddings = 512;
  std::int64_t type_vocab_size = 2;
  double initializer_range = 0.02;
  double layer_norm_eps = 1e-12;
  std::int64_t pad_token_id = 0;
  std::vector<std::string> architectures;
  // Keys this struct does not model (id2label, summary_type, ...), as a JSON object text.
  std::string extra_json = "{}";

  std::int64_t head_dim() const { return hidden_size / num_attention_heads; }
  bool has_embeddings_project() const { return embedding_size != hidden_size; }

  // Throws electra::Error naming `source` and the offending key.
  void validate(const std::string& source = "config") const;

  static ElectraConfig from_json_string(const std::string& text, const std::string& source = "config");
  static ElectraConfig from_file(const std::string& path);
  std::string to_json_string() const;  // HF key names, pretty-printed, sorted keys
  void save(const std::string& path) const;  // atomic write

  // Named sizes of the paper (discriminators); the generator comes from generator_config().
  static ElectraConfig small();
  static ElectraConfig base();
  static ElectraConfig large();
};

// Generator derived from a discriminator config: width round(H*fraction), FFN 4*width,
// heads max(1, width/64), same depth and embedding size (reference doc section 1).
ElectraConfig generator_config(const ElectraConfig& discriminator, double hidden_fraction);

}  // namespace electra
