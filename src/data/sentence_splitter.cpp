#include "data/sentence_splitter.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "../tokenization/unicode.h"
#include "data/corpus.h"

namespace electra {
namespace {

constexpr std::size_t kMaxSentenceBytes = std::size_t{1} << 20;

bool is_terminal(char c) { return c == '.' || c == '!' || c == '?'; }
bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool has_prefix(std::string_view text, std::size_t pos, std::string_view prefix) {
  return text.compare(pos, prefix.size(), prefix) == 0;
}

// Length of the closing quote or bracket at `pos`, 0 when there is none.
std::size_t closer_length(std::string_view text, std::size_t pos) {
  const char c = text[pos];
  if (c == '"' || c == '\'' || c == ')' || c == ']') return 1;
  for (std::string_view closer : {"\xE2\x80\x9D" /* ” */, "\xE2\x80\x99" /* ’ */, "\xC2\xBB" /* » */}) {
    if (has_prefix(text, pos, closer)) return closer.size();
  }
  return 0;
}

// Can a sentence start with the character at `pos`?
bool starts_sentence(std::string_view text, std::size_t pos) {
  const char c = text[pos];
  if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  if (c == '"' || c == '\'' || c == '`' || c == '(' || c == '[') return true;
  if (static_cast<unsigned char>(c) < 0x80) return false;
  const auto d = unicode::decode_utf8(text, pos);
  if (!d.valid) return false;
  switch (d.cp) {
    case 0x201C: case 0x2018: case 0x00AB: case 0x00BF: case 0x00A1:  // “ ‘ « ¿ ¡
      return true;
    default:
      break;
  }
  const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(d.cp));
  return category == UTF8PROC_CATEGORY_LU || category == UTF8PROC_CATEGORY_LT;
}

bool is_listed_abbreviation(const std::string& lower) {
  static constexpr std::array<const char*, 33> kAbbreviations{
      "mr", "mrs", "ms", "messrs", "dr", "prof", "st", "jr", "sr", "rev", "gen",
      "col", "capt", "lt", "sgt", "gov", "sen", "rep", "hon", "mt", "ft", "vs",
      "cf", "viz", "approx", "fig", "figs", "vol", "pp", "al", "e.g", "i.e", "mme"};
  return std::any_of(kAbbreviations.begin(), kAbbreviations.end(),
                     [&](const char* a) { return lower == a; });
}

// Does the '.' at `dot` end an abbreviation or an initial rather than a sentence?
bool ends_abbreviation(std::string_view text, std::size_t dot) {
  std::size_t begin = dot;
  while (begin > 0 && !is_ascii_space(text[begin - 1])) --begin;
  std::string_view word = text.substr(begin, dot - begin);
  // Opening punctuation before the word: ("Dr. or “Mr.
  for (bool stripped = true; stripped && !word.empty();) {
    stripped = false;
    for (std::string_view opener : {"(", "[", "\"", "'", "`", "\xE2\x80\x9C", "\xE2\x80\x98"}) {
      if (word.substr(0, opener.size()) == opener) {
        word.remove_prefix(opener.size());
        stripped = true;
      }
    }
  }
  if (word.empty()) return false;
  std::string lower(word);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (is_listed_abbreviation(lower)) return true;
  // A single letter: an initial.
  const auto first = unicode::decode_utf8(word, 0);
  if (first.length == word.size()) {
    if (word.size() == 1) return is_ascii_alpha(word[0]);
    const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(first.cp));
    return first.valid && category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO;
  }
  // One- or two-letter parts joined by dots: U.S., a.m., Ph.D
  if (lower.find('.') == std::string::npos) return false;
  std::size_t part = 0;
  for (char c : lower) {
    if (c == '.') {
      if (part == 0) return false;
      part = 0;
    } else if (is_ascii_alpha(c) && part < 2) {
      ++part;
    } else {
      return false;
    }
  }
  return part > 0;
}

void emit(std::string_view text, std::vector<std::string>& out) {
  const auto sentence = trim_whitespace(text);
  if (!sentence.empty()) out.emplace_back(sentence);
}

// Where to cut a sentence that has grown past the cap: after its last space, or at
// the cap (moved back to a character boundary).
std::size_t forced_cut(std::string_view text) {
  const auto space = text.rfind(' ', kMaxSentenceBytes);
  if (space != std::string_view::npos && space > 0) return space + 1;
  std::size_t cut = kMaxSentenceBytes;
  while (cut > 1 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

}  // namespace

void SentenceSplitter::add_line(std::string_view line, std::vector<std::string>& out) {
  line = trim_whitespace(line);
  if (line.empty()) return;
  if (!buffer_.empty()) buffer_ += ' ';
  buffer_.append(line.data(), line.size());
  extract(out);
}

void SentenceSplitter::finish(std::vector<std::string>& out) {
  emit(buffer_, out);
  buffer_.clear();
  scan_ = 0;
}

void SentenceSplitter::extract(std::vector<std::string>& out) {
  const std::string_view text(buffer_);
  const std::size_t n = text.size();
  std::size_t start = 0;  // first byte of the sentence being read
  std::size_t i = scan_;
  while (i < n) {
    if (!is_terminal(text[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < n && is_terminal(text[j])) ++j;
    const bool single_dot = text[i] == '.' && j == i + 1;
    for (std::size_t len; j < n && (len = closer_length(text, j)) > 0;) j += len;
    if (j == n) break;  // the end of the line: wait for more text
    if (!is_ascii_space(text[j])) {
      i = j;
      continue;
    }
    std::size_t k = j;
    while (k < n && is_ascii_space(text[k])) ++k;
    if (k == n) break;
    if (!starts_sentence(text, k) || (single_dot && ends_abbreviation(text, i))) {
      i = k;
      continue;
    }
    emit(text.substr(start, j - start), out);
    start = k;
    i = k;
  }
  buffer_.erase(0, start);
  scan_ = i - start;
  while (buffer_.size() > kMaxSentenceBytes) {
    const std::size_t cut = forced_cut(buffer_);
    emit(std::string_view(buffer_).substr(0, cut), out);
    buffer_.erase(0, cut);
    scan_ = scan_ > cut ? scan_ - cut : 0;
  }
}

std::vector<std::string> split_sentences(std::string_view paragraph) {
  std::vector<std::string> out;
  SentenceSplitter splitter;
  splitter.add_line(paragraph, out);
  splitter.finish(out);
  return out;
}

}  // namespace electra
