#include "data/shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "electra/tokenization/text_encoder.h"
#include "electra/util/error.h"

namespace electra {
namespace {

constexpr char kMagic[8] = {'E', 'L', 'E', 'C', 'S', 'H', 'R', 'D'};
constexpr std::size_t kFlushBytes = std::size_t{1} << 20;

std::uint64_t pad8(std::uint64_t n) { return (n + 7) / 8 * 8; }

void put_u16(unsigned char* p, std::uint16_t v) {
  p[0] = static_cast<unsigned char>(v);
  p[1] = static_cast<unsigned char>(v >> 8);
}
void put_u32(unsigned char* p, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = static_cast<unsigned char>(v >> (8 * k));
}
void put_u64(unsigned char* p, std::uint64_t v) {
  for (int k = 0; k < 8; ++k) p[k] = static_cast<unsigned char>(v >> (8 * k));
}
std::uint16_t get_u16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t get_u32(const unsigned char* p) {
  std::uint32_t v = 0;
  for (int k = 3; k >= 0; --k) v = (v << 8) | p[k];
  return v;
}
std::uint64_t get_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int k = 7; k >= 0; --k) v = (v << 8) | p[k];
  return v;
}

std::string system_error() { return std::strerror(errno); }

}  // namespace

std::uint64_t fnv1a64(const void* bytes, std::size_t size, std::uint64_t hash) {
  const auto* p = static_cast<const unsigned char*>(bytes);
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= p[i];
    hash *= 0x100000001B3ULL;
  }
  return hash;
}

std::uint64_t vocab_fingerprint(const TextEncoder& encoder) {
  std::uint64_t hash = kFnvOffset;
  for (std::int32_t id = 0; id < encoder.vocab_size(); ++id) {
    const std::string token = encoder.token(id);
    hash = fnv1a64(token.data(), token.size(), hash);
    hash = fnv1a64("\n", 1, hash);
  }
  return hash;
}

std::string fingerprint_hex(std::uint64_t fingerprint) {
  static const char* digits = "0123456789abcdef";
  std::string hex(16, '0');
  for (int k = 15; k >= 0; --k, fingerprint >>= 4) hex[static_cast<std::size_t>(k)] = digits[fingerprint & 15];
  return hex;
}

// ---- ShardWriter ----

ShardWriter::ShardWriter(std::string path, ShardInfo info)
    : path_(std::move(path)), tmp_(path_), info_(info) {
  if (info_.vocab_size == 0) throw file_error(path_, "shard: the vocabulary size must be positive");
  if (info_.max_seq_len == 0 || info_.max_seq_len > 65535) {
    throw file_error(path_, "shard: max_seq_len must be in [1, 65535], got " + std::to_string(info_.max_seq_len));
  }
  file_ = std::fopen(tmp_.path().c_str(), "wb");
  if (file_ == nullptr) throw file_error(tmp_.path(), "cannot create (" + system_error() + ")");
  const unsigned char zeros[kShardHeaderBytes] = {};  // the real header is written by close()
  if (std::fwrite(zeros, 1, sizeof zeros, file_) != sizeof zeros) {
    std::fclose(file_);
    file_ = nullptr;
    throw file_error(tmp_.path(), "write error (" + system_error() + ")");
  }
  buffer_.reserve(kFlushBytes + 4 * 65536);
}

ShardWriter::~ShardWriter() {
  if (file_ != nullptr) std::fclose(file_);  // an unclosed shard's temporary file goes with tmp_
}

void ShardWriter::write(const void* bytes, std::size_t size) {
  checksum_ = fnv1a64(bytes, size, checksum_);
  payload_bytes_ += size;
  if (std::fwrite(bytes, 1, size, file_) != size) throw file_error(tmp_.path(), "write error (" + system_error() + ")");
}

void ShardWriter::add(const PretrainingExample& example) { add(example.ids.data(), example.ids.size(), example.len_a); }

