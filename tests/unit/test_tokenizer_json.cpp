// tokenizer.json (Hugging Face's fast-tokenizer file) for WordPiece: what the writer puts in,
// what the reader takes out and refuses, and model folders holding either vocabulary file.
#include "tokenization/tokenizer_json.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "electra/tokenization/wordpiece.h"
#include "electra/util/error.h"
#include "test_util.h"

namespace {

using electra::parse_tokenizer_json;
using electra::read_tokenizer_dir;
using electra::tokenizer_json_text;
using electra::Vocab;
using electra::WordPieceOptions;
using electra::WordPieceTokenizer;
using electra::test::expect_error;
using electra::test::TempDir;
using electra::test::write_bytes;
using json = nlohmann::json;

const std::string kToyVocab = ELECTRA_SOURCE_DIR "/tests/fixtures/wordpiece_toy_vocab.txt";

std::vector<std::int32_t> ids(const WordPieceTokenizer& t, const std::string& a, const std::string& b = "") {
  return (b.empty() ? t.encode(a) : t.encode_pair(a, b)).input_ids;
}

// The toy vocabulary's tokenizer.json, as a document to damage.
json toy_document(bool lowercase = true) {
  WordPieceOptions o;
  o.lowercase = lowercase;
  return json::parse(tokenizer_json_text(Vocab::from_file(kToyVocab), o));
}

// The message parse_tokenizer_json gives for `doc` ("" when it is accepted).
std::string refusal(const json& doc) {
  try {
    parse_tokenizer_json(doc.dump(), "t/tokenizer.json");
  } catch (const electra::Error& e) {
    return e.what();
  }
  return "";
}

TEST(TokenizerJson, WritesBertsFastTokenizerLayout) {
  const Vocab vocab = Vocab::from_file(kToyVocab);
  const json doc = toy_document();
  EXPECT_EQ(doc["version"], "1.0");
  EXPECT_TRUE(doc["truncation"].is_null());
  EXPECT_TRUE(doc["padding"].is_null());
  EXPECT_EQ(doc["normalizer"], json::parse(R"({"type": "BertNormalizer", "clean_text": true,
      "handle_chinese_chars": true, "strip_accents": null, "lowercase": true})"));
  EXPECT_EQ(doc["pre_tokenizer"], json::parse(R"({"type": "BertPreTokenizer"})"));
  EXPECT_EQ(doc["decoder"], json::parse(R"({"type": "WordPiece", "prefix": "##", "cleanup": true})"));
  EXPECT_EQ(doc["model"]["type"], "WordPiece");
  EXPECT_EQ(doc["model"]["unk_token"], "[UNK]");
  EXPECT_EQ(doc["model"]["continuing_subword_prefix"], "##");
  EXPECT_EQ(doc["model"]["max_input_chars_per_word"], 100);
  ASSERT_EQ(doc["model"]["vocab"].size(), vocab.tokens().size());
  for (std::int32_t id = 0; id < vocab.size(); ++id) EXPECT_EQ(doc["model"]["vocab"][vocab.token(id)], id);
  const auto& post = doc["post_processor"];
  EXPECT_EQ(post["type"], "TemplateProcessing");
  EXPECT_EQ(post["pair"].size(), 5u);
  EXPECT_EQ(post["pair"][3], json::parse(R"({"Sequence": {"id": "B", "type_id": 1}})"));
  EXPECT_EQ(post["pair"][4], json::parse(R"({"SpecialToken": {"id": "[SEP]", "type_id": 1}})"));
  EXPECT_EQ(post["special_tokens"]["[CLS]"]["ids"], json::array({vocab.id("[CLS]")}));
  EXPECT_EQ(post["special_tokens"]["[SEP]"]["ids"], json::array({vocab.id("[SEP]")}));
  ASSERT_EQ(doc["added_tokens"].size(), 5u);
  for (const auto& added : doc["added_tokens"]) {
    EXPECT_EQ(added["id"], vocab.id(added["content"].get<std::string>()));
    EXPECT_EQ(added["special"], true);
    EXPECT_EQ(added["normalized"], false);
  }
}

TEST(TokenizerJson, RoundTripKeepsVocabularyAndOptions) {
  const Vocab vocab = Vocab::from_file(kToyVocab);
  for (bool lowercase : {true, false}) {
    for (bool cjk : {true, false}) {
      WordPieceOptions o;
      o.lowercase = lowercase;
      o.tokenize_cjk = cjk;
      o.max_input_chars_per_word = 37;
      const auto read = parse_tokenizer_json(tokenizer_json_text(vocab, o), "t.json");
      EXPECT_EQ(read.vocab.tokens(), vocab.tokens());
      EXPECT_EQ(read.options.lowercase, lowercase);
      EXPECT_EQ(read.options.tokenize_cjk, cjk);
      EXPECT_EQ(read.options.max_input_chars_per_word, 37u);
      EXPECT_EQ(read.options.unk_token, "[UNK]");
    }
  }
}

TEST(TokenizerJson, WriterRefusesVocabularyWithoutSpecialTokens) {
  expect_error([] { tokenizer_json_text(Vocab({"[PAD]", "[UNK]", "[SEP]", "[MASK]", "a"}), {}); },
               {"tokenizer.json", "\"[CLS]\""});
  TempDir dir;
  expect_error([&] { electra::write_tokenizer_json(dir.file("tokenizer.json"), Vocab({"[UNK]", "a"}), {}); },
               {dir.file("tokenizer.json") + ": ", "has no"});
  // `tokenizers` refuses a whole file for one token that is not UTF-8: refused when writing instead.
  const Vocab latin1({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "caf\xe9"});
  expect_error([&] { electra::write_tokenizer_json(dir.file("tokenizer.json"), latin1, {}); },
               {dir.file("tokenizer.json") + ": ", "not valid UTF-8"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("tokenizer.json")));
}

TEST(TokenizerJson, ReadsLowercaseFromNormalizerAloneOrInSequence) {
  json doc = toy_document(false);
  EXPECT_FALSE(parse_tokenizer_json(doc.dump(), "t").options.lowercase);
  // BERT's defaults for what the normalizer leaves out.
  doc["normalizer"] = {{"type", "BertNormalizer"}};
  EXPECT_TRUE(parse_tokenizer_json(doc.dump(), "t").options.lowercase);
  doc["normalizer"] = json::parse(R"({"type": "Sequence", "normalizers": [{"type": "NFC"},
      {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": false, "strip_accents": null,
       "lowercase": false}]})");
  const auto read = parse_tokenizer_json(doc.dump(), "t");
  EXPECT_FALSE(read.options.lowercase);
  EXPECT_FALSE(read.options.tokenize_cjk);
}

TEST(TokenizerJson, RefusesOtherModelsWithOneLine) {
  json doc = toy_document();
  doc["model"] = json::parse(R"({"type": "BPE", "vocab": {"a": 0}, "merges": []})");
  EXPECT_EQ(refusal(doc),
            "t/tokenizer.json: model type \"BPE\" is not WordPiece; libelectra reads BERT/ELECTRA WordPiece tokenizers");
  doc = toy_document();
  doc["model"]["continuing_subword_prefix"] = "@@";
  EXPECT_NE(refusal(doc).find("continuing_subword_prefix \"@@\" is not \"##\""), std::string::npos);
  doc = toy_document();
  doc["normalizer"] = {{"type", "Lowercase"}};
  EXPECT_NE(refusal(doc).find("normalizer \"Lowercase\" is not BertNormalizer"), std::string::npos);
  doc["normalizer"] = nullptr;
  EXPECT_NE(refusal(doc).find("normalizer \"null\" is not BertNormalizer"), std::string::npos);
  doc = toy_document();
  doc["normalizer"]["strip_accents"] = false;  // lowercase true, accents kept: not expressible
  EXPECT_NE(refusal(doc).find("strip_accents false with lowercase true"), std::string::npos);
  doc = toy_document();
  doc["normalizer"]["clean_text"] = false;
  EXPECT_NE(refusal(doc).find("clean_text false"), std::string::npos);
  doc = toy_document();
  doc["pre_tokenizer"] = {{"type", "Metaspace"}};
  EXPECT_NE(refusal(doc).find("pre_tokenizer \"Metaspace\" is not BertPreTokenizer"), std::string::npos);
  doc = toy_document();
  doc["post_processor"] = {{"type", "RobertaProcessing"}};
  EXPECT_NE(refusal(doc).find("post_processor \"RobertaProcessing\""), std::string::npos);
  doc = toy_document();
  doc["post_processor"]["pair"].erase(4);
  EXPECT_NE(refusal(doc).find("template \"[CLS] $A [SEP] $B:1\" is not BERT's"), std::string::npos);
  doc = toy_document();
  doc["added_tokens"].push_back({{"id", 5}, {"content", "want"}, {"special", false}});
  EXPECT_NE(refusal(doc).find("added token \"want\" is not one of the special tokens"), std::string::npos);
  EXPECT_NE(refusal(doc).find("libelectra reads BERT/ELECTRA WordPiece"), std::string::npos);
}

TEST(TokenizerJson, AcceptsOlderBertProcessing) {
  json doc = toy_document();
  doc["post_processor"] = json::parse(R"({"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]})");
  EXPECT_EQ(refusal(doc), "");
  doc["post_processor"]["cls"][1] = 7;
  EXPECT_NE(refusal(doc).find("special token \"[CLS]\" has id 7 but model.vocab gives it 2"), std::string::npos);
}

