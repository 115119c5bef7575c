#include "electra/tokenization/text_encoder.h"

#include "tokenization/sentencepiece.h"
#include "electra/tokenization/wordpiece.h"
#include "electra/util/error.h"

namespace electra {
namespace {

class WordPieceEncoder : public TextEncoder {
 public:
  WordPieceEncoder(const std::string& path, bool lowercase) : path_(path), tokenizer_(make(path, lowercase)) {}

  std::vector<std::int32_t> encode(std::string_view text) const override {
    std::vector<std::int32_t> ids;
    for (const auto& t : tokenizer_.tokenize(text)) ids.push_back(t.id);
    return ids;
  }
  std::int32_t vocab_size() const override { return tokenizer_.vocab().size(); }
  std::int32_t pad_id() const override { return tokenizer_.pad_id(); }
  std::int32_t unk_id() const override { return tokenizer_.unk_id(); }
  std::int32_t cls_id() const override { return tokenizer_.cls_id(); }
  std::int32_t sep_id() const override { return tokenizer_.sep_id(); }
  std::int32_t mask_id() const override { return tokenizer_.mask_id(); }
  std::string token(std::int32_t id) const override { return tokenizer_.vocab().token(id); }
  std::string describe() const override {
    return "WordPiece " + path_ + " (" + std::to_string(vocab_size()) + " tokens)";
  }

 private:
  static WordPieceTokenizer make(const std::string& path, bool lowercase) {
    WordPieceOptions options;
    options.lowercase = lowercase;
    return WordPieceTokenizer::from_vocab_file(path, options);
  }
  std::string path_;
  WordPieceTokenizer tokenizer_;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::unique_ptr<TextEncoder> open_text_encoder(const std::string& path, bool lowercase) {
  if (ends_with(path, ".model")) {
    // The model carries its own normalization: `lowercase` does not apply.
    return std::make_unique<SentencePieceEncoder>(path);
  }
  return std::make_unique<WordPieceEncoder>(path, lowercase);
}

}  // namespace electra
