#pragma once
// Internal: manifest.json of a prepared dataset, written by prepare.cpp and read by
// pretraining_dataset.cpp.
//
// {
//   "format": "electra-pretraining-data", "format_version": 1, "shard_format_version": 1,
//   "created_by": "libelectra 0.1.0",
//   "vocab": {"path", "description", "size", "fingerprint" (16 hex digits), "lowercase"},
//   "special_ids": {"pad", "unk", "cls", "sep", "mask"},
//   "max_seq_len", "id_bytes",
//   "settings": {...},   // how the dataset was made (informative only)
//   "files": [{"path", "mode"}],
//   "splits": {"train" | "eval": {"documents", "examples", "tokens",
//              "shards": [{"file", "examples", "tokens", "checksum"}]}},
//   "summary": {...}     // informative only
// }
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace electra::detail {

constexpr const char* kManifestFormat = "electra-pretraining-data";
constexpr std::uint32_t kManifestFormatVersion = 1;

struct ManifestShard {
  std::string file;  // relative to the dataset folder
  std::uint64_t examples = 0;
  std::uint64_t tokens = 0;
  std::uint64_t checksum = 0;
};

struct ManifestSplit {
  std::uint64_t documents = 0;
  std::uint64_t examples = 0;
  std::uint64_t tokens = 0;
  std::vector<ManifestShard> shards;
};

struct Manifest {
  std::uint32_t format_version = kManifestFormatVersion;
  std::uint32_t shard_format_version = 0;
  std::string vocab_path;
  std::string vocab_description;
  std::int32_t vocab_size = 0;
  std::uint64_t vocab_fingerprint = 0;
  bool lowercase = true;
  std::int32_t pad_id = 0, unk_id = 0, cls_id = 0, sep_id = 0, mask_id = 0;
  std::int32_t max_seq_len = 0;
  std::uint32_t id_bytes = 2;
  ManifestSplit train, eval;
  nlohmann::json settings = nlohmann::json::object();
  nlohmann::json files = nlohmann::json::array();
  nlohmann::json summary = nlohmann::json::object();
};

nlohmann::json to_json(const Manifest& manifest);
// Throws electra::Error naming the file (and key): missing, not JSON, wrong format,
// version too new, a key missing or of the wrong type.
Manifest read_manifest(const std::string& path);
// Writes <path>.tmp, flushes it and renames it to <path>.
void write_manifest(const std::string& path, const Manifest& manifest);

}  // namespace electra::detail
