// pytorch_model.bin reader: files written by torch 1.13 and 2.x (zip and legacy formats) against
// safetensors twins written by scripts/make_pickle_fixtures.py, and damaged or hostile files.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "electra/io/safetensors.h"
#include "electra/util/error.h"
#include "io/torch_pickle.h"
#include "test_util.h"

using namespace electra;
using test::TempDir;

namespace {

std::string fixture(const std::string& name) { return test::source_dir() + "/tests/fixtures/pickle/" + name; }

void expect_same_as_twin(const std::string& bin, const std::string& twin) {
  SCOPED_TRACE(bin);
  const NamedTensors got = read_torch_state_dict(fixture(bin));
  const SafetensorsFile expected(fixture(twin));  // the twin's data are laid out in state-dict order
  ASSERT_EQ(got.size(), expected.entries().size());
  for (size_t i = 0; i < got.size(); ++i) {
    const auto& [name, tensor] = got[i];
    ASSERT_EQ(name, expected.entries()[i].name) << "entry " << i;
    const torch::Tensor want = expected.load(name);
    EXPECT_EQ(tensor.scalar_type(), want.scalar_type()) << name;
    EXPECT_EQ(tensor.sizes(), want.sizes()) << name;
    EXPECT_TRUE(tensor.is_contiguous()) << name;
    EXPECT_TRUE(tensor.device().is_cpu()) << name;
    if (tensor.scalar_type() == want.scalar_type() && tensor.sizes() == want.sizes()) {
      EXPECT_TRUE(torch::equal(tensor, want)) << name;
    }
  }
}

// Expects electra::Error (not another exception, not success) whose message names the file
// and contains `part`.
void expect_refused(const std::string& path, const std::string& part = "") {
  try {
    read_torch_state_dict(path);
    ADD_FAILURE() << path << ": loaded, expected an electra::Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
    EXPECT_NE(message.find(part), std::string::npos) << message << "\nmissing: " << part;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

uint32_t get_le32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int k = 3; k >= 0; --k) v = (v << 8) | static_cast<uint8_t>(b[at + k]);
  return v;
}
uint16_t get_le16(const std::string& b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | (static_cast<uint8_t>(b[at + 1]) << 8));
}
void put_le32(std::string& b, size_t at, uint32_t v) {
  for (int k = 0; k < 4; ++k) b[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
}

// Where a zip entry of a small (non-ZIP64) archive lives: its central record and its data.
struct ZipSpot {
  size_t central = 0, data = 0, size = 0;
};
ZipSpot find_entry(const std::string& zip, const std::string& name) {
  for (size_t p = zip.find("PK\x01\x02"); p != std::string::npos; p = zip.find("PK\x01\x02", p + 1)) {
    if (get_le16(zip, p + 28) == name.size() && zip.compare(p + 46, name.size(), name) == 0) {
      const size_t local = get_le32(zip, p + 42);
      return {p, local + 30 + get_le16(zip, local + 26) + get_le16(zip, local + 28), get_le32(zip, p + 24)};
    }
  }
  ADD_FAILURE() << "no zip entry " << name;
  return {};
}

// ---- hand-made legacy-format files: the pickles torch.save wrote before PyTorch 1.6

std::string le_bytes(uint64_t v, int n) {
  std::string out;
  for (int k = 0; k < n; ++k) out += static_cast<char>((v >> (8 * k)) & 0xff);
  return out;
}
std::string str(const std::string& s) { return "X" + le_bytes(s.size(), 4) + s; }
std::string integer(int32_t v) { return "J" + le_bytes(static_cast<uint32_t>(v), 4); }
std::string global(const std::string& module, const std::string& name) { return "c" + module + "\n" + name + "\n"; }
std::string int_tuple(std::initializer_list<int32_t> values) {
  std::string out = "(";
  for (int32_t v : values) out += integer(v);
  return out + "t";
}

// _rebuild_tensor_v2 over float storage "0" of `numel` elements.
std::string tensor(int32_t numel, int32_t offset, std::initializer_list<int32_t> size, std::initializer_list<int32_t> stride) {
  return global("torch._utils", "_rebuild_tensor_v2") + "((" + str("storage") + global("torch", "FloatStorage") + str("0") +
         str("cpu") + integer(numel) + "NtQ" + integer(offset) + int_tuple(size) + int_tuple(stride) + "\x89" +
         global("collections", "OrderedDict") + ")RtR";
}

// The magic number, protocol version and system info pickles, `main`, the key list ["0"] and
// float storage "0" holding `values` (its element count as stored: `stored_numel`, or the real
// one); no storage at all when `values` is empty.
std::string legacy_file(const std::string& main, const std::vector<float>& values, int64_t stored_numel = -1) {
  std::string out = std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
  out += "\x80\x02" + std::string("M\xe9\x03.", 4);
  out += "\x80\x02}" + str("little_endian") + "\x88s.";
  out += main;
  if (values.empty()) return out + "\x80\x02].";
  out += "\x80\x02]" + str("0") + "a.";
  out += le_bytes(static_cast<uint64_t>(stored_numel < 0 ? static_cast<int64_t>(values.size()) : stored_numel), 8);
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  return out;
}

std::string one_tensor_dict(const std::string& tensor_pickle) { return "\x80\x02}" + str("w") + tensor_pickle + "s."; }

}  // namespace

