#include "electra/tokenization/vocab.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "electra/util/error.h"

namespace fs = std::filesystem;

namespace {

const std::string kToyVocab = ELECTRA_SOURCE_DIR "/tests/fixtures/wordpiece_toy_vocab.txt";

// A fresh directory per test, removed afterwards.
class VocabFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("electra_vocab_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  // The message of the electra::Error that loading `path` throws ("" when none).
  static std::string load_error(const std::string& path) {
    try {
      electra::Vocab::from_file(path);
    } catch (const electra::Error& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

TEST(Vocab, LooksUpTokensAndIds) {
  const electra::Vocab vocab({"[PAD]", "hello", "##lo", "é"});
  EXPECT_EQ(vocab.size(), 4);
  EXPECT_EQ(vocab.id("[PAD]"), 0);
  EXPECT_EQ(vocab.id("##lo"), 2);
  EXPECT_EQ(vocab.id("é"), 3);
  EXPECT_EQ(vocab.id("absent"), -1);
  EXPECT_EQ(vocab.id(""), -1);
  EXPECT_TRUE(vocab.contains("hello"));
  EXPECT_FALSE(vocab.contains("hell"));
  EXPECT_EQ(vocab.token(1), "hello");
  // A string_view that is not null-terminated is looked up by its own bytes only.
  const std::string text = "hellothere";
  EXPECT_EQ(vocab.id(std::string_view(text).substr(0, 5)), 1);
}

TEST(Vocab, TokenOutOfRangeThrows) {
  const electra::Vocab vocab({"a", "b"});
  EXPECT_THROW(vocab.token(2), electra::Error);
  EXPECT_THROW(vocab.token(-1), electra::Error);
}

TEST(Vocab, RejectsDuplicateAndEmptyTokens) {
  try {
    electra::Vocab({"a", "b", "a"});
    FAIL() << "duplicate accepted";
  } catch (const electra::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'a'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("id 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(electra::Vocab({"a", ""}), electra::Error);
}

TEST(Vocab, LoadsTheToyVocabulary) {
  const auto vocab = electra::Vocab::from_file(kToyVocab);
  EXPECT_EQ(vocab.size(), 231);
  EXPECT_EQ(vocab.id("[PAD]"), 0);
  EXPECT_EQ(vocab.id("[UNK]"), 1);
  EXPECT_EQ(vocab.id("[MASK]"), 4);
  EXPECT_EQ(vocab.id("##want"), 6);
  EXPECT_EQ(vocab.token(vocab.size() - 1), "##\u11AB");
}

TEST_F(VocabFileTest, StripsCarriageReturnsAndByteOrderMark) {
  const auto vocab =
      electra::Vocab::from_file(write("v.txt", "\xEF\xBB\xBF[PAD]\r\nhello\r\n##lo\r\n"));
  ASSERT_EQ(vocab.size(), 3);
  EXPECT_EQ(vocab.token(0), "[PAD]");
  EXPECT_EQ(vocab.token(1), "hello");
  EXPECT_EQ(vocab.id("##lo"), 2);
}

TEST_F(VocabFileTest, KeepsSpacesInsideTokensAndReadsLastLineWithoutNewline) {
  const auto vocab = electra::Vocab::from_file(write("v.txt", "a b\n c\nlast"));
  ASSERT_EQ(vocab.size(), 3);
  EXPECT_EQ(vocab.id("a b"), 0);
  EXPECT_EQ(vocab.id(" c"), 1);
  EXPECT_EQ(vocab.id("last"), 2);
}

TEST_F(VocabFileTest, AllowsTrailingBlankLinesOnly) {
  EXPECT_EQ(electra::Vocab::from_file(write("ok.txt", "a\nb\n\n\r\n")).size(), 2);
  const std::string path = write("bad.txt", "a\n\nb\n");
  const std::string message = load_error(path);
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("line 2"), std::string::npos) << message;
}

TEST_F(VocabFileTest, MissingFileErrorNamesTheFile) {
  const std::string path = (dir_ / "does_not_exist.txt").string();
  const std::string message = load_error(path);
  EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
  EXPECT_NE(message.find("cannot open"), std::string::npos) << message;
}

TEST_F(VocabFileTest, DirectoryIsRejected) {
  const std::string message = load_error(dir_.string());
  EXPECT_EQ(message.rfind(dir_.string() + ": ", 0), 0u) << message;
}

TEST_F(VocabFileTest, EmptyFileIsRejected) {
  for (const std::string content : {"", "\n", "\r\n\n"}) {
    const std::string path = write("empty.txt", content);
    const std::string message = load_error(path);
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_NE(message.find("empty"), std::string::npos) << message;
  }
}

TEST_F(VocabFileTest, DuplicateErrorNamesBothLines) {
  const std::string path = write("dup.txt", "[PAD]\nhello\nworld\nhello\n");
  const std::string message = load_error(path);
  EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
  EXPECT_NE(message.find("line 4"), std::string::npos) << message;
  EXPECT_NE(message.find("'hello'"), std::string::npos) << message;
  EXPECT_NE(message.find("first on line 2"), std::string::npos) << message;
}

TEST_F(VocabFileTest, SaveRoundTripsAndLeavesNoTemporary) {
  const electra::Vocab vocab({"[PAD]", "hello", "##lo", "\xE4\xB8\xAD", "a b"});
  const std::string path = (dir_ / "saved.txt").string();
  vocab.save(path);
  const auto loaded = electra::Vocab::from_file(path);
  EXPECT_EQ(loaded.tokens(), vocab.tokens());
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }
  // Overwrites an existing file.
  electra::Vocab({"x"}).save(path);
  EXPECT_EQ(electra::Vocab::from_file(path).tokens(), std::vector<std::string>{"x"});
}

TEST_F(VocabFileTest, SaveIntoMissingDirectoryThrows) {
  const std::string path = (dir_ / "no" / "such" / "vocab.txt").string();
  try {
    electra::Vocab({"a"}).save(path);
    FAIL() << "save did not throw";
  } catch (const electra::Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(Vocab, RealBertUncasedVocabulary) {
  const char* data = std::getenv("ELECTRA_DATA_DIR");
  if (data == nullptr || *data == '\0') GTEST_SKIP() << "ELECTRA_DATA_DIR is not set";
  const auto vocab =
      electra::Vocab::from_file(std::string(data) + "/vocab/bert-base-uncased-vocab.txt");
  EXPECT_EQ(vocab.size(), 30522);
  EXPECT_EQ(vocab.id("[PAD]"), 0);
  EXPECT_EQ(vocab.id("[UNK]"), 100);
  EXPECT_EQ(vocab.id("[CLS]"), 101);
  EXPECT_EQ(vocab.id("[SEP]"), 102);
  EXPECT_EQ(vocab.id("[MASK]"), 103);
}

}  // namespace
