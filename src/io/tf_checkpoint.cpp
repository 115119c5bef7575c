#include "io/tf_checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <torch/torch.h>

#include "electra/util/error.h"
#include "io/binary_fields.h"
#include "util/crc32c.h"
#include "util/files.h"

// The files read here come from strangers: every length, offset and count is checked against
// the bytes that are really there before it is used, and every problem becomes one
// electra::Error naming the file. Layout facts follow the public LevelDB table format
// (table_format.md) and TensorFlow's tensor_bundle.proto.

namespace electra {

namespace {

// What the index says about one tensor besides its name, dtype and shape.
struct EntryInfo {
  int tf_dtype = 0;        // the DataType enum value as stored
  int64_t shard = 0;
  uint64_t offset = 0;     // in the data shard
  uint64_t size = 0;       // bytes
  uint32_t masked_crc = 0;
  bool sliced = false;     // a partitioned variable: its bytes live in per-slice entries
};

// ---------------------------------------------------------------- bytes with a cursor

// A bounded view that every decoder below reads through; running past its end is an error
// about `what` in file `path`, never a read out of bounds.
class Cursor {
 public:
  Cursor(const uint8_t* begin, const uint8_t* end, const std::string& path, std::string what)
      : p_(begin), end_(end), path_(path), what_(std::move(what)) {}

  bool done() const { return p_ == end_; }
  const std::string& path() const { return path_; }
  size_t left() const { return static_cast<size_t>(end_ - p_); }

  [[noreturn]] void fail(const std::string& problem) const {
    throw file_error(path_, "garbled index: " + what_ + " " + problem);
  }

  // Base-128 varint, at most 10 bytes for 64 bits (and the tenth may only hold the top bit).
  uint64_t varint64() {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ == end_) fail("ends inside a varint");
      const uint8_t b = *p_++;
      if (shift == 63 && b > 1) fail("has a varint longer than 64 bits");
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    fail("has a varint longer than 64 bits");
  }

  uint32_t varint32() {
    const uint64_t v = varint64();
    if (v > UINT32_MAX) fail("has a length beyond 32 bits");
    return static_cast<uint32_t>(v);
  }

  const uint8_t* take(uint64_t n) {
    if (n > left()) fail("ends early (needs " + std::to_string(n) + " bytes, " + std::to_string(left()) + " left)");
    const uint8_t* p = p_;
    p_ += n;
    return p;
  }

  uint32_t fixed32() { return le32(take(4)); }
  uint64_t fixed64() { return le64(take(8)); }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
  const std::string& path_;
  std::string what_;
};

// ---------------------------------------------------------------- protocol buffer wire format

// Just enough of the wire format for the two bundle messages: fields are read in order,
// unknown ones skipped by their wire type, groups (long deprecated) refused.
class ProtoReader {
 public:
  explicit ProtoReader(Cursor c) : c_(std::move(c)) {}

  // Next field's number and wire type; false at the end of the message.
  bool next(uint32_t& field, uint32_t& wire) {
    if (c_.done()) return false;
    const uint64_t tag = c_.varint64();
    field = static_cast<uint32_t>(tag >> 3);
    wire = static_cast<uint32_t>(tag & 7);
    if (field == 0 || (tag >> 3) > 0x1fffffff) c_.fail("has an invalid field number");
    return true;
  }

  uint64_t varint(uint32_t wire) {
    expect(wire, 0);
    return c_.varint64();
  }
  // int32/enum fields: negative values arrive sign-extended to 64 bits.
  int64_t int32_field(uint32_t wire) {
    const auto v = static_cast<int64_t>(varint(wire));
    if (v < INT32_MIN || v > INT32_MAX) c_.fail("has an int32 field out of range");
    return v;
  }
  uint32_t fixed32(uint32_t wire) {
    expect(wire, 5);
    return c_.fixed32();
  }
  Cursor message(uint32_t wire, std::string what) {
    expect(wire, 2);
    const uint64_t n = c_.varint64();
    const uint8_t* p = c_.take(n);
    return Cursor(p, p + n, c_.path(), std::move(what));
  }

