#pragma once
// Moving a module's tensors to and from safetensors files by Hugging Face name.
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "electra/io/safetensors.h"

namespace electra {

struct LoadOptions {
  // Name prefixes the file may lack; those tensors keep their initial values
  // (a task head when fine-tuning from a discriminator).
  std::vector<std::string> allow_missing;
  // Name prefixes in the file that are skipped (the discriminator head when fine-tuning).
  std::vector<std::string> ignore_unexpected;
};

struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;  // allowed by LoadOptions::allow_missing
  std::vector<std::string> ignored;  // buffers, tied weights, LoadOptions::ignore_unexpected
};

// Parameters then buffers, by qualified name, in registration order.
NamedTensors named_tensors(const torch::nn::Module& module);

// Copies every tensor of `module` from `file`, converting dtypes. Throws one electra::Error
// that lists missing and unexpected names (beyond what `options` allows) and shape or dtype
// mismatches, before any tensor of the module has been modified.
// Always ignored: `*.position_ids` / `*.token_type_ids` buffers of old HF files and
// `generator_lm_head.weight` (tied to the word embeddings). A file saved from a bare
// ElectraModel (no "electra." prefix) loads into a model whose names carry it.
LoadReport load_state_dict(torch::nn::Module& module, const SafetensorsFile& file, const LoadOptions& options = {});

}  // namespace electra
