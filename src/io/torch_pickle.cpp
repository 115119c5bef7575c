#include "io/torch_pickle.h"

#include <cstdint>
#include <cstring>
#include <map>
#include <new>
#include <set>
#include <string_view>
#include <torch/torch.h>
#include <vector>

#include "electra/util/error.h"
#include "io/binary_fields.h"
#include "io/mapped_file.h"
#include "io/pickle_machine.h"
#include "io/zip_archive.h"
#include "util/files.h"

// torch.save writes a pickle whose tensors point at raw storages kept beside it: since PyTorch 1.6
// in a zip archive (<top>/data.pkl, <top>/data/<key>), before that in one stream (a few pickles,
// then the storages back to back). The pickles go through the restricted unpickler
// (pickle_machine.h), the archive through zip_archive.h; this file finds the pickles and the
// storages in either format and builds the tensors, every problem one electra::Error naming the
// file. Layout facts follow torch.serialization's documented format.

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "torch_pickle.cpp reads little-endian storages straight into tensors: a big-endian host needs byte swapping"
#endif

namespace electra {

namespace {

using pickle::Arena;
using pickle::Kind;
using pickle::kind_name;
using pickle::StorageRef;
using pickle::TensorSpec;
using pickle::Unpickler;
using pickle::Value;

constexpr int kMaxNesting = 32;  // dicts inside dicts in the result (ELECTRA-large's state dict: 4)
constexpr unsigned long long kMaxFileBytes = 1ull << 42;  // 4 TiB: only to refuse devices and the like

// ---------------------------------------------------------------- from described tensors to tensors

// Where a storage's bytes are: a zip record, or a stretch of the legacy stream.
class StorageSource {
 public:
  virtual ~StorageSource() = default;
  // The storage's bytes, exactly `nbytes` of them (anything else is an error).
  virtual const uint8_t* bytes(const std::string& key, uint64_t nbytes) = 0;
};

void flatten(const Value* dict, const std::string& prefix, int depth,
             std::vector<std::pair<std::string, const TensorSpec*>>& out, std::set<std::string>& seen) {
  if (depth > kMaxNesting) throw Error("the state dict nests dicts more than " + std::to_string(kMaxNesting) + " deep");
  for (const auto& [key, value] : dict->entries) {
    if (key->kind != Kind::Str) throw Error(std::string("a state dict key is ") + kind_name(key->kind) + ", not a str");
    const std::string name = prefix.empty() ? key->s : prefix + "." + key->s;
    if (value->kind == Kind::Dict) {
      flatten(value, name, depth + 1, out, seen);  // {"model": {...}} -> "model.<name>"
    } else if (value->kind == Kind::Tensor) {
      if (!seen.insert(name).second) throw Error("the name '" + printable(name) + "' appears twice once nested dicts are joined");
      out.emplace_back(name, value->tensor.get());
    } else {
      throw Error("entry '" + printable(name) + "' is " + kind_name(value->kind) +
                  ", not a tensor: only state dicts of tensors are read");
    }
  }
}

torch::Tensor materialize(const TensorSpec& t, StorageSource& source) {
  const StorageRef& st = *t.storage;
  const uint64_t storage_item = c10::elementSize(st.dtype);
  const uint8_t* base = source.bytes(st.key, static_cast<uint64_t>(st.numel) * storage_item) +
                        static_cast<uint64_t>(st.view_offset) * storage_item;
  const uint64_t region = static_cast<uint64_t>(st.view_numel) * storage_item;
  if (t.numel == 0) return torch::empty(t.sizes, torch::TensorOptions().dtype(t.dtype));
  // Bools are read as bytes and compared with 0, so that a byte other than 0 or 1 stays a valid bool.
  const torch::ScalarType load = t.dtype == torch::kBool ? torch::kByte : t.dtype;
  const uint64_t item = c10::elementSize(load);
  torch::Tensor aligned;  // legacy storages sit at any offset in the stream: copy those first
  if (reinterpret_cast<uintptr_t>(base) % item != 0) {
    aligned = torch::empty({static_cast<int64_t>(region)}, torch::kByte);
    std::memcpy(aligned.data_ptr(), base, region);
    base = static_cast<const uint8_t*>(aligned.data_ptr());
  }
  const torch::Tensor all = torch::from_blob(const_cast<uint8_t*>(base), {static_cast<int64_t>(region / item)},
                                             torch::TensorOptions().dtype(load));
  torch::Tensor out = all.as_strided(t.sizes, t.strides, t.offset).clone(torch::MemoryFormat::Contiguous);
  return t.dtype == torch::kBool ? out.ne(0) : out;
}

NamedTensors build_state_dict(const Value* root, StorageSource& source, uint64_t file_size) {
  if (root->kind != Kind::Dict) throw Error(std::string("the pickle holds ") + kind_name(root->kind) + ", not a state dict");
  std::vector<std::pair<std::string, const TensorSpec*>> specs;
  std::set<std::string> seen;
  flatten(root, "", 0, specs, seen);
  // Views may overlap (shared or stride-0 storages), so a small file could ask for endless copies;
  // real state dicts stay near the file's size (tied weights: twice).
  const uint64_t budget = 4 * file_size + (64ull << 20);
  uint64_t total = 0;
  NamedTensors out;
  out.reserve(specs.size());
  for (const auto& [name, spec] : specs) {
    total += spec->numel * c10::elementSize(spec->dtype);
    if (total > budget) {
      throw Error("the tensors would take more than " + std::to_string(budget) + " bytes, far more than the file holds");
    }
    out.emplace_back(name, materialize(*spec, source));
  }
  return out;
}

// ---------------------------------------------------------------- the two container formats

class ZipStorages : public StorageSource {
 public:
  ZipStorages(ZipArchive& zip, std::string top) : zip_(zip), top_(std::move(top)) {}
  const uint8_t* bytes(const std::string& key, uint64_t nbytes) override {
    const std::string name = top_ + "/data/" + key;
    if (!zip_.contains(name)) throw Error("storage '" + printable(key) + "' has no record " + printable(name) + " in the archive");
    const std::string_view data = zip_.read(name);
    if (data.size() != nbytes) {
      throw Error("storage record " + printable(name) + " holds " + std::to_string(data.size()) + " bytes, its tensors need " +
                  std::to_string(nbytes));
    }
    return reinterpret_cast<const uint8_t*>(data.data());
  }

