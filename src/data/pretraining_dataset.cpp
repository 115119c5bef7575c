#include "electra/data/pretraining_dataset.h"

#include <algorithm>
#include <filesystem>

#include "electra/util/error.h"
#include "data/shard.h"
#include "electra/tokenization/text_encoder.h"
#include "manifest.h"

namespace electra {
namespace fs = std::filesystem;

PretrainingDataset PretrainingDataset::open(const std::string& dir, const std::string& split, bool verify_checksums) {
  if (split != "train" && split != "eval") {
    throw Error("pre-training dataset split must be \"train\" or \"eval\", got \"" + split + "\"");
  }
  const std::string manifest_path = (fs::path(dir) / "manifest.json").string();
  const auto manifest = detail::read_manifest(manifest_path);
  const auto& part = split == "train" ? manifest.train : manifest.eval;

  PretrainingDataset d;
  d.dir_ = dir;
  d.split_ = split;
  d.vocab_path_ = manifest.vocab_path;
  d.vocab_size_ = manifest.vocab_size;
  d.vocab_fingerprint_ = manifest.vocab_fingerprint;
  d.lowercase_ = manifest.lowercase;
  d.max_seq_len_ = manifest.max_seq_len;
  d.pad_id_ = manifest.pad_id;
  d.cls_id_ = manifest.cls_id;
  d.sep_id_ = manifest.sep_id;
  d.mask_id_ = manifest.mask_id;
  d.unk_id_ = manifest.unk_id;
  d.documents_ = part.documents;
  d.shards_ = std::make_shared<std::vector<ShardReader>>();
  for (const auto& entry : part.shards) {
    const std::string path = (fs::path(dir) / entry.file).string();
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      throw file_error(path, "missing shard (listed in " + manifest_path + ")");
    }
    ShardReader shard(path, verify_checksums);
    auto mismatch = [&](const std::string& what) {
      return file_error(path, "does not match " + manifest_path + " (" + what + ")");
    };
    if (shard.size() != entry.examples) throw mismatch("example count");
    if (shard.tokens() != entry.tokens) throw mismatch("token count");
    if (shard.checksum() != entry.checksum) throw mismatch("checksum");
    if (shard.info().vocab_fingerprint != manifest.vocab_fingerprint ||
        shard.info().vocab_size != static_cast<std::uint32_t>(manifest.vocab_size)) {
      throw mismatch("vocabulary");
    }
    if (shard.info().max_seq_len != static_cast<std::uint32_t>(manifest.max_seq_len)) throw mismatch("max_seq_len");
    d.starts_.push_back(d.total_);
    d.total_ += shard.size();
    d.tokens_ += shard.tokens();
    d.shards_->push_back(std::move(shard));
  }
  return d;
}

std::pair<std::size_t, std::size_t> PretrainingDataset::locate(std::size_t index) const {
  if (index >= total_) {
    throw Error(dir_ + ": example " + std::to_string(index) + " out of range (" + split_ + " has " +
                std::to_string(total_) + " examples)");
  }
  const auto it = std::upper_bound(starts_.begin(), starts_.end(), index);
  const auto shard = static_cast<std::size_t>(it - starts_.begin()) - 1;
  return {shard, index - starts_[shard]};
}

void PretrainingDataset::read(std::size_t index, std::vector<std::int32_t>& ids, std::int32_t& len_a) const {
  const auto [shard, local] = locate(index);
  (*shards_)[shard].read(local, ids);
  len_a = (*shards_)[shard].len_a(local);
}

void PretrainingDataset::require_vocabulary(const TextEncoder& encoder) const {
  if (electra::vocab_fingerprint(encoder) == vocab_fingerprint_ && encoder.vocab_size() == vocab_size_) return;
  throw file_error(vocab_path_, "is not the vocabulary " + dir_ + " was prepared with (it changed since: " +
                                    std::to_string(encoder.vocab_size()) + " tokens now, " +
                                    std::to_string(vocab_size_) + " then, or other tokens); prepare the data again "
                                    "with electra-prepare, or restore that vocabulary");
}

std::size_t PretrainingDataset::shards() const { return shards_ ? shards_->size() : 0; }

PretrainingExample PretrainingDataset::example(std::size_t index) const {
  PretrainingExample e;
  read(index, e.ids, e.len_a);
  return e;
}

}  // namespace electra
