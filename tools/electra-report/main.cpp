// electra-report: one self-contained HTML page (inline SVG charts, no script, nothing fetched)
// with the curves, final numbers, resolved configs and model paths of one or more runs.
#include <CLI/CLI.hpp>

#include <iostream>

#include "../common/tool_main.h"
#include "report/run_report.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Writes an HTML report of runs of electra-pretrain or electra-finetune: loss, AUC, accuracy, learning\n"
      "rate and throughput curves over steps (several runs overlay in the same charts, one colour per run),\n"
      "the final numbers, the resolved config and where the models are. The page is one file with inline\n"
      "SVG charts: no script, nothing fetched. Each run also writes its own <output>/report.html at its end.",
      "electra-report"};
  std::vector<std::string> run_dirs;
  std::string output;
  app.add_option("RUN_DIR", run_dirs, "Output folder(s) of electra-pretrain or electra-finetune")->required();
  app.add_option("-o,--output", output, "HTML file to write (default for one run: RUN_DIR/report.html)");
  app.callback([&] {
    if (output.empty() && run_dirs.size() > 1) {
      throw CLI::ValidationError("--output", "several runs go to one page: name it with -o FILE");
    }
  });
  ELECTRA_PARSE(app, argc, argv);

  return electra::tools::guarded_main("electra-report", [&] {
    if (output.empty()) output = electra::default_report_path(run_dirs.front());
    electra::write_run_report(run_dirs, output);
    std::cout << "report: " << output << "\n";
    return 0;
  });
}
