// pytorch_model.bin: torch.save's zip archive or legacy stream, the restricted unpickler, and
// every tensor the file describes.
#include "electra/util/error.h"
#include "fuzz_input.h"
#include "io/torch_pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  electra::fuzz::InputFile input(data, size);
  if (!input.ok()) return 0;
  try {
    for (const auto& [name, tensor] : electra::read_torch_state_dict(input.path())) (void)tensor.sum();
  } catch (const electra::Error&) {
  }
  return 0;
}
