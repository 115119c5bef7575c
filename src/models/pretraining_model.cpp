#include "electra/models/pretraining_model.h"

#include <torch/torch.h>

#include "electra/io/state_dict.h"
#include "electra/util/error.h"

namespace electra {

Objective parse_objective(const std::string& name) {
  if (name == "electra") return Objective::electra;
  if (name == "mlm") return Objective::mlm;
  throw Error("unknown objective \"" + name + "\" (expected electra or mlm)");
}

std::string to_string(Objective objective) { return objective == Objective::electra ? "electra" : "mlm"; }

void check_generator_compatible(const ElectraConfig& d, const ElectraConfig& g) {
  auto same = [](const char* key, int64_t a, int64_t b) {
    if (a != b) {
      throw Error(std::string("generator and discriminator share embeddings, so ") + key + " must match (" +
                  std::to_string(a) + " vs " + std::to_string(b) + ")");
    }
  };
  same("vocab_size", d.vocab_size, g.vocab_size);
  same("embedding_size", d.embedding_size, g.embedding_size);
  same("max_position_embeddings", d.max_position_embeddings, g.max_position_embeddings);
  same("type_vocab_size", d.type_vocab_size, g.type_vocab_size);
}

ElectraPretrainingModelImpl::ElectraPretrainingModelImpl(const ElectraConfig& discriminator_config,
                                                         const ElectraConfig& generator_config, Objective objective)
    : discriminator_config_(discriminator_config), generator_config_(generator_config) {
  discriminator_config_.architectures = {"ElectraForPreTraining"};
  generator_config_.architectures = {"ElectraForMaskedLM"};
  if (objective == Objective::electra) {
    check_generator_compatible(discriminator_config_, generator_config_);
    discriminator = register_module("discriminator", ElectraForPreTraining(discriminator_config_));
    generator = register_module("generator", ElectraForMaskedLM(generator_config_, discriminator->electra->embeddings));
  } else {
    generator = register_module("generator", ElectraForMaskedLM(generator_config_));
  }
}

NamedTensors ElectraPretrainingModelImpl::discriminator_tensors() const {
  if (!discriminator) throw Error("this model was trained with the mlm objective and has no discriminator");
  return named_tensors(*discriminator);
}

NamedTensors ElectraPretrainingModelImpl::generator_tensors() const {
  if (generator->electra->owns_embeddings()) return named_tensors(*generator);
  // HF order: embeddings first, then the generator's own tensors.
  NamedTensors out;
  for (auto& [name, t] : named_tensors(*generator->electra->embeddings)) out.emplace_back("electra.embeddings." + name, t);
  for (auto& entry : named_tensors(*generator)) out.push_back(entry);
  return out;
}

}  // namespace electra
