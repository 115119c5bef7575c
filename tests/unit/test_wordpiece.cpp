#include "electra/tokenization/wordpiece.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "electra/util/error.h"

namespace fs = std::filesystem;
using electra::EncodeOptions;
using electra::Encoding;
using electra::Token;
using electra::Truncation;
using electra::Vocab;
using electra::WordPieceOptions;
using electra::WordPieceTokenizer;
using Offsets = std::vector<std::pair<std::size_t, std::size_t>>;
using Strings = std::vector<std::string>;

namespace {

const std::string kToyVocab = ELECTRA_SOURCE_DIR "/tests/fixtures/wordpiece_toy_vocab.txt";

const WordPieceTokenizer& toy() {
  static const WordPieceTokenizer tokenizer = WordPieceTokenizer::from_vocab_file(kToyVocab);
  return tokenizer;
}

const WordPieceTokenizer& toy_cased() {
  static const WordPieceTokenizer tokenizer = [] {
    WordPieceOptions options;
    options.lowercase = false;
    return WordPieceTokenizer::from_vocab_file(kToyVocab, options);
  }();
  return tokenizer;
}

// The real BERT uncased vocabulary, or "" when ELECTRA_DATA_DIR is not set.
std::string bert_vocab_path() {
  const char* data = std::getenv("ELECTRA_DATA_DIR");
  if (data == nullptr || *data == '\0') return "";
  return std::string(data) + "/vocab/bert-base-uncased-vocab.txt";
}

std::string fixtures_dir() {
#ifdef ELECTRA_FIXTURES_DIR
  return ELECTRA_FIXTURES_DIR;
#else
  return ELECTRA_BINARY_DIR "/fixtures";
#endif
}

Strings texts(const std::vector<Token>& tokens) {
  Strings out;
  for (const auto& t : tokens) out.push_back(t.text);
  return out;
}

std::vector<std::int32_t> ids(const std::vector<Token>& tokens) {
  std::vector<std::int32_t> out;
  for (const auto& t : tokens) out.push_back(t.id);
  return out;
}

Offsets spans(const std::vector<Token>& tokens) {
  Offsets out;
  for (const auto& t : tokens) out.emplace_back(t.begin, t.end);
  return out;
}

std::string from_hex(const std::string& hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

// Positions where a well-formed UTF-8 character starts or ends (every position
// except those inside a multi-byte character).
std::vector<bool> char_boundaries(const std::string& text) {
  std::vector<bool> boundary(text.size() + 1, true);
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::size_t length = s[i] >= 0xF0 ? 4 : s[i] >= 0xE0 ? 3 : s[i] >= 0xC0 ? 2 : 1;
    if (length == 1 || i + length > text.size()) continue;
    bool well_formed = true;
    for (std::size_t k = 1; k < length; ++k) well_formed &= (s[i + k] & 0xC0) == 0x80;
    if (!well_formed) continue;
    for (std::size_t k = 1; k < length; ++k) boundary[i + k] = false;
    i += length - 1;
  }
  return boundary;
}

bool is_special(const std::string& token) {
  return token == "[CLS]" || token == "[SEP]" || token == "[PAD]" || token == "[MASK]" ||
         token == "[UNK]";
}

// Offsets are inside the text, on character boundaries, non-empty and in order;
// special tokens span exactly their text; the wordpieces of each basic word
// spell the word and lie inside its span.
void check_offsets(const WordPieceTokenizer& tokenizer, const std::string& text) {
  const auto boundary = char_boundaries(text);
  const auto words = tokenizer.basic_tokenize(text);
  const auto pieces = tokenizer.tokenize(text);
  for (const auto& list : {words, pieces}) {
    std::size_t previous_begin = 0;
    for (const auto& t : list) {
      ASSERT_LT(t.begin, t.end) << t.text;
      ASSERT_LE(t.end, text.size()) << t.text;
      EXPECT_TRUE(boundary[t.begin] && boundary[t.end]) << t.text << " " << t.begin << "-" << t.end;
      EXPECT_GE(t.begin, previous_begin) << t.text;
      previous_begin = t.begin;
    }
  }
  std::size_t p = 0;
  for (const auto& word : words) {
    ASSERT_LT(p, pieces.size()) << "no wordpiece for word " << word.text;
    if (is_special(word.text) || pieces[p].text == "[UNK]") {
      EXPECT_EQ(pieces[p].begin, word.begin) << word.text;
      EXPECT_EQ(pieces[p].end, word.end) << word.text;
      if (is_special(word.text)) {
        EXPECT_EQ(text.substr(word.begin, word.end - word.begin), word.text);
      }
      ++p;
      continue;
    }
    std::string spelled;
    while (spelled.size() < word.text.size() && p < pieces.size()) {
      const Token& piece = pieces[p++];
      spelled += spelled.empty() ? piece.text : piece.text.substr(2);
      EXPECT_GE(piece.begin, word.begin) << piece.text << " in " << word.text;
      EXPECT_LE(piece.end, word.end) << piece.text << " in " << word.text;
    }
    EXPECT_EQ(spelled, word.text);
  }
  EXPECT_EQ(p, pieces.size());
}

// Re-tokenizing the source span of a basic word gives that word back. Not true
// for a word that ends in a non-final sigma: the final-sigma rule looks at the
// characters after it, which the span does not contain.
void check_spans_reproduce_words(const WordPieceTokenizer& tokenizer, const std::string& text) {
  for (const auto& word : tokenizer.basic_tokenize(text)) {
    if (word.text.size() >= 2 && word.text.compare(word.text.size() - 2, 2, "\u03C3") == 0)
      continue;
    const auto again = tokenizer.basic_tokenize(text.substr(word.begin, word.end - word.begin));
    EXPECT_EQ(texts(again), Strings{word.text}) << "span " << word.begin << "-" << word.end;
  }
}

// ---------------------------------------------------------------------------
// BERT's own examples.

TEST(BasicTokenizer, BertExamples) {
  EXPECT_EQ(texts(toy().basic_tokenize(" \tHeLLo!how  \n Are yoU?  ")),
            (Strings{"hello", "!", "how", "are", "you", "?"}));
  EXPECT_EQ(texts(toy().basic_tokenize("H\u00E9llo")), Strings{"hello"});
  EXPECT_EQ(texts(toy_cased().basic_tokenize(" \tHeLLo!how  \n Are yoU?  ")),
            (Strings{"HeLLo", "!", "how", "Are", "yoU", "?"}));
  EXPECT_EQ(texts(toy().basic_tokenize("ah\u535A\u63A8zz")),
            (Strings{"ah", "\u535A", "\u63A8", "zz"}));
}

TEST(WordPiece, BertExamples) {
  const WordPieceTokenizer tokenizer(Vocab({"[UNK]", "[CLS]", "[SEP]", "want", "##want", "##ed",
                                            "wa", "un", "runn", "##ing", "[PAD]", "[MASK]"}));
  EXPECT_TRUE(tokenizer.tokenize("").empty());
  EXPECT_EQ(texts(tokenizer.tokenize("unwanted running")),
            (Strings{"un", "##want", "##ed", "runn", "##ing"}));
  EXPECT_EQ(ids(tokenizer.tokenize("unwanted running")),
            (std::vector<std::int32_t>{7, 4, 5, 8, 9}));
  EXPECT_EQ(texts(tokenizer.tokenize("unwantedX running")), (Strings{"[UNK]", "runn", "##ing"}));
}

// ---------------------------------------------------------------------------
// Hand-checked tokens and byte offsets.

struct HandCase {
  std::string name;
  std::string text;
  Strings tokens;
  Offsets offsets;
};

std::vector<HandCase> hand_cases() {
  const std::string a101(101, 'a');
  return {
      {"accent_precomposed",
       "UNwant\u00E9d,running",
       {"un", "##want", "##ed", ",", "running"},
       {{0, 2}, {2, 6}, {6, 9}, {9, 10}, {10, 17}}},
      {"accent_decomposed", "He\u0301llo wo\u0308rld", {"hello", "world"}, {{0, 7}, {8, 15}}},
      {"accent_last", "cafe\u0301", {"cafe"}, {{0, 6}}},
      {"mark_starts_chunk", "\u0301b", {"b"}, {{2, 3}}},
      {"cedilla", "\u00C7a", {"c", "##a"}, {{0, 2}, {2, 3}}},
      {"cjk_then_latin",
       "\u4E2D\u6587English",
       {"\u4E2D", "\u6587", "e", "##n", "##g", "##l", "##i", "##s", "##h"},
       {{0, 3}, {3, 6}, {6, 7}, {7, 8}, {8, 9}, {9, 10}, {10, 11}, {11, 12}, {12, 13}}},
      {"zero_width_inside_word",
       "ab\u200Bcd",
       {"a", "##b", "##c", "##d"},
       {{0, 1}, {1, 2}, {5, 6}, {6, 7}}},
      {"invalid_byte_inside_word", "he\x80llo", {"hello"}, {{0, 6}}},
      {"only_invalid_bytes", "\xFF\xFE\xC0\xAF", {}, {}},
      {"special_token",
       "the [MASK] sat",
       {"the", "[MASK]", "s", "##a", "##t"},
       {{0, 3}, {4, 10}, {11, 12}, {12, 13}, {13, 14}}},
      {"special_token_glued", "a[SEP]b", {"a", "[SEP]", "b"}, {{0, 1}, {1, 6}, {6, 7}}},
      {"final_sigma",
       "\u039F\u0394\u039F\u03A3",
       {"\u03BF", "##\u03B4", "##\u03BF", "##\u03C2"},
       {{0, 2}, {2, 4}, {4, 6}, {6, 8}}},
      {"non_final_sigma", "\u03A3\u0391", {"\u03C3", "##\u03B1"}, {{0, 2}, {2, 4}}},
      {"hangul_syllable_to_jamo",
       "\uD55C",
       {"\u1112", "##\u1161", "##\u11AB"},
       {{0, 3}, {0, 3}, {0, 3}}},
      {"dotted_capital_i", "\u0130", {"i"}, {{0, 2}}},
      {"emoji_makes_word_unknown", "hi\U0001F600", {"[UNK]"}, {{0, 6}}},
      {"long_word", a101 + " ok", {"[UNK]", "o", "##k"}, {{0, 101}, {102, 103}, {103, 104}}},
      {"punctuation", "don't!", {"don", "'", "t", "!"}, {{0, 3}, {3, 4}, {4, 5}, {5, 6}}},
      {"guillemets",
       "\u00ABBonjour\u00BB",
       {"\u00AB", "b", "##o", "##n", "##j", "##o", "##u", "##r", "\u00BB"},
       {{0, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 7}, {7, 8}, {8, 9}, {9, 11}}},
      {"vertical_tab_is_dropped_not_space",
       "four\vfive",
       {"f", "##o", "##u", "##r", "##f", "##i", "##v", "##e"},
       {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {5, 6}, {6, 7}, {7, 8}, {8, 9}}},
      {"line_separator_splits", "a\u2028b", {"a", "b"}, {{0, 1}, {4, 5}}},
  };
}

TEST(WordPiece, HandCheckedTokensAndOffsets) {
  for (const auto& c : hand_cases()) {
    SCOPED_TRACE(c.name);
    const auto tokens = toy().tokenize(c.text);
    EXPECT_EQ(texts(tokens), c.tokens);
    EXPECT_EQ(spans(tokens), c.offsets);
    for (const auto& t : tokens) EXPECT_EQ(toy().vocab().token(t.id), t.text);
    check_offsets(toy(), c.text);
  }
}

TEST(WordPiece, BasicWordOffsetsSkipDroppedCharacters) {
  // Cleaning drops U+200B inside the word; the word spans it, ZWSP at the edges are outside.
  const auto words = toy().basic_tokenize("\u200Bab\u200Bcd\u200B x");
  EXPECT_EQ(texts(words), (Strings{"abcd", "x"}));
  EXPECT_EQ(spans(words), (Offsets{{3, 10}, {14, 15}}));
  for (const auto& w : words) EXPECT_EQ(w.id, -1);
}

TEST(WordPiece, MaxInputCharsPerWordCountsNormalizedCharacters) {
  const std::string a100(100, 'a');
  EXPECT_NE(texts(toy().tokenize(a100)), Strings{"[UNK]"});
  EXPECT_EQ(texts(toy().tokenize(a100 + "a")), Strings{"[UNK]"});
  // 100 letters plus a combining accent: 100 characters once the accent is stripped.
  EXPECT_NE(texts(toy().tokenize(a100 + "\u0301")), Strings{"[UNK]"});
  // 100 precomposed e-acute: 200 bytes, 100 characters.
  std::string e100;
  for (int i = 0; i < 100; ++i) e100 += "\u00E9";
  EXPECT_NE(texts(toy().tokenize(e100)), Strings{"[UNK]"});
  WordPieceOptions options;
  options.max_input_chars_per_word = 3;
  const WordPieceTokenizer short_words(toy().vocab(), options);
  EXPECT_EQ(texts(short_words.tokenize("abc abcd")), (Strings{"a", "##b", "##c", "[UNK]"}));
}

TEST(WordPiece, LongestVocabularyEntriesStillMatch) {
  // The search skips candidates longer than the longest vocabulary entry; entries
  // of exactly that length, with and without "##", must still be found.
  const WordPieceTokenizer tokenizer(
      Vocab({"[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "x", "\u0436\u0436\u0436\u0436\u0436",
             "##\u0436\u0436\u0436\u0436", "##\u0436"}));
  EXPECT_EQ(texts(tokenizer.tokenize("\u0436\u0436\u0436\u0436\u0436\u0436")),
            (Strings{"\u0436\u0436\u0436\u0436\u0436", "##\u0436"}));
  EXPECT_EQ(texts(tokenizer.tokenize("x\u0436\u0436\u0436\u0436\u0436")),
            (Strings{"x", "##\u0436\u0436\u0436\u0436", "##\u0436"}));
}

TEST(WordPiece, CasedModeKeepsCaseAndAccents) {
  EXPECT_EQ(texts(toy_cased().basic_tokenize("Hello H\u00E9llo He\u0301llo \u039F\u03A3")),
            (Strings{"Hello", "H\u00E9llo", "He\u0301llo", "\u039F\u03A3"}));
  EXPECT_EQ(texts(toy_cased().tokenize("Hello HeLLo hello")), (Strings{"Hello", "[UNK]", "hello"}));
  const auto tokens = toy_cased().tokenize("The, cafe");
  EXPECT_EQ(texts(tokens), (Strings{"The", ",", "cafe"}));
  EXPECT_EQ(spans(tokens), (Offsets{{0, 3}, {3, 4}, {5, 9}}));
}

TEST(WordPiece, CjkSpacingCanBeTurnedOff) {
  WordPieceOptions options;
  options.tokenize_cjk = false;
  const WordPieceTokenizer tokenizer(toy().vocab(), options);
  EXPECT_EQ(texts(tokenizer.basic_tokenize("\u4E2D\u6587English")), Strings{"\u4E2D\u6587english"});
  EXPECT_EQ(texts(toy().basic_tokenize("\u4E2D\u6587English")),
            (Strings{"\u4E2D", "\u6587", "english"}));
}

TEST(WordPiece, SpecialTokenStringsStayWholeUnlessSplitRequested) {
  const auto tokens = toy().tokenize("[CLS] x[MASK]y [PAD][UNK] [SEP]");
  EXPECT_EQ(texts(tokens), (Strings{"[CLS]", "x", "[MASK]", "y", "[PAD]", "[UNK]", "[SEP]"}));
  EXPECT_EQ(ids(tokens), (std::vector<std::int32_t>{2, toy().vocab().id("x"), 4,
                                                    toy().vocab().id("y"), 0, 1, 3}));
  // Case-sensitive and exact: these are ordinary text.
  EXPECT_EQ(texts(toy().tokenize("[mask] [MASK")), (Strings{"[", "mask", "]", "[", "mask"}));
  WordPieceOptions options;
  options.split_special_tokens = true;
  const WordPieceTokenizer plain_bert(toy().vocab(), options);
  EXPECT_EQ(texts(plain_bert.tokenize("the [MASK] sat")),
            (Strings{"the", "[", "mask", "]", "s", "##a", "##t"}));
}

TEST(WordPiece, CustomSpecialTokenNames) {
  const Vocab vocab({"<pad>", "<unk>", "<s>", "</s>", "<mask>", "a", "##b"});
  WordPieceOptions options;
  options.pad_token = "<pad>";
  options.unk_token = "<unk>";
  options.cls_token = "<s>";
  options.sep_token = "</s>";
  options.mask_token = "<mask>";
  const WordPieceTokenizer tokenizer(vocab, options);
  EXPECT_EQ(tokenizer.unk_id(), 1);
  EXPECT_EQ(tokenizer.mask_id(), 4);
  EXPECT_EQ(texts(tokenizer.tokenize("ab <mask> c")), (Strings{"a", "##b", "<mask>", "<unk>"}));
  const Encoding encoding = tokenizer.encode("ab");
  EXPECT_EQ(encoding.tokens, (Strings{"<s>", "a", "##b", "</s>"}));
}

TEST(WordPiece, MissingSpecialTokenIsNamed) {
  for (const std::string missing : {"[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"}) {
    Strings tokens{"[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "a"};
    tokens.erase(std::find(tokens.begin(), tokens.end(), missing));
    try {
      WordPieceTokenizer tokenizer{Vocab(tokens)};
      ADD_FAILURE() << "no error for missing " << missing;
    } catch (const electra::Error& e) {
      EXPECT_NE(std::string(e.what()).find("'" + missing + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(WordPiece, FromVocabFileErrorsNameTheFile) {
  const fs::path dir =
      fs::temp_directory_path() / ("electra_wordpiece_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "no_mask.txt").string();
  std::ofstream(path) << "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n";
  try {
    WordPieceTokenizer::from_vocab_file(path);
    ADD_FAILURE() << "no error";
  } catch (const electra::Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_NE(message.find("'[MASK]'"), std::string::npos) << message;
  }
  EXPECT_THROW(WordPieceTokenizer::from_vocab_file((dir / "missing.txt").string()), electra::Error);
  fs::remove_all(dir);
}

TEST(WordPiece, EmptyAndWhitespaceInputGiveNothing) {
  for (const std::string& text :
       {std::string(), std::string(" "), std::string(" \t\r\n\u3000\u00A0"),
        std::string("\u200B\u200D\uFEFF"), std::string("\0\0", 2)}) {
    EXPECT_TRUE(toy().tokenize(text).empty());
    EXPECT_TRUE(toy().basic_tokenize(text).empty());
    EXPECT_EQ(toy().encode(text).tokens, (Strings{"[CLS]", "[SEP]"}));
  }
}

TEST(WordPiece, InvalidUtf8IsSkippedNeverRead) {
  // Every way to be ill-formed, alone and around ASCII; also every prefix of the
  // string so that truncated sequences at the very end are exercised.
  const std::string bad =
      "\x80"
      "a\xBF"
      "b\xC0\xAF"
      "c\xC1\xBF"
      "d\xE0\x80\xAF"
      "e\xED\xA0\x80"
      "f\xED\xBF\xBF"
      "g\xF4\x90\x80\x80"
      "h\xF5\xF8\xFC\xFE\xFF"
      "i\xE2\x82"
      " j\xF0\x9F\x98";
  EXPECT_EQ(texts(toy().basic_tokenize(bad)), (Strings{"abcdefghi", "j"}));
  for (std::size_t n = 0; n <= bad.size(); ++n) {
    const std::string prefix = bad.substr(0, n);
    // The string is handed over without its terminating byte being readable beyond n.
    std::vector<char> exact(prefix.begin(), prefix.end());
    const auto tokens = toy().tokenize(std::string_view(exact.data(), exact.size()));
    for (const auto& t : tokens) EXPECT_LE(t.end, n);
    check_offsets(toy(), prefix);
  }
}

TEST(WordPiece, RandomBytesKeepOffsetsValid) {
  // Byte soup biased towards UTF-8 lead and continuation bytes, marks, CJK and
  // pieces of special tokens: no crash, offsets always valid.
  const std::vector<std::string> pieces{"a",
                                        "Z",
                                        " ",
                                        ",",
                                        "\x80",
                                        "\xBF",
                                        "\xC3",
                                        "\xE2",
                                        "\xF0",
                                        "\xED",
                                        "\xFF",
                                        "\xC3\xA9",
                                        "\xCC\x81",
                                        "\xE4\xB8\xAD",
                                        "\xCE\xA3",
                                        "\xE2\x80\x8B",
                                        "[MASK]",
                                        "[MA",
                                        "SK]",
                                        "\n",
                                        "\xF0\x9F\x98\x80",
                                        std::string(1, '\0')};
  std::mt19937 random(1234);
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1), length(0, 40);
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    for (std::size_t n = length(random); n > 0; --n) text += pieces[pick(random)];
    SCOPED_TRACE(::testing::PrintToString(text));
    check_offsets(toy(), text);
    check_offsets(toy_cased(), text);
  }
}

TEST(WordPiece, ThreadsGiveTheSameResults) {
  std::vector<std::string> inputs;
  for (const auto& c : hand_cases()) inputs.push_back(c.text);
  std::vector<Strings> expected;
  for (const auto& text : inputs) expected.push_back(texts(toy().tokenize(text)));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        for (std::size_t i = 0; i < inputs.size(); ++i) {
          if (texts(toy().tokenize(inputs[i])) != expected[i]) ++mismatches[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches, (std::vector<int>{0, 0, 0, 0}));
}

// ---------------------------------------------------------------------------
// Cross-check against scripts/reference_wordpiece.py on tests/fixtures/wordpiece_inputs.json.

void cross_check(const WordPieceTokenizer& tokenizer, const std::string& expected_file) {
  std::ifstream in(expected_file);
  ASSERT_TRUE(in) << expected_file << " is missing: it is generated when test_text is built "
                  << "(CMake target wordpiece_expected)";
  const nlohmann::json expected = nlohmann::json::parse(in);
  ASSERT_GE(expected.at("cases").size(), 50u);
  WordPieceOptions split_options = tokenizer.options();
  split_options.split_special_tokens = true;
  const WordPieceTokenizer splitting(tokenizer.vocab(), split_options);
  for (const auto& c : expected.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const std::string text = from_hex(c.at("input_hex").get<std::string>());
    const WordPieceTokenizer& t = c.at("split_special_tokens").get<bool>() ? splitting : tokenizer;
    EXPECT_EQ(texts(t.basic_tokenize(text)), c.at("words").get<Strings>());
    const auto tokens = t.tokenize(text);
    EXPECT_EQ(texts(tokens), c.at("tokens").get<Strings>());
    EXPECT_EQ(ids(tokens), c.at("ids").get<std::vector<std::int32_t>>());
    check_offsets(t, text);
    check_spans_reproduce_words(t, text);
  }
}

TEST(WordPieceReference, ToyVocabUncased) {
  cross_check(toy(), fixtures_dir() + "/wordpiece_expected_toy_uncased.json");
}

TEST(WordPieceReference, ToyVocabCased) {
  cross_check(toy_cased(), fixtures_dir() + "/wordpiece_expected_toy_cased.json");
}

TEST(WordPieceReference, BertUncasedVocab) {
  const std::string vocab = bert_vocab_path();
  if (vocab.empty()) GTEST_SKIP() << "ELECTRA_DATA_DIR is not set";
  const std::string expected = fixtures_dir() + "/wordpiece_expected_bert_uncased.json";
  if (!fs::exists(expected)) {
    GTEST_SKIP() << expected << " was not generated: configure with ELECTRA_DATA_DIR set";
  }
  cross_check(WordPieceTokenizer::from_vocab_file(vocab), expected);
}

// ---------------------------------------------------------------------------
// The real BERT uncased vocabulary.

class BertUncased : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string vocab = bert_vocab_path();
    if (vocab.empty()) GTEST_SKIP() << "ELECTRA_DATA_DIR is not set";
    static const WordPieceTokenizer tokenizer = WordPieceTokenizer::from_vocab_file(vocab);
    tokenizer_ = &tokenizer;
  }
  const WordPieceTokenizer* tokenizer_ = nullptr;
};

TEST_F(BertUncased, SpecialTokenIds) {
  EXPECT_EQ(tokenizer_->pad_id(), 0);
  EXPECT_EQ(tokenizer_->unk_id(), 100);
  EXPECT_EQ(tokenizer_->cls_id(), 101);
  EXPECT_EQ(tokenizer_->sep_id(), 102);
  EXPECT_EQ(tokenizer_->mask_id(), 103);
}

TEST_F(BertUncased, KnownTokenizations) {
  // "unwanted" is a whole word of the real vocabulary (the un ##want ##ed split
  // of BERT's tests comes from their toy vocabulary; see the toy cases above).
  EXPECT_EQ(texts(tokenizer_->tokenize("UNwant\u00E9d,running")),
            (Strings{"unwanted", ",", "running"}));
  const auto tokens = tokenizer_->tokenize("The quick brown fox fake over the lazy dog");
  EXPECT_EQ(texts(tokens),
            (Strings{"the", "quick", "brown", "fox", "fake", "over", "the", "lazy", "dog"}));
  EXPECT_EQ(tokens[0].id, 1996);
  EXPECT_EQ(texts(tokenizer_->tokenize("Tokenization")), (Strings{"token", "##ization"}));
}

TEST_F(BertUncased, GeneratorModeMaskInText) {
  const Encoding encoding = tokenizer_->encode("The cat [MASK] on the mat.");
  EXPECT_EQ(encoding.input_ids,
            (std::vector<std::int32_t>{101, 1996, 4937, 103, 2006, 1996, 13523, 1012, 102}));
}

TEST_F(BertUncased, BrownCorpusRoundTrip) {
  const char* data = std::getenv("ELECTRA_DATA_DIR");
  std::ifstream in(std::string(data) + "/corpus/brown/brown.txt");
  if (!in) GTEST_SKIP() << "no Brown corpus under ELECTRA_DATA_DIR";
  std::string line;
  std::size_t lines = 0, pieces = 0, unknown = 0, bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  while (lines < 20000 && std::getline(in, line)) {
    ++lines;
    bytes += line.size();
    const auto tokens = tokenizer_->tokenize(line);
    pieces += tokens.size();
    std::size_t line_unknown = 0;
    for (const auto& t : tokens) line_unknown += t.id == tokenizer_->unk_id();
    unknown += line_unknown;
    // Without [UNK], decoding gives back the basic words joined by spaces.
    if (lines % 97 == 0 && line_unknown == 0) {
      std::string joined;
      for (const auto& w : tokenizer_->basic_tokenize(line))
        joined += (joined.empty() ? "" : " ") + w.text;
      EXPECT_EQ(tokenizer_->decode(ids(tokens)), joined);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("megabytes_per_second", std::to_string(bytes / 1e6 / seconds));
  EXPECT_GT(lines, 1000u);
  EXPECT_LT(static_cast<double>(unknown), 0.001 * static_cast<double>(pieces));
}

// ---------------------------------------------------------------------------
// Encoding: special tokens, pairs, truncation, padding.

EncodeOptions limit(std::size_t max_length, Truncation truncation = Truncation::longest_first,
                    bool pad = false) {
  EncodeOptions options;
  options.max_length = max_length;
  options.truncation = truncation;
  options.pad_to_max_length = pad;
  return options;
}

TEST(Encode, SingleSequence) {
  const Encoding e = toy().encode("Hello, world");
  EXPECT_EQ(e.tokens, (Strings{"[CLS]", "hello", ",", "world", "[SEP]"}));
  const auto& v = toy().vocab();
  EXPECT_EQ(e.input_ids,
            (std::vector<std::int32_t>{2, v.id("hello"), v.id(","), v.id("world"), 3}));
  EXPECT_EQ(e.token_type_ids, (std::vector<std::int32_t>{0, 0, 0, 0, 0}));
  EXPECT_EQ(e.attention_mask, (std::vector<std::int32_t>{1, 1, 1, 1, 1}));
  EXPECT_EQ(e.sequence_ids, (std::vector<std::int32_t>{-1, 0, 0, 0, -1}));
  EXPECT_EQ(e.offsets, (Offsets{{0, 0}, {0, 5}, {5, 6}, {7, 12}, {0, 0}}));
  EXPECT_EQ(e.num_truncated, 0u);
}

TEST(Encode, PairTokenTypesSwitchAfterFirstSep) {
  const Encoding e = toy().encode_pair("hello world", "the dog");
  EXPECT_EQ(e.tokens, (Strings{"[CLS]", "hello", "world", "[SEP]", "the", "dog", "[SEP]"}));
  EXPECT_EQ(e.token_type_ids, (std::vector<std::int32_t>{0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(e.sequence_ids, (std::vector<std::int32_t>{-1, 0, 0, -1, 1, 1, -1}));
  // Offsets of the second segment are into the second text.
  EXPECT_EQ(e.offsets, (Offsets{{0, 0}, {0, 5}, {6, 11}, {0, 0}, {0, 3}, {4, 7}, {0, 0}}));
}

TEST(Encode, LongestFirstPopsFromTheLongerSegmentThenTheSecond) {
  // 5 + 3 wordpieces + 3 special = 11; 3 must go: a 5->4, a 4->3, then equal: b 3->2.
  const Encoding e = toy().encode_pair("hello world the quick brown", "fox jumps over", limit(8));
  EXPECT_EQ(e.tokens,
            (Strings{"[CLS]", "hello", "world", "the", "[SEP]", "fox", "jumps", "[SEP]"}));
  EXPECT_EQ(e.token_type_ids, (std::vector<std::int32_t>{0, 0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(e.num_truncated, 3u);
  // Equal lengths: the second loses first.
  EXPECT_EQ(toy().encode_pair("a b c", "d e f", limit(8)).tokens,
            (Strings{"[CLS]", "a", "b", "c", "[SEP]", "d", "e", "[SEP]"}));
  // Wordpieces, not words, are removed.
  EXPECT_EQ(toy().encode("unwanted", limit(4)).tokens, (Strings{"[CLS]", "un", "##want", "[SEP]"}));
  // Down to the special tokens only.
  const Encoding bare = toy().encode_pair("a b", "c", limit(3));
  EXPECT_EQ(bare.tokens, (Strings{"[CLS]", "[SEP]", "[SEP]"}));
  EXPECT_EQ(bare.num_truncated, 3u);
}

TEST(Encode, OnlyFirstAndOnlySecond) {
  const Encoding first = toy().encode_pair("hello world the quick brown", "fox jumps over",
                                           limit(9, Truncation::only_first));
  EXPECT_EQ(first.tokens,
            (Strings{"[CLS]", "hello", "world", "the", "[SEP]", "fox", "jumps", "over", "[SEP]"}));
  EXPECT_EQ(first.num_truncated, 2u);
  const Encoding second = toy().encode_pair("hello world the quick brown", "fox jumps over",
                                            limit(10, Truncation::only_second));
  EXPECT_EQ(second.tokens, (Strings{"[CLS]", "hello", "world", "the", "quick", "brown", "[SEP]",
                                    "fox", "jumps", "[SEP]"}));
  EXPECT_EQ(second.num_truncated, 1u);
  // Cannot fit by shrinking that segment alone.
  EXPECT_THROW(toy().encode_pair("a b", "c d e f g", limit(6, Truncation::only_first)),
               electra::Error);
  EXPECT_THROW(toy().encode_pair("a b c d e", "f", limit(6, Truncation::only_second)),
               electra::Error);
  EXPECT_THROW(toy().encode("a b c d e", limit(4, Truncation::only_second)), electra::Error);
  // Nothing to remove: no error.
  EXPECT_EQ(toy().encode("a", limit(4, Truncation::only_second)).tokens,
            (Strings{"[CLS]", "a", "[SEP]"}));
}

TEST(Encode, NoTruncationMayExceedMaxLength) {
  const Encoding e = toy().encode("a b c d e", limit(4, Truncation::none, true));
  EXPECT_EQ(e.tokens.size(), 7u);
  EXPECT_EQ(e.num_truncated, 0u);
}

TEST(Encode, MaxLengthTooSmallForSpecialTokensThrows) {
  EXPECT_THROW(toy().encode("a", limit(1)), electra::Error);
  EXPECT_THROW(toy().encode_pair("a", "b", limit(2)), electra::Error);
  EXPECT_EQ(toy().encode("a b", limit(2)).tokens, (Strings{"[CLS]", "[SEP]"}));
}

TEST(Encode, PaddingToMaxLength) {
  const Encoding e = toy().encode("hello world", limit(7, Truncation::longest_first, true));
  EXPECT_EQ(e.tokens, (Strings{"[CLS]", "hello", "world", "[SEP]", "[PAD]", "[PAD]", "[PAD]"}));
  EXPECT_EQ(e.input_ids[4], toy().pad_id());
  EXPECT_EQ(e.attention_mask, (std::vector<std::int32_t>{1, 1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(e.token_type_ids, (std::vector<std::int32_t>{0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(e.sequence_ids, (std::vector<std::int32_t>{-1, 0, 0, -1, -1, -1, -1}));
  EXPECT_EQ(e.offsets[6], (std::pair<std::size_t, std::size_t>{0, 0}));
  const Encoding pair = toy().encode_pair("a", "b", limit(6, Truncation::longest_first, true));
  EXPECT_EQ(pair.token_type_ids, (std::vector<std::int32_t>{0, 0, 0, 1, 1, 0}));
  // Truncated and padded at once: exactly max_length, no padding needed.
  EXPECT_EQ(toy().encode("a b c d e", limit(4, Truncation::longest_first, true)).tokens.size(), 4u);
}

TEST(Encode, BuildFromPretokenizedPieces) {
  std::vector<Token> a{{"hello", toy().vocab().id("hello"), 10, 15}};
  std::vector<Token> b{{"x", toy().vocab().id("x"), 3, 4}, {"##y", toy().vocab().id("##y"), 4, 5}};
  const Encoding e = toy().build(a, b, limit(5));
  EXPECT_EQ(e.tokens, (Strings{"[CLS]", "hello", "[SEP]", "x", "[SEP]"}));
  EXPECT_EQ(e.offsets, (Offsets{{0, 0}, {10, 15}, {0, 0}, {3, 4}, {0, 0}}));
  EXPECT_EQ(e.num_truncated, 1u);
  EXPECT_EQ(toy().build(a, std::nullopt).tokens, (Strings{"[CLS]", "hello", "[SEP]"}));
}

TEST(Decode, GluesContinuationsAndSkipsSpecialTokens) {
  const auto& v = toy().vocab();
  const std::vector<std::int32_t> ids{
      2, v.id("un"), v.id("##want"), v.id("##ed"), v.id(","), v.id("running"), 4, 1, 3, 0, 0};
  EXPECT_EQ(toy().decode(ids), "unwanted , running");
  EXPECT_EQ(toy().decode(ids, false), "[CLS] unwanted , running [MASK] [UNK] [SEP]");
  EXPECT_EQ(toy().decode({v.id("##ed"), v.id("##s")}), "eds");
  EXPECT_EQ(toy().decode({}), "");
  EXPECT_THROW(toy().decode({v.size()}), electra::Error);
  EXPECT_THROW(toy().decode({-1}), electra::Error);
  // tokenize -> decode gives the normalized words back.
  std::vector<std::int32_t> round;
  for (const auto& t : toy().tokenize("Unwanted R\u00E9sum\u00E9s")) round.push_back(t.id);
  EXPECT_EQ(toy().decode(round), "unwanted resumes");
}

}  // namespace