// ---------------------------------------------------------------- files written by torch.save

TEST(TorchPickleFormats, ZipFromTorch2MatchesSafetensors) { expect_same_as_twin("torch2.bin", "torch2.safetensors"); }
TEST(TorchPickleFormats, ZipFromTorch1MatchesSafetensors) { expect_same_as_twin("torch1.bin", "torch1.safetensors"); }
TEST(TorchPickleFormats, LegacyFromTorch2MatchesSafetensors) { expect_same_as_twin("torch2_legacy.bin", "torch2.safetensors"); }
TEST(TorchPickleFormats, LegacyFromTorch1MatchesSafetensors) { expect_same_as_twin("torch1_legacy.bin", "torch1.safetensors"); }
TEST(TorchPickleFormats, Zip64RecordsMatchSafetensors) { expect_same_as_twin("zip64.bin", "torch2.safetensors"); }
TEST(TorchPickleFormats, NestedDictsJoinNamesWithDots) { expect_same_as_twin("nested.bin", "nested.safetensors"); }

TEST(TorchPickleFormats, FixturesCoverTheCasesTheyClaim) {
  // The twins compare values; this pins down that the inputs really are the hard cases.
  const NamedTensors sd = read_torch_state_dict(fixture("torch2.bin"));
  std::map<std::string, torch::Tensor> by_name(sd.begin(), sd.end());
  ASSERT_EQ(sd.front().first, "0.weight");  // nn.Module order, with the _metadata BUILD skipped
  EXPECT_EQ(by_name.at("bf16").scalar_type(), torch::kBFloat16);
  EXPECT_EQ(by_name.at("mask").scalar_type(), torch::kBool);
  EXPECT_EQ(by_name.at("scalar").dim(), 0);
  EXPECT_EQ(by_name.at("empty").numel(), 0);
  // transposed: [[-5.5, -4.5, ...], ...].t(), so the second element of row 0 is grid[1][0]
  EXPECT_EQ(by_name.at("transposed").sizes(), torch::IntArrayRef({4, 3}));
  EXPECT_FLOAT_EQ(by_name.at("transposed")[0][1].item<float>(), -1.5f);
  // shared_a = shared[2:7], shared_b = shared[5:13] of one storage (arange(16) / 8): they overlap
  EXPECT_FLOAT_EQ(by_name.at("shared_a")[3].item<float>(), 5.0f / 8);
  EXPECT_FLOAT_EQ(by_name.at("shared_b")[0][0].item<float>(), 5.0f / 8);
  by_name.at("shared_a").fill_(0);  // each result owns its memory
  EXPECT_FLOAT_EQ(by_name.at("shared_b")[0][0].item<float>(), 5.0f / 8);
}

// ---------------------------------------------------------------- hostile and foreign files

TEST(TorchPickleSafety, ForbiddenGlobalIsRefusedNotRun) {
  TempDir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());  // the pickle would `touch pwnd` here
  expect_refused(fixture("forbidden_global.bin"), "refuses to load os.system (only plain state dicts are read; nothing in the file is executed)");
  EXPECT_FALSE(std::filesystem::exists(dir.file("pwnd")));
  std::filesystem::current_path(cwd);
}

TEST(TorchPickleSafety, StackGlobalIsCheckedToo) {
  TempDir dir;
  const std::string path = dir.file("evil.bin");
  const std::string main = "\x80\x04\x8c\x08" "builtins" "\x8c\x04" "eval" "\x93" + str("1+1") + "\x85R.";
  test::write_bytes(path, legacy_file(main, {1, 2}));
  expect_refused(path, "refuses to load builtins.eval");
}

