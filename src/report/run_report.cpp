#include "report/run_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "electra/util/error.h"
#include "report/html_text.h"
#include "report/svg_chart.h"
#include "util/files.h"

namespace electra {
namespace {

// Tableau's ten: distinct on screen and in greyscale print; run i takes colour i mod 10.
const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

const char* colour_of(std::size_t run) { return kPalette[run % (sizeof kPalette / sizeof kPalette[0])]; }

// One curve of a chart: the `key` of the records of one split. Evaluation curves are dashed.
struct Curve {
  std::string split, key;
};
struct ChartSpec {
  std::string title, y_label;
  std::vector<Curve> curves;
};

// The keys are the trainers' metrics.jsonl keys (src/train/pretrainer.cpp, finetuner.cpp).
std::vector<ChartSpec> pretraining_charts() {
  return {
      {"Total loss", "loss", {{"train", "loss"}, {"eval", "loss"}}},
      {"Generator loss (MLM)", "mlm_loss", {{"train", "mlm_loss"}, {"eval", "mlm_loss"}}},
      {"Discriminator loss", "disc_loss", {{"train", "disc_loss"}, {"eval", "disc_loss"}}},
      {"Discriminator AUC (held-out)", "disc_auc", {{"eval", "disc_auc"}}},
      {"MLM accuracy (held-out)", "mlm_accuracy", {{"eval", "mlm_accuracy"}}},
      {"Discriminator accuracy (held-out)", "disc_accuracy", {{"eval", "disc_accuracy"}}},
      {"Learning rate", "learning_rate", {{"train", "learning_rate"}}},
      {"Throughput", "tokens_per_second", {{"train", "tokens_per_second"}}},
  };
}

// The dev metrics depend on the task (accuracy, f1, mcc, spearman, exact_match...): one chart
// for each key the runs' dev records carry.
std::vector<ChartSpec> finetuning_charts(const std::vector<const RunContents*>& runs) {
  std::vector<ChartSpec> charts = {{"Training loss", "loss", {{"train", "loss"}}}};
  std::vector<std::string> dev_keys;
  for (const auto* run : runs) {
    for (const auto& key : run->keys("dev")) {
      if (key != "epoch" && std::find(dev_keys.begin(), dev_keys.end(), key) == dev_keys.end()) dev_keys.push_back(key);
    }
  }
  for (const auto& key : dev_keys) charts.push_back({"Dev " + key + " (per evaluation)", key, {{"dev", key}}});
  charts.push_back({"Learning rate", "learning_rate", {{"train", "learning_rate"}}});
  charts.push_back({"Throughput", "tokens_per_second", {{"train", "tokens_per_second"}}});
  charts.push_back({"Throughput (examples)", "examples_per_second", {{"train", "examples_per_second"}}});
  return charts;
}

struct ReportRun {
  const RunContents* run;
  std::string label;  // the name, made unique among the report's runs
  const char* colour;
};

// Every run's curves for one spec; false when no run has a finite value for it.
bool build_chart(const ChartSpec& spec, const std::vector<const ReportRun*>& runs, LineChart* chart) {
  chart->title = spec.title;
  chart->x_label = "step";
  chart->y_label = spec.y_label;
  bool any = false;
  for (const auto* r : runs) {
    for (const auto& curve : spec.curves) {
      ChartSeries s;
      s.label = r->label + (spec.curves.size() > 1 ? " (" + curve.split + ")" : "");
      s.colour = r->colour;
      s.dashed = curve.split != "train";
      for (const auto& record : r->run->records) {
        if (record.split != curve.split) continue;
        const auto it = std::find_if(record.values.begin(), record.values.end(),
                                     [&](const auto& kv) { return kv.first == curve.key; });
        if (it == record.values.end()) continue;
        s.x.push_back(record.step);
        s.y.push_back(it->second);
        any = any || std::isfinite(it->second);
      }
      if (!s.x.empty()) chart->series.push_back(std::move(s));
    }
  }
  return any;
}

std::string curve_names(const ChartSpec& spec) {
  std::string out;
  for (const auto& c : spec.curves) out += (out.empty() ? "" : ", ") + c.split + " " + c.key;
  return out;
}

const char* kind_name(RunKind kind) { return kind == RunKind::pretraining ? "pre-training" : "fine-tuning"; }

std::string swatch(const char* colour) {
  return std::string("<span class=\"swatch\" style=\"background:") + colour + "\"></span>";
}

double last_step(const RunContents& run) {
  double step = std::nan("");
  for (const auto& r : run.records) step = std::isnan(step) ? r.step : std::max(step, r.step);
  return step;
}

// The numbers a reader looks for first: held-out AUC and MLM accuracy after pre-training, the
// kept model's dev scores after fine-tuning.
std::string headline(const RunContents& run) {
  std::string out;
  const auto add = [&](const std::string& key, const std::string& value) {
    out += (out.empty() ? "" : ", ") + escape_html(key) + " <b>" + escape_html(value) + "</b>";
  };
  if (run.kind == RunKind::finetuning && !run.best_results.empty()) {
    for (const auto& [key, value] : run.best_results) {
      if (key != "task") add(key, value);
    }
    return "best: " + out;
  }
  const auto* last = run.last(run.kind == RunKind::pretraining ? "eval" : "dev");
  if (last) {
    for (const auto& [key, value] : last->values) {
      if (run.kind == RunKind::finetuning || key == "disc_auc" || key == "mlm_accuracy") add(key, format_number(value));
    }
    return "last evaluation: " + out;
  }
  if (const auto* train = run.last("train")) {
    add("loss", format_number(train->value("loss")));
    return "last training loss: " + out;
  }
  return "no records";
}

std::string record_table(const std::string& caption, const MetricRecord& r) {
  std::string out = "<table class=\"kv\"><caption>" + escape_html(caption) + " (step " + format_number(r.step, 12) +
                    ")</caption>\n";
  for (const auto& [key, value] : r.values) {
    out += "<tr><th>" + escape_html(key) + "</th><td>" + format_number(value, 6) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

std::string run_section(const ReportRun& r, std::size_t index) {
  const RunContents& run = *r.run;
  std::string out = "<section class=\"run\" id=\"run-" + std::to_string(index + 1) + "\">\n<h2>" + swatch(r.colour) +
                    escape_html(r.label) + " <small>" + kind_name(run.kind) + "</small></h2>\n<p class=\"path\">" +
                    escape_html(run.dir) + "</p>\n";
  if (!run.notes.empty()) {
    out += "<ul class=\"notes\">\n";
    for (const auto& note : run.notes) out += "<li>" + escape_html(note) + "</li>\n";
    out += "</ul>\n";
  }
  out += "<h3>Final numbers</h3>\n<div class=\"tables\">\n";
  if (!run.best_results.empty()) {
    out += "<table class=\"kv\"><caption>kept model (best/eval_results.json)</caption>\n";
    for (const auto& [key, value] : run.best_results) {
      out += "<tr><th>" + escape_html(key) + "</th><td>" + escape_html(value) + "</td></tr>\n";
    }
    out += "</table>\n";
  }
  if (const auto* e = run.last("eval")) out += record_table("last held-out evaluation", *e);
  if (const auto* d = run.last("dev")) out += record_table("last dev evaluation", *d);
  if (const auto* t = run.last("train")) out += record_table("last training log", *t);
  if (run.records.empty() && run.best_results.empty()) out += "<p>No metrics recorded.</p>\n";
  out += "</div>\n<h3>Where things are</h3>\n";
  if (run.outputs.empty()) {
    out += "<p>No models written yet.</p>\n";
  } else {
    out += "<table class=\"outputs\"><tr><th>what</th><th>path</th><th></th></tr>\n";
    for (const auto& o : run.outputs) {
      out += "<tr><td>" + escape_html(o.what) + "</td><td><code>" + escape_html(o.path) + "</code></td><td>" +
             escape_html(o.detail) + "</td></tr>\n";
    }
    out += "</table>\n";
  }
  out += "<h3>Resolved config</h3>\n";
  if (run.config_path.empty()) {
    out += "<p>No resolved config in this folder.</p>\n";
  } else {
    out += "<details open><summary><code>" + escape_html(run.config_path) + "</code></summary>\n<pre>" +
           escape_html(run.config_text) + "</pre></details>\n";
  }
  return out + "</section>\n";
}

constexpr const char* kStyle = R"(
body { font-family: sans-serif; margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #222; background: #fff; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 19px; border-bottom: 1px solid #ddd; padding-bottom: 4px; margin-top: 32px; }
h2 small { font-weight: normal; color: #666; font-size: 14px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 8px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
table.runs th, table.runs td, table.outputs th, table.outputs td { border-bottom: 1px solid #eee; }
table.kv { margin-right: 28px; }
table.kv caption { text-align: left; font-weight: bold; padding-bottom: 4px; }
table.kv td { font-variant-numeric: tabular-nums; }
.tables { display: flex; flex-wrap: wrap; align-items: flex-start; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 16px; }
figure { margin: 0; border: 1px solid #e6e6e6; border-radius: 4px; padding: 8px; }
figcaption { font-size: 14px; font-weight: bold; margin-bottom: 4px; }
figcaption code { font-weight: normal; color: #666; font-size: 12px; }
svg.chart { width: 100%; height: auto; display: block; }
.path { color: #555; font-size: 13px; font-family: monospace; word-break: break-all; }
.notes li { color: #8a4b00; font-size: 13px; }
pre { background: #f6f6f6; border: 1px solid #e4e4e4; padding: 8px; font-size: 12px; overflow: auto;
      max-height: 480px; }
summary { cursor: pointer; font-size: 13px; }
code { word-break: break-all; }
)";

}  // namespace

std::string render_run_report(const std::vector<RunContents>& runs) {
  std::vector<ReportRun> report;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    std::string label = runs[i].name;
    const auto taken = [&](const std::string& l) {
      return std::any_of(report.begin(), report.end(), [&](const auto& r) { return r.label == l; });
    };
    for (std::size_t k = 2; taken(label); ++k) {
      label = runs[i].name + " #" + std::to_string(k);
    }
    report.push_back({&runs[i], label, colour_of(i)});
  }
  std::string names;
  for (const auto& r : report) names += (names.empty() ? "" : ", ") + r.label;

  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<link rel=\"icon\" href=\"data:,\">\n<title>ELECTRA run report: " + escape_html(names) +
                     "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<h1>ELECTRA run report</h1>\n";
  html += "<table class=\"runs\"><tr><th>run</th><th>kind</th><th>last step</th><th>result</th><th>folder</th></tr>\n";
  for (const auto& r : report) {
    html += "<tr><td><a href=\"#run-" + std::to_string(&r - report.data() + 1) + "\">" + swatch(r.colour) +
            escape_html(r.label) + "</a></td><td>" + kind_name(r.run->kind) + "</td><td>" +
            format_number(last_step(*r.run), 12) + "</td><td>" + headline(*r.run) + "</td><td><code>" +
            escape_html(r.run->dir) + "</code></td></tr>\n";
  }
  html += "</table>\n";

  for (const RunKind kind : {RunKind::pretraining, RunKind::finetuning}) {
    std::vector<const ReportRun*> group;
    std::vector<const RunContents*> contents;
    for (const auto& r : report) {
      if (r.run->kind != kind) continue;
      group.push_back(&r);
      contents.push_back(r.run);
    }
    if (group.empty()) continue;
    const auto specs = kind == RunKind::pretraining ? pretraining_charts() : finetuning_charts(contents);
    std::string figures;
    for (const auto& spec : specs) {
      LineChart chart;
      if (!build_chart(spec, group, &chart)) continue;
      figures += "<figure><figcaption>" + escape_html(spec.title) + " <code>" + escape_html(curve_names(spec)) +
                 "</code></figcaption>\n" + render_svg_chart(chart) + "</figure>\n";
    }
    html += std::string("<section class=\"charts\">\n<h2>") +
            (kind == RunKind::pretraining ? "Pre-training" : "Fine-tuning") + " curves</h2>\n";
    html += figures.empty() ? "<p>No metrics recorded yet.</p>\n" : "<div class=\"grid\">\n" + figures + "</div>\n";
    html += "</section>\n";
  }
  for (std::size_t i = 0; i < report.size(); ++i) html += run_section(report[i], i);
  return html + "</body>\n</html>\n";
}

void write_run_report(const std::vector<std::string>& run_dirs, const std::string& html_path) {
  if (run_dirs.empty()) throw Error("a run report needs at least one run folder");
  std::vector<RunContents> runs;
  for (const auto& dir : run_dirs) runs.push_back(read_run_contents(dir));
  write_file_atomic(html_path, render_run_report(runs));
}

std::string default_report_path(const std::string& run_dir) {
  return (std::filesystem::path(run_dir) / "report.html").string();
}

}  // namespace electra
