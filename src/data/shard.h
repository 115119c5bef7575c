#pragma once
// Shard files: pre-training examples in a compact binary file that the trainer
// memory-maps. All integers little-endian.
//
//   offset  size  field
//   0       8     magic "ELECSHRD"
//   8       4     u32 format version (kShardFormatVersion)
//   12      4     u32 header size in bytes (80)
//   16      4     u32 vocabulary size
//   20      4     u32 id width in bytes: 2 when vocab size <= 65536, else 4
//   24      4     u32 max_seq_len
//   28      4     u32 flags (0)
//   32      8     u64 example count N
//   40      8     u64 token count T (all ids of all examples)
//   48      8     u64 vocabulary fingerprint (vocab_fingerprint())
//   56      8     u64 payload size in bytes (file size - header size)
//   64      8     u64 FNV-1a 64 checksum of the payload
//   72      8     u64 FNV-1a 64 checksum of header bytes [0, 72)
//   80            payload:
//                   ids      T x id width, zero-padded to a multiple of 8 bytes
//                   offsets  u64[N + 1]: index in ids of example i's first token; offsets[N] = T
//                   len_a    u16[N]: tokens of type 0 ([CLS] A [SEP]), zero-padded to 8 bytes
//
// Example i is ids[offsets[i], offsets[i+1]) with token types 0 for its first len_a[i]
// tokens and 1 after; ids include [CLS] and [SEP].
//
// ShardWriter writes "<path>.tmp" and renames it to <path> on close(), so an
// interrupted run never leaves a file that looks complete. ShardReader checks the
// header, the sizes, the tables and (unless told not to) the payload checksum, and
// names the file in every error.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "data/example_builder.h"

#include "util/files.h"

namespace electra {

class TextEncoder;

constexpr std::uint32_t kShardFormatVersion = 1;
constexpr std::size_t kShardHeaderBytes = 80;

// FNV-1a 64 of `bytes`, continuing from `hash` (start with kFnvOffset).
constexpr std::uint64_t kFnvOffset = 0xCBF29CE484222325ULL;
std::uint64_t fnv1a64(const void* bytes, std::size_t size, std::uint64_t hash = kFnvOffset);

// Identifies a vocabulary by content: FNV-1a 64 of every token (TextEncoder::token(id)
// for id = 0 .. vocab_size-1), each followed by '\n'. Two encoders with the same
// tokens in the same order have the same fingerprint whatever their files are called.
std::uint64_t vocab_fingerprint(const TextEncoder& encoder);
std::string fingerprint_hex(std::uint64_t fingerprint);  // 16 lower-case hex digits

struct ShardInfo {
  std::uint32_t vocab_size = 0;
  std::uint32_t max_seq_len = 0;
  std::uint64_t vocab_fingerprint = 0;
  std::uint32_t id_bytes() const { return vocab_size <= 65536 ? 2 : 4; }
};

class ShardWriter {
 public:
  // Creates "<path>.tmp" (throws electra::Error naming it when it cannot).
  ShardWriter(std::string path, ShardInfo info);
  ~ShardWriter();  // without close(): removes the temporary file
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  // Throws when an id is outside the vocabulary, the example is longer than
  // max_seq_len, or len_a is not in [1, length].
  void add(const PretrainingExample& example);
  void add(const std::int32_t* ids, std::size_t length, std::int32_t len_a);
  // Writes the tables and the header, flushes to disk and renames to the final name.
  void close();

  std::uint64_t examples() const { return lengths_a_.size(); }
  std::uint64_t tokens() const { return offsets_.back(); }
  std::uint64_t checksum() const { return checksum_; }  // valid after close()
  const std::string& path() const { return path_; }

 private:
  void write(const void* bytes, std::size_t size);
  std::string path_;
  TemporaryPath tmp_;  // written there, renamed into place by close()
  ShardInfo info_;
  std::FILE* file_ = nullptr;
  std::vector<std::uint64_t> offsets_{0};
  std::vector<std::uint16_t> lengths_a_;
  std::vector<unsigned char> buffer_;
  std::uint64_t payload_bytes_ = 0;
  std::uint64_t checksum_ = kFnvOffset;
  bool closed_ = false;
};

class ShardReader {
 public:
  // Maps the file and validates it; throws electra::Error naming the file: missing,
  // truncated, bad magic, format version too new, inconsistent header or tables,
  // checksum mismatch (the checksum is skipped when verify_checksum is false).
  explicit ShardReader(const std::string& path, bool verify_checksum = true);
  ~ShardReader();
  ShardReader(ShardReader&& other) noexcept;
  ShardReader& operator=(ShardReader&& other) noexcept;
  ShardReader(const ShardReader&) = delete;
  ShardReader& operator=(const ShardReader&) = delete;

  std::size_t size() const { return static_cast<std::size_t>(examples_); }
  std::size_t length(std::size_t i) const;  // tokens of example i
  std::int32_t len_a(std::size_t i) const;
  // Copies example i's ids into `ids` (resized); throws when i >= size().
  void read(std::size_t i, std::vector<std::int32_t>& ids) const;
  PretrainingExample example(std::size_t i) const;

  const std::string& path() const { return path_; }
  std::uint32_t format_version() const { return version_; }
  const ShardInfo& info() const { return info_; }
  std::uint64_t tokens() const { return tokens_; }
  std::uint64_t checksum() const { return checksum_; }

 private:
  void release();
  std::uint64_t offset(std::size_t i) const;
  std::string path_;
  const unsigned char* data_ = nullptr;  // the mapped file
  std::size_t size_ = 0;
  std::uint32_t version_ = 0;
  ShardInfo info_;
  std::uint32_t id_bytes_ = 2;
  std::uint64_t examples_ = 0, tokens_ = 0, checksum_ = 0;
  const unsigned char* ids_ = nullptr;
  const unsigned char* offsets_ = nullptr;
  const unsigned char* lengths_a_ = nullptr;
};

}  // namespace electra
