#include "electra/train/pretrain_config.h"

#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "electra/util/error.h"
#include "electra/util/files.h"
#include "util/config_reader.h"

namespace electra {
namespace {


ElectraConfig size_preset(const std::string& name) {
  if (name == "tiny") {
    ElectraConfig c;
    c.embedding_size = 128;
    c.hidden_size = 128;
    c.num_hidden_layers = 4;
    c.num_attention_heads = 2;
    c.intermediate_size = 512;
    c.max_position_embeddings = 128;
    return c;
  }
  if (name == "small") return ElectraConfig::small();
  if (name == "base") return ElectraConfig::base();
  if (name == "large") return ElectraConfig::large();
  throw Error("unknown model size \"" + name + "\" (expected tiny, small, base or large)");
}

}  // namespace

ElectraConfig PretrainConfig::generator_config() const {
  if (objective == Objective::mlm) return model.discriminator;  // the baseline trains a full-size MLM
  ElectraConfig g = electra::generator_config(model.discriminator, model.generator_hidden_fraction);
  if (model.generator_hidden_size > 0) {
    g.hidden_size = model.generator_hidden_size;
    g.intermediate_size = 4 * g.hidden_size;
    g.num_attention_heads = std::max<int64_t>(1, g.hidden_size / 64);
  }
  if (model.generator_num_attention_heads > 0) g.num_attention_heads = model.generator_num_attention_heads;
  if (model.generator_intermediate_size > 0) g.intermediate_size = model.generator_intermediate_size;
  if (model.generator_num_hidden_layers > 0) g.num_hidden_layers = model.generator_num_hidden_layers;
  g.validate("generator (model.generator_*)");
  return g;
}

void PretrainConfig::validate() const {
  model.discriminator.validate("model");
  generator_config();
  auto positive = [](const char* key, double v) {
    if (!(v > 0)) throw Error(std::string("config key \"") + key + "\" must be positive");
  };
  positive("train.steps", static_cast<double>(train.steps));
  positive("train.batch_size", static_cast<double>(train.batch_size));
  positive("train.grad_accum_steps", static_cast<double>(train.grad_accum_steps));
  positive("train.log_every", static_cast<double>(train.log_every));
  positive("train.save_every", static_cast<double>(train.save_every));
  positive("train.eval_every", static_cast<double>(train.eval_every));
  positive("optimizer.learning_rate", optimizer.learning_rate);
  positive("optimizer.eps", optimizer.eps);
  positive("objective.temperature", objective_options.temperature);
  if (train.batch_size % train.grad_accum_steps != 0) {
    throw Error("config key \"train.batch_size\" must be a multiple of train.grad_accum_steps");
  }
  const auto& m = objective_options.masking;
  if (!(m.mask_prob > 0 && m.mask_prob < 1)) throw Error("config key \"objective.mask_prob\" must be in (0, 1)");
  if (m.keep_original_prob < 0 || m.random_token_prob < 0 || m.keep_original_prob + m.random_token_prob > 1) {
    throw Error("config keys \"objective.keep_original_prob\" + \"objective.random_token_prob\" must be in [0, 1]");
  }
  if (train.keep_checkpoints < 1) throw Error("config key \"train.keep_checkpoints\" must be at least 1");
  if (train.init_discriminator.empty() != train.init_generator.empty() && objective == Objective::electra) {
    throw Error("continuing pre-training needs both train.init_discriminator and train.init_generator");
  }
}

PretrainConfig PretrainConfig::from_json_string(const std::string& text, const std::string& source,
                                                const std::vector<std::string>& overrides) {
  json root = parse_config_root(text, source, overrides, {"model", "objective", "optimizer", "train"});

  PretrainConfig c;
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it.key() != "model" && it.key() != "objective" && it.key() != "optimizer" && it.key() != "train" &&
        it.key() != "comment") {
      throw Error(source + ": unknown section \"" + it.key() + "\" (expected model, objective, optimizer, train)");
    }
  }
  const json empty = json::object();
  {
    SectionReader r(root.contains("model") ? root["model"] : empty, source, "model");
    std::string size = "small";
    r.read("size", size);
    try {
      c.model.discriminator = size_preset(size);
    } catch (const Error& e) {
      throw r.fail("size", e.what());
    }
    auto& d = c.model.discriminator;
    r.read("embedding_size", d.embedding_size);
    r.read("hidden_size", d.hidden_size);
    r.read("num_hidden_layers", d.num_hidden_layers);
    r.read("num_attention_heads", d.num_attention_heads);
    r.read("intermediate_size", d.intermediate_size);
    r.read("max_position_embeddings", d.max_position_embeddings);
    r.read("hidden_dropout_prob", d.hidden_dropout_prob);
    r.read("attention_probs_dropout_prob", d.attention_probs_dropout_prob);
    r.read_enum<Activation>("hidden_act", d.hidden_act, parse_activation);
    r.read("generator_hidden_fraction", c.model.generator_hidden_fraction);
    r.read("generator_hidden_size", c.model.generator_hidden_size);
    r.read("generator_num_attention_heads", c.model.generator_num_attention_heads);
    r.read("generator_intermediate_size", c.model.generator_intermediate_size);
    r.read("generator_num_hidden_layers", c.model.generator_num_hidden_layers);
    r.reject_unknown();
  }
  {
    SectionReader r(root.contains("objective") ? root["objective"] : empty, source, "objective");
    r.read_enum<Objective>("type", c.objective, parse_objective);
    auto& o = c.objective_options;
    r.read("mask_prob", o.masking.mask_prob);
    r.read("keep_original_prob", o.masking.keep_original_prob);
    r.read("random_token_prob", o.masking.random_token_prob);
    r.read("mlm_weight", o.mlm_weight);
    r.read("disc_weight", o.disc_weight);
    r.read("temperature", o.temperature);
    r.reject_unknown();
  }
  {
    SectionReader r(root.contains("optimizer") ? root["optimizer"] : empty, source, "optimizer");
    auto& o = c.optimizer;
    r.read("learning_rate", o.learning_rate);
    r.read("weight_decay", o.weight_decay);
    r.read("beta1", o.beta1);
    r.read("beta2", o.beta2);
    r.read("eps", o.eps);
    r.read("warmup_steps", o.warmup_steps);
    r.read("max_grad_norm", o.max_grad_norm);
    r.reject_unknown();
  }
  {
    SectionReader r(root.contains("train") ? root["train"] : empty, source, "train");
    auto& t = c.train;
    r.read("data", t.data);
    r.read("output", t.output);
    r.read("steps", t.steps);
    r.read("batch_size", t.batch_size);
    r.read("grad_accum_steps", t.grad_accum_steps);
    r.read("seed", t.seed);
    r.read_enum<Precision>("precision", t.precision, parse_precision);
    r.read("threads", t.threads);
    r.read("device", t.device);
    r.read("max_minutes", t.max_minutes);
    r.read("log_every", t.log_every);
    r.read("eval_every", t.eval_every);
    r.read("eval_batches", t.eval_batches);
    r.read("save_every", t.save_every);
    r.read("keep_checkpoints", t.keep_checkpoints);
    r.read("init_discriminator", t.init_discriminator);
    r.read("init_generator", t.init_generator);
    r.reject_unknown();
  }
  validate_config(c, source);
  return c;
}

