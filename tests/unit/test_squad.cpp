#include "electra/tasks/squad.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "electra/util/error.h"

namespace fs = std::filesystem;
using electra::SquadAnswer;
using electra::SquadDecodeOptions;
using electra::SquadExample;
using electra::SquadFeature;
using electra::SquadPrediction;
using electra::SquadWindowOptions;
using electra::WordPieceTokenizer;
using Logits = std::vector<std::vector<float>>;
using Strings = std::vector<std::string>;

namespace {

// A folder of its own under the system temp dir, removed with its files.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("electra_squad_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string write(const std::string& name, const std::string& content) const {
    const fs::path file = path_ / name;
    std::ofstream(file, std::ios::binary) << content;
    return file.string();
  }

 private:
  fs::path path_;
};

// Toy uncased vocabulary: special tokens, single letters, a few words and pieces.
const WordPieceTokenizer& toy() {
  static const TempDir dir;
  static const WordPieceTokenizer tokenizer = WordPieceTokenizer::from_vocab_file(dir.write(
      "vocab.txt",
      "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nc\nd\ne\nf\ng\nh\ni\nj\nq\nx\ny\nwhat\nis\nthe\nanswer\n"
      "here\nunicode\n東\n京\nplay\n##ing\n.\n?\n"));
  return tokenizer;
}

SquadExample example(const std::string& context, const std::string& question, const std::string& answer = "",
                     std::size_t occurrence = 0) {
  SquadExample ex;
  ex.id = "q" + std::to_string(std::hash<std::string>{}(context + question + answer));
  ex.question = question;
  ex.context = context;
  if (!answer.empty()) {
    std::size_t at = ex.context.find(answer);
    for (std::size_t k = 0; k < occurrence; ++k) at = ex.context.find(answer, at + 1);
    EXPECT_NE(at, std::string::npos) << answer;
    ex.answers.push_back({answer, at});
  }
  return ex;
}

SquadWindowOptions windows(std::size_t max_seq_length, std::size_t doc_stride, std::size_t max_query_length = 64) {
  SquadWindowOptions options;
  options.max_seq_length = max_seq_length;
  options.doc_stride = doc_stride;
  options.max_query_length = max_query_length;
  return options;
}

// The context text of each context token of a feature.
Strings context_pieces(const SquadFeature& f, const std::string& context) {
  Strings pieces;
  for (std::size_t t = 0; t < f.input_ids.size(); ++t) {
    if (f.is_context[t]) {
      const auto [begin, end] = f.context_offsets[t];
      pieces.push_back(context.substr(begin, end - begin));
    }
  }
  return pieces;
}

std::vector<int> max_context_of_context_tokens(const SquadFeature& f) {
  std::vector<int> flags;
  for (std::size_t t = 0; t < f.input_ids.size(); ++t) {
    if (f.is_context[t]) flags.push_back(f.max_context[t]);
  }
  return flags;
}

std::string span_text(const SquadFeature& f, const std::string& context) {
  const std::size_t begin = f.context_offsets[f.start_position].first;
  return context.substr(begin, f.context_offsets[f.end_position].second - begin);
}

std::int32_t id(const std::string& token) { return toy().vocab().id(token); }

const std::string kLetters = "a b c d e f g h i j";  // token k spans bytes [2k, 2k+1)

// ---------------------------------------------------------------- windows

TEST(SquadFeatures, LayoutOfOneWindow) {
  const std::vector<SquadExample> examples = {example("a b. c", "what is q?")};
  const auto features = electra::make_squad_features(toy(), examples, windows(64, 16));
  ASSERT_EQ(features.size(), 1u);
  const SquadFeature& f = features[0];
  const std::vector<std::int32_t> expected = {id("[CLS]"), id("what"), id("is"), id("q"), id("?"), id("[SEP]"),
                                              id("a"),     id("b"),    id("."),  id("c"), id("[SEP]")};
  EXPECT_EQ(f.input_ids, expected);
  EXPECT_EQ(f.token_type_ids, (std::vector<std::int32_t>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1}));
  EXPECT_EQ(f.is_context, (std::vector<std::uint8_t>{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0}));
  EXPECT_EQ(f.max_context, f.is_context);  // one window: every context token has its most context here
  using Offsets = std::vector<std::pair<std::size_t, std::size_t>>;
  EXPECT_EQ(f.context_offsets,
            (Offsets{{0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 1}, {2, 3}, {3, 4}, {5, 6}, {0, 0}}));
  EXPECT_EQ(f.example_index, 0u);
  EXPECT_EQ(f.window_index, 0u);
  EXPECT_EQ(f.start_position, 0);  // no answer
  EXPECT_EQ(f.end_position, 0);
}

