// electra::convert_checkpoint on TensorFlow checkpoints: the official ELECTRA layout written by
// TensorFlow (tests/fixtures/tf, scripts/make_tf_fixtures.py) and the real bert-tiny BERT checkpoint.
// The transformers side of the same conversions is tests/integration/test_convert_cli.py.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "electra/io/convert.h"
#include "electra/io/model_dir.h"
#include "electra/io/state_dict.h"
#include "electra/models/electra_model.h"
#include "electra/util/error.h"

namespace fs = std::filesystem;
using electra::CheckpointFormat;

namespace {

const std::string kFixtures = std::string(ELECTRA_SOURCE_DIR) + "/tests/fixtures/tf";

nlohmann::json expected() {
  std::ifstream in(kFixtures + "/electra_tiny_expected.json");
  return nlohmann::json::parse(in);
}

torch::Tensor tensor(const nlohmann::json& j, torch::ScalarType type) {
  // Nested lists of numbers: flatten, then restore the shape.
  std::vector<int64_t> shape;
  for (const auto* level = &j; level->is_array(); level = &(*level)[0]) shape.push_back(static_cast<int64_t>(level->size()));
  std::vector<double> flat;
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& x) {
    if (x.is_array()) {
      for (const auto& y : x) walk(y);
    } else {
      flat.push_back(x.get<double>());
    }
  };
  walk(j);
  return torch::tensor(flat, torch::kDouble).reshape(shape).to(type);
}

electra::ConvertOptions tiny_heads() {
  electra::ConvertOptions options;
  options.num_attention_heads = 4;
  options.generator_num_attention_heads = 2;
  return options;
}

bool dropped(const electra::Conversion& c, const std::string& name) {
  return std::any_of(c.dropped.begin(), c.dropped.end(), [&](const std::string& d) { return d.find(name) != std::string::npos; });
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("electra-convert-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST(ConvertTfElectra, OfficialLayoutBecomesDiscriminatorAndGenerator) {
  const auto c = electra::convert_checkpoint(kFixtures + "/electra_tiny", tiny_heads());
  EXPECT_EQ(c.format, CheckpointFormat::tf_electra);
  const auto want = expected();
  const auto& d = c.discriminator.config;
  EXPECT_EQ(d.architectures, std::vector<std::string>{"ElectraForPreTraining"});
  EXPECT_EQ(d.vocab_size, want["discriminator_config"]["vocab_size"].get<int64_t>());
  EXPECT_EQ(d.embedding_size, 16);
  EXPECT_EQ(d.hidden_size, 32);
  EXPECT_EQ(d.num_hidden_layers, 2);
  EXPECT_EQ(d.intermediate_size, 64);
  EXPECT_EQ(d.max_position_embeddings, 40);
  ASSERT_TRUE(c.generator.has_value());
  EXPECT_EQ(c.generator->config.hidden_size, 16);
  EXPECT_EQ(c.generator->config.num_attention_heads, 2);
  EXPECT_EQ(c.generator->config.architectures, std::vector<std::string>{"ElectraForMaskedLM"});
  EXPECT_TRUE(dropped(c, "global_step"));
  EXPECT_TRUE(dropped(c, "adam_m"));
  EXPECT_FALSE(c.vocab_file.empty());
}

TEST(ConvertTfElectra, SavedFoldersGiveTheLogitsOfTensorFlowsWeights) {
  const auto c = electra::convert_checkpoint(kFixtures + "/electra_tiny", tiny_heads());
  TempDir dir;
  electra::save_conversion(c, dir.path.string());
  const auto want = expected();
  const auto ids = tensor(want["input_ids"], torch::kLong);
  const auto mask = tensor(want["attention_mask"], torch::kLong);
  const auto types = tensor(want["token_type_ids"], torch::kLong);
  torch::NoGradGuard no_grad;
  auto discriminator = electra::load_discriminator((dir.path / "discriminator").string());
  auto generator = electra::load_generator((dir.path / "generator").string());
  const auto d = discriminator->forward(ids, mask, types) * mask;
  const auto g = generator->forward(ids, mask, types) * mask.unsqueeze(-1);
  EXPECT_LE((d - tensor(want["discriminator_logits"], torch::kFloat) * mask).abs().max().item<float>(), 1e-4);
  EXPECT_LE((g - tensor(want["generator_logits"], torch::kFloat) * mask.unsqueeze(-1)).abs().max().item<float>(), 1e-4);
  // The vocabulary and tokenizer files travel with both folders.
  EXPECT_TRUE(fs::exists(dir.path / "discriminator" / "vocab.txt"));
  EXPECT_TRUE(fs::exists(dir.path / "generator" / "tokenizer_config.json"));
}

TEST(ConvertTfElectra, AWrongHeadCountChangesNothingSilently) {
  // 32 wide with the default 64-wide heads is one head: a valid but different model. The shapes
  // cannot tell, so the converter prints the count it used; here the outputs must differ.
  const auto c = electra::convert_checkpoint(kFixtures + "/electra_tiny");
  EXPECT_EQ(c.discriminator.config.num_attention_heads, 1);
  electra::ConvertOptions bad;
  bad.num_attention_heads = 5;  // 32 is not a multiple of 5
  EXPECT_THROW(electra::convert_checkpoint(kFixtures + "/electra_tiny", bad), electra::Error);
}

TEST(ConvertErrors, FoldersThatAreNotCheckpointsAreNamed) {
  TempDir dir;
  auto expect_error = [](const std::string& source, const std::string& needle) {
    try {
      electra::detect_checkpoint_format(source);
      ADD_FAILURE() << source << " was accepted";
    } catch (const electra::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error((dir.path / "missing").string(), "does not exist");
  expect_error(dir.path.string(), "neither a config.json");
  std::ofstream(dir.path / "config.json") << R"({"model_type": "electra", "hidden_size": 8})";
  expect_error(dir.path.string(), "already describes an ELECTRA model");
  std::ofstream(dir.path / "config.json") << R"({"model_type": "gpt2"})";
  expect_error(dir.path.string(), "model_type \"gpt2\"");
}

TEST(ConvertTfBert, RealBertTinyCheckpoint) {
  const char* data = std::getenv("ELECTRA_DATA_DIR");
  if (data == nullptr) GTEST_SKIP() << "set ELECTRA_DATA_DIR to run";
  const auto c = electra::convert_checkpoint(std::string(data) + "/tf_checkpoints/bert-tiny");
  EXPECT_EQ(c.format, CheckpointFormat::tf_bert);
  EXPECT_EQ(c.discriminator.config.architectures, std::vector<std::string>{"ElectraModel"});
  EXPECT_EQ(c.discriminator.config.hidden_size, 4);
  EXPECT_EQ(c.discriminator.config.embedding_size, 4);
  EXPECT_EQ(c.discriminator.config.num_attention_heads, 4);  // from bert_config.json
  EXPECT_EQ(c.discriminator.config.vocab_size, 15);
  ASSERT_TRUE(c.generator.has_value());
  EXPECT_TRUE(dropped(c, "pooler.dense.weight"));
  EXPECT_TRUE(dropped(c, "cls.seq_relationship"));
  EXPECT_TRUE(dropped(c, "global_step"));
  // Every discriminator tensor is the generator's body too.
  for (const auto& [name, value] : c.discriminator.tensors) {
    const auto it = std::find_if(c.generator->tensors.begin(), c.generator->tensors.end(),
                                 [&](const auto& t) { return t.first == "electra." + name; });
    ASSERT_NE(it, c.generator->tensors.end()) << name;
    EXPECT_TRUE(torch::equal(it->second, value)) << name;
  }
}
