#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "electra/io/model_dir.h"
#include "electra/io/safetensors.h"
#include "electra/io/state_dict.h"
#include "electra/util/error.h"
#include "util/files.h"
#include "test_util.h"

using namespace electra;
using test::expect_error;
using test::TempDir;

namespace {

ElectraConfig tiny_config() {
  ElectraConfig c;
  c.vocab_size = 30;
  c.embedding_size = 8;
  c.hidden_size = 12;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 3;
  c.intermediate_size = 20;
  c.max_position_embeddings = 16;
  c.architectures = {"ElectraForPreTraining"};
  return c;
}

// A safetensors file put together by hand: header JSON text and data bytes.
std::string raw_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

void expect_same_tensors(const torch::nn::Module& a, const torch::nn::Module& b) {
  auto ta = named_tensors(a), tb = named_tensors(b);
  ASSERT_EQ(ta.size(), tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    EXPECT_EQ(ta[i].first, tb[i].first);
    EXPECT_TRUE(torch::equal(ta[i].second, tb[i].second)) << ta[i].first;
  }
}

}  // namespace

TEST(Safetensors, ModelDirectoryRoundTripIsBitExact) {
  TempDir dir;
  torch::manual_seed(0);
  ElectraForPreTraining model(tiny_config());
  save_model_dir(dir.path(), *model, tiny_config(), nullptr);
  auto loaded = load_discriminator(dir.path());
  expect_same_tensors(*model, *loaded);
  // Saving the reloaded model gives the same bytes: nothing was rounded or reordered.
  TempDir again;
  save_model_dir(again.path(), *loaded, tiny_config(), nullptr);
  EXPECT_EQ(test::read_bytes(dir.file("model.safetensors")), test::read_bytes(again.file("model.safetensors")));

  SafetensorsFile file(dir.file("model.safetensors"));
  EXPECT_EQ(file.metadata().at("format"), "pt");
  EXPECT_FALSE(file.contains("generator_lm_head.weight"));
  EXPECT_TRUE(file.contains("electra.embeddings_project.weight"));
  EXPECT_EQ(file.entry("electra.embeddings_project.weight").shape, (std::vector<int64_t>{12, 8}));  // [out, in]
}

TEST(Safetensors, HalfPrecisionStorageConvertsOnLoad) {
  for (auto dtype : {torch::kHalf, torch::kBFloat16}) {
    SCOPED_TRACE(c10::toString(dtype));
    TempDir dir;
    torch::manual_seed(1);
    ElectraForPreTraining model(tiny_config());
    SaveOptions options;
    options.dtype = dtype;
    save_model_dir(dir.path(), *model, tiny_config(), nullptr, options);
    SafetensorsFile file(dir.file("model.safetensors"));
    EXPECT_EQ(file.entry("discriminator_predictions.dense.weight").dtype, dtype == torch::kHalf ? "F16" : "BF16");
    auto loaded = load_discriminator(dir.path());
    auto original = named_tensors(*model), back = named_tensors(*loaded);
    for (size_t i = 0; i < original.size(); ++i) {
      EXPECT_EQ(back[i].second.scalar_type(), torch::kFloat);
      EXPECT_TRUE(torch::equal(back[i].second, original[i].second.to(dtype).to(torch::kFloat))) << back[i].first;
    }
  }
}

