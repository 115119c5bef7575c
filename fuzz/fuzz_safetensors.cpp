// model.safetensors: header, offsets, dtypes, and every tensor it lets through.
#include "electra/io/safetensors.h"
#include "electra/util/error.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  electra::fuzz::InputFile input(data, size);
  if (!input.ok()) return 0;
  try {
    electra::SafetensorsFile file(input.path());
    for (const auto& entry : file.entries()) (void)file.load(entry.name).sum();
  } catch (const electra::Error&) {
  }
  return 0;
}