TEST(TorchPickleSafety, ForeignFilesAreRefused) {
  expect_refused(fixture("compressed.bin"), "is compressed");
  expect_refused(fixture("no_data_pkl.bin"), "no <folder>/data.pkl");
  TempDir dir;
  test::write_bytes(dir.file("empty.bin"), "");
  expect_refused(dir.file("empty.bin"), "is empty");
  std::mt19937 rng(7);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  test::write_bytes(dir.file("random.bin"), noise);
  expect_refused(dir.file("random.bin"), "not a PyTorch checkpoint");
  test::write_bytes(dir.file("plain.pkl"), std::string("\x80\x02}q\x00.", 6));  // pickle.dump({}): no torch.save magic
  expect_refused(dir.file("plain.pkl"), "magic number");
  expect_refused(fixture("torch2.safetensors"));
  expect_refused(dir.file("missing.bin"), "no such file");
}

// ---------------------------------------------------------------- damaged files

TEST(TorchPickleDamage, TruncatedFilesAreRefused) {
  TempDir dir;
  for (const std::string name : {"torch2.bin", "torch1.bin", "torch2_legacy.bin", "zip64.bin"}) {
    const std::string bytes = test::read_bytes(fixture(name));
    for (size_t keep : {size_t{1}, size_t{4}, size_t{40}, size_t{300}, bytes.size() / 2, bytes.size() - 23,
                        bytes.size() - 22, bytes.size() - 8, bytes.size() - 1}) {
      SCOPED_TRACE(name + " cut to " + std::to_string(keep));
      const std::string path = dir.file("cut.bin");
      test::write_bytes(path, bytes.substr(0, keep));
      expect_refused(path);
    }
  }
}

TEST(TorchPickleDamage, FlippedBytesFailTheChecksum) {
  TempDir dir;
  const std::string bytes = test::read_bytes(fixture("torch2.bin"));
  const ZipSpot pkl = find_entry(bytes, "torch2/data.pkl");
  std::string damaged = bytes;
  damaged[damaged.find("_rebuild_tensor_v2", pkl.data)] ^= 0x20;
  test::write_bytes(dir.file("pkl.bin"), damaged);
  expect_refused(dir.file("pkl.bin"), "zip entry 'torch2/data.pkl': CRC32 mismatch");

  const ZipSpot storage = find_entry(bytes, "torch2/data/0");
  ASSERT_GT(storage.size, 0u);
  damaged = bytes;
  damaged[storage.data + storage.size - 1] ^= 0x01;
  test::write_bytes(dir.file("storage.bin"), damaged);
  expect_refused(dir.file("storage.bin"), "zip entry 'torch2/data/0': CRC32 mismatch");
}

TEST(TorchPickleDamage, HandMadePicklesAreCheckedBeforeUse) {
  TempDir dir;
  const std::string path = dir.file("crafted.bin");
  auto load = [&](const std::string& bytes) {
    test::write_bytes(path, bytes);
    return read_torch_state_dict(path);
  };
  // The control: the builder makes files the reader accepts, so each refusal below is the check.
  const NamedTensors ok = load(legacy_file(one_tensor_dict(tensor(5, 1, {2, 2}, {1, 2})), {1, 2, 3, 4, 5}));
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].first, "w");
  EXPECT_TRUE(torch::equal(ok[0].second, torch::tensor({{2.f, 4.f}, {3.f, 5.f}}))) << ok[0].second;

  auto refused = [&](const std::string& bytes, const std::string& part) {
    SCOPED_TRACE(part);
    test::write_bytes(path, bytes);
    expect_refused(path, part);
  };
  refused(legacy_file(one_tensor_dict(tensor(4, 3, {2}, {1})), {1, 2, 3, 4}), "reaches outside its storage");
  refused(legacy_file(one_tensor_dict(tensor(4, 0, {2, 2}, {2, 2})), {1, 2, 3, 4}), "reaches outside its storage");
  refused(legacy_file(one_tensor_dict(tensor(4, 0, {2}, {-1})), {1, 2, 3, 4}), "negative size or stride");
  refused(legacy_file(one_tensor_dict(tensor(4, 0, {-2}, {1})), {1, 2, 3, 4}), "negative size or stride");
  refused(legacy_file(one_tensor_dict(tensor(4, 0, {1 << 30, 1 << 30}, {0, 0})), {1, 2, 3, 4}), "shape is too large");
  refused(legacy_file(one_tensor_dict(tensor(4, 0, {2}, {1})), {1, 2, 3, 4}, 5), "holds 5 elements");
  refused(legacy_file(one_tensor_dict(tensor(4, 0, {2}, {1})), {1, 2, 3}, 4), "runs past the end");
  // Views that repeat one storage endlessly (stride 0) would allocate far more than the file holds.
  refused(legacy_file(one_tensor_dict(tensor(4, 0, {1 << 28, 16}, {0, 0})), {1, 2, 3, 4}), "far more than the file holds");
  refused(legacy_file("\x80\x02" + std::string(5000, '(') + ".", {}), "MARKs");
  const std::string put0("q\0", 2), get0("h\0", 2);
  refused(legacy_file("\x80\x02}" + put0 + str("loop") + get0 + "s.", {}), "nests dicts more than");  // d["loop"] = d
  refused(legacy_file("\x80\x02h\x07.", {}), "memo entry 7");
  refused(legacy_file("\x80\x02i__main__\nX\n.", {}), "unsupported pickle opcode 0x69");
  refused(legacy_file("\x80\x02}" + str("epoch") + integer(3) + "s.", {}), "entry 'epoch' is an int, not a tensor");
  refused(legacy_file("\x80\x02]" + std::string(".", 1), {}), "holds a list, not a state dict");
  refused(legacy_file("\x80\x02}X\xff\xff\xff\x7f", {}), "truncated pickle");
  refused(legacy_file("\x80\x02}" + str("w") + str("\xc3\x28") + "s.", {}), "not valid UTF-8");
  refused(legacy_file("\x80\x02}" + str("w") + global("torch", "FloatStorage") + ")Rs.", {}), "cannot be called here");
}

