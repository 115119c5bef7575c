#pragma once
// safetensors: 8-byte little-endian header length, a JSON header, then raw tensor data
// (reference doc section 5). Reading memory-maps the file and validates the whole header
// before anything is used; tensors are converted one at a time, so a checkpoint is never
// held twice in memory.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace electra {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "F16", "BF16", "I64", ...
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets relative to the data section
};

class SafetensorsFile {
 public:
  explicit SafetensorsFile(const std::string& path);  // throws electra::Error naming the file
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }  // in offset order
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool contains(const std::string& name) const { return index_.count(name) > 0; }
  const SafetensorsEntry& entry(const std::string& name) const;

  // A fresh CPU tensor with the stored dtype (a copy: safe after the file closes).
  torch::Tensor load(const std::string& name) const;
  // Copies into `dst` (any dtype/device), converting; shapes must match exactly.
  void copy_into(const std::string& name, torch::Tensor& dst) const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;  // start of the data section inside the mapping
  void* map_ = nullptr;
  size_t map_size_ = 0;
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Writes tensors in the given order with `{"format": "pt"}` metadata (plus `metadata`).
// `dtype` converts floating tensors on the way out (kFloat, kHalf or kBFloat16); integer
// tensors keep theirs. Data are streamed tensor by tensor to a temporary file that is
// renamed into place at the end.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {},
                      torch::ScalarType dtype = torch::kFloat);

torch::ScalarType safetensors_dtype(const std::string& name);  // throws for unsupported names
std::string safetensors_dtype_name(torch::ScalarType type);

}  // namespace electra
