#include "report/run_contents.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <system_error>

#include <nlohmann/json.hpp>

#include "electra/util/error.h"
#include "report/html_text.h"
#include "util/files.h"
#include "util/json_reader.h"

namespace electra {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr unsigned long long kMaxConfigBytes = 16ull << 20;  // a resolved config is a few kB

std::string brief(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';  // the message stays one line
  }
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

std::string size_text(std::uintmax_t bytes) {
  char buffer[32];
  if (bytes >= (1u << 20)) {
    std::snprintf(buffer, sizeof buffer, "%.1f MB", static_cast<double>(bytes) / (1 << 20));
  } else if (bytes >= 1024) {
    std::snprintf(buffer, sizeof buffer, "%.1f kB", static_cast<double>(bytes) / 1024);
  } else {
    std::snprintf(buffer, sizeof buffer, "%ju bytes", bytes);
  }
  return buffer;
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}
bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// A model folder: what its weights file is, or that it has none (an export cut short).
void add_model_dir(RunContents& run, const std::string& what, const fs::path& p) {
  if (!is_dir(p)) return;
  const auto weights = p / "model.safetensors";
  std::error_code ec;
  const auto bytes = fs::file_size(weights, ec);
  run.outputs.push_back({what, p.string(), ec ? "no model.safetensors" : "model.safetensors, " + size_text(bytes)});
}

void add_checkpoints(RunContents& run, const fs::path& p) {
  if (!is_dir(p)) return;
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  std::string detail = std::to_string(names.size()) + (names.size() == 1 ? " checkpoint" : " checkpoints");
  for (std::size_t i = 0; i < names.size(); ++i) detail += (i == 0 ? ": " : ", ") + names[i];
  run.outputs.push_back({"checkpoints (--resume)", p.string(), detail});
}

void read_config(RunContents& run, const fs::path& path) {
  run.config_path = path.string();
  try {
    run.config_text = read_text_file(run.config_path, kMaxConfigBytes);
  } catch (const Error& e) {
    run.notes.push_back(e.what());
    return;
  }
  try {
    run.config_text = parse_json(run.config_text, run.config_path).dump(2);
  } catch (const Error& e) {
    run.notes.push_back(std::string(e.what()) + " (shown as found)");
  }
}

void read_best_results(RunContents& run, const fs::path& path) {
  if (!is_file(path)) return;
  try {
    const json results = parse_json(read_text_file(path.string(), kMaxConfigBytes), path.string());
    if (!results.is_object()) throw file_error(path.string(), "expected a JSON object");
    // The task and epoch first, then the scores (the object itself is in key order).
    std::vector<std::pair<std::string, const json*>> items;
    for (const char* key : {"task", "epoch"}) {
      if (results.contains(key)) items.emplace_back(key, &results.at(key));
    }
    for (const auto& [key, value] : results.items()) {
      if (key != "task" && key != "epoch") items.emplace_back(key, &value);
    }
    for (const auto& [key, value] : items) {
      run.best_results.emplace_back(key, value->is_number() ? format_number(value->get<double>(), 6)
                                         : value->is_string() ? value->get<std::string>()
                                                              : value->dump());
    }
  } catch (const Error& e) {
    run.notes.push_back(e.what());
  }
}

}  // namespace

double MetricRecord::value(const std::string& key) const {
  for (const auto& [k, v] : values) {
    if (k == key) return v;
  }
  return kNaN;
}

std::vector<std::string> RunContents::keys(const std::string& split) const {
  std::vector<std::string> out;
  for (const auto& r : records) {
    if (r.split != split) continue;
    for (const auto& [k, v] : r.values) {
      if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
    }
  }
  return out;
}

const MetricRecord* RunContents::last(const std::string& split) const {
  for (auto it = records.rbegin(); it != records.rend(); ++it) {
    if (it->split == split) return &*it;
  }
  return nullptr;
}

