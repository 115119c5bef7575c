#pragma once
// The GLUE tasks in the standard GLUE TSV layout (reference doc section 7).
#include <string>
#include <vector>

#include "electra/tasks/tabular.h"

namespace electra {

enum class GlueTask { cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli };

struct GlueTaskInfo {
  GlueTask task;
  std::string name;                 // "cola", "sst2", ... (the config spelling)
  std::string directory;            // "CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI"
  std::vector<std::string> labels;  // label strings in id order; empty for STS-B (regression)
  bool pair = false;                // sentence-pair task
  // Metric names, main one first: "mcc", "accuracy", "f1", "pearson", "spearman".
  std::vector<std::string> metrics;
};

// Accepts the config spelling and the directory spelling, any case ("sst-2", "SST-2", "sst2").
// Throws electra::Error listing the known tasks otherwise.
GlueTask parse_glue_task(const std::string& name);
const GlueTaskInfo& glue_task_info(GlueTask task);

// File names inside the task directory: train.tsv; dev.tsv (MNLI: dev_matched.tsv and
// dev_mismatched.tsv); test.tsv (MNLI: test_matched.tsv / test_mismatched.tsv).
// `split` is "train", "dev", "dev_mismatched", "test" or "test_mismatched".
std::string glue_file_name(GlueTask task, const std::string& split);

// Reads a GLUE TSV. Labelled files (train/dev) must have a label in the task's label set
// (STS-B: a number in [0, 5]); an unknown label is an error "<path>:<line>: unknown label
// 'x' for <task> (expected ...)". Test files (`labelled` false) have an "index" column,
// which becomes the example id. Handles each task's real layout: CoLA train/dev have no
// header (source, label, original label, sentence), the others have one; MRPC starts with
// a UTF-8 BOM; QQP rows with missing cells are skipped and counted (*skipped, when given).
std::vector<TextExample> read_glue(GlueTask task, const std::string& path, bool labelled,
                                   std::size_t* skipped = nullptr);

}  // namespace electra
