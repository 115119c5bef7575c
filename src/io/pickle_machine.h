#pragma once
// Python's pickle, re-implemented for the opcodes torch.save's state dicts use and nothing more:
// the only "functions" a file may name are a fixed list that build dicts and describe tensors, so
// nothing from the file is ever executed. Every length, count and index is checked against the
// bytes that are there, and memory and recursion stay bounded whatever the file says. Layout facts
// follow the pickle protocol description (PEP 307, PEP 3154, PEP 574).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace electra::pickle {

enum class Kind : uint8_t { None, Bool, Int, BigInt, Float, Str, Bytes, Tuple, List, Dict, Set, Global, Storage, Tensor };

// For messages: "entry 'x' is an int, not a tensor".
const char* kind_name(Kind k);

// The globals a state dict may name; everything else is refused when the pickle names it.
enum class Global : uint8_t {
  OrderedDict, RebuildTensor, RebuildTensorV2, RebuildTensorV3, RebuildParameter, RebuildParameterWithState,
  StorageType, DType
};

// What a persistent id says about one storage: `numel` elements of `dtype` in the record `key`;
// the tensors see [view_offset, view_offset + view_numel) of it (a legacy-format storage view).
struct StorageRef {
  std::string key;
  torch::ScalarType dtype = torch::kByte;
  int64_t numel = 0, view_offset = 0, view_numel = 0;
};

// A tensor described, not built: the storages of the legacy format come after the pickle.
// Its view (offset, sizes, strides) is checked to lie inside the storage.
struct TensorSpec {
  const StorageRef* storage = nullptr;
  torch::ScalarType dtype = torch::kFloat;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
  uint64_t numel = 0;
};

struct Value {
  Kind kind = Kind::None;
  int64_t i = 0;       // Int, Bool
  double f = 0;        // Float
  std::string s;       // Str, Bytes, BigInt (little-endian two's complement), Global ("module.name")
  std::vector<Value*> items;                       // Tuple, List, Set
  std::vector<std::pair<Value*, Value*>> entries;  // Dict, in insertion order
  std::unordered_map<std::string, size_t> index;   // Dict: key text ("s" + str, "i" + int...) -> position in entries
  Global global = Global::OrderedDict;
  torch::ScalarType dtype = torch::kFloat;         // Global StorageType / DType
  std::unique_ptr<StorageRef> storage;
  std::unique_ptr<TensorSpec> tensor;
};

// Owns every value of one file: memo and containers hold plain pointers, so a file whose
// containers contain themselves leaks nothing.
class Arena {
 public:
  Value* make(Kind kind);  // throws electra::Error past the limit of objects one file may create

 private:
  std::vector<std::unique_ptr<Value>> values_;
};

class Unpickler {
 public:
  // `declared`: every storage the file's persistent ids name, by key (shared by all pickles of
  // one file, so that two declarations of one key must agree).
  Unpickler(Arena& arena, std::map<std::string, StorageRef>& declared) : arena_(arena), declared_(declared) {}

  // Runs the pickle that starts at data[pos] up to its STOP; pos then points past it. Throws
  // electra::Error "<label>: <problem> (at byte N)".
  Value* load(const uint8_t* data, uint64_t size, uint64_t& pos, const std::string& label);

 private:
  Arena& arena_;
  std::map<std::string, StorageRef>& declared_;
};

}  // namespace electra::pickle
