#pragma once
// SentencePiece (unigram or BPE) vocabularies: training, and a TextEncoder over a .model file.
//
// SentencePiece itself is never linked into electra_text: Debian's libsentencepiece carries
// a copy of protobuf whose symbols clash with the protobuf LibTorch links, and a process
// that loads both crashes at start-up. It lives instead in a small C-interface library,
// libelectra_spm_shim.so, which electra_text opens on first use with
// dlmopen(LM_ID_NEWLM), in a link namespace of its own. The shim is looked for, in order:
//   1. $ELECTRA_SPM_SHIM (the path of the file; an explicit override);
//   2. the directory of libelectra_text.so itself (build/lib in a build tree; the library
//      directory of an installation, where `cmake --install` puts it);
//   3. the library directory this build would be installed to.
// When none has it, the first use throws electra::Error saying where it looked.
//
// Special tokens: electra needs the pieces [PAD], [UNK], [CLS], [SEP] and [MASK].
// train_sentencepiece puts them at ids 0..4 ([PAD] = pad_id 0, [UNK] = unk_id 1, and
// [CLS], [SEP], [MASK] as user-defined symbols 2..4, which SentencePiece keeps whole when
// they are written in the text); <s> and </s> are disabled.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "data/corpus_files.h"
#include "electra/tokenization/text_encoder.h"

namespace electra {

enum class SentencePieceModelType { unigram, bpe };

struct SentencePieceTrainOptions {
  std::vector<std::string> inputs;  // text files, one sentence per line (see expand_inputs)
  std::string model_path;           // the .model file to write; the .vocab goes beside it
  std::int32_t vocab_size = 8000;   // including the 5 special pieces
  SentencePieceModelType model_type = SentencePieceModelType::unigram;
  double character_coverage = 0.9995;  // share of characters the model must cover; rarer ones are <unk>
  // Sentences sampled from the corpus (uniformly, by SentencePiece's reservoir sampler), so
  // memory stays bounded on large corpora. 0: every sentence.
  std::uint64_t input_sentence_size = 1000000;
  std::uint64_t max_sentence_length = 16384;  // bytes; longer lines are skipped (and counted)
  std::uint32_t seed = 42;  // sampling; a given seed, corpus and options give the same model
  int threads = 0;          // 0: every core
  bool lowercase = true;    // normalization nmt_nfkc_cf (case-folded) instead of nmt_nfkc
  bool verbose = false;     // SentencePiece's own log (its training progress) on stderr
  // Called every few megabytes while the corpus is read (before SentencePiece trains).
  std::function<void(const CorpusStats&)> on_read;
};

struct SentencePieceTrainResult {
  std::string model_path;
  std::string vocab_path;
  std::int32_t vocab_size = 0;
  CorpusStats corpus;                  // what was read (invalid UTF-8 bytes are removed)
  std::uint64_t sentences = 0;         // non-blank lines handed to SentencePiece
  std::uint64_t skipped_too_long = 0;  // lines longer than max_sentence_length
};

// Trains a model; the .model and .vocab files appear only when training succeeded
// (written under temporary names, then renamed). model_path must end in ".model".
// Calls in one process run one at a time (SentencePiece's seed and log level are global).
// Throws electra::Error on a missing input, an empty corpus or a SentencePiece failure
// (e.g. a vocab_size larger than the corpus supports).
SentencePieceTrainResult train_sentencepiece(const SentencePieceTrainOptions& options);

// The .vocab file that training writes beside NAME.model: NAME.vocab. Throws unless the path
// ends in .model.
std::string sentencepiece_vocab_path(const std::string& model_path);

std::string to_string(SentencePieceModelType type);
SentencePieceModelType sentencepiece_model_type(const std::string& name);  // "unigram" | "bpe"

// A SentencePiece .model as a TextEncoder. Its normalization (lowercasing or not) is part
// of the model. Throws electra::Error when the file cannot be loaded, when the model lacks
// one of the five special pieces, or when its unknown piece is not [UNK].
class SentencePieceEncoder : public TextEncoder {
 public:
  explicit SentencePieceEncoder(const std::string& model_path);
  ~SentencePieceEncoder() override;
  SentencePieceEncoder(SentencePieceEncoder&&) noexcept;
  SentencePieceEncoder& operator=(SentencePieceEncoder&&) noexcept;

  std::vector<std::int32_t> encode(std::string_view text) const override;
  std::int32_t vocab_size() const override { return vocab_size_; }
  std::int32_t pad_id() const override { return pad_id_; }
  std::int32_t unk_id() const override { return unk_id_; }
  std::int32_t cls_id() const override { return cls_id_; }
  std::int32_t sep_id() const override { return sep_id_; }
  std::int32_t mask_id() const override { return mask_id_; }
  std::string token(std::int32_t id) const override;  // the piece; throws when out of range
  std::string describe() const override;

  std::int32_t id(std::string_view piece) const;  // -1 when the model has no such piece
  std::vector<std::string> encode_pieces(std::string_view text) const;
  std::string decode(const std::vector<std::int32_t>& ids) const;

 private:
  struct Model;
  std::string path_;
  std::unique_ptr<Model> model_;
  std::int32_t vocab_size_ = 0;
  std::int32_t pad_id_ = -1, unk_id_ = -1, cls_id_ = -1, sep_id_ = -1, mask_id_ = -1;
};

// The shim library that SentencePiece calls go through (loading it if needed); throws
// electra::Error saying where it looked when it cannot be found or loaded.
std::string sentencepiece_shim_path();

}  // namespace electra
