#pragma once
// Internal: which parameters AdamW decays.
#include <string>

namespace electra {

// The official code exempts LayerNorm parameters and biases from weight decay.
inline bool applies_weight_decay(const std::string& name) {
  return name.find("LayerNorm") == std::string::npos &&
         !(name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0);
}

}  // namespace electra
