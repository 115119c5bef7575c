#include "manifest.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "data/shard.h"
#include "electra/util/error.h"
#include "util/files.h"
#include "util/json_reader.h"

namespace electra::detail {
namespace {

using json = nlohmann::json;

json split_to_json(const ManifestSplit& split) {
  json shards = json::array();
  for (const auto& s : split.shards) {
    shards.push_back({{"file", s.file}, {"examples", s.examples}, {"tokens", s.tokens},
                      {"checksum", fingerprint_hex(s.checksum)}});
  }
  return {{"documents", split.documents}, {"examples", split.examples}, {"tokens", split.tokens}, {"shards", shards}};
}

ManifestSplit split_from_json(const JsonReader& r, const json& splits, const char* name) {
  const std::string where = std::string("splits.") + name;
  const json& j = r.member(splits, "splits", name);
  ManifestSplit split;
  split.documents = r.u64(j, where, "documents");
  split.examples = r.u64(j, where, "examples");
  split.tokens = r.u64(j, where, "tokens");
  const json& shards = r.array(j, where, "shards");
  std::uint64_t examples = 0;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const std::string at = where + ".shards[" + std::to_string(i) + "]";
    ManifestShard s;
    s.file = r.string(shards[i], at, "file");
    if (s.file.empty() || s.file.find('/') != std::string::npos || s.file == "..") {
      r.fail(at, "\"file\" must be a file name inside the dataset folder");
    }
    s.examples = r.u64(shards[i], at, "examples");
    s.tokens = r.u64(shards[i], at, "tokens");
    s.checksum = r.hex64(shards[i], at, "checksum");
    examples += s.examples;
    split.shards.push_back(std::move(s));
  }
  if (examples != split.examples) r.fail(where, "\"examples\" does not match the sum over its shards");
  return split;
}

}  // namespace

json to_json(const Manifest& m) {
  return {
      {"format", kManifestFormat},
      {"format_version", m.format_version},
      {"shard_format_version", m.shard_format_version},
      {"created_by", "libelectra electra-prepare"},
      {"vocab",
       {{"path", m.vocab_path},
        {"description", m.vocab_description},
        {"size", m.vocab_size},
        {"fingerprint", fingerprint_hex(m.vocab_fingerprint)},
        {"lowercase", m.lowercase}}},
      {"special_ids", {{"pad", m.pad_id}, {"unk", m.unk_id}, {"cls", m.cls_id}, {"sep", m.sep_id}, {"mask", m.mask_id}}},
      {"max_seq_len", m.max_seq_len},
      {"id_bytes", m.id_bytes},
      {"settings", m.settings},
      {"files", m.files},
      {"splits", {{"train", split_to_json(m.train)}, {"eval", split_to_json(m.eval)}}},
      {"summary", m.summary},
  };
}

Manifest read_manifest(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw file_error(path, "missing: not a prepared dataset (make one with electra-prepare)");
  }
  const json j = parse_json(read_text_file(path), path);
  const JsonReader r(path);
  if (!j.is_object()) throw file_error(path, "malformed manifest: not a JSON object");
  if (r.string(j, "", "format") != kManifestFormat) {
    r.fail("", std::string("\"format\" must be \"") + kManifestFormat + "\"");
  }
  Manifest m;
  m.format_version = static_cast<std::uint32_t>(r.u64(j, "", "format_version"));
  if (m.format_version == 0 || m.format_version > kManifestFormatVersion) {
    throw file_error(path, "manifest format version " + std::to_string(m.format_version) +
                               " is not supported by this build (up to " + std::to_string(kManifestFormatVersion) +
                               "); update libelectra");
  }
  m.shard_format_version = static_cast<std::uint32_t>(r.u64(j, "", "shard_format_version"));
  const json& vocab = r.member(j, "", "vocab");
  m.vocab_path = r.string(vocab, "vocab", "path");
  if (vocab.contains("description") && vocab["description"].is_string()) {
    m.vocab_description = vocab["description"].get<std::string>();
  }
  m.vocab_size = r.i32(vocab, "vocab", "size");
  m.vocab_fingerprint = r.hex64(vocab, "vocab", "fingerprint");
  m.lowercase = r.boolean(vocab, "vocab", "lowercase");
  const json& special = r.member(j, "", "special_ids");
  m.pad_id = r.i32(special, "special_ids", "pad");
  m.unk_id = r.i32(special, "special_ids", "unk");
  m.cls_id = r.i32(special, "special_ids", "cls");
  m.sep_id = r.i32(special, "special_ids", "sep");
  m.mask_id = r.i32(special, "special_ids", "mask");
  m.max_seq_len = r.i32(j, "", "max_seq_len");
  m.id_bytes = static_cast<std::uint32_t>(r.u64(j, "", "id_bytes"));
  const json& splits = r.member(j, "", "splits");
  m.train = split_from_json(r, splits, "train");
  m.eval = split_from_json(r, splits, "eval");
  if (j.contains("settings")) m.settings = j["settings"];
  if (j.contains("files")) m.files = j["files"];
  if (j.contains("summary")) m.summary = j["summary"];
  return m;
}

void write_manifest(const std::string& path, const Manifest& manifest) {
  write_file_atomic(path, to_json(manifest).dump(2) + "\n");
}

}  // namespace electra::detail
