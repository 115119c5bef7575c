#pragma once
// CoNLL-style tagging files ("word POS chunk" per line, blank line between sentences)
// and the first-wordpiece labelling used to fine-tune a token classifier.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "electra/tokenization/wordpiece.h"

namespace electra {

struct TaggedSentence {
  std::vector<std::string> words;
  std::vector<std::string> tags;  // one per word; empty when the file has no tag column
  std::size_t line = 0;           // 1-based line of the sentence's first word
};

struct ConllOptions {
  int word_column = 0;
  int tag_column = -1;        // 0-based; negative counts from the end (-1: last column)
  bool require_tags = true;   // false: files with words only (prediction input)
};

// Columns are separated by spaces or tabs; "-DOCSTART-" lines are skipped. Errors name
// "<path>:<line>" for a missing file, a line with too few columns, invalid UTF-8, or an
// empty file (no sentence).
std::vector<TaggedSentence> read_conll(const std::string& path, const ConllOptions& options = {});

// The sorted set of tags in `sentences` (for building a label list from the training file).
std::vector<std::string> collect_tags(const std::vector<TaggedSentence>& sentences);

// One sentence as model input: [CLS] pieces [SEP], truncated to max_length.
// labels[i] is the tag id of the word whose FIRST wordpiece is token i, and -100 for
// every other token ([CLS], [SEP], continuation pieces); word_index[i] is that word's
// index (-1 otherwise). Words after truncation get no label (word_count tells how many
// words were kept); a word that tokenizes to nothing (only dropped characters) is given
// the [UNK] token so that every word keeps a prediction.
struct TaggingFeature {
  std::vector<std::int32_t> input_ids;
  std::vector<std::int64_t> labels;
  std::vector<std::int32_t> word_index;
  std::size_t word_count = 0;
};

// `tag_ids` maps each tag of `sentence.tags` to its id (same length as tags); pass an
// empty vector for unlabelled sentences (labels then hold 0 at first pieces, -100 elsewhere).
TaggingFeature encode_tagged_sentence(const WordPieceTokenizer& tokenizer, const TaggedSentence& sentence,
                                      const std::vector<std::int64_t>& tag_ids, std::size_t max_length);

}  // namespace electra