std::vector<MetricRecord> parse_metrics_jsonl(const std::string& text, const std::string& path,
                                              std::vector<std::string>* notes) {
  std::vector<MetricRecord> records;
  std::size_t start = 0, number = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    const bool complete = end != std::string::npos;
    if (!complete) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(number);
    json j;
    try {
      j = parse_json(line, where);
    } catch (const Error&) {
      // The trainer writes a record and its newline in one flush: a last line without its newline
      // that starts like a record is one the run was writing when it stopped.
      if (!complete && line.front() == '{') {
        if (notes) notes->push_back(where + ": the last line is cut short (the run stopped while writing it): skipped");
        break;
      }
      throw;
    }
    if (!j.is_object()) throw Error(where + ": expected one JSON object per line, got " + brief(line));
    MetricRecord r;
    const auto split = j.find("split");
    if (split == j.end() || !split->is_string()) {
      throw Error(where + ": a metrics record needs \"split\" (a string), got " + brief(line));
    }
    r.split = split->get<std::string>();
    const auto step = j.find("step");
    if (step == j.end() || !step->is_number()) {
      throw Error(where + ": a metrics record needs \"step\" (a number), got " + brief(line));
    }
    r.step = step->get<double>();
    for (const auto& [key, value] : j.items()) {
      if (key == "split" || key == "step") continue;
      if (value.is_number()) r.values.emplace_back(key, value.get<double>());
      if (value.is_null()) r.values.emplace_back(key, kNaN);  // NaN or Inf when it was written
    }
    records.push_back(std::move(r));
  }
  return records;
}

RunContents read_run_contents(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw file_error(dir, "no such folder");
  if (!is_dir(dir)) {
    throw file_error(dir, "not a folder (give the output folder of electra-pretrain or electra-finetune)");
  }
  RunContents run;
  const fs::path root = fs::weakly_canonical(fs::absolute(dir), ec);
  run.dir = root.string();
  run.name = root.filename().string();
  if (run.name.empty()) run.name = run.dir;

  const fs::path metrics = root / "metrics.jsonl";
  const fs::path pretrain_config = root / "config.json", finetune_config = root / "finetune_config.json";
  const bool has_metrics = fs::exists(metrics, ec);
  if (!has_metrics && !is_file(pretrain_config) && !is_file(finetune_config)) {
    throw file_error(dir, "not a run folder: no metrics.jsonl, config.json (electra-pretrain) or "
                          "finetune_config.json (electra-finetune)");
  }
  if (has_metrics) {
    run.records = parse_metrics_jsonl(read_text_file(metrics.string()), metrics.string(), &run.notes);
    if (run.records.empty()) run.notes.push_back(metrics.string() + ": no records yet");
  } else {
    run.notes.push_back(metrics.string() + ": missing (the run logged nothing)");
  }

  const auto is_dev = [](const MetricRecord& r) { return r.split == "dev"; };
  const bool finetuning = is_file(finetune_config) || is_dir(root / "best") ||
                          std::any_of(run.records.begin(), run.records.end(), is_dev);
  run.kind = finetuning ? RunKind::finetuning : RunKind::pretraining;
  if (finetuning) {
    if (is_file(finetune_config)) read_config(run, finetune_config);
    read_best_results(run, root / "best" / "eval_results.json");
    add_model_dir(run, "best model (Hugging Face format)", root / "best");
    std::vector<fs::path> predictions;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().filename().string().find("predictions") != std::string::npos && is_file(it->path())) {
        predictions.push_back(it->path());
      }
    }
    std::sort(predictions.begin(), predictions.end());
    for (const auto& p : predictions) {
      const auto bytes = fs::file_size(p, ec);
      const bool dev = p.filename().string().rfind("dev_", 0) == 0;
      run.outputs.push_back(
          {dev ? "dev predictions (best model)" : "predictions", p.string(), ec ? "" : size_text(bytes)});
    }
  } else {
    if (is_file(pretrain_config)) read_config(run, pretrain_config);
    add_model_dir(run, "discriminator (Hugging Face format)", root / "discriminator");
    add_model_dir(run, "generator (Hugging Face format)", root / "generator");
  }
  add_checkpoints(run, root / "checkpoints");
  if (is_dir(root / "tensorboard")) {
    std::size_t files = 0;
    for (fs::directory_iterator it(root / "tensorboard", ec), end; !ec && it != end; it.increment(ec)) files += 1;
    run.outputs.push_back({"TensorBoard events (tensorboard --logdir)", (root / "tensorboard").string(),
                           std::to_string(files) + (files == 1 ? " file" : " files")});
  }
  if (run.config_path.empty()) run.notes.push_back("no resolved config in " + run.dir);
  return run;
}

}  // namespace electra