  void skip(uint32_t wire) {
    switch (wire) {
      case 0: c_.varint64(); break;
      case 1: c_.take(8); break;
      case 2: c_.take(c_.varint64()); break;
      case 5: c_.take(4); break;
      default: c_.fail("has an unsupported wire type " + std::to_string(wire));
    }
  }

  Cursor& cursor() { return c_; }

 private:
  void expect(uint32_t wire, uint32_t want) {
    if (wire != want) c_.fail("has a field of the wrong wire type");
  }

  Cursor c_;
};

// ---------------------------------------------------------------- the SSTable

constexpr size_t kFooterBytes = 48;
constexpr uint64_t kTableMagic = 0xdb4775248b80fb57ull;
constexpr size_t kBlockTrailerBytes = 5;  // compression type + masked CRC32C

struct BlockHandle {
  uint64_t offset = 0, size = 0;
};

BlockHandle read_handle(Cursor& c) {
  BlockHandle h;
  h.offset = c.varint64();
  h.size = c.varint64();
  return h;
}

// The checked contents of one block (its bytes without the trailer).
std::pair<const uint8_t*, size_t> read_block(const std::string& file, const std::string& path, BlockHandle h,
                                             const std::string& what) {
  const uint64_t n = file.size();
  if (h.offset > n || h.size > n - h.offset || kBlockTrailerBytes > n - h.offset - h.size) {
    throw file_error(path, "truncated or garbled index: " + what + " (bytes " + std::to_string(h.offset) +
                               ".." + std::to_string(h.offset + h.size) + " plus trailer) lies beyond the end of the " +
                               std::to_string(n) + "-byte file");
  }
  const auto* p = reinterpret_cast<const uint8_t*>(file.data()) + h.offset;
  const uint8_t type = p[h.size];
  if (type == 1) throw file_error(path, what + " is Snappy-compressed; only uncompressed indexes are supported");
  if (type != 0) throw file_error(path, "garbled index: " + what + " has unknown compression type " + std::to_string(type));
  const uint32_t actual = mask_crc32c(crc32c(p, h.size + 1));  // the CRC covers the type byte too
  if (actual != le32(p + h.size + 1)) {
    throw file_error(path, what + " fails its checksum (the index file is damaged)");
  }
  return {p, static_cast<size_t>(h.size)};
}

// Key/value pairs of one block, in order; prefix-compressed keys are expanded.
void parse_block(const std::pair<const uint8_t*, size_t>& block, const std::string& path, const std::string& what,
                 std::vector<std::pair<std::string, std::string>>& out) {
  const uint8_t* p = block.first;
  const size_t n = block.second;
  Cursor whole(p, p + n, path, what);
  if (n < 4) whole.fail("is shorter than its restart count");
  const uint32_t restarts = le32(p + n - 4);
  if (restarts > (n - 4) / 4) whole.fail("has more restart points than bytes");
  const size_t data_end = n - 4 - size_t(restarts) * 4;
  Cursor c(p, p + data_end, path, what);
  std::string key;
  while (!c.done()) {
    const uint32_t shared = c.varint32();
    const uint32_t non_shared = c.varint32();
    const uint32_t value_len = c.varint32();
    if (shared > key.size()) c.fail("has a key sharing more bytes than the previous key has");
    const uint8_t* delta = c.take(non_shared);
    const uint8_t* value = c.take(value_len);
    key.resize(shared);
    key.append(reinterpret_cast<const char*>(delta), non_shared);
    out.emplace_back(key, std::string(reinterpret_cast<const char*>(value), value_len));
  }
}

// Every key/value of the table, checked to be in strictly increasing key order.
std::vector<std::pair<std::string, std::string>> read_table(const std::string& path) {
  const std::string file = read_text_file(path);
  if (file.empty()) throw file_error(path, "empty file, not a TensorFlow checkpoint index");
  if (file.size() < kFooterBytes) {
    throw file_error(path, "not a TensorFlow checkpoint index, or a truncated one (" + std::to_string(file.size()) +
                               " bytes, shorter than the 48-byte footer)");
  }
  const auto* footer = reinterpret_cast<const uint8_t*>(file.data()) + file.size() - kFooterBytes;
  if (le64(footer + kFooterBytes - 8) != kTableMagic) {
    throw file_error(path, "not a TensorFlow checkpoint index, or a truncated one (bad magic number at its end)");
  }
  Cursor fc(footer, footer + kFooterBytes - 8, path, "the footer");
  const BlockHandle meta = read_handle(fc);
  const BlockHandle index = read_handle(fc);
  // The metaindex names optional filter blocks this reader does not use; it is still checked,
  // so that no stored byte goes unverified.
  read_block(file, path, meta, "the metaindex block");

  std::vector<std::pair<std::string, std::string>> handles;
  parse_block(read_block(file, path, index, "the index block"), path, "the index block", handles);

  std::vector<std::pair<std::string, std::string>> out;
  uint64_t next_free = 0;  // data blocks are laid out in order without overlap; this keeps work linear
  for (size_t i = 0; i < handles.size(); ++i) {
    const std::string& v = handles[i].second;
    Cursor hc(reinterpret_cast<const uint8_t*>(v.data()), reinterpret_cast<const uint8_t*>(v.data()) + v.size(),
              path, "index entry " + std::to_string(i));
    const BlockHandle h = read_handle(hc);
    if (!hc.done()) hc.fail("has trailing bytes after its block handle");
    if (h.offset < next_free) hc.fail("points at a data block overlapping the one before it");
    const std::string what = "data block " + std::to_string(i);
    parse_block(read_block(file, path, h, what), path, what, out);
    next_free = h.offset + h.size + kBlockTrailerBytes;  // read_block bounded it by the file size
  }
  for (size_t i = 1; i < out.size(); ++i) {
    if (!(out[i - 1].first < out[i].first)) {
      throw file_error(path, "garbled index: its keys are not in increasing order (\"" + out[i].first + "\")");
    }
  }
  return out;
}

// ---------------------------------------------------------------- bundle messages

// tensor_bundle.proto's BundleHeaderProto: {num_shards = 1, endianness = 2, version = 3}.
struct BundleHeader {
  int64_t num_shards = 0;
  int64_t endianness = 0;  // 0 little, 1 big
  int64_t min_consumer = 0;
};

BundleHeader parse_header(const std::string& bytes, const std::string& path) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  ProtoReader r(Cursor(p, p + bytes.size(), path, "the bundle header"));
  BundleHeader h;
  uint32_t field, wire;
  while (r.next(field, wire)) {
    if (field == 1) {
      h.num_shards = r.int32_field(wire);
    } else if (field == 2) {
      h.endianness = r.int32_field(wire);
    } else if (field == 3) {  // VersionDef {producer = 1, min_consumer = 2, bad_consumers = 3}
      ProtoReader v(r.message(wire, "the bundle header's version"));
      uint32_t vf, vw;
      while (v.next(vf, vw)) {
        if (vf == 2) h.min_consumer = v.int32_field(vw);
        else v.skip(vw);
      }
    } else {
      r.skip(wire);
    }
  }
  return h;
}

