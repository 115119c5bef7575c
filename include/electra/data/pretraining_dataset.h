#pragma once
// A prepared pre-training dataset (electra-prepare's output folder), opened for the
// trainer: manifest.json plus the memory-mapped shards of one split. Examples are read
// one at a time; nothing is copied up front.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace electra {

// One example: ids with [CLS]/[SEP]; token types are 0 for positions < len_a, 1 after.
struct PretrainingExample {
  std::vector<std::int32_t> ids;
  std::int32_t len_a = 0;  // [CLS] + segment A + [SEP]; == ids.size() for one segment
  bool single_segment() const { return static_cast<std::size_t>(len_a) == ids.size(); }
  std::vector<std::int32_t> token_type_ids() const;
};

class ShardReader;  // the shard format (data/shard.h) is private to the library
class TextEncoder;

class PretrainingDataset {
 public:
  // `split` is "train" or "eval". Throws electra::Error naming the file when the
  // manifest is missing or malformed, a shard is missing or corrupt, or a shard does
  // not match the manifest (examples, vocabulary, max_seq_len, checksum). With
  // verify_checksums, every shard's payload checksum is checked on open (one pass
  // over the data).
  static PretrainingDataset open(const std::string& dir, const std::string& split = "train",
                                 bool verify_checksums = true);

  std::size_t size() const { return total_; }  // examples in the split (0 for an empty eval split)
  // Example `index` in [0, size()): ids with [CLS]/[SEP] and len_a (token types 0
  // before len_a, 1 after). Throws when out of range.
  PretrainingExample example(std::size_t index) const;
  void read(std::size_t index, std::vector<std::int32_t>& ids, std::int32_t& len_a) const;

  const std::string& dir() const { return dir_; }
  const std::string& split() const { return split_; }
  std::int32_t vocab_size() const { return vocab_size_; }
  std::uint64_t vocab_fingerprint() const { return vocab_fingerprint_; }
  const std::string& vocab_path() const { return vocab_path_; }  // as recorded when prepared
  // Throws electra::Error naming the vocabulary unless `encoder` is the one the data was
  // prepared with (same fingerprint): other ids would train and export silently wrong.
  void require_vocabulary(const TextEncoder& encoder) const;
  bool lowercase() const { return lowercase_; }
  std::int32_t max_seq_len() const { return max_seq_len_; }
  std::int32_t pad_id() const { return pad_id_; }
  std::int32_t cls_id() const { return cls_id_; }
  std::int32_t sep_id() const { return sep_id_; }
  std::int32_t mask_id() const { return mask_id_; }
  std::int32_t unk_id() const { return unk_id_; }
  std::size_t shards() const;
  std::uint64_t tokens() const { return tokens_; }
  std::uint64_t documents() const { return documents_; }

 private:
  PretrainingDataset() = default;
  std::pair<std::size_t, std::size_t> locate(std::size_t index) const;  // (shard, example in shard)

  std::string dir_, split_, vocab_path_;
  std::int32_t vocab_size_ = 0, max_seq_len_ = 0;
  std::int32_t pad_id_ = 0, cls_id_ = 0, sep_id_ = 0, mask_id_ = 0, unk_id_ = 0;
  std::uint64_t vocab_fingerprint_ = 0, tokens_ = 0, documents_ = 0;
  bool lowercase_ = true;
  std::shared_ptr<std::vector<ShardReader>> shards_;  // memory-mapped, read-only: copies share them
  std::vector<std::size_t> starts_;  // global index of each shard's first example
  std::size_t total_ = 0;
};

}  // namespace electra