// Random damage, 300 files: each either loads or throws electra::Error naming the file, never
// crashes. Without checksums (the legacy format; a zip whose CRCs are zeroed, which the reader
// takes as "not recorded") the damage reaches the unpickler and the tensor checks themselves.
TEST(TorchPickleDamage, RandomCorruptionNeverCrashes) {
  TempDir dir;
  std::string unchecked = test::read_bytes(fixture("torch2.bin"));
  const ZipSpot pkl = find_entry(unchecked, "torch2/data.pkl");
  for (size_t p = unchecked.find("PK\x01\x02"); p != std::string::npos; p = unchecked.find("PK\x01\x02", p + 1)) {
    put_le32(unchecked, p + 16, 0);
  }
  test::write_bytes(dir.file("nocrc.bin"), unchecked);
  ASSERT_EQ(read_torch_state_dict(dir.file("nocrc.bin")).size(), SafetensorsFile(fixture("torch2.safetensors")).entries().size());
  const std::vector<std::string> sources = {unchecked, test::read_bytes(fixture("torch1_legacy.bin")),
                                            test::read_bytes(fixture("torch2_legacy.bin")),
                                            test::read_bytes(fixture("torch1.bin")), test::read_bytes(fixture("zip64.bin"))};
  std::mt19937 rng(20240601);
  auto below = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  int loaded = 0, refused = 0;
  for (int round = 0; round < 300; ++round) {
    const size_t which = round % sources.size();
    std::string bytes = sources[which];
    // Aim half of the zip damage at data.pkl, which is otherwise a small part of the file.
    const bool in_pickle = which == 0 && rng() % 2 == 0;
    const size_t lo = in_pickle ? pkl.data : 0, span = in_pickle ? pkl.size : bytes.size();
    switch (rng() % 5) {
      case 0:  // flip a few bits
        for (size_t k = 1 + below(8); k > 0; --k) bytes[lo + below(span)] ^= static_cast<char>(1u << below(8));
        break;
      case 1:  // truncate
        bytes.resize(below(bytes.size()));
        break;
      case 2: {  // overwrite a run with noise
        const size_t at = lo + below(span), len = std::min<size_t>(1 + below(16), bytes.size() - at);
        for (size_t k = 0; k < len; ++k) bytes[at + k] = static_cast<char>(rng());
        break;
      }
      case 3:  // set one byte to an extreme that lengths and counts like
        bytes[lo + below(span)] = static_cast<char>(rng() % 2 ? 0xff : 0x7f);
        break;
      default: {  // insert or delete a few bytes (shifts everything after)
        const size_t at = lo + below(span);
        if (rng() % 2) {
          bytes.insert(at, std::string(1 + below(4), static_cast<char>(rng())));
        } else {
          bytes.erase(at, 1 + below(4));
        }
      }
    }
    const std::string path = dir.file("fuzz" + std::to_string(round) + ".bin");
    test::write_bytes(path, bytes);
    try {
      const NamedTensors sd = read_torch_state_dict(path);
      for (const auto& [name, t] : sd) {
        if (t.numel() > 0) (void)t.to(torch::kDouble).sum().item<double>();  // touch every element
      }
      ++loaded;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
      ++refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "round " << round << ": not an electra::Error: " << e.what();
    }
    std::filesystem::remove(path);
  }
  EXPECT_EQ(loaded + refused, 300);
  EXPECT_GT(refused, 150);  // the damage is real
  EXPECT_GT(loaded, 0);     // and some flips land in tensor data, which only a checksum could catch
}