// TensorShapeProto: {repeated Dim dim = 2 {size = 1, name = 2}, unknown_rank = 3}.
std::vector<int64_t> parse_shape(Cursor c, const std::string& name) {
  ProtoReader r(std::move(c));
  std::vector<int64_t> dims;
  uint32_t field, wire;
  while (r.next(field, wire)) {
    if (field == 2) {
      ProtoReader d(r.message(wire, "the shape of tensor " + name));
      int64_t size = 0;
      uint32_t df, dw;
      while (d.next(df, dw)) {
        if (df == 1) size = static_cast<int64_t>(d.varint(dw));
        else d.skip(dw);
      }
      if (size < 0) r.cursor().fail("has an unknown (negative) dimension");
      if (dims.size() >= 64) r.cursor().fail("has more than 64 dimensions");
      dims.push_back(size);
    } else if (field == 3) {
      if (r.varint(wire) != 0) r.cursor().fail("has an unknown rank");
    } else {
      r.skip(wire);
    }
  }
  return dims;
}

torch::ScalarType torch_dtype(int tf_dtype) {
  switch (tf_dtype) {
    case 1: return torch::kFloat;
    case 2: return torch::kDouble;
    case 3: return torch::kInt;
    case 4: return torch::kByte;
    case 5: return torch::kShort;
    case 6: return torch::kChar;
    case 9: return torch::kLong;
    case 10: return torch::kBool;
    case 14: return torch::kBFloat16;
    case 19: return torch::kHalf;
    default: return torch::ScalarType::Undefined;  // DT_STRING (7) and the exotic ones: listed, not loadable
  }
}

