#pragma once
// Raw text -> pre-training dataset (what electra-prepare runs).
//
// Reads the corpus (data/corpus.h) as a stream of documents, tokenizes and packs them
// into examples (data/example_builder.h) on worker threads, and writes
//   <output>/train-00000.shard, train-00001.shard, ...
//   <output>/eval-00000.shard, ...            (held-out documents)
//   <output>/manifest.json                    (written last, atomically)
// See data/shard.h for the shard layout and data/pretraining_dataset.h for reading.
//
// Determinism: documents are numbered in reading order and packed with a generator
// seeded from (seed, document number); worker threads get batches of documents and
// their results are written in batch order, so the files are byte-identical for any
// number of threads. Memory: at most a few batches of documents (~256 KiB of text
// each) per thread are in flight, plus one document's examples held back (below).
//
// Held-out documents: document i (0-based, in reading order) goes to eval when
// floor((i+1)*f) > floor(i*f) for f = eval_fraction: every 1/f-th document, floor(n*f)
// of n documents. When that selects no document but at least two documents gave
// examples, the last of them goes to eval (the latest train document is held back
// until the end of the corpus for this).
//
// Safety: a dataset already in the output folder (it has manifest.json) is never
// replaced unless `overwrite` is set. New shards are written into
// <output>/.prepare-staging/ (each as <name>.tmp, renamed when complete) and only
// moved into place once every shard is complete; then the old dataset's shards are
// removed and the new manifest written. A failed run removes its staging folder and
// leaves the output folder as it was. (One prepare per output folder at a time: a
// stale staging folder from a killed run is removed by the next run.)
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/corpus.h"

namespace electra {

struct PrepareProgress {
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_total = 0;
  std::uint64_t documents = 0;
  std::uint64_t examples = 0;  // written so far
  double seconds = 0;
  bool done = false;           // the last call
  double eta_seconds() const;  // < 0 when unknown
};

struct PrepareOptions {
  std::vector<std::string> inputs;        // files, folders (*.txt inside), globs; read in `mode`
  std::vector<std::string> prose_inputs;  // read in prose mode whatever `mode` is
  std::string output_dir;
  std::string vocab_path;                 // vocab.txt (WordPiece) or *.model (SentencePiece)
  bool lowercase = true;                  // false: cased vocabulary
  CorpusMode mode = CorpusMode::lines;
  CorpusOptions corpus;                   // document rules of prose mode, document cap
  std::int32_t max_seq_len = 128;         // [8, 65535]
  double short_seq_prob = 0.05;
  double single_segment_prob = 0.1;
  double eval_fraction = 0.01;            // held-out share of documents, [0, 1)
  std::uint64_t examples_per_shard = 100000;
  std::uint64_t seed = 12345;
  int threads = 0;                        // packing threads; 0: one per hardware thread
  bool overwrite = false;                 // replace a dataset already in output_dir
  // Called on the calling thread at most 4 times a second, and once more at the end.
  std::function<void(const PrepareProgress&)> progress;
};

struct PrepareSummary {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
  std::uint64_t documents = 0;        // documents read (with at least one sentence)
  std::uint64_t sentences = 0;
  std::uint64_t train_documents = 0;  // documents that gave examples, per split
  std::uint64_t eval_documents = 0;
  std::uint64_t train_examples = 0;
  std::uint64_t eval_examples = 0;
  std::uint64_t train_shards = 0;
  std::uint64_t eval_shards = 0;
  std::uint64_t input_tokens = 0;     // tokens of all sentences
  std::uint64_t example_tokens = 0;   // tokens stored, [CLS]/[SEP] included
  std::uint64_t truncated_tokens = 0; // input tokens dropped by the length cut
  std::uint64_t unk_tokens = 0;       // [UNK] among the input tokens
  std::uint64_t invalid_bytes = 0;    // ill-formed UTF-8 bytes skipped
  std::string first_invalid;          // "<file>:<line>" of the first one
  std::uint64_t single_segment_examples = 0;
  std::uint64_t short_target_examples = 0;
  int threads = 1;
  double seconds = 0;
  double truncated_share() const;  // truncated / input tokens
  double unk_share() const;        // [UNK] / input tokens
};

// Runs the whole preparation. Throws electra::Error (naming the file or setting) on a
// missing input, an unreadable vocabulary or one without the special tokens, settings
// out of range, an existing dataset without `overwrite`, a corpus that gives no example.
PrepareSummary prepare_pretraining_data(const PrepareOptions& options);

// Human-readable text: a few lines for the summary, one line for progress.
std::string format_summary(const PrepareSummary& summary);
std::string format_progress(const PrepareProgress& progress);

}  // namespace electra
