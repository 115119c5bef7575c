// Vocabulary training: corpus inputs, the WordPiece trainer, SentencePiece through its shim.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "data/corpus_files.h"
#include "tokenization/sentencepiece.h"
#include "electra/tokenization/text_encoder.h"
#include "electra/tokenization/wordpiece.h"
#include "tokenization/wordpiece_trainer.h"
#include "electra/util/error.h"
#include "unit/vocab_test_corpus.h"

namespace electra {
namespace {

namespace fs = std::filesystem;
using test::make_corpus;
using test::read_file;
using test::TempDir;
using test::write_file;

// The message of the electra::Error that `fn` throws ("" when it throws none).
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// --- corpus inputs ---------------------------------------------------------------------------

TEST(CorpusFiles, ExpandsFilesDirectoriesAndPatternsSortedAndDeduplicated) {
  TempDir dir;
  write_file(dir.file("b.txt"), "b\n");
  write_file(dir.file("a.txt"), "a\n");
  write_file(dir.file("notes.md"), "x\n");
  write_file(dir.file("sub/deep/c.txt"), "c\n");
  write_file(dir.file("sub/d.dat"), "d\n");
  const auto files = expand_inputs({dir.file("sub"), dir.file("*.txt"), dir.file("a.txt"), dir.file("sub/d.dat"),
                                    dir.file("./b.txt")});
  const std::vector<std::string> expected = {dir.file("a.txt"), dir.file("b.txt"), dir.file("sub/d.dat"),
                                             dir.file("sub/deep/c.txt")};
  EXPECT_EQ(files, expected);
}

TEST(CorpusFiles, NamesEveryInputThatMatchesNothing) {
  TempDir dir;
  write_file(dir.file("a.txt"), "a\n");
  fs::create_directories(dir.file("empty"));
  const std::string message =
      error_of([&] { expand_inputs({dir.file("a.txt"), dir.file("missing.txt"), dir.file("*.json"),
                                    dir.file("empty")}); });
  EXPECT_TRUE(contains(message, "missing.txt' (no such file or directory)")) << message;
  EXPECT_TRUE(contains(message, "*.json' (pattern matches no file)")) << message;
  EXPECT_TRUE(contains(message, "empty' (directory has no *.txt file)")) << message;
  EXPECT_FALSE(contains(message, "a.txt'")) << message;
}

TEST(CorpusFiles, ReaderDropsInvalidUtf8AndCountsIt) {
  TempDir dir;
  write_file(dir.file("a.txt"), "caf\xC3 ok\r\nfine\n");
  write_file(dir.file("b.txt"), "x\xFF\xFEy\nlast line without newline");
  CorpusLineReader reader({dir.file("a.txt"), dir.file("b.txt")});
  std::vector<std::string> lines;
  std::string line;
  while (reader.next(line)) lines.push_back(line);
  EXPECT_EQ(lines, (std::vector<std::string>{"caf ok", "fine", "xy", "last line without newline"}));
  EXPECT_EQ(reader.stats().invalid_bytes, 3u);
  EXPECT_EQ(reader.stats().first_invalid, dir.file("a.txt") + ":1");
  EXPECT_EQ(reader.stats().lines, 4u);
  EXPECT_EQ(reader.stats().bytes_read, reader.stats().bytes_total);
}

TEST(CorpusFiles, ReaderNamesAFileItCannotOpen) {
  CorpusLineReader reader({"/nonexistent/corpus.txt"});
  std::string line;
  const std::string message = error_of([&] { reader.next(line); });
  EXPECT_TRUE(contains(message, "/nonexistent/corpus.txt: cannot open")) << message;
}

// --- WordPiece -------------------------------------------------------------------------------

WordPieceTrainOptions wordpiece_options(const std::string& input, const std::string& output, std::size_t size) {
  WordPieceTrainOptions options;
  options.inputs = {input};
  options.output = output;
  options.vocab_size = size;
  return options;
}

// The classic example (Hugging Face course): the merge order is worked out by hand.
TEST(WordPieceTrainer, LearnsMergesInFrequencyOrderWithStableTies) {
  WordPieceTrainOptions options;
  options.vocab_size = 1000;
  options.min_frequency = 1;
  std::size_t alphabet = 0;
  const Vocab vocab = learn_wordpiece_vocab({{"hug", 10}, {"pug", 5}, {"pun", 12}, {"bun", 4}, {"hugs", 5}},
                                            options, &alphabet);
  const std::vector<std::string> expected = {
      "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",              // specials
      "b", "g", "h", "n", "p", "s", "u", "##g", "##n", "##s", "##u",  // alphabet
      "##ug",  // 20 = hug 10 + pug 5 + hugs 5
      "##un",  // 16 = pun 12 + bun 4
      "hug",   // 15
      "pun",   // 12
      "pug",   // 5, tied with hug + ##s: "p" entered the vocabulary before "hug"
      "hugs",  // 5
      "bun"};  // 4
  EXPECT_EQ(vocab.tokens(), expected);
  EXPECT_EQ(alphabet, 11u);
}

TEST(WordPieceTrainer, StopsAtMinFrequencyAndHonoursUnusedSlots) {
  WordPieceTrainOptions options;
  options.vocab_size = 1000;
  options.min_frequency = 5;  // "b" (4) leaves the alphabet, so "bun" is not learnt
  options.num_unused = 3;
  const Vocab vocab = learn_wordpiece_vocab({{"hug", 10}, {"pug", 5}, {"pun", 12}, {"bun", 4}, {"hugs", 5}}, options);
  EXPECT_EQ(vocab.token(0), "[PAD]");
  EXPECT_EQ(vocab.token(1), "[unused0]");
  EXPECT_EQ(vocab.token(3), "[unused2]");
  EXPECT_EQ(vocab.id("[UNK]"), 4);
  EXPECT_EQ(vocab.id("[MASK]"), 7);
  EXPECT_FALSE(vocab.contains("b"));
  EXPECT_FALSE(vocab.contains("bun"));
  EXPECT_TRUE(vocab.contains("hugs"));
  EXPECT_EQ(vocab.tokens().back(), "hugs");
}

TEST(WordPieceTrainer, TrainsOnACorpusDeterministically) {
  TempDir dir;
  const std::string corpus = make_corpus(3000);
  write_file(dir.file("corpus.txt"), corpus);
  auto options = wordpiece_options(dir.file("corpus.txt"), dir.file("out/vocab.txt"), 300);
  const auto result = train_wordpiece(options);
  ASSERT_EQ(result.vocab.size(), 300);  // honoured exactly: the corpus has more than enough pairs
  EXPECT_EQ(result.corpus.lines, 3000u);
  const Vocab saved = Vocab::from_file(dir.file("out/vocab.txt"));
  EXPECT_EQ(saved.tokens(), result.vocab.tokens());
  const std::vector<std::string> head = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  EXPECT_EQ(std::vector<std::string>(saved.tokens().begin(), saved.tokens().begin() + 5), head);

  // Same corpus, same vocabulary, byte for byte.
  options.output = dir.file("again.txt");
  train_wordpiece(options);
  EXPECT_EQ(read_file(dir.file("again.txt")), read_file(dir.file("out/vocab.txt")));

  // The most frequent words are single tokens, and no corpus word is [UNK].
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(dir.file("out/vocab.txt"));
  EXPECT_TRUE(saved.contains("the"));
  ASSERT_EQ(tokenizer.tokenize("the").size(), 1u);
  const auto words = test::make_words(600);
  EXPECT_EQ(tokenizer.tokenize(words[1]).size(), 1u) << words[1];
  for (const auto& token : tokenizer.tokenize(corpus)) ASSERT_NE(token.id, tokenizer.unk_id()) << token.begin;
  // Vocabulary entries are unique and a smaller vocabulary makes longer encodings.
  options.vocab_size = 60;
  options.output = dir.file("small.txt");
  train_wordpiece(options);
  const auto small = WordPieceTokenizer::from_vocab_file(dir.file("small.txt"));
  EXPECT_EQ(small.vocab().size(), 60);
  EXPECT_GT(small.tokenize(corpus).size(), tokenizer.tokenize(corpus).size());
  for (const auto& entry : fs::recursive_directory_iterator(dir.path())) {  // no temporary file left behind
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

TEST(WordPieceTrainer, CasedKeepsCaseAndUncasedFolds) {
  TempDir dir;
  write_file(dir.file("c.txt"), "Hello World hello world Café café\nHello World\n");
  auto options = wordpiece_options(dir.file("c.txt"), dir.file("v.txt"), 100);
  options.min_frequency = 1;
  const auto uncased = train_wordpiece(options).vocab;
  EXPECT_TRUE(uncased.contains("hello"));
  EXPECT_TRUE(uncased.contains("cafe"));
  EXPECT_FALSE(uncased.contains("H"));
  options.lowercase = false;
  const auto cased = train_wordpiece(options).vocab;
  EXPECT_TRUE(cased.contains("Hello"));
  EXPECT_TRUE(cased.contains("##é"));
}

TEST(WordPieceTrainer, PrunesRareWordsToStayBounded) {
  TempDir dir;
  write_file(dir.file("corpus.txt"), make_corpus(2000));
  auto options = wordpiece_options(dir.file("corpus.txt"), dir.file("v.txt"), 200);
  options.max_words = 40;
  const auto result = train_wordpiece(options);
  EXPECT_GT(result.pruned_words, 0u);
  EXPECT_LE(result.distinct_words, 40u);
  EXPECT_TRUE(result.vocab.contains("the"));
}

TEST(WordPieceTrainer, ReportsBadInput) {
  TempDir dir;
  write_file(dir.file("empty.txt"), "\n   \n\t\n");
  write_file(dir.file("corpus.txt"), make_corpus(50));
  std::string message =
      error_of([&] { train_wordpiece(wordpiece_options(dir.file("empty.txt"), dir.file("v.txt"), 100)); });
  EXPECT_TRUE(contains(message, "the corpus has no words")) << message;
  message = error_of([&] { train_wordpiece(wordpiece_options(dir.file("missing.txt"), dir.file("v.txt"), 100)); });
  EXPECT_TRUE(contains(message, "missing.txt: cannot open")) << message;
  message = error_of([&] { train_wordpiece(wordpiece_options(dir.file("corpus.txt"), dir.file("v.txt"), 12)); });
  EXPECT_TRUE(contains(message, "cannot hold the 5 special tokens and the alphabet")) << message;
  EXPECT_FALSE(fs::exists(dir.file("v.txt")));
}

TEST(WordPieceTrainer, SkipsInvalidUtf8) {
  TempDir dir;
  write_file(dir.file("bad.txt"), "ab\xFF" "ab ab\xC3\n");
  auto options = wordpiece_options(dir.file("bad.txt"), dir.file("v.txt"), 100);
  options.min_frequency = 1;
  const auto result = train_wordpiece(options);
  EXPECT_EQ(result.corpus.invalid_bytes, 2u);
  EXPECT_TRUE(result.vocab.contains("abab"));  // the bytes are dropped, not turned into a split
}

// --- SentencePiece ---------------------------------------------------------------------------

SentencePieceTrainOptions spm_options(const std::string& input, const std::string& model, SentencePieceModelType type) {
  SentencePieceTrainOptions options;
  options.inputs = {input};
  options.model_path = model;
  options.vocab_size = 200;
  options.model_type = type;
  options.threads = 1;
  return options;
}

void check_round_trip(SentencePieceModelType type) {
  TempDir dir;
  const std::string corpus = make_corpus(1500);
  write_file(dir.file("corpus.txt"), corpus);
  const auto result = train_sentencepiece(spm_options(dir.file("corpus.txt"), dir.file("spm.model"), type));
  EXPECT_EQ(result.vocab_size, 200);
  EXPECT_EQ(result.sentences, 1500u);
  EXPECT_EQ(files_in(dir.path()), (std::vector<std::string>{"corpus.txt", "spm.model", "spm.vocab"}));

  const auto encoder = open_text_encoder(dir.file("spm.model"));
  EXPECT_EQ(encoder->vocab_size(), 200);
  EXPECT_EQ(encoder->pad_id(), 0);
  EXPECT_EQ(encoder->unk_id(), 1);
  EXPECT_EQ(encoder->cls_id(), 2);
  EXPECT_EQ(encoder->sep_id(), 3);
  EXPECT_EQ(encoder->mask_id(), 4);
  EXPECT_EQ(encoder->token(4), "[MASK]");
  EXPECT_TRUE(contains(encoder->describe(), "SentencePiece"));
  // The .vocab file lists the pieces in id order.
  const std::string vocab = read_file(dir.file("spm.vocab"));
  EXPECT_EQ(vocab.substr(0, vocab.find('\t')), "[PAD]");

  const SentencePieceEncoder spm(dir.file("spm.model"));
  const std::string line = corpus.substr(0, corpus.find('\n'));
  const auto ids = spm.encode(line);
  ASSERT_FALSE(ids.empty());
  EXPECT_LT(ids.size(), line.size());  // pieces longer than one character were learnt
  for (const auto id : ids) EXPECT_NE(id, spm.unk_id());
  EXPECT_EQ(spm.decode(ids), line);
  EXPECT_EQ(encoder->encode(line), ids);
  // Special tokens written in the text stay whole; lowercasing is part of the model.
  const auto masked = spm.encode("the [MASK] ka");
  EXPECT_NE(std::find(masked.begin(), masked.end(), spm.mask_id()), masked.end());
  EXPECT_EQ(spm.encode("THE KA"), spm.encode("the ka"));
  // An unseen character is [UNK].
  const auto unknown = spm.encode("\xE4\xB8\xAD");
  EXPECT_NE(std::find(unknown.begin(), unknown.end(), spm.unk_id()), unknown.end());
  EXPECT_TRUE(spm.encode("").empty());
}

TEST(SentencePiece, UnigramTrainEncodeDecode) { check_round_trip(SentencePieceModelType::unigram); }
TEST(SentencePiece, BpeTrainEncodeDecode) { check_round_trip(SentencePieceModelType::bpe); }

TEST(SentencePiece, SameSeedSameModel) {
  TempDir dir;
  write_file(dir.file("corpus.txt"), make_corpus(600));
  auto options = spm_options(dir.file("corpus.txt"), dir.file("a.model"), SentencePieceModelType::unigram);
  options.input_sentence_size = 300;  // sampled
  options.vocab_size = 120;
  train_sentencepiece(options);
  options.model_path = dir.file("b.model");
  train_sentencepiece(options);
  // The files differ in the (temporary) model prefix they record; the pieces must not.
  const SentencePieceEncoder a(dir.file("a.model")), b(dir.file("b.model"));
  ASSERT_EQ(a.vocab_size(), b.vocab_size());
  for (std::int32_t id = 0; id < a.vocab_size(); ++id) ASSERT_EQ(a.token(id), b.token(id)) << id;
  EXPECT_TRUE(read_file(dir.file("a.vocab")) == read_file(dir.file("b.vocab")));
}

TEST(SentencePiece, CasedModelKeepsCase) {
  TempDir dir;
  std::string corpus;
  for (int i = 0; i < 200; ++i) corpus += "Alpha beta GAMMA delta Alpha beta\n";
  write_file(dir.file("corpus.txt"), corpus);
  auto options = spm_options(dir.file("corpus.txt"), dir.file("c.model"), SentencePieceModelType::bpe);
  options.vocab_size = 40;
  options.lowercase = false;
  train_sentencepiece(options);
  const SentencePieceEncoder spm(dir.file("c.model"));
  EXPECT_NE(spm.encode("GAMMA"), spm.encode("gamma"));
}

TEST(SentencePiece, ReportsBadInputAndLeavesNoFiles) {
  TempDir dir;
  write_file(dir.file("empty.txt"), "\n  \n");
  write_file(dir.file("tiny.txt"), "ab ab ab\n");
  const auto type = SentencePieceModelType::unigram;
  std::string message =
      error_of([&] { train_sentencepiece(spm_options(dir.file("empty.txt"), dir.file("m.model"), type)); });
  EXPECT_TRUE(contains(message, "the corpus has no text")) << message;
  message = error_of([&] { train_sentencepiece(spm_options(dir.file("missing.txt"), dir.file("m.model"), type)); });
  EXPECT_TRUE(contains(message, "missing.txt: cannot open")) << message;
  message = error_of([&] { train_sentencepiece(spm_options(dir.file("tiny.txt"), dir.file("m.model"), type)); });
  EXPECT_TRUE(contains(message, "m.model: SentencePiece training failed")) << message;
  message = error_of([&] { train_sentencepiece(spm_options(dir.file("tiny.txt"), dir.file("m.bin"), type)); });
  EXPECT_TRUE(contains(message, "must end in .model")) << message;
  EXPECT_EQ(files_in(dir.path()), (std::vector<std::string>{"empty.txt", "tiny.txt"}));
}

TEST(SentencePiece, RejectsMissingOrUnsuitableModels) {
  std::string message = error_of([] { SentencePieceEncoder("/nonexistent/x.model"); });
  EXPECT_TRUE(contains(message, "/nonexistent/x.model: no such SentencePiece model file")) << message;

  TempDir dir;
  write_file(dir.file("garbage.model"), "not a model");
  message = error_of([&] { SentencePieceEncoder(dir.file("garbage.model")); });
  EXPECT_TRUE(contains(message, "garbage.model: cannot load the SentencePiece model")) << message;

  // A model trained without our special pieces (<unk>, <s>, </s>: SentencePiece's defaults).
  if (!fs::exists("/usr/bin/spm_train")) GTEST_SKIP() << "spm_train (Debian package sentencepiece) is not installed";
  write_file(dir.file("corpus.txt"), make_corpus(300));
  const std::string command = "/usr/bin/spm_train --input=" + dir.file("corpus.txt") + " --model_prefix=" +
                              dir.file("plain") + " --vocab_size=60 --minloglevel=2 >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  message = error_of([&] { SentencePieceEncoder(dir.file("plain.model")); });
  EXPECT_TRUE(contains(message, "plain.model: the SentencePiece model has no [PAD], [UNK], [CLS], [SEP], [MASK] piece"))
      << message;
}

TEST(SentencePiece, ShimIsFoundBesideTheLibrary) {
  const std::string path = sentencepiece_shim_path();
  EXPECT_TRUE(fs::exists(path)) << path;
  EXPECT_TRUE(contains(path, "libelectra_spm_shim")) << path;
}

// --- electra-vocab ---------------------------------------------------------------------------

#ifdef ELECTRA_VOCAB_TOOL
// Runs the tool with `args`; returns its exit status, its stderr in `output`.
int run_tool(const TempDir& dir, const std::string& args, std::string& output) {
  const std::string log = dir.file("tool.log");
  const int status = std::system((std::string(ELECTRA_VOCAB_TOOL) + " " + args + " 2>" + log).c_str());
  output = read_file(log);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ElectraVocab, TrainsWordPieceAndSentencePieceFromADirectory) {
  TempDir dir;
  write_file(dir.file("corpus/a.txt"), make_corpus(800, 600, 1));
  write_file(dir.file("corpus/more/b.txt"), make_corpus(800, 600, 2));
  write_file(dir.file("corpus/skip.md"), "ignored ignored ignored\n");
  std::string output;
  ASSERT_EQ(run_tool(dir, "--input " + dir.file("corpus") + " --output " + dir.file("out/vocab.txt") +
                              " --type wordpiece --vocab-size 250",
                     output),
            0)
      << output;
  EXPECT_TRUE(contains(output, "wordpiece vocabulary of 250 entries from 2 file(s)")) << output;
  const Vocab vocab = Vocab::from_file(dir.file("out/vocab.txt"));
  EXPECT_EQ(vocab.size(), 250);
  EXPECT_EQ(vocab.id("[MASK]"), 4);
  EXPECT_FALSE(vocab.contains("ignored"));
  // An existing vocabulary is replaced only when asked.
  const std::string again = "--input " + dir.file("corpus") + " --output " + dir.file("out/vocab.txt") +
                            " --type wordpiece --vocab-size 120";
  EXPECT_EQ(run_tool(dir, again, output), 1);
  EXPECT_TRUE(contains(output, "out/vocab.txt: already exists; pass --overwrite")) << output;
  EXPECT_EQ(Vocab::from_file(dir.file("out/vocab.txt")).size(), 250);
  ASSERT_EQ(run_tool(dir, again + " --overwrite", output), 0) << output;
  EXPECT_EQ(Vocab::from_file(dir.file("out/vocab.txt")).size(), 120);

  ASSERT_EQ(run_tool(dir, "--input '" + dir.file("corpus/*.txt") + "' --output " + dir.file("out/spm.model") +
                              " --type unigram --vocab-size 150 --threads 1 --seed 3 --quiet",
                     output),
            0)
      << output;
  EXPECT_TRUE(contains(output, "unigram vocabulary of 150 entries from 1 file(s)")) << output;
  EXPECT_TRUE(fs::exists(dir.file("out/spm.vocab")));
  EXPECT_EQ(SentencePieceEncoder(dir.file("out/spm.model")).vocab_size(), 150);
}

TEST(ElectraVocab, ReportsErrorsWithExitStatusOne) {
  TempDir dir;
  write_file(dir.file("bad.txt"), "good words \xFF here and good words there\n");
  std::string output;
  EXPECT_EQ(run_tool(dir, "--input " + dir.file("nope.txt") + " --output " + dir.file("v.txt") + " --vocab-size 50",
                     output),
            1);
  EXPECT_TRUE(contains(output, "nope.txt' (no such file or directory)")) << output;
  EXPECT_EQ(run_tool(dir, "--input " + dir.file("bad.txt") + " --output " + dir.file("v.txt") +
                              " --vocab-size 60 --min-frequency 1",
                     output),
            0)
      << output;
  EXPECT_TRUE(contains(output, "skipped 1 bytes of invalid UTF-8 (the first in " + dir.file("bad.txt") + ":1)"))
      << output;
}
#endif

}  // namespace
}  // namespace electra