TEST(Safetensors, TruncatedAndCorruptFilesGiveOneClearError) {
  TempDir dir;
  ElectraForPreTraining model(tiny_config());
  save_model_dir(dir.path(), *model, tiny_config(), nullptr);
  const std::string good = test::read_bytes(dir.file("model.safetensors"));
  const std::string path = dir.file("bad.safetensors");

  test::write_bytes(path, good.substr(0, good.size() / 2));
  expect_error([&] { SafetensorsFile f(path); }, {path, "out of range", "truncated"});

  test::write_bytes(path, good.substr(0, 5));
  expect_error([&] { SafetensorsFile f(path); }, {path, "truncated"});

  test::write_bytes(path, good.substr(0, 200));
  expect_error([&] { SafetensorsFile f(path); }, {path, "header length", "past the end"});

  test::write_bytes(path, raw_file("{\"a\": {\"dtype\": \"F32\", \"shape\": [2]", std::string(8, '\0')));
  expect_error([&] { SafetensorsFile f(path); }, {path, "(header): invalid JSON"});

  const std::string two = R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                              "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})";
  test::write_bytes(path, raw_file(two, std::string(12, '\0')));
  expect_error([&] { SafetensorsFile f(path); }, {path, "\"b\"", "overlaps"});

  test::write_bytes(path, raw_file(R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", std::string(8, '\0')));
  expect_error([&] { SafetensorsFile f(path); }, {path, "\"a\"", "need"});

  test::write_bytes(path, raw_file(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", std::string(12, '\0')));
  expect_error([&] { SafetensorsFile f(path); }, {path, "belong to no tensor"});

  test::write_bytes(path, raw_file(R"({"a": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}})", std::string(8, '\0')));
  expect_error([&] { SafetensorsFile f(path); }, {path, "Q4"});

  expect_error([&] { SafetensorsFile f(dir.file("absent.safetensors")); }, {"absent.safetensors", "no such file"});
}

TEST(Safetensors, MismatchedCheckpointsAreRefusedWithoutTouchingTheModel) {
  TempDir dir;
  ElectraForPreTraining model(tiny_config());
  save_model_dir(dir.path(), *model, tiny_config(), nullptr);
  SafetensorsFile file(dir.file("model.safetensors"));

  auto wider = tiny_config();
  wider.intermediate_size = 24;
  ElectraForPreTraining other(wider);
  const auto before = other->electra->embeddings->word_embeddings->weight.clone();
  expect_error([&] { load_state_dict(*other, file); }, {"model.safetensors", "shape", "intermediate.dense.weight"});
  EXPECT_TRUE(torch::equal(before, other->electra->embeddings->word_embeddings->weight));

  auto deeper = tiny_config();
  deeper.num_hidden_layers = 3;
  ElectraForPreTraining deep(deeper);
  expect_error([&] { load_state_dict(*deep, file); }, {"missing", "encoder.layer.2."});

  auto shallower = tiny_config();
  shallower.num_hidden_layers = 1;
  ElectraForPreTraining shallow(shallower);
  expect_error([&] { load_state_dict(*shallow, file); }, {"unexpected", "encoder.layer.1."});

  // A discriminator file loaded as a generator: missing generator head, unexpected discriminator head.
  ElectraForMaskedLM generator(tiny_config());
  expect_error([&] { load_state_dict(*generator, file); }, {"generator_predictions", "discriminator_predictions"});

  // Allowed gaps and skips: a bare encoder from the discriminator file.
  ElectraModel encoder(tiny_config());
  LoadOptions skip_heads;
  skip_heads.ignore_unexpected = {"discriminator_predictions."};
  expect_error([&] { load_state_dict(*encoder, file); }, {"unexpected", "discriminator_predictions.dense"});
  auto report = load_state_dict(*encoder, file, skip_heads);
  EXPECT_EQ(report.ignored.size(), 4u);
  EXPECT_TRUE(torch::equal(encoder->embeddings->word_embeddings->weight, model->electra->embeddings->word_embeddings->weight));
}

TEST(Safetensors, BuffersAndTiedWeightsInOldFilesAreIgnored) {
  TempDir dir;
  torch::manual_seed(4);
  ElectraForMaskedLM model(tiny_config());
  auto tensors = named_tensors(*model);
  tensors.emplace_back("electra.embeddings.position_ids", torch::arange(16, torch::kLong).unsqueeze(0));
  tensors.emplace_back("generator_lm_head.weight", model->electra->embeddings->word_embeddings->weight);
  save_safetensors(dir.file("model.safetensors"), tensors);
  SafetensorsFile file(dir.file("model.safetensors"));
  ElectraForMaskedLM loaded(tiny_config());
  auto report = load_state_dict(*loaded, file);
  EXPECT_EQ(report.ignored.size(), 2u);
  expect_same_tensors(*model, *loaded);
}

TEST(Safetensors, BareEncoderCheckpointLoadsIntoPrefixedModel) {
  TempDir dir;
  torch::manual_seed(5);
  ElectraModel encoder(tiny_config());
  save_safetensors(dir.file("model.safetensors"), named_tensors(*encoder));
  SafetensorsFile file(dir.file("model.safetensors"));
  ElectraForPreTraining disc(tiny_config());
  LoadOptions options;
  options.allow_missing = {"discriminator_predictions."};
  auto report = load_state_dict(*disc, file, options);
  EXPECT_EQ(report.missing.size(), 4u);
  EXPECT_TRUE(torch::equal(disc->electra->encoder->named_parameters()["layer.1.output.dense.weight"],
                           encoder->encoder->named_parameters()["layer.1.output.dense.weight"]));
}

TEST(Safetensors, LegacyPickleCheckpointGetsConversionAdvice) {
  TempDir dir;
  tiny_config().save(dir.file("config.json"));
  test::write_bytes(dir.file("pytorch_model.bin"), "PK\x03\x04");
  expect_error([&] { load_discriminator(dir.path()); }, {"pytorch_model.bin", "convert"});
  expect_error([&] { load_discriminator(dir.file("nowhere")); }, {"nowhere", "does not exist"});
}

TEST(AtomicWrites, AnUncommittedWriteLeavesTheOldFileAndNoTemporary) {
  TempDir dir;
  const auto path = dir.file("model.safetensors");
  test::write_bytes(path, "old");
  {
    AtomicFile file(path);
    file.stream() << "new, but interrupted";
  }  // no commit(): as when an exception unwinds the writer
  EXPECT_EQ(test::read_bytes(path), "old");
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) entries += e.is_regular_file();
  EXPECT_EQ(entries, 1u);
  // A tensor that cannot be stored fails before the old file is touched.
  expect_error([&] { save_safetensors(path, {{"x", torch::zeros({2}, torch::kComplexFloat)}}); }, {"safetensors"});
  EXPECT_EQ(test::read_bytes(path), "old");
}

TEST(Safetensors, HostileHeadersAreRefusedBeforeAnyAllocation) {
  TempDir dir;
  const auto path = dir.file("hostile.safetensors");
  // Sizes whose product wraps past 2^64 would otherwise pass the byte-count check.
  test::write_bytes(path, raw_file(R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 8]}})",
                                   std::string(8, '\0')));
  expect_error([&] { SafetensorsFile f(path); }, {path, "more than 2^64"});
  // The format caps the header at 100,000,000 bytes (one more is refused, whatever the file holds).
  std::string header_len(8, '\0');
  const uint64_t too_long = 100000001;
  for (int i = 0; i < 8; ++i) header_len[static_cast<size_t>(i)] = static_cast<char>((too_long >> (8 * i)) & 0xff);
  test::write_bytes(path, header_len + "{}");
  expect_error([&] { SafetensorsFile f(path); }, {path, "exceeds the format's limit of 100000000 bytes"});
  test::write_bytes(path, raw_file(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "a": {}})",
                                   std::string(8, '\0')));
  expect_error([&] { SafetensorsFile f(path); }, {path, "\"a\" appears twice"});
}

TEST(Safetensors, NonFiniteWeightsAreRefusedOnLoad) {
  TempDir dir;
  torch::nn::Linear linear(3, 2);
  auto weights = named_tensors(*linear);
  for (auto& [name, tensor] : weights) {
    if (name == "weight") tensor = tensor.clone().index_put_({0, 1}, std::numeric_limits<float>::quiet_NaN());
  }
  save_safetensors(dir.file("nan.safetensors"), weights);
  torch::nn::Linear again(3, 2);
  const SafetensorsFile file(dir.file("nan.safetensors"));
  expect_error([&] { load_state_dict(*again, file); }, {"nan.safetensors", "NaN or Inf", "weight"});
}
