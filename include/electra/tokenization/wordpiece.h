#pragma once
// BERT-style WordPiece tokenization (reference doc section 6). This layer has no
// LibTorch dependency: it builds and runs on its own (library electra_text).
//
// Offsets are byte offsets [begin, end) into the original UTF-8 input.
// Invalid UTF-8: every byte that does not start a valid sequence is decoded as
// U+FFFD, which text cleaning then drops, so invalid bytes never reach a token
// (they are skipped) and never crash the tokenizer.
//
// Semantics are BERT's (Hugging Face BertTokenizer, do_lower_case, CJK spacing):
// clean (drop U+0000, U+FFFD and C* controls, map whitespace to space), space out
// CJK ideographs, split on whitespace, lowercase + NFD + drop Mn (uncased only),
// split off punctuation, then greedy longest-match-first WordPiece.
//
// Special tokens in the text: the exact, case-sensitive strings of the five
// special tokens of WordPieceOptions ("[CLS]", "[SEP]", "[PAD]", "[MASK]",
// "[UNK]") are kept as single tokens with their own ids wherever they appear in
// the text, even inside a word ("a[MASK]b" -> "a", "[MASK]", "b"), as Hugging Face
// does for its special tokens. So "the [MASK] sat" puts the mask id in the
// sequence (electra-detect relies on this). Set split_special_tokens to get the
// plain BERT basic tokenizer, which splits "[MASK]" into "[", "mask", "]".
//
// Offsets: every token gets the byte range [begin, end) of the original text
// its characters came from. Lowercasing and NFD map each output character back
// to its source character (so a piece of a decomposed character spans the whole
// character), and a dropped accent that was a separate source character is
// counted in the span of the character before it. Characters dropped by cleaning
// are never at the edge of a span but can lie inside one ("a\u200Bb" is one word).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "electra/tokenization/vocab.h"

namespace electra {

struct WordPieceOptions {
  bool lowercase = true;        // uncased models; also strips accents (NFD, drop Mn)
  bool tokenize_cjk = true;     // spaces around CJK ideographs
  std::size_t max_input_chars_per_word = 100;  // longer words become [UNK] (HF rule)
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string mask_token = "[MASK]";
  // false: the special token strings above stay whole when written in the text.
  bool split_special_tokens = false;
};

struct Token {
  std::string text;   // the wordpiece, "##" prefix included for continuations
  std::int32_t id;
  std::size_t begin;  // byte offsets into the original text
  std::size_t end;
};

// How encode/encode_pair/build fit max_length (Hugging Face's strategies):
//   longest_first: drop the last wordpiece of the longer segment, one at a time
//                  (of the second segment when both are equally long);
//   only_first / only_second: drop from the end of that segment only; throws when
//                  that segment cannot shrink enough while keeping one wordpiece
//                  (or, for only_second, when there is no second segment);
//   none:          never truncate; the encoding may be longer than max_length.
// Throws when max_length cannot even hold the special tokens.
enum class Truncation { none, longest_first, only_first, only_second };

struct EncodeOptions {
  std::size_t max_length = 512;           // including [CLS]/[SEP]
  Truncation truncation = Truncation::longest_first;
  bool pad_to_max_length = false;
};

// One encoded sequence: [CLS] A [SEP] or [CLS] A [SEP] B [SEP], optionally padded.
struct Encoding {
  std::vector<std::string> tokens;
  std::vector<std::int32_t> input_ids;
  std::vector<std::int32_t> token_type_ids;
  std::vector<std::int32_t> attention_mask;
  std::vector<std::int32_t> sequence_ids;  // 0 for A, 1 for B, -1 for special tokens and padding
  std::vector<std::pair<std::size_t, std::size_t>> offsets;  // (0,0) for special tokens and padding
  std::size_t num_truncated = 0;  // wordpieces removed by truncation
};

class WordPieceTokenizer {
 public:
  // Throws electra::Error when a special token of the options is not in the vocabulary.
  WordPieceTokenizer(Vocab vocab, WordPieceOptions options = {});
  static WordPieceTokenizer from_vocab_file(const std::string& path, WordPieceOptions options = {});

  // Basic tokenization + WordPiece; adds no [CLS]/[SEP] (special token strings
  // written in the text are kept whole, see above).
  std::vector<Token> tokenize(std::string_view text) const;
  // Only the basic (pre-WordPiece) step: normalized words with their offsets (id = -1).
  std::vector<Token> basic_tokenize(std::string_view text) const;

  Encoding encode(std::string_view text, const EncodeOptions& options = {}) const;
  Encoding encode_pair(std::string_view text_a, std::string_view text_b,
                       const EncodeOptions& options = {}) const;
  // Builds an encoding from pre-tokenized pieces (used by data pipelines).
  Encoding build(std::vector<Token> a, std::optional<std::vector<Token>> b,
                 const EncodeOptions& options = {}) const;

  // Joins wordpieces with spaces, gluing "##" continuations to the piece before
  // them. [PAD] is always skipped; skip_special_tokens also skips [CLS], [SEP],
  // [MASK] and [UNK] (as Hugging Face's decode does). No other clean-up is done
  // ("hello , world" stays as is). Throws on an id outside the vocabulary.
  std::string decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens = true) const;

  const Vocab& vocab() const { return vocab_; }
  const WordPieceOptions& options() const { return options_; }
  std::int32_t unk_id() const { return unk_id_; }
  std::int32_t cls_id() const { return cls_id_; }
  std::int32_t sep_id() const { return sep_id_; }
  std::int32_t pad_id() const { return pad_id_; }
  std::int32_t mask_id() const { return mask_id_; }

 private:
  Vocab vocab_;
  WordPieceOptions options_;
  std::int32_t unk_id_, cls_id_, sep_id_, pad_id_, mask_id_;
  std::size_t max_token_bytes_ = 0;  // longest vocabulary entry: bounds the WordPiece search
};

}  // namespace electra