TEST(TokenizerJson, RefusesGappedOrConflictingIds) {
  json doc = toy_document();
  doc["model"]["vocab"]["want"] = 5000;  // ids no longer 0..N-1
  EXPECT_NE(refusal(doc).find("model.vocab: id 5000 of \"want\" is out of range"), std::string::npos);
  doc = toy_document();
  doc["model"]["vocab"]["want"] = 6;  // "##want" has 6: id 5 is now missing
  EXPECT_NE(refusal(doc).find("id 6 is given to both"), std::string::npos);
  doc = toy_document();
  doc["model"]["vocab"]["want"] = -1;
  EXPECT_NE(refusal(doc).find("must be a non-negative integer"), std::string::npos);
  doc = toy_document();
  doc["model"]["vocab"]["want"] = 5.5;
  EXPECT_NE(refusal(doc).find("must be a non-negative integer"), std::string::npos);
  doc = toy_document();
  doc["model"]["vocab"].erase("want");
  doc["model"]["vocab"]["a\nb"] = 5;
  EXPECT_NE(refusal(doc).find("line break"), std::string::npos);
  doc = toy_document();
  doc["model"]["vocab"] = json::object();
  EXPECT_NE(refusal(doc).find("model.vocab: is empty"), std::string::npos);
  doc = toy_document();
  doc["added_tokens"][0]["id"] = 9;
  EXPECT_NE(refusal(doc).find("\"[PAD]\" has id 9 but model.vocab gives it 0"), std::string::npos);
  doc = toy_document();
  doc["post_processor"]["special_tokens"]["[SEP]"]["ids"][0] = 4;
  EXPECT_NE(refusal(doc).find("special token \"[SEP]\" has id 4 but model.vocab gives it 3"), std::string::npos);
}