PretrainConfig PretrainConfig::load(const std::string& path, const std::vector<std::string>& overrides) {
  return from_json_string(read_text_file(path), path, overrides);
}

std::string PretrainConfig::to_json_string() const {
  const auto& d = model.discriminator;
  json j;
  j["model"] = {{"embedding_size", d.embedding_size},
                {"hidden_size", d.hidden_size},
                {"num_hidden_layers", d.num_hidden_layers},
                {"num_attention_heads", d.num_attention_heads},
                {"intermediate_size", d.intermediate_size},
                {"max_position_embeddings", d.max_position_embeddings},
                {"hidden_dropout_prob", d.hidden_dropout_prob},
                {"attention_probs_dropout_prob", d.attention_probs_dropout_prob},
                {"hidden_act", to_string(d.hidden_act)},
                {"generator_hidden_fraction", model.generator_hidden_fraction},
                {"generator_hidden_size", model.generator_hidden_size},
                {"generator_num_attention_heads", model.generator_num_attention_heads},
                {"generator_intermediate_size", model.generator_intermediate_size},
                {"generator_num_hidden_layers", model.generator_num_hidden_layers}};
  const auto& o = objective_options;
  j["objective"] = {{"type", to_string(objective)},
                    {"mask_prob", o.masking.mask_prob},
                    {"keep_original_prob", o.masking.keep_original_prob},
                    {"random_token_prob", o.masking.random_token_prob},
                    {"mlm_weight", o.mlm_weight},
                    {"disc_weight", o.disc_weight},
                    {"temperature", o.temperature}};
  j["optimizer"] = {{"learning_rate", optimizer.learning_rate}, {"weight_decay", optimizer.weight_decay},
                    {"beta1", optimizer.beta1},                 {"beta2", optimizer.beta2},
                    {"eps", optimizer.eps},                     {"warmup_steps", optimizer.warmup_steps},
                    {"max_grad_norm", optimizer.max_grad_norm}};
  const auto& t = train;
  j["train"] = {{"data", t.data},
                {"output", t.output},
                {"steps", t.steps},
                {"batch_size", t.batch_size},
                {"grad_accum_steps", t.grad_accum_steps},
                {"seed", t.seed},
                {"precision", to_string(t.precision)},
                {"threads", t.threads},
                {"device", t.device},
                {"max_minutes", t.max_minutes},
                {"log_every", t.log_every},
                {"eval_every", t.eval_every},
                {"eval_batches", t.eval_batches},
                {"save_every", t.save_every},
                {"keep_checkpoints", t.keep_checkpoints},
                {"init_discriminator", t.init_discriminator},
                {"init_generator", t.init_generator}};
  return j.dump(2) + "\n";
}

}  // namespace electra
