#pragma once
// A WordPiece vocabulary: one token per line, id = line number (vocab.txt).
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace electra {

class Vocab {
 public:
  Vocab() = default;
  explicit Vocab(std::vector<std::string> tokens);  // throws on duplicates or empty tokens
  static Vocab from_file(const std::string& path);   // throws electra::Error naming the file
  void save(const std::string& path) const;          // atomic: temp file + rename

  std::int32_t size() const { return static_cast<std::int32_t>(tokens_.size()); }
  bool contains(std::string_view token) const;
  std::int32_t id(std::string_view token) const;        // -1 when absent
  const std::string& token(std::int32_t id) const;      // throws when out of range
  const std::vector<std::string>& tokens() const { return tokens_; }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, std::int32_t> ids_;
};

}  // namespace electra
