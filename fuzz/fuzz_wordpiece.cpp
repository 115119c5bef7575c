// The WordPiece tokenizer on arbitrary bytes (invalid UTF-8, control characters, long words).
#include <cstdlib>
#include <memory>
#include <string_view>

#include "electra/tokenization/wordpiece.h"
#include "electra/util/error.h"

namespace {
std::unique_ptr<electra::WordPieceTokenizer> tokenizer;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* vocab = std::getenv("ELECTRA_FUZZ_VOCAB");
  tokenizer = std::make_unique<electra::WordPieceTokenizer>(
      electra::WordPieceTokenizer::from_vocab_file(vocab ? vocab : ELECTRA_FUZZ_DEFAULT_VOCAB));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)tokenizer->encode(text);
    const auto half = text.size() / 2;
    (void)tokenizer->encode_pair(text.substr(0, half), text.substr(half));
  } catch (const electra::Error&) {
  }
  return 0;
}
