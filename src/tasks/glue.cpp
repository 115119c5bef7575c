#include "electra/tasks/glue.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "electra/util/error.h"
#include "table_reader.h"

namespace electra {
namespace {

// Main metric first. The ELECTRA paper reports accuracy for MRPC and QQP (F1 is the
// second number GLUE shows), MCC for CoLA and Pearson / Spearman for STS-B.
const std::vector<GlueTaskInfo>& all_tasks() {
  static const std::vector<GlueTaskInfo> tasks = {
      {GlueTask::cola, "cola", "CoLA", {"0", "1"}, false, {"mcc"}},
      {GlueTask::sst2, "sst2", "SST-2", {"0", "1"}, false, {"accuracy"}},
      {GlueTask::mrpc, "mrpc", "MRPC", {"0", "1"}, true, {"accuracy", "f1"}},
      {GlueTask::stsb, "stsb", "STS-B", {}, true, {"spearman", "pearson"}},
      {GlueTask::qqp, "qqp", "QQP", {"0", "1"}, true, {"accuracy", "f1"}},
      {GlueTask::mnli, "mnli", "MNLI", {"contradiction", "entailment", "neutral"}, true, {"accuracy"}},
      {GlueTask::qnli, "qnli", "QNLI", {"entailment", "not_entailment"}, true, {"accuracy"}},
      {GlueTask::rte, "rte", "RTE", {"entailment", "not_entailment"}, true, {"accuracy"}},
      {GlueTask::wnli, "wnli", "WNLI", {"0", "1"}, true, {"accuracy"}},
  };
  return tasks;
}

// "SST-2", "sst-2" and "sst2" all become "sst2".
std::string normalize(const std::string& name) {
  std::string out;
  for (const unsigned char c : name)
    if (c != '-' && c != '_') out += static_cast<char>(std::tolower(c));
  return out;
}

// Where each task keeps its columns (header names), in train/dev and in test files.
TableOptions glue_layout(GlueTask task, bool labelled) {
  TableOptions options;  // tsv, header, no quoting: GLUE quotes are literal text
  options.require_label = labelled;
  TableColumns& c = options.columns;
  switch (task) {
    case GlueTask::cola:
      if (labelled) {  // no header: source, label, original label mark, sentence
        options.header = false;
        c = {"3", "", "1", ""};
        return options;
      }
      c = {"sentence", "", "", "index"};
      break;
    case GlueTask::sst2: c = {"sentence", "", "label", ""}; break;
    case GlueTask::mrpc: c = {"#1 String", "#2 String", "Quality", ""}; break;
    case GlueTask::stsb: c = {"sentence1", "sentence2", "score", "index"}; break;
    case GlueTask::qqp: c = {"question1", "question2", "is_duplicate", "id"}; break;
    case GlueTask::mnli: c = {"sentence1", "sentence2", "gold_label", "index"}; break;
    case GlueTask::qnli: c = {"question", "sentence", "label", "index"}; break;
    case GlueTask::rte:
    case GlueTask::wnli: c = {"sentence1", "sentence2", "label", "index"}; break;
  }
  if (!labelled) {
    c.label.clear();
    if (task != GlueTask::qqp) c.id = "index";  // QQP's test file calls it "id"
  }
  return options;
}

// from_chars, not strtod: a score must not depend on the process locale's decimal point.
bool is_score(const std::string& text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && value >= 0.0 && value <= 5.0;
}

}  // namespace

GlueTask parse_glue_task(const std::string& name) {
  const std::string key = normalize(name);
  std::string known;
  for (const auto& info : all_tasks()) {
    if (key == info.name) return info.task;
    known += (known.empty() ? "" : ", ") + info.name;
  }
  throw Error("unknown GLUE task '" + name + "' (known: " + known + ")");
}

const GlueTaskInfo& glue_task_info(GlueTask task) {
  for (const auto& info : all_tasks())
    if (info.task == task) return info;
  throw Error("glue_task_info: invalid GlueTask value");  // unreachable for valid enum values
}

std::string glue_file_name(GlueTask task, const std::string& split) {
  const bool mnli = task == GlueTask::mnli;
  if (split == "train") return "train.tsv";
  if (split == "dev") return mnli ? "dev_matched.tsv" : "dev.tsv";
  if (split == "test") return mnli ? "test_matched.tsv" : "test.tsv";
  if (mnli && (split == "dev_mismatched" || split == "test_mismatched")) return split + ".tsv";
  throw Error("unknown split '" + split + "' for GLUE task " + glue_task_info(task).name +
              (mnli ? " (expected train, dev, dev_mismatched, test or test_mismatched)" : " (expected train, dev or test)"));
}

std::vector<TextExample> read_glue(GlueTask task, const std::string& path, bool labelled, std::size_t* skipped) {
  const GlueTaskInfo& info = glue_task_info(task);
  std::size_t skipped_rows = 0;
  std::vector<TextExample> examples =
      detail::read_table(path, glue_layout(task, labelled), task == GlueTask::qqp ? &skipped_rows : nullptr);
  if (skipped) *skipped = skipped_rows;
  if (!labelled) return examples;
  for (const auto& example : examples) {
    const std::string& label = *example.label;  // present: labelled files require it
    const std::string where = path + ":" + std::to_string(example.line);
    if (task == GlueTask::stsb) {
      if (!is_score(label)) throw Error(where + ": score '" + label + "' for stsb is not a number in [0, 5]");
    } else if (std::find(info.labels.begin(), info.labels.end(), label) == info.labels.end()) {
      std::string expected;
      for (const auto& l : info.labels) expected += (expected.empty() ? "" : ", ") + l;
      throw Error(where + ": unknown label '" + label + "' for " + info.name + " (expected " + expected + ")");
    }
  }
  return examples;
}

}  // namespace electra
