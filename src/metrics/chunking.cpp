#include "metrics/chunking.h"

#include <string_view>

#include "electra/util/error.h"

// A transcription of conlleval (version 2004-01-26): one pass over the tokens with a
// sentence boundary ("O" for both sides, not counted as a token) after every sentence.

namespace electra {
namespace {

double percent(std::int64_t part, std::int64_t whole) {
  return whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

struct Tag {
  std::string prefix;  // "B", "I", "E", "O", "[", "]", ...
  std::string type;    // "NP"; "" for "O"
};

// conlleval splits at the first hyphen ("B-PP-LOC": "B", "PP-LOC"); a tag without one has no type.
Tag split_tag(const std::string& tag) {
  const std::size_t dash = tag.find('-');
  if (dash == std::string::npos) return {tag, ""};
  Tag t{tag.substr(0, dash), tag.substr(dash + 1)};
  if (t.type == "0") t.type.clear();  // Perl's `$type ? $type : ""` reads "0" as false
  return t;
}

// conlleval's endOfChunk: did a chunk end between `prev` and `tag`? The E rules serve IOE
// tags; "[" and "]" mark one-token chunks. There are no S- rules in conlleval.
bool end_of_chunk(const Tag& prev, const Tag& tag) {
  const std::string_view p = prev.prefix, t = tag.prefix;
  return (p == "B" && (t == "B" || t == "O")) || (p == "I" && (t == "B" || t == "O")) ||
         (p == "E" && (t == "E" || t == "I" || t == "O")) || (p != "O" && p != "." && prev.type != tag.type) ||
         p == "]" || p == "[";
}

// conlleval's startOfChunk. The type rule is what makes an I- after O or after another
// type start a chunk.
bool start_of_chunk(const Tag& prev, const Tag& tag) {
  const std::string_view p = prev.prefix, t = tag.prefix;
  return (t == "B" && (p == "B" || p == "I" || p == "O")) || (p == "O" && (t == "I" || t == "E")) ||
         (p == "E" && (t == "E" || t == "I")) || (t != "O" && t != "." && prev.type != tag.type) || t == "[" ||
         t == "]";
}

class Counter {
 public:
  explicit Counter(ChunkScores& scores) : s_(scores) {}

  void step(const Tag& gold, const Tag& pred, bool boundary) {
    const bool gold_end = end_of_chunk(last_gold_, gold), pred_end = end_of_chunk(last_pred_, pred);
    const bool gold_start = start_of_chunk(last_gold_, gold), pred_start = start_of_chunk(last_pred_, pred);
    // A chunk that started together on both sides is correct if it also ends together.
    if (in_correct_) {
      if (gold_end && pred_end && last_pred_.type == last_gold_.type) {
        in_correct_ = false;
        count_correct();
      } else if (gold_end != pred_end || pred.type != gold.type) {
        in_correct_ = false;
      }
    }
    if (gold_start && pred_start && pred.type == gold.type) in_correct_ = true;
    if (gold_start) {
      ++s_.overall.gold;
      ++s_.by_type[gold.type].gold;
    }
    if (pred_start) {
      ++s_.overall.predicted;
      ++s_.by_type[pred.type].predicted;
    }
    if (!boundary) {
      ++s_.tokens;
      s_.correct_tokens += gold.prefix == pred.prefix && gold.type == pred.type;
    }
    last_gold_ = gold;
    last_pred_ = pred;
  }

  void finish() {
    if (in_correct_) count_correct();
    in_correct_ = false;
  }

 private:
  void count_correct() {
    ++s_.overall.correct;
    ++s_.by_type[last_gold_.type].correct;
  }

  ChunkScores& s_;
  Tag last_gold_{"O", ""}, last_pred_{"O", ""};
  bool in_correct_ = false;
};

}  // namespace

double ChunkCounts::precision() const { return percent(correct, predicted); }
double ChunkCounts::recall() const { return percent(correct, gold); }
double ChunkCounts::f1() const {
  const double p = precision(), r = recall();
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

double ChunkScores::accuracy() const { return percent(correct_tokens, tokens); }

ChunkScores conlleval(const std::vector<std::vector<std::string>>& gold,
                      const std::vector<std::vector<std::string>>& predicted) {
  if (gold.size() != predicted.size()) {
    throw Error("conlleval: " + std::to_string(gold.size()) + " gold sentences but " +
                std::to_string(predicted.size()) + " predicted ones");
  }
  ChunkScores scores;
  Counter counter(scores);
  const Tag outside{"O", ""};
  for (std::size_t s = 0; s < gold.size(); ++s) {
    if (gold[s].size() != predicted[s].size()) {
      throw Error("conlleval: sentence " + std::to_string(s) + " has " + std::to_string(gold[s].size()) +
                  " gold tags but " + std::to_string(predicted[s].size()) + " predicted ones");
    }
    for (std::size_t i = 0; i < gold[s].size(); ++i) {
      counter.step(split_tag(gold[s][i]), split_tag(predicted[s][i]), /*boundary=*/false);
    }
    counter.step(outside, outside, /*boundary=*/true);  // the blank line after a sentence
  }
  counter.finish();
  return scores;
}

}  // namespace electra
