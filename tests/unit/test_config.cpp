#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "electra/config/electra_config.h"
#include "electra/train/finetune_config.h"
#include "electra/train/pretrain_config.h"
#include "electra/util/error.h"
#include "test_util.h"

using electra::ElectraConfig;
using electra::test::expect_error;

namespace {

const char* kSmallDiscriminator = R"({
  "architectures": ["ElectraForPreTraining"], "attention_probs_dropout_prob": 0.1,
  "embedding_size": 128, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 256,
  "initializer_range": 0.02, "intermediate_size": 1024, "layer_norm_eps": 1e-12,
  "max_position_embeddings": 512, "model_type": "electra", "num_attention_heads": 4,
  "num_hidden_layers": 12, "pad_token_id": 0, "type_vocab_size": 2, "vocab_size": 30522,
  "summary_type": "first", "position_embedding_type": "absolute", "id2label": {"0": "a", "1": "b"}
})";

}  // namespace

TEST(Config, ReadsHuggingFaceConfigAndKeepsUnknownKeys) {
  const auto c = ElectraConfig::from_json_string(kSmallDiscriminator, "config.json");
  EXPECT_EQ(c.vocab_size, 30522);
  EXPECT_EQ(c.embedding_size, 128);
  EXPECT_EQ(c.hidden_size, 256);
  EXPECT_EQ(c.num_attention_heads, 4);
  EXPECT_EQ(c.head_dim(), 64);
  EXPECT_TRUE(c.has_embeddings_project());
  EXPECT_EQ(c.hidden_act, electra::Activation::gelu);
  ASSERT_EQ(c.architectures.size(), 1u);
  EXPECT_EQ(c.architectures[0], "ElectraForPreTraining");
  EXPECT_NE(c.extra_json.find("summary_type"), std::string::npos);

  const auto again = ElectraConfig::from_json_string(c.to_json_string(), "round trip");
  EXPECT_EQ(again.to_json_string(), c.to_json_string());
  EXPECT_NE(again.to_json_string().find("\"id2label\""), std::string::npos);
  EXPECT_NE(again.to_json_string().find("\"model_type\": \"electra\""), std::string::npos);
}

TEST(Config, RejectsBadValuesNamingKeyAndFile) {
  expect_error([] { ElectraConfig::from_json_string(R"({"hidden_size": 250, "num_attention_heads": 4})", "a.json"); },
               {"a.json", "hidden_size", "not divisible", "4"});
  expect_error([] { ElectraConfig::from_json_string(R"({"vocab_size": -3})", "b.json"); }, {"b.json", "vocab_size", "positive"});
  expect_error([] { ElectraConfig::from_json_string(R"({"hidden_act": "swoosh"})", "c.json"); },
               {"c.json", "hidden_act", "swoosh"});
  expect_error([] { ElectraConfig::from_json_string(R"({"hidden_size": "big"})", "d.json"); },
               {"d.json", "hidden_size", "integer"});
  expect_error([] { ElectraConfig::from_json_string(R"({"hidden_dropout_prob": 1.5})", "e.json"); },
               {"e.json", "hidden_dropout_prob"});
  expect_error([] { ElectraConfig::from_json_string(R"({"model_type": "bert"})", "f.json"); }, {"f.json", "model_type"});
  expect_error([] { ElectraConfig::from_json_string("{\"vocab_size\": 10,", "g.json"); }, {"g.json", "invalid JSON"});
  expect_error([] { ElectraConfig::from_json_string("[1, 2]", "h.json"); }, {"h.json", "object"});
  expect_error([] { ElectraConfig::from_file("/nonexistent/config.json"); }, {"/nonexistent/config.json", "no such file"});
}

TEST(Config, GeneratorSizesFollowThePaper) {
  const auto small_gen = electra::generator_config(ElectraConfig::small(), 0.25);
  EXPECT_EQ(small_gen.hidden_size, 64);
  EXPECT_EQ(small_gen.intermediate_size, 256);
  EXPECT_EQ(small_gen.num_attention_heads, 1);
  EXPECT_EQ(small_gen.num_hidden_layers, 12);
  EXPECT_EQ(small_gen.embedding_size, 128);
  const auto base_gen = electra::generator_config(ElectraConfig::base(), 1.0 / 3.0);
  EXPECT_EQ(base_gen.hidden_size, 256);
  EXPECT_EQ(base_gen.intermediate_size, 1024);
  EXPECT_EQ(base_gen.num_attention_heads, 4);
  const auto large_gen = electra::generator_config(ElectraConfig::large(), 0.25);
  EXPECT_EQ(large_gen.hidden_size, 256);
  EXPECT_EQ(large_gen.num_attention_heads, 4);
  EXPECT_EQ(large_gen.num_hidden_layers, 24);
  expect_error([] { electra::generator_config(ElectraConfig::small(), 0.0); }, {"fraction"});
}