TEST(SquadFeatures, DocStrideWindowsAndMaxContext) {
  // Question "q" (1 token): max_seq_length 8 leaves 8 - 1 - 3 = 4 context tokens per window.
  const std::vector<SquadExample> examples = {example(kLetters, "q")};
  const auto features = electra::make_squad_features(toy(), examples, windows(8, 2));
  ASSERT_EQ(features.size(), 4u);  // starts 0, 2, 4, 6; the last reaches token 9
  const std::vector<Strings> pieces = {
      {"a", "b", "c", "d"}, {"c", "d", "e", "f"}, {"e", "f", "g", "h"}, {"g", "h", "i", "j"}};
  // BERT's score min(left, right) + 0.01 * length: d is centred better in window 1 than 0, etc.
  const std::vector<std::vector<int>> max_context = {{1, 1, 1, 0}, {0, 1, 1, 0}, {0, 1, 1, 0}, {0, 1, 1, 1}};
  for (std::size_t w = 0; w < features.size(); ++w) {
    SCOPED_TRACE(w);
    EXPECT_EQ(features[w].window_index, w);
    EXPECT_EQ(features[w].input_ids.size(), 8u);
    EXPECT_EQ(context_pieces(features[w], kLetters), pieces[w]);
    EXPECT_EQ(max_context_of_context_tokens(features[w]), max_context[w]);
    EXPECT_EQ(features[w].input_ids.back(), id("[SEP]"));
    EXPECT_EQ(features[w].token_type_ids.back(), 1);
  }
}

TEST(SquadFeatures, LastWindowStopsAtTheEnd) {
  const auto count = [](const std::string& context, std::size_t max_seq, std::size_t stride) {
    return electra::make_squad_features(toy(), {example(context, "q")}, windows(max_seq, stride)).size();
  };
  EXPECT_EQ(count("a b c d e f g h", 8, 2), 3u);   // 0-3, 2-5, 4-7: no window that only repeats tokens
  EXPECT_EQ(count("a b c d e f g h i", 8, 2), 4u); // the fourth holds g h i (3 tokens)
  EXPECT_EQ(count("a b c d", 8, 2), 1u);
  // A stride longer than a window advances one window length: no token is skipped.
  const auto wide = electra::make_squad_features(toy(), {example(kLetters, "q")}, windows(8, 10));
  ASSERT_EQ(wide.size(), 3u);
  EXPECT_EQ(context_pieces(wide[1], kLetters), (Strings{"e", "f", "g", "h"}));
  EXPECT_EQ(context_pieces(wide[2], kLetters), (Strings{"i", "j"}));
}

TEST(SquadFeatures, EveryContextTokenHasExactlyOneMaxContextWindow) {
  std::string context;
  for (int k = 0; k < 37; ++k) context += std::string(1, static_cast<char>('a' + k % 10)) + " ";
  for (std::size_t max_seq : {6u, 7u, 9u, 12u, 20u}) {
    for (std::size_t stride : {1u, 2u, 3u, 5u, 8u}) {
      SCOPED_TRACE(std::to_string(max_seq) + " / " + std::to_string(stride));
      const auto features = electra::make_squad_features(toy(), {example(context, "q")}, windows(max_seq, stride));
      std::vector<int> owners(37, 0), seen(37, 0);
      for (const auto& f : features) {
        for (std::size_t t = 0; t < f.input_ids.size(); ++t) {
          if (!f.is_context[t]) continue;
          const std::size_t token = f.context_offsets[t].first / 2;
          ++seen[token];
          owners[token] += f.max_context[t];
        }
      }
      EXPECT_EQ(owners, std::vector<int>(37, 1));
      EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n >= 1; }));
    }
  }
}

TEST(SquadFeatures, QuestionIsTruncatedAndTooSmallWindowsThrow) {
  const std::vector<SquadExample> examples = {example("a b c", "a b c d e f g h")};
  const auto features = electra::make_squad_features(toy(), examples, windows(10, 2, 3));
  ASSERT_EQ(features.size(), 1u);  // 10 - 3 - 3 = 4 context tokens per window hold all 3
  EXPECT_EQ(std::vector<std::int32_t>(features[0].input_ids.begin(), features[0].input_ids.begin() + 5),
            (std::vector<std::int32_t>{id("[CLS]"), id("a"), id("b"), id("c"), id("[SEP]")}));
  // max_seq_length must hold [CLS] q [SEP] [SEP] and one context token: 3 + 3 + 1 = 7.
  EXPECT_NO_THROW(electra::make_squad_features(toy(), examples, windows(7, 1, 3)));
  try {
    electra::make_squad_features(toy(), examples, windows(6, 1, 3));
    FAIL() << "expected electra::Error";
  } catch (const electra::Error& e) {
    EXPECT_NE(std::string(e.what()).find(examples[0].id), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("max_seq_length"), std::string::npos) << e.what();
  }
  EXPECT_THROW(electra::make_squad_features(toy(), examples, windows(64, 0)), electra::Error);
}

