// The TensorFlow checkpoint reader against TensorFlow's own reading of a real checkpoint
// (tests/fixtures/tf/bert_tiny_digest.json, scripts/make_tf_fixtures.py), the committed ELECTRA
// fixture, and damaged, hand-made and randomly corrupted files.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>

#include "electra/util/error.h"
#include "io/tf_checkpoint.h"
#include "test_util.h"

using namespace electra;
using test::read_bytes;
using test::TempDir;
using test::write_bytes;
namespace fs = std::filesystem;

namespace {

const std::string kElectraTiny = test::source_dir() + "/tests/fixtures/tf/electra_tiny";

// ---------------------------------------------------------------- SHA-256 (FIPS 180-4), for exact byte digests

std::string sha256_hex(const uint8_t* data, size_t n) {
  static const uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::string msg(reinterpret_cast<const char*>(data), n);
  msg += '\x80';
  while (msg.size() % 64 != 56) msg += '\0';
  for (int i = 7; i >= 0; --i) msg += static_cast<char>((uint64_t(n) * 8) >> (8 * i));
  auto rotr = [](uint32_t x, int r) { return (x >> r) | (x << (32 - r)); };
  for (size_t off = 0; off < msg.size(); off += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const uint8_t*>(msg.data() + off + 4 * i);
      w[i] = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
    }
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
  }
  char out[65];
  for (int i = 0; i < 8; ++i) std::snprintf(out + 8 * i, 9, "%08x", h[i]);
  return std::string(out, 64);
}

