#pragma once
// What the data pipelines need from a tokenizer, whatever its kind (WordPiece vocab.txt
// or a SentencePiece model): text -> ids, and the ids of the special tokens.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace electra {

class TextEncoder {
 public:
  virtual ~TextEncoder() = default;
  // Ids of `text` without special tokens. Must be safe to call from several threads at once.
  virtual std::vector<std::int32_t> encode(std::string_view text) const = 0;
  virtual std::int32_t vocab_size() const = 0;
  virtual std::int32_t pad_id() const = 0;
  virtual std::int32_t unk_id() const = 0;
  virtual std::int32_t cls_id() const = 0;
  virtual std::int32_t sep_id() const = 0;
  virtual std::int32_t mask_id() const = 0;
  virtual std::string token(std::int32_t id) const = 0;
  virtual std::string describe() const = 0;  // "WordPiece vocab.txt (30522 tokens)" for logs
};

// vocab.txt (WordPiece) or *.model (SentencePiece), chosen by the file name. `lowercase`
// applies to WordPiece only: a SentencePiece model carries its own normalization.
std::unique_ptr<TextEncoder> open_text_encoder(const std::string& path, bool lowercase = true);

}  // namespace electra
