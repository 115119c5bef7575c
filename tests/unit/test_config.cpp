#include <gtest/gtest.h>

#include "electra/config/electra_config.h"
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