namespace {

// Every key a config writes is read back into the same field: --set section.key=<another value>
// must come back out under that key. Returns how many keys changed that way (enums and values
// that validation refuses, e.g. a probability of 2, do not count).
template <typename Config>
int keys_that_round_trip(const std::vector<std::string>& base, int* total) {
  using json = nlohmann::json;
  const json written = json::parse(Config::from_json_string("{}", "defaults", base).to_json_string());
  int changed = 0;
  *total = 0;
  for (const auto& [section, keys] : written.items()) {
    for (const auto& [key, value] : keys.items()) {
      ++*total;
      json other;
      if (value.is_boolean()) other = !value.template get<bool>();
      else if (value.is_number_integer() || value.is_number_unsigned()) other = value.template get<int64_t>() + 1;
      else if (value.is_number_float()) other = value.template get<double>() == 0 ? 0.25 : value.template get<double>() / 2;
      else if (value.is_string()) other = value.template get<std::string>() + "x";
      else if (value.is_array()) other = json::array({"a", "b"});
      else ADD_FAILURE() << section << "." << key << ": unexpected type";
      const std::string assignment = section + "." + key + "=" + other.dump();
      try {
        auto overrides = base;
        overrides.push_back(assignment);
        const auto again = json::parse(Config::from_json_string("{}", "test", overrides).to_json_string());
        EXPECT_EQ(again.at(section).at(key), other) << assignment;
        ++changed;
      } catch (const electra::Error& e) {
        // Refused by a parser or validation: the error must name the key, not call it unknown.
        const std::string what = e.what();
        EXPECT_EQ(what.find("unknown key"), std::string::npos) << assignment << ": " << what;
      }
    }
  }
  return changed;
}

}  // namespace

TEST(ConfigFields, PretrainKeysAreReadWrittenAndOverriddenFromOneList) {
  int total = 0;
  const int changed = keys_that_round_trip<electra::PretrainConfig>({}, &total);
  EXPECT_GE(total, 40);
  EXPECT_GE(changed, total * 3 / 4) << changed << " of " << total;
  expect_error([] { electra::PretrainConfig::from_json_string("{}", "cfg.json", {"train.stpes=3"}); },
               {"cfg.json: unknown key \"train.stpes\""});
}

TEST(ConfigFields, FinetuneKeysAreReadWrittenAndOverriddenFromOneList) {
  int total = 0;
  const int changed = keys_that_round_trip<electra::FinetuneConfig>({"task.name=mrpc"}, &total);
  EXPECT_GE(total, 45);
  EXPECT_GE(changed, total * 3 / 4) << changed << " of " << total;
  expect_error([] { electra::FinetuneConfig::from_json_string("{}", "cfg.json", {"squad.n_bets=3"}); },
               {"cfg.json: unknown key \"squad.n_bets\""});
}

TEST(Config, HostileConfigJsonIsRefusedWithoutCrashOrAllocation) {
  const std::string deep = "{\"x\": " + std::string(200000, '[') + std::string(200000, ']') + "}";
  expect_error([&] { ElectraConfig::from_json_string(deep, "deep.json"); }, {"deep.json", "nested deeper than 256"});
  expect_error([] { ElectraConfig::from_json_string(R"({"hidden_size": 64, "hidden_size": 32})", "twice.json"); },
               {"twice.json", "\"hidden_size\" appears twice"});
  expect_error([] { ElectraConfig::from_json_string(R"({"num_hidden_layers": 1000000000})", "layers.json"); },
               {"layers.json", "num_hidden_layers", "allowed"});
  expect_error([] { ElectraConfig::from_json_string(R"({"vocab_size": 1000000000000})", "vocab.json"); },
               {"vocab.json", "vocab_size", "allowed"});
  expect_error([] { ElectraConfig::from_file("/dev/zero"); }, {"/dev/zero", "not a regular file"});
  // Found by fuzz_config and fuzz_json: a number too large for a double, and a whole number too
  // large for the integer it fills (converting it was undefined behaviour).
  expect_error([] { ElectraConfig::from_json_string(R"({"hidden_size": 1e99999})", "huge.json"); },
               {"huge.json", "invalid JSON"});
  expect_error([] { ElectraConfig::from_json_string(R"({"hidden_size": 7.7e98})", "big.json"); },
               {"big.json", "hidden_size", "out of range"});
  expect_error([] { ElectraConfig::from_json_string(R"({"hidden_size": 18446744073709551615})", "big.json"); },
               {"big.json", "hidden_size", "out of range"});
  expect_error([] { electra::PretrainConfig::from_json_string(R"({"train": {"steps": 1e300}})", "p.json"); },
               {"p.json", "train.steps", "out of range"});
  // Within every bound, still far too large: the parameter count decides.
  expect_error([] {
    ElectraConfig::from_json_string(R"({"hidden_size": 32768, "num_hidden_layers": 512, "num_attention_heads": 256,
                                        "intermediate_size": 131072})", "big.json");
  }, {"big.json", "billion parameters"});
}