TEST(SquadFeatures, EmptyContextGetsOneWindowWithoutContextTokens) {
  const auto features = electra::make_squad_features(toy(), {example("  ", "q")}, windows(16, 4));
  ASSERT_EQ(features.size(), 1u);
  EXPECT_EQ(features[0].input_ids, (std::vector<std::int32_t>{id("[CLS]"), id("q"), id("[SEP]"), id("[SEP]")}));
  EXPECT_EQ(features[0].token_type_ids, (std::vector<std::int32_t>{0, 0, 0, 1}));
}

// ---------------------------------------------------------------- targets

TEST(SquadFeatures, TargetsAcrossWindowBoundaries) {
  // Windows (max_seq 8, stride 2, question "q"): [a b c d] [c d e f] [e f g h] [g h i j]; prefix 3 tokens.
  const auto targets = [](const std::string& answer) {
    const SquadExample ex = example(kLetters, "q", answer);
    std::vector<std::pair<int, int>> out;
    for (const auto& f : electra::make_squad_features(toy(), {ex}, windows(8, 2))) {
      out.emplace_back(f.start_position, f.end_position);
      if (f.start_position != 0) {
        EXPECT_EQ(span_text(f, ex.context), answer);
      }
    }
    return out;
  };
  using Targets = std::vector<std::pair<int, int>>;
  EXPECT_EQ(targets("a b"), (Targets{{3, 4}, {0, 0}, {0, 0}, {0, 0}}));
  // d e straddles the boundary of window 0 (ends at d) and window 2 (starts at e): only window 1 holds it.
  EXPECT_EQ(targets("d e"), (Targets{{0, 0}, {4, 5}, {0, 0}, {0, 0}}));
  EXPECT_EQ(targets("e"), (Targets{{0, 0}, {5, 5}, {3, 3}, {0, 0}}));
  EXPECT_EQ(targets("i j"), (Targets{{0, 0}, {0, 0}, {0, 0}, {5, 6}}));
  // Longer than any window: no window holds all of it.
  EXPECT_EQ(targets("c d e f g"), (Targets{{0, 0}, {0, 0}, {0, 0}, {0, 0}}));
}

TEST(SquadFeatures, TargetsUseTheFirstAnswerAndWordPieces) {
  SquadExample ex = example("a playing b", "q", "playing");
  ex.answers.push_back({"b", ex.context.find('b')});
  auto features = electra::make_squad_features(toy(), {ex}, windows(64, 16));
  ASSERT_EQ(features.size(), 1u);
  EXPECT_EQ(context_pieces(features[0], ex.context), (Strings{"a", "play", "ing", "b"}));
  EXPECT_EQ(features[0].start_position, 4);  // play
  EXPECT_EQ(features[0].end_position, 5);    // ##ing
  // An answer inside a word maps to the whole pieces that overlap it.
  ex.answers = {{"layi", ex.context.find("layi")}};
  features = electra::make_squad_features(toy(), {ex}, windows(64, 16));
  EXPECT_EQ(span_text(features[0], ex.context), "playing");
}

TEST(SquadFeatures, ImpossibleAndUnlabelledQuestionsTargetCls) {
  SquadExample impossible = example(kLetters, "q", "c");
  impossible.is_impossible = true;
  const SquadExample unlabelled = example(kLetters, "q");
  for (const auto& f : electra::make_squad_features(toy(), {impossible, unlabelled}, windows(8, 2))) {
    EXPECT_EQ(f.start_position, 0);
    EXPECT_EQ(f.end_position, 0);
  }
}

// ---------------------------------------------------------------- reading

std::string squad_json(const std::string& qas, const std::string& context = "a b c d") {
  return R"({"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": ")" + context +
         R"(", "qas": [)" + qas + "]}]}]}";
}

