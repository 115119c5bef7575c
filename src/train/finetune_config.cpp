#include "electra/train/finetune_config.h"

#include <nlohmann/json.hpp>

#include "electra/util/error.h"
#include "electra/util/files.h"
#include "util/config_reader.h"

namespace electra {
namespace {

std::string to_string(TableFormat f) {
  switch (f) {
    case TableFormat::tsv: return "tsv";
    case TableFormat::csv: return "csv";
    case TableFormat::jsonl: return "jsonl";
  }
  return "?";
}

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
  positive("optimizer.learning_rate", optimizer.learning_rate);
  positive("optimizer.eps", optimizer.eps);
  positive("optimizer.layer_decay", optimizer.layer_decay);
  positive("train.batch_size", static_cast<double>(train.batch_size));
  positive("train.eval_batch_size", static_cast<double>(train.eval_batch_size));
  positive("train.log_every", static_cast<double>(train.log_every));
  if (train.epochs < 0) throw Error("config key \"train.epochs\" must not be negative");
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
  const json empty = json::object();
  auto section = [&](const char* name) -> const json& { return root.contains(name) ? root[name] : empty; };
  {
    SectionReader r(section("task"), source, "task");
    auto& t = c.task;
    r.read_enum<TaskType>("type", t.type, parse_task_type);
    r.read("name", t.name);
    r.read("train_file", t.train_file);
    r.read("dev_file", t.dev_file);
    r.read_enum<TableFormat>("format", t.table.format, parse_table_format);
    if (t.table.format == TableFormat::csv) t.table.quoting = true;
    r.read("header", t.table.header);
    r.read("quoting", t.table.quoting);
    r.read("text_a", t.table.columns.text_a);
    r.read("text_b", t.table.columns.text_b);
    r.read("label", t.table.columns.label);
    r.read("id", t.table.columns.id);
    r.read_list("labels", t.labels);
    r.read_list("metrics", t.metrics);
    r.read("word_column", t.word_column);
    r.read("tag_column", t.tag_column);
    r.read("version", t.squad_version);
    r.read("train_articles", t.train_articles);
    r.read("both_orders", t.both_orders);
    r.read_enum<ClassifierHead>("classifier_head", t.classifier_head, parse_classifier_head);
    r.reject_unknown();
  }
  {
    SectionReader r(section("optimizer"), source, "optimizer");
    auto& o = c.optimizer;
    r.read("learning_rate", o.learning_rate);
    r.read("layer_decay", o.layer_decay);
    r.read("weight_decay", o.weight_decay);
    r.read("warmup_proportion", o.warmup_proportion);
    r.read("beta1", o.beta1);
    r.read("beta2", o.beta2);
    r.read("eps", o.eps);
    r.read("max_grad_norm", o.max_grad_norm);
    r.reject_unknown();
  }
  {
    SectionReader r(section("train"), source, "train");
    auto& t = c.train;
    r.read("epochs", t.epochs);
    r.read("batch_size", t.batch_size);
    r.read("eval_batch_size", t.eval_batch_size);
    r.read("max_seq_length", t.max_seq_length);
    r.read("seed", t.seed);
    r.read_enum<Precision>("precision", t.precision, parse_precision);
    r.read("threads", t.threads);
    r.read("device", t.device);
    r.read("log_every", t.log_every);
    r.read("early_stopping_patience", t.early_stopping_patience);
    r.read("max_train_examples", t.max_train_examples);
    r.read("max_eval_examples", t.max_eval_examples);
    r.read("random_init", t.random_init);
    r.reject_unknown();
  }
  {
    SectionReader r(section("squad"), source, "squad");
    auto& s = c.squad;
    r.read("doc_stride", s.doc_stride);
    r.read("max_query_length", s.max_query_length);
    r.read("n_best", s.n_best);
    r.read("max_answer_length", s.max_answer_length);
    r.read("null_threshold", s.null_threshold);
    r.read("answerable_classifier", s.answerable_classifier);
    r.read("answerable_weight", s.answerable_weight);
    r.reject_unknown();
  }
  validate_config(c, source);
  return c;
}

FinetuneConfig FinetuneConfig::load(const std::string& path, const std::vector<std::string>& overrides) {
  return from_json_string(read_text_file(path), path, overrides);
}

std::string FinetuneConfig::to_json_string() const {
  json j;
  const auto& t = task;
  j["task"] = {{"type", to_string(t.type)},
               {"name", t.name},
               {"train_file", t.train_file},
               {"dev_file", t.dev_file},
               {"format", to_string(t.table.format)},
               {"header", t.table.header},
               {"quoting", t.table.quoting},
               {"text_a", t.table.columns.text_a},
               {"text_b", t.table.columns.text_b},
               {"label", t.table.columns.label},
               {"id", t.table.columns.id},
               {"labels", t.labels},
               {"metrics", t.metrics},
               {"word_column", t.word_column},
               {"tag_column", t.tag_column},
               {"version", t.squad_version},
               {"train_articles", t.train_articles},
               {"both_orders", t.both_orders},
               {"classifier_head", to_string(t.classifier_head)}};
  const auto& o = optimizer;
  j["optimizer"] = {{"learning_rate", o.learning_rate}, {"layer_decay", o.layer_decay},
                    {"weight_decay", o.weight_decay},   {"warmup_proportion", o.warmup_proportion},
                    {"beta1", o.beta1},                 {"beta2", o.beta2},
                    {"eps", o.eps},                     {"max_grad_norm", o.max_grad_norm}};
  const auto& r = train;
  j["train"] = {{"epochs", r.epochs},
                {"batch_size", r.batch_size},
                {"eval_batch_size", r.eval_batch_size},
                {"max_seq_length", r.max_seq_length},
                {"seed", r.seed},
                {"precision", electra::to_string(r.precision)},
                {"threads", r.threads},
                {"device", r.device},
                {"log_every", r.log_every},
                {"early_stopping_patience", r.early_stopping_patience},
                {"max_train_examples", r.max_train_examples},
                {"max_eval_examples", r.max_eval_examples},
                {"random_init", r.random_init}};
  j["squad"] = {{"doc_stride", squad.doc_stride},
                {"max_query_length", squad.max_query_length},
                {"n_best", squad.n_best},
                {"max_answer_length", squad.max_answer_length},
                {"null_threshold", squad.null_threshold},
                {"answerable_classifier", squad.answerable_classifier},
                {"answerable_weight", squad.answerable_weight}};
  return j.dump(2) + "\n";
}

}  // namespace electra