TEST(TfSha256, KnownAnswers) {
  EXPECT_EQ(sha256_hex(nullptr, 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string abc = "abc";
  EXPECT_EQ(sha256_hex(reinterpret_cast<const uint8_t*>(abc.data()), 3),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

std::string numpy_name(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat: return "float32";
    case torch::kDouble: return "float64";
    case torch::kInt: return "int32";
    case torch::kLong: return "int64";
    case torch::kBool: return "bool";
    default: return c10::toString(t);
  }
}

// ---------------------------------------------------------------- damaging files

// Runs everything a caller would do with a checkpoint: open it, then load every variable.
void open_and_load_all(const std::string& path) {
  TfCheckpoint ckpt(path);
  for (const auto& v : ckpt.variables()) ckpt.load(v.name);
}

// Expects exactly one electra::Error, a single line naming `file` (and each of `parts`).
void expect_refused(const std::function<void()>& fn, const std::string& file, std::initializer_list<std::string> parts = {}) {
  try {
    fn();
    ADD_FAILURE() << "expected an electra::Error naming " << file;
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(file), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    for (const auto& p : parts) EXPECT_NE(m.find(p), std::string::npos) << "message: " << m << "\nmissing: " << p;
  }
}

// A copy of the ELECTRA fixture to damage; returns the prefix.
std::string copy_fixture(const TempDir& dir) {
  for (const char* name : {"model.ckpt.index", "model.ckpt.data-00000-of-00001", "checkpoint"}) {
    fs::copy_file(kElectraTiny + "/" + name, dir.file(name));
  }
  return dir.file("model.ckpt");
}

// ---------------------------------------------------------------- a hand-made bundle, for cases TensorFlow never writes

uint32_t masked_crc32c(const std::string& bytes) {
  uint32_t c = ~0u;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1u) ? 0x82f63b78u : 0u);
  }
  c = ~c;
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::string varint(uint64_t v) {
  std::string s;
  while (v >= 0x80) s += static_cast<char>((v & 0x7f) | 0x80), v >>= 7;
  return s + static_cast<char>(v);
}
std::string le32(uint32_t v) {
  std::string s;
  for (int i = 0; i < 4; ++i) s += static_cast<char>(v >> (8 * i));
  return s;
}
std::string field_varint(int field, uint64_t v) { return varint(uint64_t(field) << 3) + varint(v); }
std::string field_bytes(int field, const std::string& b) { return varint(uint64_t(field) << 3 | 2) + varint(b.size()) + b; }

struct FakeTensor {
  std::string name;
  int dtype = 1;
  std::vector<int64_t> shape;
  std::string data;
  bool sliced = false;
  int shard = 0;
  int64_t size = -1;  // -1: data.size()
};

std::string entry_proto(const FakeTensor& t, uint64_t offset) {
  std::string shape;
  for (int64_t d : t.shape) shape += field_bytes(2, field_varint(1, static_cast<uint64_t>(d)));
  std::string e = field_varint(1, t.dtype) + field_bytes(2, shape) + field_varint(3, t.shard) + field_varint(4, offset) +
                  field_varint(5, static_cast<uint64_t>(t.size < 0 ? int64_t(t.data.size()) : t.size)) +
                  varint(6 << 3 | 5) + le32(masked_crc32c(t.data));
  if (t.sliced) e += field_bytes(7, field_bytes(1, field_varint(1, 0)));
  return e;
}

// One SSTable block of uncompressed entries (no key sharing) and its trailer.
std::string block(const std::vector<std::pair<std::string, std::string>>& kv, uint8_t compression = 0) {
  std::string b;
  for (const auto& [k, v] : kv) b += varint(0) + varint(k.size()) + varint(v.size()) + k + v;
  b += le32(0) + le32(1);  // one restart point, at 0
  const std::string typed = b + static_cast<char>(compression);
  return typed + le32(masked_crc32c(typed));
}

struct FakeOptions {
  int num_shards = 1;
  int endianness = 0;
  uint8_t compression = 0;
};

// Writes <prefix>.index and <prefix>.data-00000-of-N holding `tensors` (sorted by name by the caller).
// Returns the size of the index's first block, which holds the entries and starts the file.
size_t write_bundle(const std::string& prefix, const std::vector<FakeTensor>& tensors, FakeOptions o = {}) {
  std::string data;
  std::vector<std::pair<std::string, std::string>> kv;
  kv.emplace_back("", field_varint(1, o.num_shards) + field_varint(2, o.endianness) +
                          field_bytes(3, field_varint(1, 1)));
  for (const auto& t : tensors) {
    kv.emplace_back(t.name, entry_proto(t, data.size()));
    data += t.data;
  }
  const std::string data_block = block(kv, o.compression);
  const uint64_t data_size = data_block.size() - 5;
  const std::string meta_block = block({});
  const std::string index_block = block({{tensors.empty() ? std::string("") : tensors.back().name,
                                          varint(0) + varint(data_size)}});
  std::string file = data_block + meta_block + index_block;
  std::string footer = varint(data_block.size()) + varint(meta_block.size() - 5) +
                       varint(data_block.size() + meta_block.size()) + varint(index_block.size() - 5);
  footer.resize(40, '\0');
  footer += le32(0x8b80fb57u) + le32(0xdb477524u);
  write_bytes(prefix + ".index", file + footer);
  char shard[64];
  std::snprintf(shard, sizeof shard, ".data-00000-of-%05d", o.num_shards);
  write_bytes(prefix + shard, data);
  return data_size;
}

std::string floats(std::initializer_list<float> v) {
  return std::string(reinterpret_cast<const char*>(v.begin()), v.size() * sizeof(float));
}

}  // namespace

// ---------------------------------------------------------------- a real checkpoint, against TensorFlow's reading

TEST(TfBertTiny, EveryVariableMatchesTensorFlowsReading) {
  const char* data_dir = std::getenv("ELECTRA_DATA_DIR");
  if (!data_dir) GTEST_SKIP() << "ELECTRA_DATA_DIR not set (needs tf_checkpoints/bert-tiny)";
  const std::string dir = std::string(data_dir) + "/tf_checkpoints/bert-tiny";
  if (!fs::exists(dir + "/bert_model.ckpt.index")) GTEST_SKIP() << dir << " has no bert_model.ckpt.index";
  const auto digest = nlohmann::json::parse(read_bytes(test::source_dir() + "/tests/fixtures/tf/bert_tiny_digest.json"));
  const auto& expected = digest.at("variables");

  TfCheckpoint ckpt(dir + "/bert_model.ckpt");
  ASSERT_EQ(ckpt.variables().size(), expected.size());
  for (const auto& [name, want] : expected.items()) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(ckpt.contains(name));
    const torch::Tensor t = ckpt.load(name);
    EXPECT_EQ(numpy_name(t.scalar_type()), want.at("dtype").get<std::string>());
    EXPECT_EQ(t.sizes().vec(), want.at("shape").get<std::vector<int64_t>>());
    EXPECT_EQ(sha256_hex(static_cast<const uint8_t*>(t.data_ptr()), t.nbytes()), want.at("sha256").get<std::string>());
    if (t.is_floating_point() && t.numel() > 0) {
      EXPECT_NEAR(t.to(torch::kDouble).sum().item<double>(), want.at("sum").get<double>(), 1e-6);
      const auto first = t.flatten().to(torch::kDouble);
      const auto& want_first = want.at("first");
      for (size_t i = 0; i < want_first.size(); ++i) {
        EXPECT_EQ(first[static_cast<int64_t>(i)].item<double>(), want_first[i].get<double>());
      }
    }
  }
  // The listing is the same whichever way the checkpoint is named.
  EXPECT_EQ(TfCheckpoint(dir).variables().size(), expected.size());
  EXPECT_EQ(TfCheckpoint(dir + "/bert_model.ckpt.index").prefix(), ckpt.prefix());
}

