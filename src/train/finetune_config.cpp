#include "electra/train/finetune_config.h"

#include <nlohmann/json.hpp>

#include "electra/util/error.h"
#include "util/files.h"
#include "util/config_reader.h"

namespace electra {
namespace {

// Each section's keys, declared once: read, written and checked from these lists.
constexpr auto task_fields = [](auto& v, auto& t) {
  v("type", t.type, parse_task_type);
  v("name", t.name);
  v("train_file", t.train_file);
  v("dev_file", t.dev_file);
  v("format", t.table.format, parse_table_format);
  v("header", t.table.header);
  v("quoting", t.table.quoting);
  v("text_a", t.table.columns.text_a);
  v("text_b", t.table.columns.text_b);
  v("label", t.table.columns.label);
  v("id", t.table.columns.id);
  v("labels", t.labels);
  v("metrics", t.metrics);
  v("word_column", t.word_column);
  v("tag_column", t.tag_column);
  v("version", t.squad_version);
  v("train_articles", t.train_articles);
  v("both_orders", t.both_orders);
  v("classifier_head", t.classifier_head, parse_classifier_head);
};

constexpr auto optimizer_fields = [](auto& v, auto& o) {
  v("learning_rate", o.learning_rate);
  v("layer_decay", o.layer_decay);
  v("weight_decay", o.weight_decay);
  v("warmup_proportion", o.warmup_proportion);
  v("beta1", o.beta1);
  v("beta2", o.beta2);
  v("eps", o.eps);
  v("max_grad_norm", o.max_grad_norm);
  v("implementation", o.implementation, parse_adamw_kernel);
};

constexpr auto train_fields = [](auto& v, auto& t) {
  v("output", t.output);
  v("epochs", t.epochs);
  v("batch_size", t.batch_size);
  v("eval_batch_size", t.eval_batch_size);
  v("max_seq_length", t.max_seq_length);
  v("seed", t.seed);
  v("precision", t.precision, parse_precision);
  v("threads", t.threads);
  v("device", t.device);
  v("log_every", t.log_every);
  v("early_stopping_patience", t.early_stopping_patience);
  v("max_train_examples", t.max_train_examples);
  v("max_eval_examples", t.max_eval_examples);
  v("random_init", t.random_init);
  v("prefetch_batches", t.prefetch_batches);
  v("profile_step", t.profile_step);
};

constexpr auto squad_fields = [](auto& v, auto& s) {
  v("doc_stride", s.doc_stride);
  v("max_query_length", s.max_query_length);
  v("n_best", s.n_best);
  v("max_answer_length", s.max_answer_length);
  v("null_threshold", s.null_threshold);
  v("answerable_classifier", s.answerable_classifier);
  v("answerable_weight", s.answerable_weight);
};

}  // namespace

TaskType parse_task_type(const std::string& name) {
  if (name == "glue") return TaskType::glue;
  if (name == "classification") return TaskType::classification;
  if (name == "regression") return TaskType::regression;
  if (name == "tagging") return TaskType::tagging;
  if (name == "squad") return TaskType::squad;
  throw Error("unknown task type \"" + name + "\" (expected glue, classification, regression, tagging or squad)");
}

std::string to_string(TaskType type) {
  switch (type) {
    case TaskType::glue: return "glue";
    case TaskType::classification: return "classification";
    case TaskType::regression: return "regression";
    case TaskType::tagging: return "tagging";
    case TaskType::squad: return "squad";
  }
  return "?";
}

void FinetuneConfig::validate() const {
  auto positive = [](const char* key, double v) {
    if (!(v > 0)) throw Error(std::string("config key \"") + key + "\" must be positive");
  };
  validate_adamw(optimizer);
  positive("optimizer.layer_decay", optimizer.layer_decay);
  positive("train.batch_size", static_cast<double>(train.batch_size));
  positive("train.eval_batch_size", static_cast<double>(train.eval_batch_size));
  positive("train.log_every", static_cast<double>(train.log_every));
  if (train.max_train_examples < 0 || train.max_eval_examples < 0) {
    throw Error("config keys \"train.max_train_examples\" and \"train.max_eval_examples\" must not be negative (0: all)");
  }
  if (train.epochs < 0) throw Error("config key \"train.epochs\" must not be negative");
  if (train.prefetch_batches < 0) throw Error("config key \"train.prefetch_batches\" must not be negative");
  if (train.max_seq_length < 8 || train.max_seq_length > 4096) {
    throw Error("config key \"train.max_seq_length\" must be in [8, 4096]");
  }
  if (optimizer.warmup_proportion < 0 || optimizer.warmup_proportion > 1) {
    throw Error("config key \"optimizer.warmup_proportion\" must be in [0, 1]");
  }
  if (task.type == TaskType::glue && task.name.empty()) throw Error("config key \"task.name\" names the GLUE task");
  if ((task.type == TaskType::classification || task.type == TaskType::regression) && task.table.columns.text_a.empty()) {
    throw Error("config key \"task.text_a\" must name the text column");
  }
  if (task.type == TaskType::squad && task.squad_version != 1 && task.squad_version != 2) {
    throw Error("config key \"task.version\" must be 1 or 2");
  }
  if (task.classifier_head != ClassifierHead::transformers &&
      (task.type == TaskType::tagging || task.type == TaskType::squad)) {
    throw Error("config key \"task.classifier_head\" applies to sentence-level tasks (glue, classification, "
                "regression), not to " + to_string(task.type));
  }
  if (task.type == TaskType::squad) {
    positive("squad.doc_stride", static_cast<double>(squad.doc_stride));
    positive("squad.n_best", static_cast<double>(squad.n_best));
    positive("squad.max_answer_length", static_cast<double>(squad.max_answer_length));
    if (squad.max_query_length + 3 >= train.max_seq_length) {
      throw Error("config key \"squad.max_query_length\" leaves no room for context in train.max_seq_length");
    }
    if (squad.answerable_weight < 0) throw Error("config key \"squad.answerable_weight\" must be >= 0");
  }
  if (squad.answerable_classifier && !(task.type == TaskType::squad && task.squad_version == 2)) {
    throw Error("config key \"squad.answerable_classifier\" needs a SQuAD 2.0 task (task.type squad, task.version 2): "
                "it learns which windows hold no answer");
  }
}

FinetuneConfig FinetuneConfig::from_json_string(const std::string& text, const std::string& source,
                                                const std::vector<std::string>& overrides) {
  const json root = parse_config_root(text, source, overrides, {"task", "optimizer", "train", "squad"});
  FinetuneConfig c;
  read_section(root, source, "task", c.task, task_fields);
  // CSV files quote by default; the others only when asked.
  if (c.task.table.format == TableFormat::csv && !(root.contains("task") && root.at("task").contains("quoting"))) {
    c.task.table.quoting = true;
  }
  read_section(root, source, "optimizer", c.optimizer, optimizer_fields);
  read_section(root, source, "train", c.train, train_fields);
  read_section(root, source, "squad", c.squad, squad_fields);
  validate_config(c, source);
  return c;
}

FinetuneConfig FinetuneConfig::load(const std::string& path, const std::vector<std::string>& overrides) {
  return from_json_string(read_text_file(path), path, overrides);
}

std::string FinetuneConfig::to_json_string() const {
  json j;
  j["task"] = write_section(task, task_fields);
  j["optimizer"] = write_section(optimizer, optimizer_fields);
  j["train"] = write_section(train, train_fields);
  j["squad"] = write_section(squad, squad_fields);
  return j.dump(2) + "\n";
}

}  // namespace electra
