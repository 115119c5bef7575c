#pragma once
// Chunk-level precision, recall and F1 exactly as the CoNLL-2000 `conlleval` script counts them.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace electra {

struct ChunkCounts {
  std::int64_t correct = 0, predicted = 0, gold = 0;
  double precision() const;  // percent; 0 when nothing was predicted
  double recall() const;     // percent; 0 when there is no gold chunk
  double f1() const;         // percent; 0 when precision + recall is 0
};

struct ChunkScores {
  ChunkCounts overall;
  std::map<std::string, ChunkCounts> by_type;  // "NP", "VP", ...
  std::int64_t tokens = 0, correct_tokens = 0;
  double accuracy() const;   // percent of tokens whose tag is right
};

// Sentences of IOB tags (IOB1 and IOB2, plus E-/S- as conlleval accepts them; "O" outside).
// A chunk starts as conlleval's startOfChunk says (B-, or I- after O or after another
// type, ...) and ends as endOfChunk says; it counts as correct only when gold and predicted
// chunks start and end at the same tokens with the same type. conlleval has no S- rule,
// so S-NP S-NP is one chunk: convert IOBES output to IOB2 first. Throws electra::Error
// when a sentence's two tag sequences differ in length or the sentence counts differ.
ChunkScores conlleval(const std::vector<std::vector<std::string>>& gold,
                      const std::vector<std::vector<std::string>>& predicted);

}  // namespace electra
