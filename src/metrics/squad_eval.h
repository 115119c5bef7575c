#pragma once
// The official SQuAD evaluation (v1.1 and v2.0 scripts): answer normalisation, exact match
// and token F1 as the max over gold answers, and for v2.0 the HasAns/NoAns breakdown and the
// best null threshold.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace electra {

// Lowercase, drop ASCII punctuation (Python's string.punctuation), drop the articles
// a/an/the as whole words, collapse whitespace.
std::string normalize_answer(std::string_view text);
double exact_match_score(std::string_view prediction, std::string_view gold);
// The v2.0 rule when a side normalises to nothing: 1 if both do, else 0 (v1.1 scoring
// inside evaluate_squad keeps v1.1's 0).
double token_f1_score(std::string_view prediction, std::string_view gold);

struct SquadGold {
  std::string id;
  std::vector<std::string> answers;  // empty: unanswerable (v2), scored against ""
};

struct SquadScores {
  double exact = 0, f1 = 0;  // percentages, as the official scripts print them
  std::int64_t total = 0;
  // v2 only (has_answers true when any gold has no answer or na_probs are given):
  bool version_2 = false;
  double has_ans_exact = 0, has_ans_f1 = 0;
  std::int64_t has_ans_total = 0;
  double no_ans_exact = 0, no_ans_f1 = 0;
  std::int64_t no_ans_total = 0;
  // Only when na_probs are given (the script sweeps only with a null-odds file).
  double best_exact = 0, best_exact_thresh = 0, best_f1 = 0, best_f1_thresh = 0;
  std::int64_t missing = 0;  // gold questions without a prediction (scored 0)
};

// v1.1 when na_probs is empty and every gold question has an answer; v2.0 otherwise.
// A question missing from `predictions` scores 0 and is counted in `missing`.
// v2: with na_probs (question id -> null odds), predictions whose na_prob exceeds
// na_threshold (default 1.0: never) count as "" (the official script's
// --na-prob-thresh), and best_exact/best_f1 sweep the threshold as the official script does.
SquadScores evaluate_squad(const std::vector<SquadGold>& gold, const std::map<std::string, std::string>& predictions,
                           const std::map<std::string, double>& na_probs = {}, double na_threshold = 1.0);

}  // namespace electra
