#pragma once
// Learning a BERT-style WordPiece vocabulary (vocab.txt) from text files.
//
// 1. Words are counted with the BERT basic tokenizer (the one WordPieceTokenizer uses:
//    cleaning, CJK spacing, whitespace and punctuation splitting, and for uncased
//    vocabularies lowercasing and accent stripping). Special token strings in the text
//    get no special treatment here ("[MASK]" counts as "[", "mask", "]").
// 2. The alphabet: the limit_alphabet most frequent characters among those seen at least
//    min_frequency times. A word with a character outside it is left out of step 3 (it
//    would be [UNK] anyway). Every alphabet character c enters the vocabulary as "c", and
//    as "##c" when it occurs inside a word, so every word made of alphabet characters
//    can be tokenized without [UNK].
// 3. Merges, as Hugging Face's WordPiece trainer does (BPE over characters where a piece
//    that does not start a word carries "##"): the most frequent adjacent pair of pieces,
//    weighted by word counts, is merged into a new piece ("un" + "##able" -> "unable",
//    "##ab" + "##le" -> "##able"), until the vocabulary is full or no pair occurs
//    min_frequency times. Ties go to the pair of the pieces that entered the vocabulary
//    first, so the result depends on nothing but the corpus and the options.
// The vocabulary: [PAD], then num_unused "[unusedN]" slots, [UNK], [CLS], [SEP], [MASK]
// (ids 0..4 without unused slots), then the alphabet ("c" forms, then "##c" forms, each in
// code point order), then the merged pieces in the order they were learnt.
//
// Memory: distinct words are held in a map of at most max_words entries. When it grows
// past that, the rarest words (count 1, then 2, ...) are dropped until it is at most 3/4
// full; a dropped word that comes again starts a new count. Counts of rare words are then
// approximate; frequent words, which make the vocabulary, are not affected.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "data/corpus_files.h"
#include "electra/tokenization/vocab.h"

namespace electra {

struct WordPieceTrainOptions {
  std::vector<std::string> inputs;  // text files (expand_inputs turns directories and globs into files)
  std::string output;               // vocab.txt to write (atomically); parent directories are created
  std::size_t vocab_size = 30522;   // entries in all, special tokens and unused slots included
  std::uint64_t min_frequency = 2;  // for alphabet characters and for merged pairs
  std::size_t limit_alphabet = 1000;   // most characters kept; 0: no limit
  std::size_t num_unused = 0;       // [unused0].. slots after [PAD] (BERT's vocabulary has 994)
  bool lowercase = true;            // uncased: lowercase and strip accents (BERT uncased)
  std::uint64_t max_lines = 0;      // read at most this many lines; 0: all
  std::size_t max_words = 2000000;  // distinct words held while counting (see above; ~100 bytes each)
  std::size_t max_word_chars = 100; // longer words are skipped (WordPiece makes them [UNK])
  // Progress: on_read every few megabytes while counting, on_merge every few hundred merges.
  std::function<void(const CorpusStats&)> on_read;
  std::function<void(std::size_t vocab_size, std::size_t target)> on_merge;
};

struct WordPieceTrainResult {
  Vocab vocab;
  std::size_t alphabet_size = 0;     // "c" and "##c" entries
  std::size_t merges = 0;            // pieces learnt by merging
  std::uint64_t words = 0;           // words counted (with repetitions)
  std::uint64_t distinct_words = 0;  // distinct words held when counting ended
  std::uint64_t skipped_words = 0;   // words longer than max_word_chars
  std::uint64_t pruned_words = 0;    // distinct words dropped to stay under max_words
  CorpusStats corpus;
};

// Counts the words of options.inputs, learns the vocabulary and writes options.output.
// Throws electra::Error on a missing or unreadable file, a corpus without a single word,
// or a vocab_size too small for the special tokens and the alphabet.
WordPieceTrainResult train_wordpiece(const WordPieceTrainOptions& options);

// Steps 2 and 3 alone, on word counts already made (words as the basic tokenizer gives
// them). Uses vocab_size, min_frequency, limit_alphabet and num_unused of the options.
Vocab learn_wordpiece_vocab(const std::vector<std::pair<std::string, std::uint64_t>>& word_counts,
                            const WordPieceTrainOptions& options, std::size_t* alphabet_size = nullptr);

}  // namespace electra
