#pragma once
// The last step of a training tool: the run's report.html. A report is a convenience: when it
// cannot be written, the run says why in one warning line and keeps its own exit code.
#include <exception>
#include <iostream>
#include <string>

#include "report/run_report.h"

namespace electra::tools {

inline void write_run_report_of(const std::string& tool, const std::string& run_dir) {
  try {
    const auto path = electra::default_report_path(run_dir);
    electra::write_run_report({run_dir}, path);
    std::cout << "report: " << path << "\n";
  } catch (const std::exception& e) {
    std::cerr << tool << ": warning: no report written: " << e.what() << "\n";
  }
}

}  // namespace electra::tools
