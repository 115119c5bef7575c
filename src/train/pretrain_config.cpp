#include "electra/train/pretrain_config.h"

#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "electra/util/error.h"
#include "util/files.h"
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

// Each section's keys, declared once: read, written and checked from these lists.
constexpr auto model_fields = [](auto& v, auto& m) {
  auto& d = m.discriminator;
  v("embedding_size", d.embedding_size);
  v("hidden_size", d.hidden_size);
  v("num_hidden_layers", d.num_hidden_layers);
  v("num_attention_heads", d.num_attention_heads);
  v("intermediate_size", d.intermediate_size);
  v("max_position_embeddings", d.max_position_embeddings);
  v("hidden_dropout_prob", d.hidden_dropout_prob);
  v("attention_probs_dropout_prob", d.attention_probs_dropout_prob);
  v("hidden_act", d.hidden_act, parse_activation);
  v("generator_hidden_fraction", m.generator_hidden_fraction);
  v("generator_hidden_size", m.generator_hidden_size);
  v("generator_num_attention_heads", m.generator_num_attention_heads);
  v("generator_intermediate_size", m.generator_intermediate_size);
  v("generator_num_hidden_layers", m.generator_num_hidden_layers);
};

constexpr auto objective_fields = [](auto& v, auto& c) {  // the whole config: type + options
  v("type", c.objective, parse_objective);
  auto& o = c.objective_options;
  v("mask_prob", o.masking.mask_prob);
  v("keep_original_prob", o.masking.keep_original_prob);
  v("random_token_prob", o.masking.random_token_prob);
  v("mlm_weight", o.mlm_weight);
  v("disc_weight", o.disc_weight);
  v("temperature", o.temperature);
};

constexpr auto optimizer_fields = [](auto& v, auto& o) {
  v("learning_rate", o.learning_rate);
  v("weight_decay", o.weight_decay);
  v("beta1", o.beta1);
  v("beta2", o.beta2);
  v("eps", o.eps);
  v("warmup_steps", o.warmup_steps);
  v("max_grad_norm", o.max_grad_norm);
  v("implementation", o.implementation, parse_adamw_kernel);
};

constexpr auto train_fields = [](auto& v, auto& t) {
  v("data", t.data);
  v("output", t.output);
  v("steps", t.steps);
  v("batch_size", t.batch_size);
  v("grad_accum_steps", t.grad_accum_steps);
  v("seed", t.seed);
  v("precision", t.precision, parse_precision);
  v("threads", t.threads);
  v("device", t.device);
  v("max_minutes", t.max_minutes);
  v("log_every", t.log_every);
  v("prefetch_batches", t.prefetch_batches);
  v("static_shapes", t.static_shapes);
  v("profile_step", t.profile_step);
  v("eval_every", t.eval_every);
  v("eval_batches", t.eval_batches);
  v("save_every", t.save_every);
  v("keep_checkpoints", t.keep_checkpoints);
  v("init_discriminator", t.init_discriminator);
  v("init_generator", t.init_generator);
};

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
  validate_adamw(optimizer);
  positive("objective.temperature", objective_options.temperature);
  if (train.batch_size % train.grad_accum_steps != 0) {
    throw Error("config key \"train.batch_size\" must be a multiple of train.grad_accum_steps");
  }
  const auto& m = objective_options.masking;
  if (!(m.mask_prob > 0 && m.mask_prob < 1)) throw Error("config key \"objective.mask_prob\" must be in (0, 1)");
  if (m.keep_original_prob < 0 || m.random_token_prob < 0 || m.keep_original_prob + m.random_token_prob > 1) {
    throw Error("config keys \"objective.keep_original_prob\" + \"objective.random_token_prob\" must be in [0, 1]");
  }
  if (optimizer.warmup_steps < 0) throw Error("config key \"optimizer.warmup_steps\" must not be negative");
  if (train.eval_batches < 0) throw Error("config key \"train.eval_batches\" must not be negative");
  if (train.max_minutes < 0) throw Error("config key \"train.max_minutes\" must not be negative (0: no limit)");
  if (train.prefetch_batches < 0) throw Error("config key \"train.prefetch_batches\" must not be negative");
  if (train.keep_checkpoints < 1) throw Error("config key \"train.keep_checkpoints\" must be at least 1");
  if (train.init_discriminator.empty() != train.init_generator.empty() && objective == Objective::electra) {
    throw Error("continuing pre-training needs both train.init_discriminator and train.init_generator");
  }
}

PretrainConfig PretrainConfig::from_json_string(const std::string& text, const std::string& source,
                                                const std::vector<std::string>& overrides) {
  const json root = parse_config_root(text, source, overrides, {"model", "objective", "optimizer", "train"});
  PretrainConfig c;
  {
    // model.size picks a preset that the other model keys then adjust.
    static const json empty = json::object();
    SectionReader r(root.contains("model") ? root.at("model") : empty, source, "model");
    std::string size = "small";
    r.read("size", size);
    try {
      c.model.discriminator = size_preset(size);
    } catch (const Error& e) {
      throw r.fail("size", e.what());
    }
    FieldReader v(r);
    model_fields(v, c.model);
    r.reject_unknown();
  }
  read_section(root, source, "objective", c, objective_fields);
  read_section(root, source, "optimizer", c.optimizer, optimizer_fields);
  read_section(root, source, "train", c.train, train_fields);
  validate_config(c, source);
  return c;
}

PretrainConfig PretrainConfig::load(const std::string& path, const std::vector<std::string>& overrides) {
  return from_json_string(read_text_file(path), path, overrides);
}

std::string PretrainConfig::to_json_string() const {
  json j;
  j["model"] = write_section(model, model_fields);
  j["objective"] = write_section(*this, objective_fields);
  j["optimizer"] = write_section(optimizer, optimizer_fields);
  j["train"] = write_section(train, train_fields);
  return j.dump(2) + "\n";
}

}  // namespace electra
