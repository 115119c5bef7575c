#pragma once
// The model card (README.md) of an exported model folder, in the Hugging Face layout: a YAML
// metadata block that the Hub reads (licence, language, library, tags, datasets, pipeline),
// then a few lines for people: what was trained on what, from what, for how long, and the
// final held-out numbers in a table. The trainers and electra-convert fill a ModelCard from
// what they know; save_model_dir writes the rendered text (SaveOptions::model_card).
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace electra {

enum class ModelOrigin { pretrained, finetuned, converted };

struct ModelCard {
  ModelOrigin origin = ModelOrigin::pretrained;
  std::string architecture;  // config.json's architectures[0]: names the model, picks pipeline_tag
  std::string base_model;    // the folder training started from, or the converted source (empty: random init)
  std::string source_format; // conversions: "TensorFlow ELECTRA", ...
  std::string data;          // what it was trained on, in words (Markdown allowed)
  std::vector<std::string> datasets;  // Hugging Face dataset ids, when known ("nyu-mll/glue")
  std::vector<std::string> tags;      // beyond "electra" and "libelectra"
  std::int64_t steps = 0;    // optimizer updates (0: not stated)
  double epochs = 0;         // 0: not stated
  double seconds = 0;        // training time (0: not stated)
  std::string results_split = "held-out data";  // what the numbers were measured on
  std::vector<std::pair<std::string, double>> results;  // final held-out numbers, in this order
  std::vector<std::string> notes;  // further points, one bullet each (a conversion's dropped tensors)
  // The project's licence (README, "Licence") for what libelectra trained; conversions carry their
  // source's (empty: not stated, left out of the metadata).
  std::string license = "apache-2.0";
  std::string language = "en";  // empty: left out
};

std::string render_model_card(const ModelCard& card);

// Top-level "key: value" lines of a README.md's leading metadata block (---...---); list items,
// nested keys and a file without the block give nothing. Quotes around a value are removed.
std::map<std::string, std::string> card_metadata(const std::string& readme);

}  // namespace electra
