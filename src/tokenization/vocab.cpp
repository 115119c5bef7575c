#include "electra/tokenization/vocab.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "electra/util/error.h"
#include "data/corpus_files.h"
#include "util/files.h"

namespace electra {
namespace {

// Lookups by string_view go through a per-thread buffer, so that the hot path of
// WordPiece (many lookups per word) does not allocate.
std::string& lookup_buffer(std::string_view token) {
  thread_local std::string buffer;
  buffer.assign(token.data(), token.size());
  return buffer;
}

std::string in_quotes(const std::string& token) { return "'" + token + "'"; }

}  // namespace

Vocab::Vocab(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
  ids_.reserve(tokens_.size());
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    if (tokens_[i].empty()) {
      throw Error("vocabulary: token " + std::to_string(i) + " is empty");
    }
    auto [it, inserted] = ids_.emplace(tokens_[i], static_cast<std::int32_t>(i));
    if (!inserted) {
      throw Error("vocabulary: duplicate token " + in_quotes(tokens_[i]) + " at id " +
                  std::to_string(i) + " (first at id " + std::to_string(it->second) + ")");
    }
  }
}

Vocab Vocab::from_file(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    throw file_error(path, "is a directory, not a vocabulary file (one token per line)");
  }
  require_regular_file(path, 64ull << 20);  // the largest vocabularies are a few MB
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw file_error(path,
                     std::string("cannot open the vocabulary file (") + std::strerror(errno) + ")");
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw file_error(path, "cannot read the vocabulary file");
  std::string text = content.str();

  // A UTF-8 byte order mark is not part of the first token.
  std::string_view rest(text);
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);

  std::vector<std::string> tokens;
  std::unordered_map<std::string, std::size_t> first_line;
  std::size_t line_number = 0;
  std::size_t blank_line = 0;  // first blank line not yet followed by a token
  while (!rest.empty()) {
    ++line_number;
    const std::size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (blank_line == 0) blank_line = line_number;
      continue;
    }
    std::string checked(line);
    if (remove_invalid_utf8(checked) > 0) {
      throw file_error(path, "line " + std::to_string(line_number) + " is not valid UTF-8: not a vocabulary file");
    }
    if (blank_line != 0) {
      throw file_error(path, "line " + std::to_string(blank_line) +
                                 " is empty; a vocabulary has one token per line and the "
                                 "line number is the id, so blank lines are not allowed");
    }
    std::string token(line);
    auto [it, inserted] = first_line.emplace(token, line_number);
    if (!inserted) {
      throw file_error(path, "line " + std::to_string(line_number) + ": duplicate token " +
                                 in_quotes(token) + " (first on line " +
                                 std::to_string(it->second) + ")");
    }
    tokens.push_back(std::move(token));
  }
  if (tokens.empty()) {
    throw file_error(path, "the vocabulary file is empty (expected one token per line)");
  }
  return Vocab(std::move(tokens));
}

void Vocab::save(const std::string& path) const {
  AtomicFile file(path);
  for (const auto& token : tokens_) file.stream() << token << '\n';
  file.commit();
}

bool Vocab::contains(std::string_view token) const {
  return ids_.find(lookup_buffer(token)) != ids_.end();
}

std::int32_t Vocab::id(std::string_view token) const {
  const auto it = ids_.find(lookup_buffer(token));
  return it == ids_.end() ? -1 : it->second;
}

const std::string& Vocab::token(std::int32_t id) const {
  if (id < 0 || id >= size()) {
    throw Error("token id " + std::to_string(id) + " is out of range for a vocabulary of " +
                std::to_string(size()) + " tokens");
  }
  return tokens_[static_cast<std::size_t>(id)];
}

}  // namespace electra
