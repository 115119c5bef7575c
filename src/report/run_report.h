#pragma once
// The run report: one self-contained HTML file (inline CSS and SVG, no script, nothing fetched)
// with the curves of one or more runs of electra-pretrain / electra-finetune, their final
// numbers, resolved configs and where their models are. Runs of the same kind share charts, one
// colour per run, so that several runs compare side by side.
#include <string>
#include <vector>

#include "report/run_contents.h"

namespace electra {

// The page for runs read by read_run_contents. Every string from a file is escaped.
std::string render_run_report(const std::vector<RunContents>& runs);

// Reads every folder in `run_dirs` (all are read before anything is written: a bad folder leaves
// an earlier report as it was) and writes the page to `html_path` through a temporary file.
void write_run_report(const std::vector<std::string>& run_dirs, const std::string& html_path);

// Where a run's own report goes: <run_dir>/report.html.
std::string default_report_path(const std::string& run_dir);

}  // namespace electra
