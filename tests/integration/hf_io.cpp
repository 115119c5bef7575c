// What libelectra computes for a Hugging Face model directory, for test_transformers.py to
// compare with what `transformers` computes for the same directory.
//
//   hf_io forward  MODEL_DIR INPUTS.safetensors OUTPUT.safetensors
//       INPUTS: input_ids, attention_mask, token_type_ids ([B, S], I64). OUTPUT: "logits" of the
//       architecture in config.json (ElectraModel: the hidden state again), and "hidden" (the encoder's last hidden state [B, S, H]).
//   hf_io tokenize MODEL_DIR TEXTS.json OUTPUT.json
//       TEXTS: [[text, pair-or-null], ...]. OUTPUT: [{"input_ids": [...], "token_type_ids": [...]}, ...]
#include <torch/torch.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "electra/io/model_dir.h"
#include "electra/io/safetensors.h"
#include "electra/models/task_models.h"
#include "electra/train/finetuner.h"
#include "electra/util/error.h"

using namespace electra;
using json = nlohmann::json;

namespace {

NamedTensors forward(const std::string& dir, const SafetensorsFile& inputs) {
  const auto ids = inputs.load("input_ids"), mask = inputs.load("attention_mask"), types = inputs.load("token_type_ids");
  const auto model_dir = read_model_dir(dir);
  const auto& config = model_dir.config;
  const std::string architecture = config.architectures.empty() ? "" : config.architectures.front();
  torch::NoGradGuard no_grad;
  if (architecture == "ElectraForPreTraining") {
    auto model = load_discriminator(dir);
    model->eval();
    return {{"logits", model->forward(ids, mask, types)}, {"hidden", model->electra->forward(ids, mask, types)}};
  }
  if (architecture == "ElectraForMaskedLM") {
    auto model = load_generator(dir);
    model->eval();
    return {{"logits", model->forward(ids, mask, types)}, {"hidden", model->electra->forward(ids, mask, types)}};
  }
  if (architecture == "ElectraModel") {  // a converted BERT body (electra-convert)
    ElectraModel model(config);
    load_weights(*model, dir);
    model->eval();
    const auto hidden = model->forward(ids, mask, types);
    return {{"logits", hidden}, {"hidden", hidden}};
  }
  if (const auto& head = model_dir.task_head) {
    TaskModel model(config, head->kind, static_cast<int64_t>(head->labels.size()), head->classifier_head,
                    head->answerable_classifier);
    load_weights(*model, dir);
    model->eval();
    return {{"logits", model->forward(ids, mask, types)}, {"hidden", model->electra->forward(ids, mask, types)}};
  }
  throw Error(dir + "/config.json: architecture \"" + architecture + "\" is not one hf_io knows");
}

json tokenize(const std::string& dir, const json& texts) {
  const auto tokenizer = load_tokenizer(dir, load_config(dir));
  json out = json::array();
  for (const auto& item : texts) {
    const auto a = item.at(0).get<std::string>();
    const auto e = item.at(1).is_null() ? tokenizer.encode(a) : tokenizer.encode_pair(a, item.at(1).get<std::string>());
    out.push_back({{"input_ids", e.input_ids}, {"token_type_ids", e.token_type_ids}});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: hf_io forward|tokenize MODEL_DIR INPUT OUTPUT\n";
    return 2;
  }
  const std::string command = argv[1], dir = argv[2], input = argv[3], output = argv[4];
  try {
    if (command == "forward") {
      save_safetensors(output, forward(dir, SafetensorsFile(input)));
    } else if (command == "tokenize") {
      std::ifstream in(input);
      std::ofstream(output) << tokenize(dir, json::parse(in)).dump();
    } else {
      throw Error("unknown command " + command);
    }
  } catch (const std::exception& e) {
    std::cerr << "hf_io: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
