// Downstream metrics against hand-worked cases. Expected values are worked out in the
// comments; the SQuAD and conlleval cases were also run through transcriptions of the
// official v2.0 script and of conlleval (2004-01-26), which gave the same numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "metrics/chunking.h"
#include "metrics/classification.h"
#include "metrics/squad_eval.h"
#include "electra/util/error.h"

using electra::ChunkScores;
using electra::SquadGold;
using electra::SquadScores;
using Labels = std::vector<std::int64_t>;
using Values = std::vector<double>;
using Tags = std::vector<std::vector<std::string>>;

namespace {

constexpr double kTol = 1e-12;

// ------------------------------------------------------------------ classification

TEST(Accuracy, CountsMatches) {
  EXPECT_DOUBLE_EQ(electra::accuracy({1, 0, 1, 1}, {1, 1, 1, 0}), 0.5);
  EXPECT_DOUBLE_EQ(electra::accuracy({2, 0, 1}, {2, 0, 1}), 1.0);  // multiclass labels
  EXPECT_DOUBLE_EQ(electra::accuracy({0}, {1}), 0.0);
}

TEST(F1Score, PositiveClass) {
  // tp=2 (idx 0, 4), fp=1 (idx 1), fn=1 (idx 2): 2*2 / (2*2 + 1 + 1) = 2/3.
  const Labels pred{1, 1, 0, 0, 1}, gold{1, 0, 1, 0, 1};
  EXPECT_NEAR(electra::f1_score(pred, gold), 2.0 / 3.0, kTol);
  // Positive class 0: predicted {2, 3}, gold {1, 3}, tp=1: 2*1 / (2 + 2) = 0.5.
  EXPECT_DOUBLE_EQ(electra::f1_score(pred, gold, 0), 0.5);
}

TEST(F1Score, ZeroDivisionGivesZero) {
  EXPECT_DOUBLE_EQ(electra::f1_score({0, 0, 0}, {1, 0, 1}), 0.0);  // nothing predicted positive
  EXPECT_DOUBLE_EQ(electra::f1_score({1, 1}, {0, 0}), 0.0);        // no gold positive
  EXPECT_DOUBLE_EQ(electra::f1_score({0, 0}, {0, 0}), 0.0);        // neither
  EXPECT_DOUBLE_EQ(electra::f1_score({1, 1}, {1, 1}), 1.0);
}

TEST(MatthewsCorrcoef, Binary) {
  // TP=2 TN=1 FP=1 FN=1: (2*1 - 1*1) / sqrt(3*3*2*2) = 1/6.
  EXPECT_NEAR(electra::matthews_corrcoef({1, 1, 0, 0, 1}, {1, 0, 1, 0, 1}), 1.0 / 6.0, kTol);
  EXPECT_DOUBLE_EQ(electra::matthews_corrcoef({1, 0, 1, 0}, {1, 0, 1, 0}), 1.0);
  EXPECT_DOUBLE_EQ(electra::matthews_corrcoef({0, 1, 0, 1}, {1, 0, 1, 0}), -1.0);
}

TEST(MatthewsCorrcoef, UndefinedIsZero) {
  // All-zero predictions (a CoLA model that collapsed): the predicted marginal is constant.
  EXPECT_DOUBLE_EQ(electra::matthews_corrcoef({0, 0, 0, 0}, {1, 0, 1, 0}), 0.0);
  EXPECT_DOUBLE_EQ(electra::matthews_corrcoef({1, 1, 1}, {1, 0, 1}), 0.0);
  // Constant gold.
  EXPECT_DOUBLE_EQ(electra::matthews_corrcoef({1, 0, 1}, {1, 1, 1}), 0.0);
}

TEST(MatthewsCorrcoef, MulticlassLikeScikitLearn) {
  // gold counts t=(2,2,2), predicted p=(2,2,2), 4 correct of 6:
  // (4*6 - 12) / sqrt((36 - 12) * (36 - 12)) = 12/24.
  EXPECT_DOUBLE_EQ(electra::matthews_corrcoef({0, 1, 1, 0, 2, 2}, {0, 1, 2, 0, 1, 2}), 0.5);
}

TEST(Pearson, HandWorked) {
  EXPECT_NEAR(electra::pearson({1, 2, 3, 4}, {2, 4, 6, 8}), 1.0, kTol);
  EXPECT_NEAR(electra::pearson({1, 2, 3, 4}, {8, 6, 4, 2}), -1.0, kTol);
  // Centred: x = y-ish (-1.5,-.5,.5,1.5) vs (-1.5,.5,-.5,1.5): 4 / sqrt(5*5) = 0.8.
  EXPECT_NEAR(electra::pearson({1, 2, 3, 4}, {1, 3, 2, 4}), 0.8, kTol);
  // numpy.corrcoef on the same data.
  EXPECT_NEAR(electra::pearson({0.5, 1.7, 2.2, 3.9, 4.1, 6.0}, {1.1, 1.9, 3.5, 3.0, 5.2, 7.7}), 0.9273139234889319,
              kTol);
  // Two points: SciPy returns the sign product exactly.
  EXPECT_EQ(electra::pearson({1, 2}, {5, 3}), -1.0);
  // Never outside [-1, 1] even when rounding would put it there.
  const double r = electra::pearson({0.1, 0.2, 0.3}, {0.1, 0.2, 0.3});
  EXPECT_LE(r, 1.0);
  EXPECT_NEAR(r, 1.0, kTol);
}

TEST(Pearson, ConstantInputIsZero) {
  EXPECT_DOUBLE_EQ(electra::pearson({3, 3, 3}, {1, 2, 3}), 0.0);
  EXPECT_DOUBLE_EQ(electra::pearson({1, 2, 3}, {0.5, 0.5, 0.5}), 0.0);
  EXPECT_DOUBLE_EQ(electra::pearson({7}, {1}), 0.0);  // one point is constant too
}

TEST(Spearman, MonotoneIsOne) {
  EXPECT_NEAR(electra::spearman({1, 2, 3, 4, 5}, {1, 4, 9, 16, 100}), 1.0, kTol);
  EXPECT_NEAR(electra::spearman({1, 2, 3, 4, 5}, {10, 4, 3, 2, -7}), -1.0, kTol);
}

TEST(Spearman, TiesGetAverageRanks) {
  // x ranks (1, 2.5, 2.5, 4), y ranks (1, 3, 2, 4): 4.5 / sqrt(4.5 * 5) = 3 / sqrt(10).
  EXPECT_NEAR(electra::spearman({1, 2, 2, 3}, {1, 3, 2, 4}), 3.0 / std::sqrt(10.0), kTol);
  // Ties on both sides, unsorted input:
  // x ranks (4, 1.5, 5, 1.5, 6, 8, 3, 7), y ranks (3.5, 5, 1.5, 7, 3.5, 7, 1.5, 7);
  // centred cross products sum to 8, squares to 41.5 and 39.
  EXPECT_NEAR(electra::spearman({3, 1, 4, 1, 5, 9, 2, 6}, {2, 7, 1, 8, 2, 8, 1, 8}),
              8.0 / std::sqrt(41.5 * 39.0), kTol);
  EXPECT_DOUBLE_EQ(electra::spearman({1, 1, 1}, {1, 2, 3}), 0.0);  // constant ranks
}

TEST(Classification, BadInputThrows) {
  EXPECT_THROW(electra::accuracy({1, 0}, {1}), electra::Error);
  EXPECT_THROW(electra::accuracy({}, {}), electra::Error);
  EXPECT_THROW(electra::f1_score({1}, {1, 0}), electra::Error);
  EXPECT_THROW(electra::f1_score({}, {}), electra::Error);
  EXPECT_THROW(electra::matthews_corrcoef({1, 0, 1}, {1, 0}), electra::Error);
  EXPECT_THROW(electra::matthews_corrcoef({}, {}), electra::Error);
  EXPECT_THROW(electra::pearson({1, 2, 3}, {1, 2}), electra::Error);
  EXPECT_THROW(electra::pearson({}, {}), electra::Error);
  EXPECT_THROW(electra::spearman({1, 2}, {1, 2, 3}), electra::Error);
  EXPECT_THROW(electra::spearman({}, {}), electra::Error);
}

// ------------------------------------------------------------------ SQuAD

TEST(SquadNormalize, OfficialSteps) {
  using electra::normalize_answer;
  EXPECT_EQ(normalize_answer("The  Cat's   hat!"), "cats hat");   // case, punctuation, article, spaces
  EXPECT_EQ(normalize_answer("An apple, a day."), "apple day");
  EXPECT_EQ(normalize_answer("theater and anthem"), "theater and anthem");  // articles only as words
  EXPECT_EQ(normalize_answer("a an the"), "");
  EXPECT_EQ(normalize_answer("\tHello\n  World \r\f"), "hello world");
  EXPECT_EQ(normalize_answer(""), "");
  // Punctuation goes before articles: "a-team" becomes the word "ateam", not "team".
  EXPECT_EQ(normalize_answer("A-team"), "ateam");
  EXPECT_EQ(normalize_answer("the.the"), "thethe");
  EXPECT_EQ(normalize_answer("x_a"), "xa");  // '_' is in string.punctuation
  EXPECT_EQ(normalize_answer("1a 2 a3"), "1a 2 a3");
  EXPECT_EQ(normalize_answer(R"(!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~)"), "");
}

TEST(SquadNormalize, PythonUnicodeRules) {
  using electra::normalize_answer;
  EXPECT_EQ(normalize_answer("\u00c9COLE"), "\u00e9cole");                       // str.lower() is Unicode
  EXPECT_EQ(normalize_answer("\u00e9 a"), "\u00e9");                             // \b after a non-ASCII letter
  EXPECT_EQ(normalize_answer("\u00e9a"), "\u00e9a");                             // no \b inside "éa"
  EXPECT_EQ(normalize_answer("a\u2019s"), "\u2019s");                            // ’ is not a word character...
  EXPECT_EQ(normalize_answer("\u201cquoted\u201d"), "\u201cquoted\u201d");       // ...nor string.punctuation
  EXPECT_EQ(normalize_answer("foo\u00a0bar the\u3000end"), "foo bar end");       // str.split() whitespace
  EXPECT_EQ(normalize_answer("\u039f\u0394\u039f\u03a3"), "\u03bf\u03b4\u03bf\u03c2");  // final sigma
  EXPECT_EQ(normalize_answer("\u0130stanbul"), "i\u0307stanbul");               // full lowercase of İ
}

TEST(SquadScore, ExactAndF1) {
  EXPECT_EQ(electra::exact_match_score("The Cat", "cat!"), 1.0);
  EXPECT_EQ(electra::exact_match_score("cat", "cats"), 0.0);
  // pred tokens (cat, sat, on, mat), gold (cat, on, mat): P = 3/4, R = 1, F1 = 6/7.
  EXPECT_NEAR(electra::token_f1_score("the cat sat on the mat", "a cat on a mat"), 6.0 / 7.0, kTol);
  // Counter overlap: "cat" counts once. P = 1/3, R = 1/2, F1 = 0.4.
  EXPECT_NEAR(electra::token_f1_score("cat cat cat", "cat dog"), 0.4, kTol);
  EXPECT_EQ(electra::token_f1_score("dog", "cat"), 0.0);
  // v2.0 rule for empty answers: agreement is 1, otherwise 0.
  EXPECT_EQ(electra::token_f1_score("", ""), 1.0);
  EXPECT_EQ(electra::token_f1_score("the", "!"), 1.0);  // both normalise to nothing
  EXPECT_EQ(electra::token_f1_score("", "cat"), 0.0);
  EXPECT_EQ(electra::token_f1_score("cat", ""), 0.0);
}

TEST(SquadEvaluate, Version1WithMissingPrediction) {
  const std::vector<SquadGold> gold = {
      {"q1", {"Denver Broncos", "The Broncos"}},
      {"q2", {"Santa Clara, California"}},
      {"q3", {"gold"}},
      {"q4", {"1958"}},
  };
  const std::map<std::string, std::string> predictions = {
      {"q1", "broncos"},      // EM 1 (second answer), F1 1
      {"q2", "Santa Clara"},  // EM 0, F1: P 1, R 2/3 -> 0.8
      {"q4", "in 1958"},      // EM 0, F1: P 1/2, R 1 -> 2/3
      {"unknown", "ignored"},
  };
  const SquadScores s = electra::evaluate_squad(gold, predictions);
  EXPECT_FALSE(s.version_2);
  EXPECT_EQ(s.total, 4);
  EXPECT_EQ(s.missing, 1);  // q3 scores 0 but still counts
  EXPECT_DOUBLE_EQ(s.exact, 25.0);
  EXPECT_NEAR(s.f1, 100.0 * (1.0 + 0.8 + 2.0 / 3.0) / 4.0, 1e-9);
  EXPECT_EQ(s.has_ans_total, 0);
  EXPECT_EQ(s.best_f1, 0.0);
}

TEST(SquadEvaluate, Version1EmptyTokensScoreF1Zero) {
  // The v1.1 script's F1 is 0 without a shared token, even when both sides normalise to
  // nothing; its exact match is 1. (The v2.0 script would give F1 1 here.)
  const SquadScores s = electra::evaluate_squad({{"q", {"The"}}}, {{"q", "an"}});
  EXPECT_FALSE(s.version_2);
  EXPECT_DOUBLE_EQ(s.exact, 100.0);
  EXPECT_DOUBLE_EQ(s.f1, 0.0);
}

// Five questions, worked through the v2.0 script:
//   id  gold                 prediction  na_prob  raw EM  raw F1
//   q1  Paris                "Paris"     0.1      1       1
//   q2  the Eiffel Tower     "Eiffel"    0.2      0       2/3   (P 1, R 1/2)
//   q3  (none)               ""          0.9      1       1
//   q4  (none)               "London"    0.3      0       0
//   q5  42                   "41"        0.8      0       0
std::vector<SquadGold> v2_gold() {
  return {{"q1", {"Paris"}}, {"q2", {"the Eiffel Tower"}}, {"q3", {}}, {"q4", {}}, {"q5", {"42"}}};
}
std::map<std::string, std::string> v2_predictions() {
  return {{"q1", "Paris"}, {"q2", "Eiffel"}, {"q3", ""}, {"q4", "London"}, {"q5", "41"}};
}
std::map<std::string, double> v2_na_probs() {
  return {{"q1", 0.1}, {"q2", 0.2}, {"q3", 0.9}, {"q4", 0.3}, {"q5", 0.8}};
}

TEST(SquadEvaluate, Version2BreakdownAndBestThreshold) {
  const SquadScores s = electra::evaluate_squad(v2_gold(), v2_predictions(), v2_na_probs());
  EXPECT_TRUE(s.version_2);
  EXPECT_EQ(s.total, 5);
  EXPECT_EQ(s.missing, 0);
  EXPECT_DOUBLE_EQ(s.exact, 40.0);                                  // (1+0+1+0+0)/5
  EXPECT_NEAR(s.f1, 100.0 * (1.0 + 2.0 / 3.0 + 1.0) / 5.0, 1e-9);   // 53.33
  EXPECT_EQ(s.has_ans_total, 3);
  EXPECT_NEAR(s.has_ans_exact, 100.0 / 3.0, 1e-9);
  EXPECT_NEAR(s.has_ans_f1, 100.0 * (1.0 + 2.0 / 3.0) / 3.0, 1e-9);
  EXPECT_EQ(s.no_ans_total, 2);
  EXPECT_DOUBLE_EQ(s.no_ans_exact, 50.0);
  EXPECT_DOUBLE_EQ(s.no_ans_f1, 50.0);
  // Sweep: start at 2 (every question answered "", both unanswerable ones right); by
  // rising na_prob q1 +1 -> 3, q2 +0 (EM) / +2/3 (F1), q4 -1 (non-empty answer to an
  // unanswerable question), q5 +0, q3 +0 (it predicted "").
  // EM: 2, 3*, 3, 2, 2, 2 -> 60 at 0.1 (a tie does not move the threshold).
  EXPECT_DOUBLE_EQ(s.best_exact, 60.0);
  EXPECT_DOUBLE_EQ(s.best_exact_thresh, 0.1);
  // F1: 2, 3, 3.667*, 2.667, 2.667, 2.667 -> 73.33 at 0.2.
  EXPECT_NEAR(s.best_f1, 100.0 * (3.0 + 2.0 / 3.0) / 5.0, 1e-9);
  EXPECT_DOUBLE_EQ(s.best_f1_thresh, 0.2);
}

TEST(SquadEvaluate, Version2NullThreshold) {
  // na_prob > 0.25 answers "": q4 (0.3) becomes right (1, 1), q5 and q3 keep their scores.
  const SquadScores s = electra::evaluate_squad(v2_gold(), v2_predictions(), v2_na_probs(), 0.25);
  EXPECT_DOUBLE_EQ(s.exact, 60.0);
  EXPECT_NEAR(s.f1, 100.0 * (1.0 + 2.0 / 3.0 + 1.0 + 1.0) / 5.0, 1e-9);
  EXPECT_DOUBLE_EQ(s.no_ans_exact, 100.0);
  EXPECT_NEAR(s.has_ans_f1, 100.0 * (1.0 + 2.0 / 3.0) / 3.0, 1e-9);
  // The sweep uses the raw scores, so it does not depend on the threshold.
  EXPECT_DOUBLE_EQ(s.best_exact, 60.0);
  EXPECT_DOUBLE_EQ(s.best_f1_thresh, 0.2);
}

TEST(SquadEvaluate, Version2MissingPrediction) {
  auto predictions = v2_predictions();
  predictions.erase("q3");  // an unanswerable question with no prediction scores 0
  const SquadScores s = electra::evaluate_squad(v2_gold(), predictions, v2_na_probs());
  EXPECT_EQ(s.missing, 1);
  EXPECT_EQ(s.total, 5);
  EXPECT_DOUBLE_EQ(s.exact, 20.0);
  EXPECT_NEAR(s.f1, 100.0 * (1.0 + 2.0 / 3.0) / 5.0, 1e-9);
  EXPECT_EQ(s.no_ans_total, 2);
  EXPECT_DOUBLE_EQ(s.no_ans_exact, 0.0);
  // The sweep starts at 1 (only q4 can be right by answering ""): EM 1, 2*, 2, 1, 1 -> 40.
  EXPECT_DOUBLE_EQ(s.best_exact, 40.0);
  EXPECT_DOUBLE_EQ(s.best_exact_thresh, 0.1);
  EXPECT_NEAR(s.best_f1, 100.0 * (2.0 + 2.0 / 3.0) / 5.0, 1e-9);
}

TEST(SquadEvaluate, Version2WithoutNullOdds) {
  // An unanswerable gold question makes it v2.0; without null odds there is no sweep.
  const std::vector<SquadGold> gold = {{"a", {"x"}}, {"b", {}}, {"c", {"The"}}};
  // "c" has an answer that normalises to nothing: it counts as HasAns but is scored
  // against "" (the v2 script drops such gold answers).
  const SquadScores s = electra::evaluate_squad(gold, {{"a", "x"}, {"b", ""}, {"c", ""}});
  EXPECT_TRUE(s.version_2);
  EXPECT_DOUBLE_EQ(s.exact, 100.0);
  EXPECT_DOUBLE_EQ(s.f1, 100.0);
  EXPECT_EQ(s.has_ans_total, 2);
  EXPECT_EQ(s.no_ans_total, 1);
  EXPECT_DOUBLE_EQ(s.no_ans_f1, 100.0);
  EXPECT_EQ(s.best_exact, 0.0);
  EXPECT_EQ(s.best_f1_thresh, 0.0);
}

TEST(SquadEvaluate, Version2SweepUsesRawPredictionText) {
  // "the" normalises to "" so it scores 1 against an unanswerable question, but the sweep
  // tests the raw text (`if preds[qid]`) and counts it as a wrong answer: 1 -> 0.
  const SquadScores s = electra::evaluate_squad({{"a", {}}}, {{"a", "the"}}, {{"a", 0.5}});
  EXPECT_DOUBLE_EQ(s.exact, 100.0);
  EXPECT_DOUBLE_EQ(s.best_exact, 100.0);
  EXPECT_DOUBLE_EQ(s.best_exact_thresh, 0.0);
}

TEST(SquadEvaluate, NullOddsMakeVersion2) {
  const SquadScores s = electra::evaluate_squad({{"a", {"x"}}}, {{"a", "x"}}, {{"a", 0.7}});
  EXPECT_TRUE(s.version_2);
  EXPECT_EQ(s.no_ans_total, 0);
  EXPECT_DOUBLE_EQ(s.best_exact, 100.0);
  EXPECT_DOUBLE_EQ(s.best_exact_thresh, 0.7);
}

TEST(SquadEvaluate, BadInputThrows) {
  EXPECT_THROW(electra::evaluate_squad({}, {}), electra::Error);
  auto na_probs = v2_na_probs();
  na_probs.erase("q1");  // a predicted question without null odds
  EXPECT_THROW(electra::evaluate_squad(v2_gold(), v2_predictions(), na_probs), electra::Error);
}

// ------------------------------------------------------------------ conlleval

TEST(Conlleval, HandWorkedSentences) {
  // Sentence 1: "the current | account deficit" split in two (boundary error) and
  // "September" typed VP (type error). Sentence 2: a spurious ADVP, an I-NP that starts
  // a chunk after another type (so "sir" is right), and a missed ADVP.
  const Tags gold = {{"B-NP", "B-VP", "B-NP", "I-NP", "I-NP", "I-NP", "B-VP", "I-VP", "B-PP", "B-NP", "I-NP", "I-NP",
                      "I-NP", "B-PP", "B-NP", "O"},
                     {"O", "B-NP", "B-ADVP"}};
  const Tags pred = {{"B-NP", "B-VP", "B-NP", "I-NP", "B-NP", "I-NP", "B-VP", "I-VP", "B-PP", "B-NP", "I-NP", "I-NP",
                      "I-NP", "B-PP", "B-VP", "O"},
                     {"B-ADVP", "I-NP", "O"}};
  const ChunkScores s = electra::conlleval(gold, pred);
  EXPECT_EQ(s.overall.gold, 10);
  EXPECT_EQ(s.overall.predicted, 11);
  EXPECT_EQ(s.overall.correct, 7);  // He, reckons, will narrow, to, only..billion, in, sir
  EXPECT_NEAR(s.overall.precision(), 700.0 / 11.0, kTol);
  EXPECT_DOUBLE_EQ(s.overall.recall(), 70.0);
  const double p = 700.0 / 11.0, r = 70.0;
  EXPECT_NEAR(s.overall.f1(), 2 * p * r / (p + r), kTol);
  EXPECT_EQ(s.tokens, 19);
  EXPECT_EQ(s.correct_tokens, 14);
  EXPECT_NEAR(s.accuracy(), 1400.0 / 19.0, kTol);

  ASSERT_EQ(s.by_type.size(), 4u);
  const auto& np = s.by_type.at("NP");
  EXPECT_EQ(np.gold, 5);
  EXPECT_EQ(np.predicted, 5);
  EXPECT_EQ(np.correct, 3);
  EXPECT_DOUBLE_EQ(np.f1(), 60.0);
  const auto& vp = s.by_type.at("VP");
  EXPECT_EQ(vp.gold, 2);
  EXPECT_EQ(vp.predicted, 3);
  EXPECT_EQ(vp.correct, 2);
  EXPECT_EQ(s.by_type.at("PP").correct, 2);
  const auto& advp = s.by_type.at("ADVP");
  EXPECT_EQ(advp.gold, 1);
  EXPECT_EQ(advp.predicted, 1);
  EXPECT_EQ(advp.correct, 0);
  EXPECT_EQ(advp.f1(), 0.0);
}

TEST(Conlleval, NoPredictedChunks) {
  const ChunkScores s = electra::conlleval({{"B-NP", "I-NP", "B-VP"}}, {{"O", "O", "O"}});
  EXPECT_EQ(s.overall.gold, 2);
  EXPECT_EQ(s.overall.predicted, 0);
  EXPECT_EQ(s.overall.correct, 0);
  EXPECT_EQ(s.overall.precision(), 0.0);
  EXPECT_EQ(s.overall.recall(), 0.0);
  EXPECT_EQ(s.overall.f1(), 0.0);
  EXPECT_EQ(s.accuracy(), 0.0);
  EXPECT_EQ(s.by_type.at("VP").predicted, 0);
}

TEST(Conlleval, EmptyInput) {
  const ChunkScores s = electra::conlleval({}, {});
  EXPECT_EQ(s.tokens, 0);
  EXPECT_EQ(s.accuracy(), 0.0);
  EXPECT_EQ(s.overall.f1(), 0.0);
  EXPECT_TRUE(s.by_type.empty());
}

TEST(Conlleval, IobOneAgreesWithIobTwoOnChunks) {
  // I- after O starts a chunk: the same chunks as B- tags, but the tags differ.
  const ChunkScores s = electra::conlleval({{"I-NP", "I-NP", "O", "I-VP"}}, {{"B-NP", "I-NP", "O", "B-VP"}});
  EXPECT_EQ(s.overall.correct, 2);
  EXPECT_EQ(s.overall.gold, 2);
  EXPECT_EQ(s.overall.predicted, 2);
  EXPECT_DOUBLE_EQ(s.overall.f1(), 100.0);
  EXPECT_DOUBLE_EQ(s.accuracy(), 50.0);
}

TEST(Conlleval, BoundaryAndTypeErrors) {
  // B- inside a run of I- splits it: gold [0-1][2], predicted [0-2]: nothing right.
  ChunkScores s = electra::conlleval({{"I-NP", "I-NP", "B-NP"}}, {{"I-NP", "I-NP", "I-NP"}});
  EXPECT_EQ(s.overall.gold, 2);
  EXPECT_EQ(s.overall.predicted, 1);
  EXPECT_EQ(s.overall.correct, 0);
  // I- of another type starts a new chunk: gold NP[0] VP[1], predicted NP[0-1].
  s = electra::conlleval({{"B-NP", "I-VP"}}, {{"B-NP", "I-NP"}});
  EXPECT_EQ(s.overall.gold, 2);
  EXPECT_EQ(s.overall.predicted, 1);
  EXPECT_EQ(s.overall.correct, 0);
  EXPECT_EQ(s.by_type.at("VP").gold, 1);
  EXPECT_EQ(s.by_type.at("VP").predicted, 0);
  // Same span, different type: found on both sides, correct on neither.
  s = electra::conlleval({{"B-NP", "I-NP"}}, {{"B-VP", "I-VP"}});
  EXPECT_EQ(s.overall.gold, 1);
  EXPECT_EQ(s.overall.predicted, 1);
  EXPECT_EQ(s.overall.correct, 0);
}

TEST(Conlleval, SentenceBoundaryEndsChunks) {
  // Without the boundary, gold "B-NP | I-NP" would be one chunk across two sentences.
  const ChunkScores s = electra::conlleval({{"B-NP"}, {"I-NP"}}, {{"B-NP"}, {"B-NP"}});
  EXPECT_EQ(s.overall.gold, 2);
  EXPECT_EQ(s.overall.correct, 2);
  EXPECT_EQ(s.tokens, 2);
  EXPECT_EQ(s.correct_tokens, 1);
}

TEST(Conlleval, OtherRepresentations) {
  // IOE: E- then I- starts a chunk. Gold [0-1][2-3], predicted [0-3].
  ChunkScores s = electra::conlleval({{"I-NP", "E-NP", "I-NP", "E-NP"}}, {{"I-NP", "I-NP", "I-NP", "E-NP"}});
  EXPECT_EQ(s.overall.gold, 2);
  EXPECT_EQ(s.overall.predicted, 1);
  EXPECT_EQ(s.overall.correct, 0);
  // "[" and "]" chunks are one token long.
  s = electra::conlleval({{"[-NP", "]-NP"}}, {{"[-NP", "]-NP"}});
  EXPECT_EQ(s.overall.gold, 2);
  EXPECT_EQ(s.overall.correct, 2);
  // conlleval has no S- rule: S-NP S-NP is one chunk, like B-NP I-NP would be.
  s = electra::conlleval({{"S-NP", "S-NP"}}, {{"S-NP", "B-NP"}});
  EXPECT_EQ(s.overall.gold, 1);
  EXPECT_EQ(s.overall.predicted, 1);
  EXPECT_EQ(s.overall.correct, 1);
}

TEST(Conlleval, TypesSplitAtFirstHyphen) {
  const ChunkScores s = electra::conlleval({{"B-PP-LOC", "I-PP-LOC"}}, {{"B-PP-LOC", "I-PP"}});
  EXPECT_EQ(s.by_type.at("PP-LOC").gold, 1);
  EXPECT_EQ(s.by_type.at("PP-LOC").predicted, 1);
  EXPECT_EQ(s.by_type.at("PP").predicted, 1);
  EXPECT_EQ(s.overall.correct, 0);
}

TEST(Conlleval, MismatchedLengthsThrow) {
  EXPECT_THROW(electra::conlleval({{"B-NP", "O"}}, {{"B-NP"}}), electra::Error);
  EXPECT_THROW(electra::conlleval({{"B-NP"}, {"O"}}, {{"B-NP"}}), electra::Error);
}

}  // namespace