TEST(SquadRead, Version1AndVersion2) {
  const TempDir dir;
  const auto v1 = electra::read_squad(dir.write("v1.json", squad_json(
      R"({"id": "1", "question": "what?",
          "answers": [{"text": "b c", "answer_start": 2}, {"text": "c", "answer_start": 4}]},
         {"id": "2", "question": "who?", "answers": []})")));
  ASSERT_EQ(v1.size(), 2u);
  EXPECT_EQ(v1[0].id, "1");
  EXPECT_EQ(v1[0].title, "T");
  EXPECT_EQ(v1[0].question, "what?");
  EXPECT_EQ(v1[0].context, "a b c d");
  ASSERT_EQ(v1[0].answers.size(), 2u);
  EXPECT_EQ(v1[0].answers[1].text, "c");
  EXPECT_EQ(v1[0].answers[1].byte_start, 4u);
  EXPECT_FALSE(v1[0].is_impossible);
  EXPECT_TRUE(v1[1].answers.empty());

  const auto v2 = electra::read_squad(dir.write("v2.json", squad_json(
      R"({"id": "1", "question": "what?", "is_impossible": false, "answers": [{"text": "d", "answer_start": 6}]},
         {"id": "2", "question": "who?", "is_impossible": true, "answers": [],
          "plausible_answers": [{"text": "a", "answer_start": 0}]},
         {"id": "3", "question": "unlabelled, no answers key"})")));
  ASSERT_EQ(v2.size(), 3u);
  EXPECT_FALSE(v2[0].is_impossible);
  EXPECT_EQ(v2[0].answers[0].byte_start, 6u);
  EXPECT_TRUE(v2[1].is_impossible);
  EXPECT_TRUE(v2[1].answers.empty());  // plausible answers are not answers
  EXPECT_TRUE(v2[2].answers.empty());
}

TEST(SquadRead, AnswerStartCountsCharactersNotBytes) {
  // Before "answer": 19 code points (Ü ï ö é: 2 bytes, the emoji 4, 東 京 —: 3) = 32 bytes.
  const std::string context = "Ünïcödé 😀 東京 — the answer is here.";
  const TempDir dir;
  const auto examples = electra::read_squad(dir.write("u.json", squad_json(
      R"({"id": "u", "question": "what is the answer?", "answers": [{"text": "answer", "answer_start": 19}]})",
      context)));
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].answers[0].byte_start, 32u);
  const auto features = electra::make_squad_features(toy(), examples, windows(64, 16));
  ASSERT_EQ(features.size(), 1u);
  EXPECT_EQ(context_pieces(features[0], context),
            (Strings{"Ünïcödé", "😀", "東", "京", "—", "the", "answer", "is", "here", "."}));
  EXPECT_EQ(features[0].input_ids[static_cast<std::size_t>(features[0].start_position)], id("answer"));
  EXPECT_EQ(span_text(features[0], context), "answer");

  // answer_start as UTF-16 units (20: the emoji is a surrogate pair) does not match.
  EXPECT_THROW(electra::read_squad(dir.write("utf16.json", squad_json(
                   R"({"id": "u", "question": "?", "answers": [{"text": "answer", "answer_start": 20}]})", context))),
               electra::Error);
}

// The message of the error read_squad throws on `content`, which must name the file.
std::string read_error(const std::string& content) {
  const TempDir dir;
  const std::string path = dir.write("bad-squad.json", content);
  try {
    electra::read_squad(path);
  } catch (const electra::Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    return message;
  }
  ADD_FAILURE() << "no error for " << content;
  return "";
}

TEST(SquadRead, MalformedFilesNameTheFileAndTheQuestion) {
  EXPECT_NE(read_error(R"({"data": [{"paragraphs": [)").find("invalid JSON at byte"), std::string::npos);
  EXPECT_NE(read_error(R"({"version": "1.1"})").find("missing \"data\""), std::string::npos);
  EXPECT_NE(read_error(R"({"data": {}})").find("\"data\" must be a list"), std::string::npos);
  EXPECT_NE(read_error(R"({"data": [{"paragraphs": [{"qas": []}]}]})").find("missing \"context\""),
            std::string::npos);
  EXPECT_NE(read_error(squad_json(R"({"question": "?", "answers": []})")).find("missing \"id\""), std::string::npos);

  std::string message = read_error(squad_json(R"({"id": "q-17", "answers": []})"));
  EXPECT_NE(message.find("missing \"question\""), std::string::npos) << message;
  EXPECT_NE(message.find("q-17"), std::string::npos) << message;

  message = read_error(squad_json(R"({"id": "q-18", "question": "?", "answers": [{"text": "c", "answer_start": 2}]})"));
  EXPECT_NE(message.find("q-18"), std::string::npos) << message;
  EXPECT_NE(message.find("does not match"), std::string::npos) << message;

  message =
      read_error(squad_json(R"({"id": "q-19", "question": "?", "answers": [{"text": "c", "answer_start": 99}]})"));
  EXPECT_NE(message.find("q-19"), std::string::npos) << message;
  EXPECT_NE(read_error(squad_json(R"({"id": "q", "question": "?", "answers": [{"text": "c"}]})")).find("answer_start"),
            std::string::npos);
  EXPECT_NE(read_error(squad_json(R"({"id": 5, "question": "?"})")).find("\"id\" must be a string"), std::string::npos);
  EXPECT_NE(read_error(squad_json(R"({"id": "d", "question": "?"}, {"id": "d", "question": "?"})")).find("duplicate"),
            std::string::npos);
  EXPECT_NE(read_error(squad_json(R"({"id": "q", "question": "?", "is_impossible": "no"})")).find("is_impossible"),
            std::string::npos);

  try {
    electra::read_squad("/nonexistent/dev-v1.1.json");
    FAIL() << "expected electra::Error";
  } catch (const electra::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dev-v1.1.json"), std::string::npos);
  }
}

// ---------------------------------------------------------------- decoding

// Logits of `fill` everywhere, with the given (position, value) pairs set.
std::vector<float> logits(const SquadFeature& f, std::vector<std::pair<std::size_t, float>> set, float fill = -10) {
  std::vector<float> out(f.input_ids.size(), fill);
  for (const auto& [position, value] : set) out.at(position) = value;
  return out;
}

SquadDecodeOptions decoding(std::size_t n_best, std::size_t max_answer_length = 30, bool version_2 = false,
                            double null_threshold = 0) {
  SquadDecodeOptions options;
  options.n_best = n_best;
  options.max_answer_length = max_answer_length;
  options.version_2 = version_2;
  options.null_threshold = null_threshold;
  return options;
}

Strings texts(const SquadPrediction& p) {
  Strings out;
  for (const auto& c : p.nbest) out.push_back(c.text);
  return out;
}

double probability_sum(const SquadPrediction& p) {
  double total = 0;
  for (const auto& c : p.nbest) total += c.probability;
  return total;
}

std::vector<double> softmax(std::vector<double> scores) {
  double total = 0;
  for (double& s : scores) total += (s = std::exp(s));
  for (double& s : scores) s /= total;
  return scores;
}

// One window over kLetters with question "q": token k of the context sits at position k + 3.
struct OneWindow {
  std::vector<SquadExample> examples = {example(kLetters, "q")};
  std::vector<SquadFeature> features = electra::make_squad_features(toy(), examples, windows(64, 16));
};

TEST(SquadDecode, BestSpanAndNBestWithProbabilities) {
  const OneWindow w;
  const auto& f = w.features[0];
  // Starts: c (5) then b (3); ends: d (4) then b (2). Everything else far lower.
  const Logits starts = {logits(f, {{5, 5}, {4, 3}})}, ends = {logits(f, {{6, 4}, {4, 2}})};
  const auto predictions = electra::decode_squad(w.examples, w.features, starts, ends, decoding(3));
  ASSERT_EQ(predictions.size(), 1u);
  const SquadPrediction& p = predictions[0];
  EXPECT_EQ(p.id, w.examples[0].id);
  EXPECT_EQ(p.text, "c d");
  // (c, d) = 9, (b, d) = 7, (b, b) = 5; (c, b) ends before it starts; the third-best start and end are [CLS].
  ASSERT_EQ(texts(p), (Strings{"c d", "b c d", "b"}));
  EXPECT_DOUBLE_EQ(p.nbest[1].start_logit, 3);
  EXPECT_DOUBLE_EQ(p.nbest[1].end_logit, 4);
  const auto expected = softmax({9, 7, 5});
  for (std::size_t k = 0; k < 3; ++k) EXPECT_NEAR(p.nbest[k].probability, expected[k], 1e-12);
  EXPECT_NEAR(probability_sum(p), 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(p.null_score_diff, 0);  // v1: not computed
}

TEST(SquadDecode, MaxAnswerLengthAndNBestLimit) {
  const OneWindow w;
  const auto& f = w.features[0];
  const Logits starts = {logits(f, {{3, 6}, {5, 5}})}, ends = {logits(f, {{8, 6}, {6, 4}})};
  // (a, f) = 12 is 6 tokens long; (a, d) = 10 is 4; (c, f) = 11 is 4; (c, d) = 9 is 2.
  EXPECT_EQ(texts(electra::decode_squad(w.examples, w.features, starts, ends, decoding(3, 30))[0]),
            (Strings{"a b c d e f", "c d e f", "a b c d"}));
  EXPECT_EQ(texts(electra::decode_squad(w.examples, w.features, starts, ends, decoding(3, 4))[0]),
            (Strings{"c d e f", "a b c d", "c d"}));
  EXPECT_EQ(texts(electra::decode_squad(w.examples, w.features, starts, ends, decoding(3, 2))[0]), (Strings{"c d"}));
  EXPECT_EQ(texts(electra::decode_squad(w.examples, w.features, starts, ends, decoding(1, 30))[0]),
            (Strings{"a b c d e f"}));
}

TEST(SquadDecode, DuplicateTextsKeepTheBestScore) {
  const std::vector<SquadExample> examples = {example("x a x", "q")};
  const auto features = electra::make_squad_features(toy(), examples, windows(64, 16));
  const auto& f = features[0];
  // Positions: x = 3, a = 4, x = 5. "x" from (3,3) scores 6 and from (5,5) scores 4.
  const Logits starts = {logits(f, {{3, 3}, {5, 2}})}, ends = {logits(f, {{3, 3}, {5, 2}})};
  const SquadPrediction p = electra::decode_squad(examples, features, starts, ends, decoding(5))[0];
  EXPECT_EQ(texts(p), (Strings{"x", "x a x"}));
  EXPECT_DOUBLE_EQ(p.nbest[0].start_logit + p.nbest[0].end_logit, 6);
  EXPECT_NEAR(probability_sum(p), 1.0, 1e-12);
}

TEST(SquadDecode, StartsWithoutMaxContextAreSkippedAndWindowsMerge) {
  // Windows [a b c d] [c d e f] [e f g h] [g h i j]: d has its max context in window 1 (position 4),
  // not in window 0 (position 6).
  const std::vector<SquadExample> examples = {example(kLetters, "q")};
  const auto features = electra::make_squad_features(toy(), examples, windows(8, 2));
  ASSERT_EQ(features.size(), 4u);
  Logits starts, ends;
  for (const auto& f : features) {
    starts.push_back(logits(f, {}));
    ends.push_back(logits(f, {}));
  }
  starts[0][6] = ends[0][6] = 10;  // "d" from window 0: ignored
  starts[1][4] = ends[1][4] = 1;   // "d" from window 1
  starts[3][4] = 2;                // "h i" from window 3 (g h i j at 3..6): 2 + 0.5
  ends[3][5] = 0.5;
  const SquadPrediction p = electra::decode_squad(examples, features, starts, ends, decoding(2))[0];
  EXPECT_EQ(p.text, "h i");
  EXPECT_EQ(texts(p), (Strings{"h i", "d"}));
  EXPECT_DOUBLE_EQ(p.nbest[1].start_logit, 1);
}

TEST(SquadDecode, Version2NullAnswer) {
  const std::vector<SquadExample> examples = {example(kLetters, "q")};
  const auto features = electra::make_squad_features(toy(), examples, windows(8, 2));
  Logits starts, ends;
  for (const auto& f : features) {
    starts.push_back(logits(f, {}));
    ends.push_back(logits(f, {}));
  }
  // Null scores per window: 4, 1.5, 3, 2.5 -> the example's null score is 1.5 (window 1).
  const std::vector<std::pair<float, float>> cls = {{2, 2}, {1, 0.5f}, {1, 2}, {2, 0.5f}};
  for (std::size_t w = 0; w < 4; ++w) std::tie(starts[w][0], ends[w][0]) = cls[w];
  starts[1][4] = 1.5;  // "d" = 3
  ends[1][4] = 1.5;
  starts[2][4] = 0.5;  // "f" = 1
  ends[2][4] = 0.5;

  // n_best 3: the third start and end of each window are question tokens, so no low-scoring spans.
  auto p = electra::decode_squad(examples, features, starts, ends, decoding(3, 30, true))[0];
  EXPECT_DOUBLE_EQ(p.null_score_diff, 1.5 - 3);
  EXPECT_EQ(p.text, "d");  // -1.5 <= threshold 0
  ASSERT_EQ(texts(p), (Strings{"d", "", "f"}));  // "" takes its place by score
  EXPECT_DOUBLE_EQ(p.nbest[1].start_logit, 1);
  EXPECT_DOUBLE_EQ(p.nbest[1].end_logit, 0.5);
  const auto expected = softmax({3, 1.5, 1});
  for (std::size_t k = 0; k < 3; ++k) EXPECT_NEAR(p.nbest[k].probability, expected[k], 1e-12);

  // The threshold decides: null - best = -1.5 > -2 answers "".
  p = electra::decode_squad(examples, features, starts, ends, decoding(3, 30, true, -2))[0];
  EXPECT_EQ(p.text, "");
  EXPECT_DOUBLE_EQ(p.null_score_diff, -1.5);
  EXPECT_EQ(texts(p), (Strings{"d", "", "f"}));

  // A null score above the best span wins at threshold 0 and heads the n-best.
  starts[1][0] = 4;  // window 1's null: 4.5; the minimum is now 2.5 (window 3)
  ends[1][4] = 0;    // "d" = 1.5
  p = electra::decode_squad(examples, features, starts, ends, decoding(3, 30, true))[0];
  EXPECT_DOUBLE_EQ(p.null_score_diff, 2.5 - 1.5);
  EXPECT_EQ(p.text, "");
  EXPECT_EQ(texts(p), (Strings{"", "d", "f"}));
  EXPECT_NEAR(probability_sum(p), 1.0, 1e-12);

  EXPECT_DOUBLE_EQ(p.nbest[0].start_logit, 2);  // window 3's [CLS] logits
  EXPECT_DOUBLE_EQ(p.nbest[0].end_logit, 0.5);
}

TEST(SquadDecode, Version2AnswerableClassifierGivesTheNullOdds) {
  const std::vector<SquadExample> examples = {example(kLetters, "q")};
  const auto features = electra::make_squad_features(toy(), examples, windows(8, 2));
  ASSERT_EQ(features.size(), 4u);
  Logits starts, ends;
  for (const auto& f : features) {
    starts.push_back(logits(f, {{0, 5}}));  // span null scores that would answer "" everywhere
    ends.push_back(logits(f, {{0, 5}}));
  }
  starts[1][4] = 1.5;  // "d" = 3
  ends[1][4] = 1.5;
  // The question's null odds: the smallest window logit (-0.5), whatever the span scores say.
  const std::vector<float> no_answer = {3, -0.5f, 1, 2};
  auto p = electra::decode_squad(examples, features, starts, ends, decoding(3, 30, true), no_answer)[0];
  EXPECT_DOUBLE_EQ(p.null_score_diff, -0.5);
  EXPECT_EQ(p.text, "d");
  EXPECT_EQ(texts(p).front(), "");  // the n-best still ranks by span scores (null 10 > 3)
  // A threshold below the odds answers "".
  p = electra::decode_squad(examples, features, starts, ends, decoding(3, 30, true, -1), no_answer)[0];
  EXPECT_EQ(p.text, "");
  // One logit per feature or none.
  EXPECT_THROW(electra::decode_squad(examples, features, starts, ends, decoding(3, 30, true), {1, 2}), electra::Error);
}

TEST(SquadDecode, Version2NullIsAppendedWhenOutsideTheNBest) {
  const OneWindow w;
  const auto& f = w.features[0];
  const Logits starts = {logits(f, {{0, -3}, {5, 5}, {4, 3}})}, ends = {logits(f, {{0, -3}, {6, 4}, {4, 2}})};
  const SquadPrediction p = electra::decode_squad(w.examples, w.features, starts, ends, decoding(2, 30, true))[0];
  EXPECT_EQ(texts(p), (Strings{"c d", "b c d", ""}));  // n_best spans, then the null answer
  EXPECT_DOUBLE_EQ(p.null_score_diff, -6 - 9);
  EXPECT_EQ(p.text, "c d");
  EXPECT_NEAR(probability_sum(p), 1.0, 1e-12);
}

TEST(SquadDecode, NoValidSpanAnswersEmpty) {
  const OneWindow w;
  const auto& f = w.features[0];
  // The only top start and end (n_best 1) are question tokens.
  const Logits starts = {logits(f, {{1, 5}})}, ends = {logits(f, {{1, 5}})};
  SquadPrediction p = electra::decode_squad(w.examples, w.features, starts, ends, decoding(1))[0];
  EXPECT_EQ(p.text, "");
  ASSERT_EQ(p.nbest.size(), 1u);
  EXPECT_EQ(p.nbest[0].text, "");
  EXPECT_DOUBLE_EQ(p.nbest[0].probability, 1);

  p = electra::decode_squad(w.examples, w.features, starts, ends, decoding(1, 30, true))[0];
  EXPECT_EQ(p.text, "");
  EXPECT_EQ(texts(p), (Strings{""}));
  EXPECT_DOUBLE_EQ(p.nbest[0].start_logit, -10);
  EXPECT_EQ(p.null_score_diff, std::numeric_limits<double>::max());  // null wins at any threshold
}

TEST(SquadDecode, ExamplesInOrderAndBadInputsThrow) {
  const std::vector<SquadExample> examples = {example("a b", "q"), example("c d", "q")};
  const auto features = electra::make_squad_features(toy(), examples, windows(64, 16));
  ASSERT_EQ(features.size(), 2u);
  const Logits starts = {logits(features[0], {{4, 1}}), logits(features[1], {{3, 1}})};
  const Logits ends = {logits(features[0], {{4, 1}}), logits(features[1], {{3, 1}})};
  const auto predictions = electra::decode_squad(examples, features, starts, ends, decoding(20));
  ASSERT_EQ(predictions.size(), 2u);
  EXPECT_EQ(predictions[0].text, "b");
  EXPECT_EQ(predictions[1].text, "c");
  EXPECT_EQ(predictions[1].id, examples[1].id);

  EXPECT_THROW(electra::decode_squad(examples, features, {starts[0]}, ends, decoding(20)), electra::Error);
  Logits short_row = ends;
  short_row[1].pop_back();
  EXPECT_THROW(electra::decode_squad(examples, features, starts, short_row, decoding(20)), electra::Error);
  EXPECT_THROW(electra::decode_squad(examples, {features[0]}, {starts[0]}, {ends[0]}, decoding(20)),
               electra::Error);  // example 1 has no feature
  EXPECT_THROW(electra::decode_squad(examples, features, starts, ends, decoding(0)), electra::Error);
}

// ---------------------------------------------------------------- real data (ELECTRA_DATA_DIR)

std::string data_dir() {
  const char* dir = std::getenv("ELECTRA_DATA_DIR");
  return dir == nullptr ? "" : dir;
}

#define REQUIRE_DATA()                                                   \
  if (data_dir().empty()) GTEST_SKIP() << "set ELECTRA_DATA_DIR to run"; \
  static_assert(true)

TEST(SquadRealData, QuestionCounts) {
  REQUIRE_DATA();
  const auto v1 = electra::read_squad(data_dir() + "/squad/v1.1/dev-v1.1.json");
  EXPECT_EQ(v1.size(), 10570u);
  EXPECT_TRUE(std::all_of(v1.begin(), v1.end(), [](const SquadExample& e) { return !e.answers.empty(); }));
  const auto dev2 = electra::read_squad(data_dir() + "/squad/v2.0/dev-v2.0.json");
  EXPECT_EQ(dev2.size(), 6078u);
  const auto impossible =
      std::count_if(dev2.begin(), dev2.end(), [](const SquadExample& e) { return e.is_impossible; });
  EXPECT_EQ(impossible, 3168);
  for (const auto& e : dev2) EXPECT_EQ(e.answers.empty(), e.is_impossible) << e.id;
  const auto test2 = electra::read_squad(data_dir() + "/squad/v2.0/test-v2.0.json");
  EXPECT_EQ(test2.size(), 5915u);
}

// The official normalisation (lowercase, no punctuation, no articles, single spaces), ASCII only:
// enough to compare recovered spans with their gold text.
std::string normalize(const std::string& text) {
  std::string words;
  for (char c : text) {
    if (std::ispunct(static_cast<unsigned char>(c))) continue;
    words += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::istringstream in(words);
  std::string word, out;
  while (in >> word) {
    if (word == "a" || word == "an" || word == "the") continue;
    out += (out.empty() ? "" : " ") + word;
  }
  return out;
}

// One-hot logits at the gold start and end of every window that holds the answer must decode to
// the answer. The misses are inherent: answers that start or end inside a word come back widened
// to whole wordpieces ("gold" in "golden", "£20,980" for "20,980"), and answers longer than
// max_answer_length (30 tokens) cannot be produced at all.
TEST(SquadRealData, GoldLogitsRoundTripOnV11Dev) {
  REQUIRE_DATA();
  const auto t0 = std::chrono::steady_clock::now();
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(data_dir() + "/vocab/bert-base-uncased-vocab.txt");
  const auto examples = electra::read_squad(data_dir() + "/squad/v1.1/dev-v1.1.json");
  const auto features = electra::make_squad_features(tokenizer, examples, SquadWindowOptions{});
  Logits starts, ends;
  std::vector<bool> in_window(examples.size(), false);
  for (const auto& f : features) {
    EXPECT_LE(f.input_ids.size(), 384u);
    starts.emplace_back(f.input_ids.size(), 0.0f);
    ends.emplace_back(f.input_ids.size(), 0.0f);
    if (f.start_position > 0) {
      starts.back()[static_cast<std::size_t>(f.start_position)] = 10;
      ends.back()[static_cast<std::size_t>(f.end_position)] = 10;
      in_window[f.example_index] = true;
    }
  }
  const auto predictions = electra::decode_squad(examples, features, starts, ends, SquadDecodeOptions{});
  ASSERT_EQ(predictions.size(), examples.size());
  std::size_t total = 0, exact = 0;
  for (std::size_t e = 0; e < examples.size(); ++e) {
    if (!in_window[e]) continue;
    ++total;
    if (normalize(predictions[e].text) == normalize(examples[e].answers[0].text)) ++exact;
  }
  const double rate = static_cast<double>(exact) / static_cast<double>(total);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[squad] v1.1 dev: " << features.size() << " windows, " << total << " of " << examples.size()
            << " answers in a window, gold-logit round trip " << exact << "/" << total << " = " << 100 * rate
            << "% (" << seconds << " s)\n";
  EXPECT_GE(total, examples.size() * 99 / 100);
  EXPECT_GE(rate, 0.99);
}

}  // namespace