// ---------------------------------------------------------------- the committed ELECTRA fixture

TEST(TfElectraTiny, ListsTheOfficialNamesAndShapes) {
  std::map<std::string, std::vector<int64_t>> want = {
      {"electra/embeddings/word_embeddings", {64, 16}},
      {"electra/embeddings/position_embeddings", {40, 16}},
      {"electra/embeddings/token_type_embeddings", {2, 16}},
      {"electra/embeddings/LayerNorm/gamma", {16}},
      {"electra/embeddings/LayerNorm/beta", {16}},
      {"electra/embeddings_project/kernel", {16, 32}},
      {"electra/embeddings_project/bias", {32}},
      {"discriminator_predictions/dense/kernel", {32, 32}},
      {"discriminator_predictions/dense/bias", {32}},
      {"discriminator_predictions/dense_1/kernel", {32, 1}},
      {"discriminator_predictions/dense_1/bias", {1}},
      {"generator_predictions/dense/kernel", {16, 16}},
      {"generator_predictions/dense/bias", {16}},
      {"generator_predictions/LayerNorm/gamma", {16}},
      {"generator_predictions/LayerNorm/beta", {16}},
      {"generator_predictions/output_bias", {64}},
  };
  for (const auto& [scope, hidden, inter] : {std::tuple<std::string, int64_t, int64_t>{"electra", 32, 64},
                                              std::tuple<std::string, int64_t, int64_t>{"generator", 16, 32}}) {
    for (int l = 0; l < 2; ++l) {
      const std::string p = scope + "/encoder/layer_" + std::to_string(l) + "/";
      for (const char* qkv : {"query", "key", "value"}) {
        want[p + "attention/self/" + qkv + "/kernel"] = {hidden, hidden};
        want[p + "attention/self/" + qkv + "/bias"] = {hidden};
      }
      want[p + "attention/output/dense/kernel"] = {hidden, hidden};
      want[p + "attention/output/dense/bias"] = {hidden};
      want[p + "attention/output/LayerNorm/gamma"] = {hidden};
      want[p + "attention/output/LayerNorm/beta"] = {hidden};
      want[p + "intermediate/dense/kernel"] = {hidden, inter};
      want[p + "intermediate/dense/bias"] = {inter};
      want[p + "output/dense/kernel"] = {inter, hidden};
      want[p + "output/dense/bias"] = {hidden};
      want[p + "output/LayerNorm/gamma"] = {hidden};
      want[p + "output/LayerNorm/beta"] = {hidden};
    }
  }

  TfCheckpoint ckpt(kElectraTiny);
  EXPECT_EQ(ckpt.prefix(), kElectraTiny + "/model.ckpt");
  std::map<std::string, std::vector<int64_t>> model_vars;
  int adam_slots = 0;
  std::string previous;
  for (const auto& v : ckpt.variables()) {
    EXPECT_LT(previous, v.name) << "variables() is sorted by name";
    previous = v.name;
    if (v.name.size() > 7 && (v.name.substr(v.name.size() - 7) == "/adam_m" || v.name.substr(v.name.size() - 7) == "/adam_v")) {
      ++adam_slots;
      continue;
    }
    if (v.name == "global_step") continue;
    EXPECT_EQ(v.dtype, torch::kFloat) << v.name;
    model_vars[v.name] = v.shape;
  }
  EXPECT_EQ(model_vars, want);
  EXPECT_GE(adam_slots, 2);

  ASSERT_TRUE(ckpt.contains("global_step"));
  EXPECT_FALSE(ckpt.contains("global_step/adam_m"));
  const torch::Tensor step = ckpt.load("global_step");
  EXPECT_EQ(step.scalar_type(), torch::kLong);
  EXPECT_EQ(step.dim(), 0);
  // Gammas were drawn around 1, everything else around 0: a mixed-up entry would show.
  EXPECT_NEAR(ckpt.load("electra/embeddings/LayerNorm/gamma").mean().item<double>(), 1.0, 0.2);
  EXPECT_NEAR(ckpt.load("electra/embeddings/word_embeddings").mean().item<double>(), 0.0, 0.1);
  for (const auto& v : ckpt.variables()) {
    const torch::Tensor t = ckpt.load(v.name);
    EXPECT_EQ(t.sizes().vec(), v.shape) << v.name;
    EXPECT_EQ(t.scalar_type(), v.dtype) << v.name;
  }
  expect_refused([&] { ckpt.load("electra/no_such_variable"); }, "model.ckpt.index", {"electra/no_such_variable"});
}

