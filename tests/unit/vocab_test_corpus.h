#pragma once
// Small generated corpora for the vocabulary training tests: deterministic (a fixed
// linear congruential generator, no <random> distributions, whose output differs between
// standard libraries), written under a fresh temporary directory per test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace electra::test {

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "vocab";
    for (char& c : name) {
      if (c == '/') c = '_';
    }
    path_ = std::filesystem::temp_directory_path() / ("electra-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class Lcg {
 public:
  explicit Lcg(std::uint64_t seed) : state_(seed) {}
  std::uint32_t next() {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>(state_ >> 32);
  }
  std::size_t below(std::size_t n) { return next() % n; }

 private:
  std::uint64_t state_;
};

// `count` distinct lowercase pseudo-words made of syllables; word 0 is "the".
inline std::vector<std::string> make_words(std::size_t count) {
  static const char* syllables[] = {"ka",  "to", "ri", "mu", "sen", "lo", "pa",  "vi", "dor", "ne",
                                    "sha", "ql", "bri", "ex", "un", "ta", "go", "ze", "fy", "wom",
                                    "jac", "hi", "bo", "ust", "ed", "ing", "cre", "ph", "oy", "zu"};
  std::vector<std::string> words = {"the"};
  Lcg rng(7);
  while (words.size() < count) {
    std::string word;
    const std::size_t n = 1 + rng.below(3);
    for (std::size_t i = 0; i < n; ++i) word += syllables[rng.below(30)];
    if (std::find(words.begin(), words.end(), word) == words.end()) words.push_back(word);
  }
  return words;
}

// Lines of 4..15 words; word i is drawn with weight ~ 1/(i+1) (Zipf-like), with some
// punctuation, so "the" is by far the most frequent.
inline std::string make_corpus(std::size_t lines, std::size_t vocabulary = 600, std::uint64_t seed = 1) {
  const auto words = make_words(vocabulary);
  std::vector<double> cumulative;
  double total = 0;
  for (std::size_t i = 0; i < words.size(); ++i) cumulative.push_back(total += 1.0 / static_cast<double>(i + 1));
  Lcg rng(seed);
  std::string text;
  for (std::size_t l = 0; l < lines; ++l) {
    const std::size_t n = 4 + rng.below(12);
    for (std::size_t i = 0; i < n; ++i) {
      const double u = total * (rng.next() / 4294967296.0);
      std::size_t k = 0;
      while (k + 1 < cumulative.size() && cumulative[k] < u) ++k;
      if (i > 0) text += ' ';
      text += words[k];
    }
    text += rng.below(4) == 0 ? " , ok .\n" : " .\n";
  }
  return text;
}

}  // namespace electra::test
