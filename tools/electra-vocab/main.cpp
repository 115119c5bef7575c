// electra-vocab: learns a vocabulary from text files: a WordPiece vocab.txt, or a
// SentencePiece model (unigram or BPE; the .model file and a .vocab beside it).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "../common/tool_main.h"
#include "data/corpus_files.h"
#include "tokenization/sentencepiece.h"
#include "tokenization/wordpiece_trainer.h"

namespace {

struct Args {
  std::vector<std::string> inputs;
  std::string output, type = "wordpiece";
  std::size_t vocab_size = 0;
  bool cased = false, quiet = false, verbose = false, overwrite = false;
  std::uint64_t min_frequency = 2, max_sentences = 0;
  std::size_t limit_alphabet = 1000;
  double character_coverage = 0.9995;
  std::uint32_t seed = 42;
  int threads = 0;
};

// Data and models made with a vocabulary stop matching when it changes: replacing one takes --overwrite.
void refuse_to_replace(const Args& args) {
  std::vector<std::string> paths = {args.output};
  if (args.type != "wordpiece") paths.push_back(electra::sentencepiece_vocab_path(args.output));
  for (const auto& path : paths) {
    if (std::filesystem::exists(path)) {
      throw electra::file_error(path, "already exists; pass --overwrite to replace it (data prepared and models "
                                      "trained with it would no longer match)");
    }
  }
}

double megabytes(std::uint64_t bytes) { return static_cast<double>(bytes) / (1 << 20); }

// Progress lines: rewritten in place on a terminal, one per report in a log file.
const bool kTerminal = ::isatty(STDERR_FILENO) == 1;
const char* kStart = kTerminal ? "\r" : "";
const char* kEnd = kTerminal ? "" : "\n";

void report_read(const electra::CorpusStats& s) {
  std::fprintf(stderr, "%selectra-vocab: read %.1f / %.1f MB (%zu/%zu files, %llu lines)%s", kStart,
               megabytes(s.bytes_read), megabytes(s.bytes_total), s.files_done, s.files_total,
               static_cast<unsigned long long>(s.lines), kEnd);
  if (kTerminal && s.bytes_read >= s.bytes_total) std::fprintf(stderr, "\n");
}

void report_skips(const electra::CorpusStats& s, std::uint64_t too_long, std::uint64_t max_length) {
  if (s.invalid_bytes > 0) {
    std::fprintf(stderr, "electra-vocab: warning: skipped %llu bytes of invalid UTF-8 (the first in %s)\n",
                 static_cast<unsigned long long>(s.invalid_bytes), s.first_invalid.c_str());
  }
  if (too_long > 0) {
    std::fprintf(stderr, "electra-vocab: warning: skipped %llu lines longer than %llu bytes\n",
                 static_cast<unsigned long long>(too_long), static_cast<unsigned long long>(max_length));
  }
}

int train_wordpiece(const Args& args, const std::vector<std::string>& files) {
  electra::WordPieceTrainOptions options;
  options.inputs = files;
  options.output = args.output;
  options.vocab_size = args.vocab_size;
  options.min_frequency = args.min_frequency;
  options.limit_alphabet = args.limit_alphabet;
  options.lowercase = !args.cased;
  options.max_lines = args.max_sentences;
  if (!args.quiet) {
    options.on_read = report_read;
    options.on_merge = [](std::size_t size, std::size_t target) {
      std::fprintf(stderr, "%selectra-vocab: merging: %zu / %zu entries%s", kStart, size, target, kEnd);
    };
  }
  const auto r = electra::train_wordpiece(options);
  if (kTerminal && !args.quiet && r.merges >= 500) std::fprintf(stderr, "\n");
  report_skips(r.corpus, 0, 0);
  std::fprintf(stderr,
               "electra-vocab: %llu words (%llu distinct, %llu longer than %zu characters skipped, %llu rare "
               "dropped), alphabet %zu, %zu merges\n",
               static_cast<unsigned long long>(r.words), static_cast<unsigned long long>(r.distinct_words),
               static_cast<unsigned long long>(r.skipped_words), options.max_word_chars,
               static_cast<unsigned long long>(r.pruned_words), r.alphabet_size, r.merges);
  if (static_cast<std::size_t>(r.vocab.size()) < args.vocab_size) {
    std::fprintf(stderr,
                 "electra-vocab: note: no pair left with frequency >= %llu; the vocabulary is smaller than %zu\n",
                 static_cast<unsigned long long>(args.min_frequency), args.vocab_size);
  }
  return r.vocab.size();
}

int train_sentencepiece(const Args& args, const std::vector<std::string>& files) {
  electra::SentencePieceTrainOptions options;
  options.inputs = files;
  options.model_path = args.output;
  options.vocab_size = static_cast<std::int32_t>(args.vocab_size);
  options.model_type = electra::sentencepiece_model_type(args.type);
  options.character_coverage = args.character_coverage;
  if (args.max_sentences > 0) options.input_sentence_size = args.max_sentences;
  options.seed = args.seed;
  options.threads = args.threads;
  options.lowercase = !args.cased;
  options.verbose = args.verbose;
  if (!args.quiet) options.on_read = report_read;
  if (!args.quiet) std::fprintf(stderr, "electra-vocab: reading the corpus, then training (SentencePiece %s)\n",
                                args.type.c_str());
  const auto r = electra::train_sentencepiece(options);
  report_skips(r.corpus, r.skipped_too_long, options.max_sentence_length);
  std::fprintf(stderr, "electra-vocab: %llu sentences (at most %llu sampled); wrote %s\n",
               static_cast<unsigned long long>(r.sentences),
               static_cast<unsigned long long>(options.input_sentence_size), r.vocab_path.c_str());
  return r.vocab_size;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Learns a vocabulary from text files (one sentence or paragraph per line):\n"
      "a WordPiece vocab.txt (--type wordpiece) or a SentencePiece model (--type unigram|bpe;\n"
      "OUTPUT is the .model file, the .vocab is written beside it). Special tokens\n"
      "[PAD] [UNK] [CLS] [SEP] [MASK] get ids 0..4.",
      "electra-vocab"};
  Args args;
  app.add_option("--input", args.inputs, "Text files, directories (every *.txt below) or glob patterns")
      ->required()->expected(1, -1);
  app.add_option("--output", args.output, "vocab.txt (wordpiece) or NAME.model (unigram, bpe)")->required();
  app.add_option("--type", args.type, "Vocabulary kind")->check(CLI::IsMember({"wordpiece", "unigram", "bpe"}))
      ->capture_default_str();
  app.add_option("--vocab-size", args.vocab_size, "Entries in all, special tokens included")->required()
      ->check(CLI::Range(std::size_t{6}, std::size_t{1} << 24));
  app.add_flag("--cased", args.cased, "Keep case (and accents); default lowercases");
  app.add_option("--min-frequency", args.min_frequency, "wordpiece: least count of a character or merged pair")
      ->capture_default_str();
  app.add_option("--limit-alphabet", args.limit_alphabet, "wordpiece: most characters kept (0: all)")
      ->capture_default_str();
  app.add_option("--character-coverage", args.character_coverage, "unigram/bpe: share of characters covered")
      ->check(CLI::Range(0.5, 1.0))->capture_default_str();
  app.add_option("--max-sentences", args.max_sentences,
                 "unigram/bpe: sentences sampled from the corpus (default 1000000); wordpiece: lines read (0: all)");
  app.add_option("--seed", args.seed, "unigram/bpe: seed of the sentence sampling")->capture_default_str();
  app.add_option("--threads", args.threads, "unigram/bpe: training threads (0: every core)")->capture_default_str();
  app.add_flag("--quiet", args.quiet, "No progress output");
  app.add_flag("--verbose", args.verbose, "unigram/bpe: SentencePiece's own training log");
  app.add_flag("--overwrite", args.overwrite, "Replace an existing output (otherwise refused)");
  ELECTRA_PARSE(app, argc, argv);

  return electra::tools::guarded_main("electra-vocab", [&] {
    if (args.type != "wordpiece" && (app.count("--min-frequency") || app.count("--limit-alphabet"))) {
      throw electra::Error("--min-frequency and --limit-alphabet apply to --type wordpiece only");
    }
    if (!args.overwrite) refuse_to_replace(args);
    const auto start = std::chrono::steady_clock::now();
    const auto files = electra::expand_inputs(args.inputs);
    const int size = args.type == "wordpiece" ? train_wordpiece(args, files) : train_sentencepiece(args, files);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "electra-vocab: wrote %s: %s vocabulary of %d entries from %zu file(s) in %.1f s\n",
                 args.output.c_str(), args.type.c_str(), size, files.size(), seconds);
    return 0;
  });
}