std::string tf_dtype_name(int tf_dtype) {
  switch (tf_dtype) {
    case 7: return "DT_STRING";
    case 8: return "DT_COMPLEX64";
    case 18: return "DT_COMPLEX128";
    case 20: return "DT_RESOURCE";
    case 21: return "DT_VARIANT";
    default: return "TensorFlow dtype " + std::to_string(tf_dtype);
  }
}

// ---------------------------------------------------------------- paths

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool is_directory(const std::string& p) {
  std::error_code ec;
  return std::filesystem::is_directory(p, ec);
}

bool is_regular(const std::string& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

std::string join(const std::string& dir, const std::string& name) {
  return (!dir.empty() && dir.back() == '/') ? dir + name : dir + "/" + name;
}

std::string base_name(const std::string& p) {
  const auto slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// The prefix the directory's `checkpoint` file names (model_checkpoint_path: "..."), or "".
std::string named_in_checkpoint_file(const std::string& dir) {
  const std::string file = join(dir, "checkpoint");
  if (!is_regular(file)) return "";
  // Protocol buffer text format, one field a line: model_checkpoint_path: "model.ckpt-1000"
  std::istringstream text(read_text_file(file, 1 << 20));
  std::string line, named;
  const std::string key = "model_checkpoint_path";
  while (named.empty() && std::getline(text, line)) {
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line.compare(start, key.size(), key) != 0) continue;
    const auto open = line.find('"', start + key.size());
    const auto close = open == std::string::npos ? open : line.find('"', open + 1);
    if (close != std::string::npos) named = line.substr(open + 1, close - open - 1);
  }
  if (named.empty()) return "";
  // TensorFlow writes relative paths by default; an absolute one often points at the machine the
  // model was trained on, so its last component is looked for here too.
  if (named.front() == '/' && is_regular(named + ".index")) return named;
  return join(dir, named.front() == '/' ? base_name(named) : named);
}

std::string prefix_in_directory(const std::string& dir) {
  std::vector<std::string> prefixes;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (ends_with(name, ".index") && name.size() > 6 && entry.is_regular_file(ec)) {
      prefixes.push_back(name.substr(0, name.size() - 6));
    }
  }
  if (ec) throw file_error(dir, "cannot list directory: " + ec.message());
  std::sort(prefixes.begin(), prefixes.end());
  if (prefixes.empty()) throw file_error(dir, "no TensorFlow checkpoint (no *.index file) in this directory");
  if (prefixes.size() == 1) return join(dir, prefixes[0]);
  const std::string named = named_in_checkpoint_file(dir);
  if (!named.empty() && is_regular(named + ".index")) return named;
  std::string choices;
  for (const auto& p : prefixes) choices += (choices.empty() ? "" : ", ") + p;
  throw file_error(dir, "holds several TensorFlow checkpoints (" + choices + ") and " +
                            (named.empty() ? std::string("no `checkpoint` file naming one")
                                           : "its `checkpoint` file names \"" + base_name(named) + "\", which is not there") +
                            "; pass the prefix of the one to read");
}

std::string resolve_prefix(const std::string& path) {
  if (path.empty()) throw Error("TensorFlow checkpoint: empty path");
  if (is_directory(path)) return prefix_in_directory(path);
  if (ends_with(path, ".index")) return path.substr(0, path.size() - 6);
  // A data shard, "<prefix>.data-00000-of-00001", names its checkpoint too.
  const std::string shape = ".data-#####-of-#####";
  if (path.size() > shape.size() && is_regular(path)) {
    const size_t base = path.size() - shape.size();
    bool match = true;
    for (size_t i = 0; i < shape.size() && match; ++i) {
      const char c = path[base + i];
      match = shape[i] == '#' ? (c >= '0' && c <= '9') : c == shape[i];
    }
    if (match) return path.substr(0, base);
  }
  return path;
}

