// vocab.txt, and a WordPiece tokenizer built on whatever it accepts.
#include "electra/tokenization/wordpiece.h"
#include "electra/util/error.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  electra::fuzz::InputFile input(data, size);
  if (!input.ok()) return 0;
  try {
    electra::WordPieceTokenizer tokenizer(electra::Vocab::from_file(input.path()));
    (void)tokenizer.encode_pair("The quick brown fox [MASK] jumps.", "Über naïve café 東京");
  } catch (const electra::Error&) {
  }
  return 0;
}