TEST(TokenizerJson, RefusesGarbledFiles) {
  const std::string good = toy_document().dump();
  for (const std::string& text : {std::string(""), std::string("[]"), std::string("null"), good.substr(0, good.size() / 2),
                                  std::string("{\"model\": {\"type\": \"WordPiece\"}}"), std::string("{\"model\": 7}"),
                                  std::string(300, '[') + std::string(300, ']')}) {
    try {
      parse_tokenizer_json(text, "g/tokenizer.json");
      ADD_FAILURE() << "accepted: " << text.substr(0, 80);
    } catch (const electra::Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("g/tokenizer.json: ", 0), 0u) << e.what();
    }
  }
  // A key named twice (the second "[PAD]" would silently win in a plain parser).
  std::string twice = good;
  twice.replace(twice.find("\"want\":"), 7, "\"[PAD]\":");
  expect_error([&] { parse_tokenizer_json(twice, "g/tokenizer.json"); }, {"g/tokenizer.json: ", "appears twice"});
  // Wrong types in the model section name the member.
  json doc = toy_document();
  doc["model"]["max_input_chars_per_word"] = "100";
  expect_error([&] { parse_tokenizer_json(doc.dump(), "g/tokenizer.json"); }, {"max_input_chars_per_word", "non-negative integer"});
  doc = toy_document();
  doc["model"]["vocab"] = json::array({"[PAD]"});
  expect_error([&] { parse_tokenizer_json(doc.dump(), "g/tokenizer.json"); }, {"\"vocab\" must be an object"});
}

class TokenizerDir : public ::testing::Test {
 protected:
  void write_json(bool lowercase) {
    WordPieceOptions o;
    o.lowercase = lowercase;
    electra::write_tokenizer_json(dir_.file("tokenizer.json"), Vocab::from_file(kToyVocab), o);
  }
  void write_vocab(const std::vector<std::string>& tokens) { Vocab(tokens).save(dir_.file("vocab.txt")); }
  TempDir dir_;
};