std::string shard_path(const std::string& prefix, int64_t shard, int64_t num_shards) {
  char buf[64];
  std::snprintf(buf, sizeof buf, ".data-%05lld-of-%05lld", static_cast<long long>(shard),
                static_cast<long long>(num_shards));
  return prefix + buf;
}

uint64_t file_size_of(const std::string& path, int64_t shard, int64_t num_shards) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      throw file_error(path, "missing data shard " + std::to_string(shard) + " of " + std::to_string(num_shards) +
                                 " (the index refers to it; it must lie next to the .index file)");
    }
    throw file_error(path, std::string("cannot read data shard: ") + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) throw file_error(path, "data shard is not a regular file");
  return static_cast<uint64_t>(st.st_size);
}

// BundleEntryProto: {dtype = 1, shape = 2, shard_id = 3, offset = 4, size = 5, crc32c = 6 (fixed32),
// repeated slices = 7}.
void parse_entry(const std::string& bytes, const std::string& path, TfVariable& var, EntryInfo& e) {
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const std::string what = "the entry of tensor " + var.name;
  ProtoReader r(Cursor(p, p + bytes.size(), path, what));
  uint32_t field, wire;
  int64_t offset = 0, size = 0;
  while (r.next(field, wire)) {
    switch (field) {
      case 1: e.tf_dtype = static_cast<int>(r.int32_field(wire)); break;
      case 2: {
        auto dims = parse_shape(r.message(wire, what + "'s shape"), var.name);
        var.shape.insert(var.shape.end(), dims.begin(), dims.end());  // a repeated message merges
        break;
      }
      case 3: e.shard = r.int32_field(wire); break;
      case 4: offset = static_cast<int64_t>(r.varint(wire)); break;
      case 5: size = static_cast<int64_t>(r.varint(wire)); break;
      case 6: e.masked_crc = r.fixed32(wire); break;
      case 7: e.sliced = true; r.skip(wire); break;
      default: r.skip(wire);
    }
  }
  if (offset < 0 || size < 0) r.cursor().fail("has a negative offset or size");
  e.offset = static_cast<uint64_t>(offset);
  e.size = static_cast<uint64_t>(size);
  var.dtype = torch_dtype(e.tf_dtype);
}

}  // namespace

struct TfCheckpoint::Entry : EntryInfo {};

TfCheckpoint::TfCheckpoint(const std::string& path) : prefix_(resolve_prefix(path)) {
  const std::string index_path = prefix_ + ".index";
  if (!is_regular(index_path) && !is_directory(index_path)) {
    throw file_error(index_path, "no such file (expected the index of the TensorFlow checkpoint \"" + prefix_ + "\")");
  }
  const auto table = read_table(index_path);

  bool have_header = false;
  BundleHeader header;
  for (const auto& [key, value] : table) {
    if (key.empty()) {
      header = parse_header(value, index_path);
      have_header = true;
      continue;
    }
    // Slices of partitioned variables are stored under binary keys that start with a zero byte;
    // the variable itself has its own entry (with `slices` set) and is listed from that.
    if (key.front() == '\0') continue;
    TfVariable var{key, torch::ScalarType::Undefined, {}};
    Entry e;
    parse_entry(value, index_path, var, e);
    variables_.push_back(std::move(var));
    entries_.push_back(e);
  }
  if (!have_header) throw file_error(index_path, "garbled index: it has no bundle header (not a TensorFlow V2 checkpoint?)");
  if (header.endianness != 0) throw file_error(index_path, "big-endian checkpoints are not supported");
  if (header.min_consumer > 1) {
    throw file_error(index_path, "written in a newer tensor bundle version (needs a reader of version " +
                                     std::to_string(header.min_consumer) + ")");
  }
  if (header.num_shards < 1 || header.num_shards > 99999) {
    throw file_error(index_path, "garbled index: the bundle header has " + std::to_string(header.num_shards) + " data shards");
  }
  for (int64_t s = 0; s < header.num_shards; ++s) data_files_.push_back(shard_path(prefix_, s, header.num_shards));

  // Every numeric tensor's byte range is checked now, so that load() finds what the index promised.
  std::map<int64_t, uint64_t> shard_sizes;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    const TfVariable& v = variables_[i];
    if (e.sliced) continue;
    if (e.shard < 0 || e.shard >= header.num_shards) {
      throw file_error(index_path, "garbled index: tensor " + v.name + " names data shard " + std::to_string(e.shard) +
                                       " of " + std::to_string(header.num_shards));
    }
    if (v.dtype != torch::ScalarType::Undefined) {
      uint64_t bytes = c10::elementSize(v.dtype);
      for (int64_t d : v.shape) {
        if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes) || bytes > uint64_t(INT64_MAX)) {
          throw file_error(index_path, "garbled index: the shape of tensor " + v.name + " is too large");
        }
      }
      if (bytes != e.size) {
        throw file_error(index_path, "garbled index: tensor " + v.name + " has " + std::to_string(e.size) +
                                         " bytes, but its shape and dtype need " + std::to_string(bytes));
      }
    }
    auto it = shard_sizes.find(e.shard);
    if (it == shard_sizes.end()) {
      it = shard_sizes.emplace(e.shard, file_size_of(data_files_[e.shard], e.shard, header.num_shards)).first;
    }
    if (e.offset > it->second || e.size > it->second - e.offset) {
      throw file_error(data_files_[e.shard], "truncated: tensor " + v.name + " needs bytes " + std::to_string(e.offset) +
                                                 ".." + std::to_string(e.offset + e.size) + " but the file has " +
                                                 std::to_string(it->second));
    }
  }
}