TEST(TfElectraTiny, PathFormsResolveToOnePrefix) {
  const std::string prefix = kElectraTiny + "/model.ckpt";
  EXPECT_EQ(TfCheckpoint(prefix).prefix(), prefix);
  EXPECT_EQ(TfCheckpoint(prefix + ".index").prefix(), prefix);
  EXPECT_EQ(TfCheckpoint(prefix + ".data-00000-of-00001").prefix(), prefix);
  EXPECT_EQ(TfCheckpoint(kElectraTiny + "/").prefix(), prefix);
}

// ---------------------------------------------------------------- damaged files

TEST(TfDamaged, TruncatedIndex) {
  TempDir dir;
  const std::string prefix = copy_fixture(dir);
  const std::string bytes = read_bytes(prefix + ".index");
  write_bytes(prefix + ".index", bytes.substr(0, bytes.size() / 2));
  expect_refused([&] { open_and_load_all(prefix); }, "model.ckpt.index", {"truncated"});
  write_bytes(prefix + ".index", bytes.substr(0, 20));
  expect_refused([&] { open_and_load_all(prefix); }, "model.ckpt.index", {"48-byte footer"});
}

TEST(TfDamaged, FlippedByteInAnIndexBlock) {
  TempDir dir;
  const std::string prefix = copy_fixture(dir);
  std::string bytes = read_bytes(prefix + ".index");
  bytes[bytes.size() / 3] ^= 0x10;  // well inside the data block that holds the entries
  write_bytes(prefix + ".index", bytes);
  expect_refused([&] { open_and_load_all(prefix); }, "model.ckpt.index", {"checksum"});
}

TEST(TfDamaged, BadMagicAndEmptyIndex) {
  TempDir dir;
  const std::string prefix = copy_fixture(dir);
  std::string bytes = read_bytes(prefix + ".index");
  bytes.back() ^= 0x01;
  write_bytes(prefix + ".index", bytes);
  expect_refused([&] { open_and_load_all(prefix); }, "model.ckpt.index", {"bad magic number"});
  write_bytes(prefix + ".index", "");
  expect_refused([&] { open_and_load_all(prefix); }, "model.ckpt.index", {"empty file"});
}

TEST(TfDamaged, TruncatedDataFile) {
  TempDir dir;
  const std::string prefix = copy_fixture(dir);
  const std::string data = prefix + ".data-00000-of-00001";
  const std::string bytes = read_bytes(data);
  write_bytes(data, bytes.substr(0, bytes.size() - 100));
  expect_refused([&] { TfCheckpoint ckpt(prefix); }, "model.ckpt.data-00000-of-00001", {"truncated"});
}

TEST(TfDamaged, DataFileShrinksAfterOpening) {
  TempDir dir;
  const std::string prefix = copy_fixture(dir);
  TfCheckpoint ckpt(prefix);
  write_bytes(prefix + ".data-00000-of-00001", "");
  expect_refused([&] { for (const auto& v : ckpt.variables()) ckpt.load(v.name); }, "model.ckpt.data-00000-of-00001",
                 {"truncated"});
}

