#pragma once
// pytorch_model.bin (torch.save's zip format) read without Python and without running anything
// from the file: a restricted unpickler that knows only the few globals a state dict uses.
#include <string>

#include "electra/io/safetensors.h"  // NamedTensors

namespace electra {

// The state dict in the file's order; tensors are fresh CPU tensors with the stored dtype.
// Throws electra::Error naming the file for anything else (another pickle, a damaged archive,
// a global outside the allowed list).
NamedTensors read_torch_state_dict(const std::string& path);

}  // namespace electra