void ShardWriter::add(const std::int32_t* ids, std::size_t length, std::int32_t len_a) {
  if (closed_) throw file_error(path_, "shard: add() after close()");
  if (length == 0 || length > info_.max_seq_len) {
    throw file_error(path_, "shard: example of " + std::to_string(length) + " tokens (must be in [1, " +
                                std::to_string(info_.max_seq_len) + "])");
  }
  if (len_a < 1 || static_cast<std::size_t>(len_a) > length) {
    throw file_error(path_, "shard: len_a " + std::to_string(len_a) + " outside [1, " + std::to_string(length) + "]");
  }
  for (std::size_t i = 0; i < length; ++i) {  // check first: a rejected example leaves no trace
    if (ids[i] < 0 || static_cast<std::uint32_t>(ids[i]) >= info_.vocab_size) {
      throw file_error(path_, "shard: token id " + std::to_string(ids[i]) + " outside the vocabulary (size " +
                                  std::to_string(info_.vocab_size) + ")");
    }
  }
  const std::uint32_t width = info_.id_bytes();
  for (std::size_t i = 0; i < length; ++i) {
    const auto v = static_cast<std::uint32_t>(ids[i]);
    buffer_.push_back(static_cast<unsigned char>(v));
    buffer_.push_back(static_cast<unsigned char>(v >> 8));
    if (width == 4) {
      buffer_.push_back(static_cast<unsigned char>(v >> 16));
      buffer_.push_back(static_cast<unsigned char>(v >> 24));
    }
  }
  offsets_.push_back(offsets_.back() + length);
  lengths_a_.push_back(static_cast<std::uint16_t>(len_a));
  if (buffer_.size() >= kFlushBytes) {
    write(buffer_.data(), buffer_.size());
    buffer_.clear();
  }
}

void ShardWriter::close() {
  if (closed_) return;
  const std::uint64_t n = lengths_a_.size();
  const std::uint64_t t = offsets_.back();
  // ids, padded
  buffer_.resize(buffer_.size() + (pad8(t * info_.id_bytes()) - t * info_.id_bytes()), 0);
  // offsets
  const std::size_t offsets_at = buffer_.size();
  buffer_.resize(offsets_at + 8 * (n + 1));
  for (std::uint64_t i = 0; i <= n; ++i) put_u64(buffer_.data() + offsets_at + 8 * i, offsets_[i]);
  // len_a, padded
  const std::size_t lengths_at = buffer_.size();
  buffer_.resize(lengths_at + pad8(2 * n), 0);
  for (std::uint64_t i = 0; i < n; ++i) put_u16(buffer_.data() + lengths_at + 2 * i, lengths_a_[i]);
  write(buffer_.data(), buffer_.size());
  buffer_.clear();
  buffer_.shrink_to_fit();

  unsigned char header[kShardHeaderBytes] = {};
  std::memcpy(header, kMagic, 8);
  put_u32(header + 8, kShardFormatVersion);
  put_u32(header + 12, static_cast<std::uint32_t>(kShardHeaderBytes));
  put_u32(header + 16, info_.vocab_size);
  put_u32(header + 20, info_.id_bytes());
  put_u32(header + 24, info_.max_seq_len);
  put_u32(header + 28, 0);
  put_u64(header + 32, n);
  put_u64(header + 40, t);
  put_u64(header + 48, info_.vocab_fingerprint);
  put_u64(header + 56, payload_bytes_);
  put_u64(header + 64, checksum_);
  put_u64(header + 72, fnv1a64(header, 72));
  if (std::fseek(file_, 0, SEEK_SET) != 0 || std::fwrite(header, 1, sizeof header, file_) != sizeof header ||
      std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) {
    throw file_error(tmp_.path(), "write error (" + system_error() + ")");
  }
  const int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) throw file_error(tmp_.path(), "write error (" + system_error() + ")");
  tmp_.commit();
  closed_ = true;
}

// ---- ShardReader ----