TEST(TfDamaged, FlippedByteInTensorData) {
  TempDir dir;
  const std::string prefix = copy_fixture(dir);
  const std::string data = prefix + ".data-00000-of-00001";
  std::string bytes = read_bytes(data);
  bytes[bytes.size() / 2] ^= 0x04;
  write_bytes(data, bytes);
  TfCheckpoint ckpt(prefix);  // the index is fine; the damage shows when the tensor is read
  expect_refused([&] { for (const auto& v : ckpt.variables()) ckpt.load(v.name); }, "model.ckpt.data-00000-of-00001",
                 {"fails its checksum (the file is damaged)"});
}

TEST(TfDamaged, MissingDataFile) {
  TempDir dir;
  const std::string prefix = copy_fixture(dir);
  fs::remove(prefix + ".data-00000-of-00001");
  expect_refused([&] { TfCheckpoint ckpt(prefix); }, "model.ckpt.data-00000-of-00001", {"missing data shard 0 of 1"});
}

TEST(TfDamaged, MissingIndex) {
  TempDir dir;
  expect_refused([&] { TfCheckpoint ckpt(dir.file("model.ckpt")); }, "model.ckpt.index", {"no such file"});
  expect_refused([&] { TfCheckpoint ckpt(dir.path()); }, dir.path(), {"no TensorFlow checkpoint"});
}

TEST(TfDamaged, DirectoryWithTwoCheckpoints) {
  TempDir dir;
  const std::string prefix = copy_fixture(dir);
  for (const char* ext : {".index", ".data-00000-of-00001"}) {
    fs::copy_file(prefix + ext, dir.file(std::string("other.ckpt") + ext));
  }
  // The `checkpoint` file decides...
  EXPECT_EQ(TfCheckpoint(dir.path()).prefix(), prefix);
  write_bytes(dir.file("checkpoint"), "model_checkpoint_path: \"other.ckpt\"\n");
  EXPECT_EQ(TfCheckpoint(dir.path()).prefix(), dir.file("other.ckpt"));
  write_bytes(dir.file("checkpoint"), "model_checkpoint_path: \"/far/away/machine/model.ckpt\"\n");
  EXPECT_EQ(TfCheckpoint(dir.path()).prefix(), prefix);
  // ...and without it the choice is the caller's.
  fs::remove(dir.file("checkpoint"));
  expect_refused([&] { TfCheckpoint ckpt(dir.path()); }, dir.path(), {"model.ckpt", "other.ckpt", "several"});
}

// ---------------------------------------------------------------- hand-made bundles