 private:
  ZipArchive& zip_;
  std::string top_;
};

NamedTensors read_zip(const uint8_t* d, uint64_t n) {
  ZipArchive zip(d, n);
  // The top folder is "archive" or the saved file's stem; data.pkl sits right inside it.
  std::string top;
  for (const ZipEntry& e : zip.entries()) {
    const size_t slash = e.name.find('/');
    if (slash == std::string::npos || e.name.compare(slash, std::string::npos, "/data.pkl") != 0) continue;
    if (!top.empty()) throw Error("the archive holds several data.pkl records: not a single torch.save file");
    top = e.name.substr(0, slash);
  }
  if (top.empty()) throw Error("the zip archive has no <folder>/data.pkl: not a file written by torch.save");
  bool script = zip.contains(top + "/constants.pkl");
  for (const ZipEntry& e : zip.entries()) script = script || e.name.rfind(top + "/code/", 0) == 0;
  if (script) {
    throw Error("this is a TorchScript archive (torch.jit.save), not a state dict written by torch.save");
  }
  if (zip.contains(top + "/byteorder")) {
    const std::string_view order = zip.read(top + "/byteorder");
    if (order != "little") throw Error("the checkpoint was written on a big-endian machine; only little-endian files are read");
  }
  const std::string_view pickle = zip.read(top + "/data.pkl");
  Arena arena;
  std::map<std::string, StorageRef> declared;
  Unpickler unpickler(arena, declared);
  uint64_t pos = 0;
  const Value* root = unpickler.load(reinterpret_cast<const uint8_t*>(pickle.data()), pickle.size(), pos, top + "/data.pkl");
  ZipStorages source(zip, top);
  return build_state_dict(root, source, n);
}

class LegacyStorages : public StorageSource {
 public:
  std::map<std::string, std::pair<const uint8_t*, uint64_t>> spans;
  const uint8_t* bytes(const std::string& key, uint64_t nbytes) override {
    const auto it = spans.find(key);
    if (it == spans.end()) throw Error("storage '" + printable(key) + "' is missing from the file");
    if (it->second.second != nbytes) throw Error("storage '" + printable(key) + "' has the wrong size");
    return it->second.first;
  }
};

// Before PyTorch 1.6: pickles of a magic number, the protocol version (1001) and system info, then
// the state dict, then the list of storage keys; then each storage in that order as an int64
// element count and its raw bytes.
NamedTensors read_legacy(const uint8_t* d, uint64_t n) {
  static const std::string kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);  // 0x1950a86a20f9469cfc6c
  Arena arena;
  std::map<std::string, StorageRef> declared;
  Unpickler unpickler(arena, declared);
  uint64_t pos = 0;
  const Value* magic = unpickler.load(d, n, pos, "magic number pickle");
  if (magic->kind != Kind::BigInt || magic->s != kMagic) {
    throw Error("a pickle without torch.save's magic number: not a file written by torch.save");
  }
  const Value* version = unpickler.load(d, n, pos, "protocol version pickle");
  if (version->kind != Kind::Int || version->i != 1001) throw Error("unsupported legacy torch.save protocol version");
  const Value* info = unpickler.load(d, n, pos, "system info pickle");
  if (info->kind == Kind::Dict) {
    const auto it = info->index.find("slittle_endian");
    const Value* little = it == info->index.end() ? nullptr : info->entries[it->second].second;
    if (little && little->kind == Kind::Bool && little->i == 0) {
      throw Error("the checkpoint was written on a big-endian machine; only little-endian files are read");
    }
  }
  const Value* root = unpickler.load(d, n, pos, "state dict pickle");
  const Value* keys = unpickler.load(d, n, pos, "storage key pickle");
  if (keys->kind != Kind::List) throw Error("the storage key pickle is not a list");