TfCheckpoint::~TfCheckpoint() = default;

bool TfCheckpoint::contains(const std::string& name) const {
  const auto it = std::lower_bound(variables_.begin(), variables_.end(), name,
                                   [](const TfVariable& v, const std::string& n) { return v.name < n; });
  return it != variables_.end() && it->name == name;
}

torch::Tensor TfCheckpoint::load(const std::string& name) const {
  const auto it = std::lower_bound(variables_.begin(), variables_.end(), name,
                                   [](const TfVariable& v, const std::string& n) { return v.name < n; });
  if (it == variables_.end() || it->name != name) {
    throw file_error(prefix_ + ".index", "no variable named \"" + name + "\" in this checkpoint");
  }
  const TfVariable& v = *it;
  const Entry& e = entries_[static_cast<size_t>(it - variables_.begin())];
  if (e.sliced) {
    throw file_error(prefix_ + ".index", "tensor " + name + " is a sliced (partitioned) variable, which is not supported");
  }
  if (v.dtype == torch::ScalarType::Undefined) {
    throw file_error(prefix_ + ".index", "tensor " + name + " has " + tf_dtype_name(e.tf_dtype) + ", which cannot be loaded");
  }
  const std::string& data_path = data_files_[static_cast<size_t>(e.shard)];
  torch::Tensor t = torch::empty(v.shape, torch::TensorOptions().dtype(v.dtype));
  auto* dst = static_cast<uint8_t*>(t.data_ptr());

  const int fd = ::open(data_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw file_error(data_path, std::string("cannot open data shard: ") + std::strerror(errno));
  uint64_t done = 0;
  while (done < e.size) {
    const ssize_t got = ::pread(fd, dst + done, static_cast<size_t>(e.size - done), static_cast<off_t>(e.offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      const int err = errno;
      ::close(fd);
      throw file_error(data_path, got == 0 ? "truncated: tensor " + name + " ends beyond the end of the file"
                                           : "cannot read tensor " + name + ": " + std::strerror(err));
    }
    done += static_cast<uint64_t>(got);
  }
  ::close(fd);
  if (mask_crc32c(crc32c(dst, e.size)) != e.masked_crc) {
    throw file_error(data_path, "tensor " + name + " fails its checksum (the file is damaged)");
  }
  // Any nonzero byte is true to TensorFlow; a bool tensor holding other values is undefined in torch.
  if (v.dtype == torch::kBool) {
    for (uint64_t i = 0; i < e.size; ++i) dst[i] = dst[i] != 0;
  }
  return t;
}

}  // namespace electra