TEST(TfHandMade, ReadsWhatTheFormatAllows) {
  TempDir dir;
  const std::string prefix = dir.file("m");
  std::string i64(8, '\0');
  i64[0] = 7;
  write_bundle(prefix, {{"a/bool", 10, {3}, std::string("\x00\x01\x05", 3)},
                        {"a/float", 1, {2}, floats({1.5f, -2.0f})},
                        {"a/int64", 9, {}, i64},
                        {"a/string", 7, {1}, std::string("\x01x", 2), false, 0, 2},
                        {"a/zero", 1, {0, 3}, ""}});
  TfCheckpoint ckpt(prefix);
  ASSERT_EQ(ckpt.variables().size(), 5u);
  EXPECT_TRUE(torch::equal(ckpt.load("a/float"), torch::tensor({1.5f, -2.0f})));
  EXPECT_EQ(ckpt.load("a/int64").item<int64_t>(), 7);
  EXPECT_TRUE(torch::equal(ckpt.load("a/bool"), torch::tensor({false, true, true})));  // any nonzero byte is true
  EXPECT_EQ(ckpt.load("a/zero").sizes().vec(), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(ckpt.variables()[3].dtype, torch::ScalarType::Undefined);  // strings are listed...
  expect_refused([&] { ckpt.load("a/string"); }, "m.index", {"DT_STRING"});  // ...but not loaded
}

TEST(TfHandMade, RefusesWhatItCannotRead) {
  TempDir dir;
  const std::string prefix = dir.file("m");
  const FakeTensor ok{"w", 1, {2}, floats({1, 2})};

  write_bundle(prefix, {ok}, {1, 0, 1});
  expect_refused([&] { TfCheckpoint c(prefix); }, "m.index", {"Snappy"});
  write_bundle(prefix, {ok}, {1, 1, 0});
  expect_refused([&] { TfCheckpoint c(prefix); }, "m.index", {"big-endian"});
  write_bundle(prefix, {{"w", 1, {2}, floats({1, 2}), true}});
  expect_refused([&] { TfCheckpoint(prefix).load("w"); }, "m.index", {"sliced (partitioned)"});
  write_bundle(prefix, {{"w", 1, {3}, floats({1, 2})}});
  expect_refused([&] { TfCheckpoint c(prefix); }, "m.index", {"tensor w has 8 bytes", "need 12"});
  write_bundle(prefix, {{"w", 1, {int64_t(1) << 40, int64_t(1) << 40}, floats({1, 2})}});
  expect_refused([&] { TfCheckpoint c(prefix); }, "m.index", {"too large"});
  write_bundle(prefix, {{"w", 1, {2}, floats({1, 2}), false, 3}});
  expect_refused([&] { TfCheckpoint c(prefix); }, "m.index", {"shard 3 of 1"});
  write_bundle(prefix, {{"w", 1, {2}, floats({1, 2}), false, 1}}, {2, 0, 0});
  expect_refused([&] { TfCheckpoint c(prefix); }, "m.data-00001-of-00002", {"missing data shard 1 of 2"});
}

// ---------------------------------------------------------------- random damage

TEST(TfFuzz, RandomIndexDamageLoadsTheSameOrIsRefused) {
  TfCheckpoint original(kElectraTiny);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& v : original.variables()) tensors[v.name] = original.load(v.name);
  TempDir dir;
  const std::string prefix = copy_fixture(dir);
  const std::string bytes = read_bytes(prefix + ".index");
  std::mt19937 rng(20240607);
  int refused = 0;
  for (int i = 0; i < 200; ++i) {
    std::string damaged = bytes;
    if (i % 2 == 0) {
      damaged[rng() % damaged.size()] ^= static_cast<char>(1 + rng() % 255);
    } else {
      damaged.resize(rng() % damaged.size());
    }
    write_bytes(prefix + ".index", damaged);
    try {
      TfCheckpoint ckpt(prefix);
      ASSERT_EQ(ckpt.variables().size(), original.variables().size()) << "case " << i;
      for (const auto& v : ckpt.variables()) {
        ASSERT_TRUE(torch::equal(ckpt.load(v.name), tensors.at(v.name))) << "case " << i << ": " << v.name;
      }
    } catch (const Error& e) {
      ++refused;
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
      EXPECT_NE(std::string(e.what()).find("model.ckpt"), std::string::npos) << e.what();
    }
  }
  // Only the footer's zero padding is unprotected: nearly every case must have been caught.
  EXPECT_GT(refused, 180);
}

// Checksums stop random damage before it is parsed; here the damage carries a valid checksum,
// so the entry and protocol buffer decoding itself meets garbage.
TEST(TfFuzz, GarbledEntriesWithValidChecksumsAreRefusedCleanly) {
  TempDir dir;
  const std::string prefix = dir.file("m");
  std::string i64(8, '\0');
  const size_t n = write_bundle(prefix, {{"a/bias", 1, {2}, floats({1, 2})},
                                         {"a/kernel", 1, {2, 3}, floats({1, 2, 3, 4, 5, 6})},
                                         {"global_step", 9, {}, i64}});
  const std::string bytes = read_bytes(prefix + ".index");
  std::mt19937 rng(7);
  int refused = 0, read = 0;
  for (int i = 0; i < 300; ++i) {
    std::string damaged = bytes;
    for (int k = 0, flips = 1 + i % 3; k < flips; ++k) damaged[rng() % n] ^= static_cast<char>(1 + rng() % 255);
    const std::string crc = le32(masked_crc32c(damaged.substr(0, n + 1)));
    damaged.replace(n + 1, 4, crc);
    write_bytes(prefix + ".index", damaged);
    try {
      open_and_load_all(prefix);
      ++read;
    } catch (const Error& e) {
      ++refused;
      EXPECT_NE(std::string(e.what()).find(dir.path()), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(refused, 150);
  EXPECT_EQ(refused + read, 300);
}
