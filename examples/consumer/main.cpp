// Builds a small discriminator, saves it as a Hugging Face directory, reloads it and
// checks that it gives the same replaced-token logits.
#include <electra/electra.h>

#include <cstdio>
#include <filesystem>

int main() {
  electra::ElectraConfig config;
  config.vocab_size = 8;
  config.embedding_size = 8;
  config.hidden_size = 16;
  config.num_hidden_layers = 1;
  config.num_attention_heads = 2;
  config.intermediate_size = 32;
  config.architectures = {"ElectraForPreTraining"};
  electra::Vocab vocab({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s"});

  electra::ElectraForPreTraining model(config);
  model->eval();
  const auto dir = (std::filesystem::temp_directory_path() / "electra-consumer-model").string();
  electra::save_model_dir(dir, *model, config, &vocab);

  auto reloaded = electra::load_discriminator(dir);
  const auto tokenizer = electra::load_tokenizer(dir, reloaded->electra->config());
  const auto a = electra::detect_replaced_tokens(model, tokenizer, "Hello worlds");
  const auto b = electra::detect_replaced_tokens(reloaded, tokenizer, "Hello worlds");
  std::filesystem::remove_all(dir);
  if (a.logits != b.logits || a.encoding.tokens.size() != 5) {
    std::printf("consumer failed\n");
    return 1;
  }
  std::printf("consumer ok: %zu tokens\n", a.encoding.tokens.size());
  return 0;
}
