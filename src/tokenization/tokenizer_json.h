#pragma once
// tokenizer.json: the file of Hugging Face's fast tokenizers (the `tokenizers` library), for
// WordPiece tokenizers of the BERT family only.
//
// Written: BERT's fast tokenizer for a Vocab and WordPieceOptions (BertNormalizer,
// BertPreTokenizer, WordPiece model, "[CLS] $A [SEP]" / "[CLS] $A [SEP] $B:1 [SEP]:1"
// template, WordPiece decoder, the five special tokens as added tokens), so that
// `tokenizers.Tokenizer.from_file` and `AutoTokenizer` give the ids WordPieceTokenizer gives.
//
// Read: the vocabulary and the options WordPieceTokenizer has a field for. A file that would
// tokenize differently from WordPieceTokenizer (another model type, normalizer, pre-tokenizer
// or template, accents kept while lowercasing, added tokens beyond the five special ones) is
// refused with one line that names what differs, rather than loaded into a tokenizer that
// silently gives other ids.
#include <string>
#include <string_view>

#include "electra/tokenization/vocab.h"
#include "electra/tokenization/wordpiece.h"

namespace electra {

// What libelectra takes from a tokenizer.json.
struct TokenizerJson {
  Vocab vocab;               // model.vocab, ids 0..N-1
  WordPieceOptions options;  // unk_token, lowercase, tokenize_cjk, max_input_chars_per_word
};

// Throws electra::Error "<source>: <problem>" (untrusted input: every member is checked).
TokenizerJson parse_tokenizer_json(std::string_view text, const std::string& source);
TokenizerJson read_tokenizer_json(const std::string& path);

// The file's text; throws electra::Error "<path>: <problem>" when a special token of `options` is
// not in `vocab` or a token is not valid UTF-8 (`path` only names the file in messages).
std::string tokenizer_json_text(const Vocab& vocab, const WordPieceOptions& options,
                                const std::string& path = "tokenizer.json");
void write_tokenizer_json(const std::string& path, const Vocab& vocab, const WordPieceOptions& options);

// A vocabulary file: tokenizer.json when the name ends in ".json", else vocab.txt (one token a line).
Vocab read_vocab_file(const std::string& path);

// The tokenizer of a model folder (no LibTorch: the text layer's view of model_dir).
//   vocabulary: vocab.txt when present (older folders have only it); tokenizer.json when it is
//               the only one. When both exist they must hold the same tokens in the same order.
//   lowercase:  tokenizer_config.json's do_lower_case when present (transformers lets it
//               override the file's normalizer too), else tokenizer.json's normalizer, else true.
// Throws electra::Error naming the file at fault.
WordPieceTokenizer read_tokenizer_dir(const std::string& dir);

}  // namespace electra
