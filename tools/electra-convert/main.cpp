// electra-convert: published checkpoints (Hugging Face BERT folders, original TensorFlow ELECTRA
// and BERT checkpoints) into ELECTRA model folders for electra-finetune and transformers.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "../common/output_guard.h"
#include "../common/tool_main.h"
#include "electra/electra.h"
#include "electra/io/convert.h"

namespace {

void describe(const char* role, const electra::ConvertedModel& m, const std::string& dir) {
  int64_t params = 0;
  for (const auto& [_, t] : m.tensors) params += t.numel();
  const auto& c = m.config;
  std::printf("%-13s %s: %lld layers, hidden %lld, %lld heads, embeddings %lld, vocabulary %lld, %lld parameters\n",
              role, dir.c_str(), static_cast<long long>(c.num_hidden_layers), static_cast<long long>(c.hidden_size),
              static_cast<long long>(c.num_attention_heads), static_cast<long long>(c.embedding_size),
              static_cast<long long>(c.vocab_size), static_cast<long long>(params));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Converts a published checkpoint into ELECTRA model folders that electra-finetune, electra-detect and\n"
      "transformers load:\n"
      "  - a Hugging Face BERT-architecture folder (BertModel, BertForMaskedLM, BertForPreTraining, or a\n"
      "    sentence-transformers folder; model.safetensors, sharded safetensors or pytorch_model.bin):\n"
      "    the encoder becomes OUTPUT/discriminator (an ElectraModel: BERT has no replaced-token head);\n"
      "    a tied GELU MLM head becomes OUTPUT/generator. The pooler and the next-sentence head are dropped.\n"
      "  - an original TensorFlow 1 checkpoint (PREFIX.index + PREFIX.data-*), read without TensorFlow:\n"
      "    ELECTRA's release layout gives OUTPUT/discriminator and OUTPUT/generator; BERT's gives the\n"
      "    same as above. Optimizer slots and step counters are dropped.\n"
      "TensorFlow checkpoints do not record the number of attention heads: it defaults to hidden/64\n"
      "(ELECTRA's and BERT's published models); pass it when a model differs.",
      "electra-convert"};
  std::string source, output, vocab, dtype = "fp32";
  bool overwrite = false, cased = false;
  int64_t heads = 0, generator_heads = 0;
  app.add_option("source", source,
                 "A Hugging Face folder, a TensorFlow checkpoint prefix (dir/model.ckpt), its .index file, "
                 "or a folder holding one")
      ->required();
  app.add_option("-o,--output", output, "Folder for discriminator/ and generator/")->required();
  app.add_flag("--overwrite", overwrite, "Replace an earlier conversion in --output");
  app.add_option("--num-attention-heads", heads, "Discriminator (or BERT) heads, for TensorFlow checkpoints")
      ->check(electra::tools::positive_number());
  app.add_option("--generator-num-attention-heads", generator_heads, "Generator heads, for TensorFlow ELECTRA")
      ->check(electra::tools::positive_number());
  app.add_option("--vocab", vocab, "vocab.txt to ship with the model (default: the one beside the checkpoint)");
  app.add_flag("--cased", cased, "The vocabulary is cased (default: tokenizer_config.json's do_lower_case, else uncased)");
  app.add_option("--dtype", dtype, "Storage dtype of the weights")->check(CLI::IsMember({"fp32", "fp16", "bf16"}));
  ELECTRA_PARSE(app, argc, argv);

  return electra::tools::guarded_main("electra-convert", [&] {
    electra::ConvertOptions options;
    if (heads > 0) options.num_attention_heads = heads;
    if (generator_heads > 0) options.generator_num_attention_heads = generator_heads;
    if (cased) options.lowercase = false;
    options.vocab = vocab;
    options.dtype = dtype == "bf16" ? torch::kBFloat16 : dtype == "fp16" ? torch::kHalf : torch::kFloat;

    electra::tools::RunFolder folder(output, {"discriminator", "generator"}, false, overwrite,
                                     electra::Distributed::single_process());
    const auto conversion = electra::convert_checkpoint(source, options);
    std::printf("%s checkpoint %s\n", electra::to_string(conversion.format).c_str(), source.c_str());
    for (const auto& d : conversion.dropped) std::printf("  dropped %s\n", d.c_str());
    folder.replace_earlier_run();
    electra::save_conversion(conversion, output, options);
    describe("discriminator", conversion.discriminator, output + "/discriminator");
    if (conversion.generator) describe("generator", *conversion.generator, output + "/generator");
    if (conversion.vocab_file.empty()) {
      std::printf("no vocab.txt was found beside the checkpoint: add one with --vocab before fine-tuning\n");
    }
    std::printf("fine-tune it: electra-finetune --model %s/discriminator --config configs/finetune/<task>.json ...\n",
                output.c_str());
    return 0;
  });
}