TEST_F(TokenizerDir, OnlyTokenizerJsonGivesTheSameIdsAsVocabTxt) {
  write_json(true);
  const auto from_json = read_tokenizer_dir(dir_.path());
  const auto from_txt = WordPieceTokenizer::from_vocab_file(kToyVocab);
  EXPECT_EQ(from_json.vocab().tokens(), from_txt.vocab().tokens());
  EXPECT_TRUE(from_json.options().lowercase);
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
           {"The quick brown fox jumps over the lazy dog.", ""}, {"unwanted running", "the [MASK] fox"}}) {
    EXPECT_EQ(ids(from_json, a, b), ids(from_txt, a, b)) << a;
  }
}

TEST_F(TokenizerDir, LowercaseFromConfigElseNormalizer) {
  write_json(false);
  EXPECT_FALSE(read_tokenizer_dir(dir_.path()).options().lowercase);
  write_bytes(dir_.file("tokenizer_config.json"), R"({"do_lower_case": true})");
  EXPECT_TRUE(read_tokenizer_dir(dir_.path()).options().lowercase);
  write_bytes(dir_.file("tokenizer_config.json"), R"({"model_max_length": 512})");
  EXPECT_FALSE(read_tokenizer_dir(dir_.path()).options().lowercase);
  write_bytes(dir_.file("tokenizer_config.json"), R"({"do_lower_case": "yes"})");
  expect_error([&] { read_tokenizer_dir(dir_.path()); }, {"tokenizer_config.json: ", "do_lower_case"});
}

TEST_F(TokenizerDir, BothFilesMustAgree) {
  write_json(true);
  auto tokens = Vocab::from_file(kToyVocab).tokens();
  write_vocab(tokens);
  EXPECT_EQ(read_tokenizer_dir(dir_.path()).vocab().tokens(), tokens);
  std::swap(tokens[5], tokens[6]);
  write_vocab(tokens);
  expect_error([&] { read_tokenizer_dir(dir_.path()); },
               {dir_.file("tokenizer.json") + ": ", "differs from vocab.txt", "at id 5 vocab.txt has \"##want\""});
  tokens = Vocab::from_file(kToyVocab).tokens();
  tokens.push_back("extra");
  write_vocab(tokens);
  expect_error([&] { read_tokenizer_dir(dir_.path()); }, {"vocab.txt has 232 tokens and tokenizer.json 231"});
}

TEST_F(TokenizerDir, RefusedTokenizerJsonIsNotSkipped) {
  write_vocab(Vocab::from_file(kToyVocab).tokens());
  write_bytes(dir_.file("tokenizer.json"), R"({"model": {"type": "Unigram", "vocab": []}})");
  expect_error([&] { read_tokenizer_dir(dir_.path()); }, {"tokenizer.json: model type \"Unigram\" is not WordPiece"});
}

TEST_F(TokenizerDir, NeitherFileNamesVocabTxt) {
  expect_error([&] { read_tokenizer_dir(dir_.path()); }, {dir_.file("vocab.txt")});
}

TEST_F(TokenizerDir, VocabularyWithoutSpecialTokensNamesTheFile) {
  json doc = json::parse(tokenizer_json_text(Vocab::from_file(kToyVocab), {}));
  // [MASK] renamed: still a valid file, but not a vocabulary WordPieceTokenizer can use.
  doc["model"]["vocab"].erase("[MASK]");
  doc["model"]["vocab"]["<mask>"] = 4;
  doc["added_tokens"].erase(4);
  write_bytes(dir_.file("tokenizer.json"), doc.dump());
  expect_error([&] { read_tokenizer_dir(dir_.path()); }, {dir_.file("tokenizer.json") + ": ", "'[MASK]'"});
}

TEST(TokenizerJson, ReadVocabFileByName) {
  TempDir dir;
  electra::write_tokenizer_json(dir.file("tokenizer.json"), Vocab::from_file(kToyVocab), {});
  EXPECT_EQ(electra::read_vocab_file(dir.file("tokenizer.json")).tokens(), Vocab::from_file(kToyVocab).tokens());
  EXPECT_EQ(electra::read_vocab_file(kToyVocab).size(), 231);
}

}  // namespace
