// electra-detect: which tokens of a text were replaced? (discriminator), or what fills
// each [MASK]? (generator).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "../common/cpu_setup.h"
#include "../common/tool_main.h"
#include "electra/electra.h"

namespace {

using json = nlohmann::json;

int detect(const std::string& model_dir, const std::string& text, const std::string& pair, bool as_json,
           double threshold, std::size_t max_length) {
  // The tokenizer first: a vocabulary that does not fit the config is the clearer error.
  const auto tokenizer = electra::load_tokenizer(model_dir, electra::load_config(model_dir));
  auto model = electra::load_discriminator(model_dir);
  const auto d = electra::detect_replaced_tokens(model, tokenizer, text, pair, max_length);
  if (as_json) {
    json out = {{"tokens", d.encoding.tokens},       {"input_ids", d.encoding.input_ids},
                {"token_type_ids", d.encoding.token_type_ids}, {"logits", d.logits},
                {"probabilities", d.probabilities}};
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::printf("%-4s %-20s %12s %12s %s\n", "pos", "token", "logit", "p(replaced)", "replaced");
  for (std::size_t i = 0; i < d.logits.size(); ++i) {
    std::printf("%-4zu %-20s %12.4f %12.4f %d\n", i, d.encoding.tokens[i].c_str(), d.logits[i], d.probabilities[i],
                d.probabilities[i] > threshold ? 1 : 0);
  }
  return 0;
}

int fill(const std::string& model_dir, const std::string& text, const std::string& pair, bool as_json,
         std::size_t top_k, std::size_t max_length) {
  // The tokenizer first: a vocabulary that does not fit the config is the clearer error.
  const auto tokenizer = electra::load_tokenizer(model_dir, electra::load_config(model_dir));
  auto model = electra::load_generator(model_dir);
  const auto f = electra::fill_masks(model, tokenizer, text, pair, top_k, max_length);
  if (as_json) {
    json predictions = json::array();
    for (const auto& p : f.predictions) {
      json candidates = json::array();
      for (const auto& [token, prob] : p.candidates) candidates.push_back({{"token", token}, {"probability", prob}});
      predictions.push_back({{"position", p.position}, {"candidates", candidates}});
    }
    std::cout << json{{"tokens", f.encoding.tokens}, {"input_ids", f.encoding.input_ids}, {"masks", predictions}}.dump()
              << "\n";
    return 0;
  }
  for (const auto& p : f.predictions) {
    std::printf("[MASK] at position %zu:", p.position);
    for (const auto& [token, prob] : p.candidates) std::printf("  %s (%.3f)", token.c_str(), prob);
    std::printf("\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Runs an ELECTRA model directory (config.json, model.safetensors, vocab.txt) on a text.\n"
      "A discriminator prints, for every token, the probability that it was replaced;\n"
      "a generator (--mode fill) prints the top-k candidates for every [MASK].",
      "electra-detect"};
  std::string model_dir, text, pair, mode = "auto";
  bool as_json = false;
  double threshold = 0.5;
  std::size_t top_k = 5, max_length = 512;
  int threads = 0;
  app.add_option("--model", model_dir, "Hugging Face-format model directory")->required();
  app.add_option("--text", text, "Text to run")->required();
  app.add_option("--text-pair", pair, "Second segment ([CLS] text [SEP] pair [SEP])");
  app.add_flag("--json", as_json, "Print one JSON object instead of a table");
  app.add_option("--mode", mode, "auto (from config.json's architectures), detect or fill")
      ->check(CLI::IsMember({"auto", "detect", "fill"}));
  app.add_option("--threshold", threshold, "Probability above which a token counts as replaced")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--top-k", top_k, "Candidates printed per [MASK] in fill mode")->check(electra::tools::positive_number());
  app.add_option("--max-length", max_length, "Truncate the input to this many tokens")->check(electra::tools::positive_number());
  app.add_option("--threads", threads, "Intra-op threads (default: OMP_NUM_THREADS or all cores)");
  ELECTRA_PARSE(app, argc, argv);

  return electra::tools::guarded_main("electra-detect", [&] {
    electra::tools::configure_cpu(argv, electra::Precision::fp32, threads);
    const auto config = electra::load_config(model_dir);
    const auto kind = electra::model_kind(config);
    if (mode == "auto") mode = kind == electra::ModelKind::generator ? "fill" : "detect";
    const bool encoder_only =
        !config.architectures.empty() && config.architectures.front() == "ElectraModel";
    if (encoder_only) {  // electra-convert's BERT bodies: nothing to detect or fill with
      throw electra::file_error(model_dir + "/config.json",
                                "an ElectraModel is an encoder without a head (a converted BERT, for example): "
                                "electra-detect needs a discriminator (ElectraForPreTraining) or a generator "
                                "(ElectraForMaskedLM); fine-tune this one with electra-finetune");
    }
    return mode == "fill" ? fill(model_dir, text, pair, as_json, top_k, max_length)
                          : detect(model_dir, text, pair, as_json, threshold, max_length);
  });
}
