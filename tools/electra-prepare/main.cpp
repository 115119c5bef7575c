// electra-prepare: raw text -> pre-training shards + manifest.json (data/prepare.h).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <string>

#include "../common/tool_main.h"
#include "data/prepare.h"

namespace {

// Progress on stderr: a line rewritten in place on a terminal, a line every 10 s otherwise.
std::function<void(const electra::PrepareProgress&)> stderr_progress() {
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  auto last = std::make_shared<double>(-1e9);
  return [tty, last](const electra::PrepareProgress& p) {
    const std::string line = electra::format_progress(p);
    if (tty) {
      std::fprintf(stderr, "\r\033[K[prepare] %s%s", line.c_str(), p.done ? "\n" : "");
    } else if (p.done || p.seconds - *last >= 10.0) {
      *last = p.seconds;
      std::fprintf(stderr, "[prepare] %s\n", line.c_str());
    }
    std::fflush(stderr);
  };
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Turns raw text into ELECTRA pre-training examples: shards of token ids and a\n"
      "manifest.json in the output folder, ready for electra-pretrain.\n"
      "Input: one sentence per line, blank line between documents (--mode lines), or\n"
      "paragraphs of running text split into sentences (--mode prose, --prose-input).",
      "electra-prepare"};
  electra::PrepareOptions o;
  std::string mode = "lines";
  bool cased = false, quiet = false;
  app.option_defaults()->always_capture_default();  // --help shows the defaults
  app.add_option("--input", o.inputs, "Corpus files, folders (every *.txt inside) or glob patterns");
  app.add_option("--prose-input", o.prose_inputs, "Inputs read in prose mode whatever --mode says");
  app.add_option("--vocab", o.vocab_path, "vocab.txt (WordPiece) or SentencePiece .model")->required();
  app.add_option("--output", o.output_dir, "Output folder")->required();
  app.add_option("--mode", mode, "Layout of --input: lines (one sentence per line) or prose")
      ->check(CLI::IsMember({"lines", "prose"}));
  app.add_option("--max-seq-len", o.max_seq_len, "Tokens per example, [CLS]/[SEP] included")
      ->check(CLI::Range(8, 65535));
  app.add_option("--short-seq-prob", o.short_seq_prob, "Share of examples with a random target length")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--single-segment-prob", o.single_segment_prob, "Share of examples drawn as one segment")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--eval-fraction", o.eval_fraction, "Share of documents held out for evaluation")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", o.seed, "Random seed");
  app.add_option("--threads", o.threads, "Packing threads (0: one per core)")->check(electra::tools::non_negative_number());
  app.add_option("--examples-per-shard", o.examples_per_shard, "Examples per shard file")
      ->check(electra::tools::positive_number());
  app.add_flag("--cased", cased, "Keep case and accents (cased vocabulary)");
  app.add_flag("--overwrite", o.overwrite, "Replace a dataset already in the output folder");
  app.add_flag("--quiet", quiet, "No progress and no summary");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help: 0; a bad command line: 2 (tool_main.h)
  }
  if (o.inputs.empty() && o.prose_inputs.empty()) {
    std::cerr << "electra-prepare: give at least one --input or --prose-input\nRun with --help for more information.\n";
    return 2;
  }

  return electra::tools::guarded_main("electra-prepare", [&] {
    o.mode = electra::parse_corpus_mode(mode);
    o.lowercase = !cased;
    if (!quiet) o.progress = stderr_progress();
    const auto summary = electra::prepare_pretraining_data(o);
    if (!quiet) std::cout << electra::format_summary(summary) << "wrote " << o.output_dir << "/manifest.json\n";
    return 0;
  });
}
