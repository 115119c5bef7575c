#pragma once
// What a run report shows of one output folder of electra-pretrain or electra-finetune, read
// once from its files: the metrics.jsonl records, the resolved config, the kept scores and where
// the models and predictions are. No LibTorch: electra-report reads finished runs anywhere.
#include <string>
#include <utility>
#include <vector>

namespace electra {

enum class RunKind { pretraining, finetuning };

// One line of metrics.jsonl. JSON has no NaN: the trainers' NaN or Inf arrives as null and is
// NaN here again; a key a record does not have is NaN too.
struct MetricRecord {
  std::string split;  // "train", "eval" (pre-training), "dev" (fine-tuning)
  double step = 0;
  std::vector<std::pair<std::string, double>> values;  // in the line's order, split and step excluded

  double value(const std::string& key) const;
};

// A folder or file the run produced, for the report's "where things are" list.
struct RunOutput {
  std::string what;    // "discriminator", "best model", "dev predictions"...
  std::string path;    // absolute
  std::string detail;  // "model.safetensors, 1.2 MB" or "3: step-200, step-400, step-600"
};

struct RunContents {
  std::string dir;   // absolute path of the folder
  std::string name;  // the folder's own name (the report's label for the run)
  RunKind kind = RunKind::pretraining;
  std::vector<MetricRecord> records;           // in file order
  std::string config_path;                     // the resolved config ("" when the run has none yet)
  std::string config_text;                     // pretty-printed (or as found, when it does not parse)
  std::vector<std::pair<std::string, std::string>> best_results;  // best/eval_results.json, formatted
  std::vector<RunOutput> outputs;
  std::vector<std::string> notes;  // what was skipped or missing ("last line cut short: skipped")

  // The keys that `split` records carry, in order of first appearance.
  std::vector<std::string> keys(const std::string& split) const;
  const MetricRecord* last(const std::string& split) const;  // nullptr when there is none
};

// Reads `dir`. Throws electra::Error for a folder that is missing or holds no run, and for a
// metrics.jsonl that is not one JSON record per line ("<file>:<line>: <problem>"); a last line
// cut short by a crash or Ctrl-C mid-write is skipped with a note instead.
RunContents read_run_contents(const std::string& dir);

// The records of one metrics.jsonl text, with `path` for messages (read_run_contents's parser,
// exposed so that it can be tested on strings). Appends a note when the last line was cut short.
std::vector<MetricRecord> parse_metrics_jsonl(const std::string& text, const std::string& path,
                                              std::vector<std::string>* notes);

}  // namespace electra
