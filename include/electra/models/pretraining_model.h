#pragma once
// Generator + discriminator for pre-training. The discriminator owns the embeddings
// (word, position, token type and their LayerNorm); the generator uses them without
// registering them again, so parameters() lists every shared tensor once.
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "electra/config/electra_config.h"
#include "electra/io/safetensors.h"
#include "electra/models/electra_model.h"

namespace electra {

enum class Objective {
  electra,  // replaced token detection: generator MLM + discriminator (the paper)
  mlm,      // masked language modelling alone (the paper's BERT baseline)
};

Objective parse_objective(const std::string& name);  // "electra" | "mlm"
std::string to_string(Objective objective);

class ElectraPretrainingModelImpl : public torch::nn::Module {
 public:
  // For Objective::mlm there is no discriminator: the generator config is the model.
  ElectraPretrainingModelImpl(const ElectraConfig& discriminator, const ElectraConfig& generator, Objective objective);

  bool has_discriminator() const { return static_cast<bool>(discriminator); }
  const ElectraConfig& generator_config() const { return generator_config_; }
  const ElectraConfig& discriminator_config() const { return discriminator_config_; }

  // Hugging Face state dicts of each half, the shared embeddings under both names.
  NamedTensors discriminator_tensors() const;
  NamedTensors generator_tensors() const;

  ElectraForPreTraining discriminator{nullptr};
  ElectraForMaskedLM generator{nullptr};

 private:
  ElectraConfig discriminator_config_, generator_config_;
};
TORCH_MODULE(ElectraPretrainingModel);

// The generator shares the discriminator's embeddings, so both must agree on them.
void check_generator_compatible(const ElectraConfig& discriminator, const ElectraConfig& generator);

}  // namespace electra
