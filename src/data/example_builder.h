#pragma once
// Packs the tokenized sentences of one document into pre-training examples, by the
// rules of the official ELECTRA builder (google-research/electra,
// build_pretraining_dataset.py, ExampleBuilder; reference doc section 4):
//
//   - Sentences are added to a chunk until the chunk holds >= target_length tokens
//     (or the document ends); the chunk then becomes one example.
//   - target_length is max_seq_len, except that with probability short_seq_prob it
//     is a random length in [5, max_seq_len] (drawn uniformly), drawn after each
//     example for the next one.
//   - With probability single_segment_prob the example has one segment. Otherwise
//     segment A aims at (target_length - 3) / 2 tokens: a sentence joins A when A is
//     empty, when A + sentence stays below that aim, or, with probability 1/2, when
//     it would cross the aim while A is still below it; B takes the rest.
//   - A is cut to max_seq_len - 2 tokens, then B to max_seq_len - |A| - 3 (the overflow
//     of the last sentence is dropped and counted as truncated). When B ends up empty
//     the example has one segment.
//   - Layout [CLS] A [SEP] B [SEP] (single: [CLS] A [SEP]); token type 0 for [CLS], A
//     and the first [SEP], 1 for B and its [SEP]. No padding, no masking.
//   - A chunk never crosses a document boundary; the last chunk of a document becomes
//     an example however short it is.
//
// Deviations from the official script, all deliberate:
//   - The random generator is per document, seeded from (seed, document index), so the
//     output does not depend on how documents are spread over threads. Consequently the
//     target length of a document's first chunk is drawn at the document's start
//     (official: carried over from the previous document's last draw).
//   - Segment A is a prefix of the chunk's sentences: once a sentence has gone to B,
//     the later ones do too. (The official loop can put a later short sentence back
//     into A, which makes A skip text; the random draws are the same either way.)
//   - Sentences that tokenize to nothing are skipped (the official script keeps them as
//     empty lists, which changes nothing in its output).
// The random generator is SplitMix64 with our own uniform draws, identical on every
// platform (std::uniform_*_distribution are not).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "electra/data/pretraining_dataset.h"  // PretrainingExample

namespace electra {

struct ExampleBuilderOptions {
  std::int32_t max_seq_len = 128;    // tokens per example, [CLS]/[SEP] included
  double short_seq_prob = 0.05;      // share of chunks with a random target length
  double single_segment_prob = 0.1;  // share of examples drawn as one segment
};


struct BuildStats {
  std::uint64_t documents = 0;
  std::uint64_t examples = 0;
  std::uint64_t single_segment_examples = 0;  // layout [CLS] A [SEP] (drawn, or B empty)
  std::uint64_t single_segment_draws = 0;     // examples drawn as one segment
  std::uint64_t short_target_draws = 0;       // chunks with a random target length
  std::uint64_t input_tokens = 0;             // tokens of all sentences
  std::uint64_t example_tokens = 0;           // tokens stored, [CLS]/[SEP] included
  std::uint64_t truncated_tokens = 0;         // input tokens dropped by the length cut
  void add(const BuildStats& other);
};

// The seed of document `index`'s generator (a SplitMix64 mix of both).
std::uint64_t document_seed(std::uint64_t seed, std::uint64_t index);

// SplitMix64: small, fast, and the same sequence everywhere.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  double uniform();                                      // [0, 1), 53 random bits
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi);  // [lo, hi], unbiased

 private:
  std::uint64_t state_;
};

class ExampleBuilder {
 public:
  // Throws electra::Error when max_seq_len < 8 or a probability is outside [0, 1].
  ExampleBuilder(ExampleBuilderOptions options, std::int32_t cls_id, std::int32_t sep_id);

  // Appends the examples of one document (its sentences as token ids) to `out`.
  void build(const std::vector<std::vector<std::int32_t>>& sentences, std::uint64_t seed,
             std::vector<PretrainingExample>& out, BuildStats& stats) const;

  const ExampleBuilderOptions& options() const { return options_; }

 private:
  struct Target {
    std::int32_t length;
    bool short_draw;  // drawn at random rather than max_seq_len
  };
  Target draw_target(SplitMix64& random) const;
  PretrainingExample make_example(const std::vector<const std::vector<std::int32_t>*>& chunk, Target target,
                                  SplitMix64& random, BuildStats& stats) const;

  ExampleBuilderOptions options_;
  std::int32_t cls_id_, sep_id_;
};

}  // namespace electra