  LegacyStorages source;
  for (const Value* key : keys->items) {
    if (key->kind != Kind::Str) throw Error("a storage key is not a string");
    const auto it = declared.find(key->s);
    if (it == declared.end()) throw Error("storage '" + printable(key->s) + "' is listed but no tensor uses it");
    const uint64_t item = c10::elementSize(it->second.dtype);
    if (n - pos < 8) throw Error("storage '" + printable(key->s) + "' is missing: truncated file");
    const int64_t numel = static_cast<int64_t>(le64(d + pos));
    if (numel != it->second.numel) {
      throw Error("storage '" + printable(key->s) + "' holds " + std::to_string(numel) + " elements, its tensors say " +
                  std::to_string(it->second.numel) + ": damaged file");
    }
    pos += 8;
    const uint64_t nbytes = static_cast<uint64_t>(numel) * item;
    if (n - pos < nbytes) throw Error("storage '" + printable(key->s) + "' runs past the end: truncated file");
    if (!source.spans.emplace(key->s, std::make_pair(d + pos, nbytes)).second) {
      throw Error("storage '" + printable(key->s) + "' is listed twice");
    }
    pos += nbytes;
  }
  return build_state_dict(root, source, n);
}

NamedTensors read_mapped(const uint8_t* d, uint64_t n) {
  if (n == 0) throw Error("is empty, expected a checkpoint written by torch.save");
  if (n >= 4 && d[0] == 'P' && d[1] == 'K' && ((d[2] == 3 && d[3] == 4) || (d[2] == 5 && d[3] == 6))) return read_zip(d, n);
  if (n >= 2 && d[0] == 0x80 && d[1] >= 2) return read_legacy(d, n);  // PROTO 2 or later
  if (n > 262 && std::memcmp(d + 257, "ustar", 5) == 0) {
    throw Error("the tar format of torch.save before PyTorch 0.4 is not supported: re-save it with a current torch.save");
  }
  throw Error("not a PyTorch checkpoint (neither torch.save's zip format nor its legacy pickle format)");
}

}  // namespace

NamedTensors read_torch_state_dict(const std::string& path) {
  require_regular_file(path, kMaxFileBytes);
  try {
    MappedFile file(path);
    return read_mapped(file.data(), file.size());
  } catch (const Error& e) {
    throw file_error(path, e.what());
  } catch (const c10::Error& e) {  // not expected: every view is checked first
    throw file_error(path, std::string("cannot rebuild a tensor: ") + e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    throw file_error(path, "out of memory while reading the checkpoint");
  } catch (const std::exception& e) {
    throw file_error(path, e.what());
  }
}

}  // namespace electra