ShardReader::ShardReader(const std::string& path, bool verify_checksum) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw file_error(path, "cannot open shard (" + system_error() + ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const auto message = system_error();
    ::close(fd);
    throw file_error(path, "cannot stat shard (" + message + ")");
  }
  size_ = static_cast<std::size_t>(st.st_size);
  if (size_ < kShardHeaderBytes) {
    ::close(fd);
    throw file_error(path, "truncated shard: " + std::to_string(size_) + " bytes, less than its " +
                               std::to_string(kShardHeaderBytes) + "-byte header");
  }
  void* map = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  const auto map_error = system_error();
  ::close(fd);
  if (map == MAP_FAILED) throw file_error(path, "cannot map shard (" + map_error + ")");
  data_ = static_cast<const unsigned char*>(map);

  try {
    const unsigned char* h = data_;
    if (std::memcmp(h, kMagic, 8) != 0) throw file_error(path, "not a shard file (bad magic)");
    version_ = get_u32(h + 8);
    if (version_ > kShardFormatVersion) {
      throw file_error(path, "shard format version " + std::to_string(version_) +
                                 " is newer than this build reads (" + std::to_string(kShardFormatVersion) +
                                 "); update libelectra");
    }
    if (version_ == 0) throw file_error(path, "invalid shard format version 0");
    if (get_u32(h + 12) != kShardHeaderBytes) {
      throw file_error(path, "bad shard header size " + std::to_string(get_u32(h + 12)));
    }
    if (get_u64(h + 72) != fnv1a64(h, 72)) throw file_error(path, "shard header checksum mismatch (corrupt header)");
    info_.vocab_size = get_u32(h + 16);
    id_bytes_ = get_u32(h + 20);
    info_.max_seq_len = get_u32(h + 24);
    examples_ = get_u64(h + 32);
    tokens_ = get_u64(h + 40);
    info_.vocab_fingerprint = get_u64(h + 48);
    const std::uint64_t payload = get_u64(h + 56);
    checksum_ = get_u64(h + 64);
    if (info_.vocab_size == 0 || id_bytes_ != info_.id_bytes()) {
      throw file_error(path, "inconsistent shard header (vocabulary size " + std::to_string(info_.vocab_size) +
                                 ", id width " + std::to_string(id_bytes_) + ")");
    }
    const std::uint64_t actual = size_ - kShardHeaderBytes;
    if (payload > actual) {
      throw file_error(path, "truncated shard: header says " + std::to_string(payload) + " payload bytes, the file has " +
                                 std::to_string(actual));
    }
    if (payload < actual) {
      throw file_error(path, "shard has " + std::to_string(actual - payload) + " unexpected bytes after its payload");
    }
    if (examples_ > payload / 8 || tokens_ > payload / id_bytes_ ||
        pad8(tokens_ * id_bytes_) + 8 * (examples_ + 1) + pad8(2 * examples_) != payload) {
      throw file_error(path, "inconsistent shard header (payload size does not match the counts)");
    }
    if (verify_checksum && fnv1a64(data_ + kShardHeaderBytes, payload) != checksum_) {
      throw file_error(path, "shard checksum mismatch (the file is corrupt)");
    }
    ids_ = data_ + kShardHeaderBytes;
    offsets_ = ids_ + pad8(tokens_ * id_bytes_);
    lengths_a_ = offsets_ + 8 * (examples_ + 1);
    if (offset(0) != 0 || offset(examples_) != tokens_) throw file_error(path, "corrupt shard offset table");
    for (std::size_t i = 0; i < examples_; ++i) {
      const std::uint64_t begin = offset(i), end = offset(i + 1);
      if (end <= begin || end > tokens_ || end - begin > info_.max_seq_len) {
        throw file_error(path, "corrupt shard offset table at example " + std::to_string(i));
      }
      const std::uint16_t a = get_u16(lengths_a_ + 2 * i);
      if (a < 1 || a > end - begin) throw file_error(path, "corrupt shard len_a at example " + std::to_string(i));
    }
  } catch (...) {
    release();
    throw;
  }
}

ShardReader::~ShardReader() { release(); }

void ShardReader::release() {
  if (data_ != nullptr) ::munmap(const_cast<unsigned char*>(data_), size_);
  data_ = nullptr;
}

ShardReader::ShardReader(ShardReader&& o) noexcept { *this = std::move(o); }

ShardReader& ShardReader::operator=(ShardReader&& o) noexcept {
  if (this != &o) {
    release();
    path_ = std::move(o.path_);
    data_ = o.data_;
    size_ = o.size_;
    version_ = o.version_;
    info_ = o.info_;
    id_bytes_ = o.id_bytes_;
    examples_ = o.examples_;
    tokens_ = o.tokens_;
    checksum_ = o.checksum_;
    ids_ = o.ids_;
    offsets_ = o.offsets_;
    lengths_a_ = o.lengths_a_;
    o.data_ = nullptr;
  }
  return *this;
}

std::uint64_t ShardReader::offset(std::size_t i) const { return get_u64(offsets_ + 8 * i); }

std::size_t ShardReader::length(std::size_t i) const {
  if (i >= examples_) throw file_error(path_, "example " + std::to_string(i) + " out of range (" + std::to_string(examples_) + " examples)");
  return static_cast<std::size_t>(offset(i + 1) - offset(i));
}

std::int32_t ShardReader::len_a(std::size_t i) const {
  if (i >= examples_) throw file_error(path_, "example " + std::to_string(i) + " out of range (" + std::to_string(examples_) + " examples)");
  return get_u16(lengths_a_ + 2 * i);
}

void ShardReader::read(std::size_t i, std::vector<std::int32_t>& ids) const {
  const std::size_t n = length(i);
  const unsigned char* p = ids_ + offset(i) * id_bytes_;
  ids.resize(n);
  for (std::size_t k = 0; k < n; ++k, p += id_bytes_) {
    const std::uint32_t id = id_bytes_ == 2 ? get_u16(p) : get_u32(p);
    if (id >= info_.vocab_size) {
      throw file_error(path_, "token id " + std::to_string(id) + " of example " + std::to_string(i) +
                                  " outside the vocabulary (size " + std::to_string(info_.vocab_size) + ")");
    }
    ids[k] = static_cast<std::int32_t>(id);
  }
}

PretrainingExample ShardReader::example(std::size_t i) const {
  PretrainingExample e;
  read(i, e.ids);
  e.len_a = len_a(i);
  return e;
}

}  // namespace electra
