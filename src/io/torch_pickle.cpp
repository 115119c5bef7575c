#include "io/torch_pickle.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <string_view>
#include <torch/torch.h>
#include <unordered_map>
#include <vector>

#include "electra/util/error.h"
#include "util/files.h"

// torch.save writes a pickle whose tensors point at raw storages kept beside it: since PyTorch 1.6
// in a zip archive (<top>/data.pkl, <top>/data/<key>), before that in one stream (a few pickles,
// then the storages back to back). Python's pickle is a small stack machine that may call any
// function the file names; here it is re-implemented for the opcodes state dicts use, and the only
// "functions" are a fixed list that build dicts and describe tensors. Nothing is executed, every
// length, count and index is checked against the bytes that are there, and every problem becomes
// one electra::Error naming the file. Layout facts follow the public ZIP APPNOTE, the pickle
// protocol description (PEP 307, PEP 3154, PEP 574) and torch.serialization's documented format.

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "torch_pickle.cpp reads little-endian storages straight into tensors: a big-endian host needs byte swapping"
#endif

namespace electra {

namespace {

// Limits far above what any real state dict needs (ELECTRA-large: ~400 tensors, ~6000 pickle
// values, nesting 4); a file past them is damaged or hostile, and they keep memory and recursion
// bounded whatever the file says.
constexpr size_t kMaxValues = 2000000;   // objects one file may create
constexpr size_t kMaxStack = 1000000;    // pickle stack entries
constexpr size_t kMaxMarks = 1000;       // MARKs open at once
constexpr size_t kMaxMemo = 2000000;     // memo entries
constexpr size_t kMaxLineBytes = 1000;   // GLOBAL's module and name lines
constexpr size_t kMaxDims = 64;          // tensor rank
constexpr int kMaxNesting = 32;          // dicts inside dicts in the result
constexpr uint64_t kMaxElements = 1ull << 50;
constexpr unsigned long long kMaxFileBytes = 1ull << 42;  // 4 TiB: only to refuse devices and the like

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Names from the file go into messages: keep them short and free of control bytes.
std::string printable(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < 120; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (out.size() >= 120) out += "...";
  return out;
}

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) { return le16(p) | (static_cast<uint32_t>(le16(p + 2)) << 16); }
uint64_t le64(const uint8_t* p) { return le32(p) | (static_cast<uint64_t>(le32(p + 4)) << 32); }

// ---------------------------------------------------------------- CRC32 (zip's, polynomial 0xEDB88320)
// Eight tables let the loop take 8 bytes per step: a storage of a large model is gigabytes.

using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

const CrcTables& crc_tables() {
  static const CrcTables tables = [] {
    CrcTables t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
      t[0][i] = c;
    }
    for (size_t k = 1; k < 8; ++k) {
      for (uint32_t i = 0; i < 256; ++i) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
    }
    return t;
  }();
  return tables;
}

uint32_t crc32(const uint8_t* p, uint64_t n) {
  const CrcTables& t = crc_tables();
  uint32_t crc = 0xffffffffu;
  for (; n >= 8; p += 8, n -= 8) {
    const uint32_t lo = le32(p) ^ crc, hi = le32(p + 4);
    crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
          t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
  }
  for (; n > 0; ++p, --n) crc = t[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
  return ~crc;
}

// ---------------------------------------------------------------- the file, memory-mapped

class MappedFile {
 public:
  explicit MappedFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      throw Error(std::string("cannot stat: ") + std::strerror(errno));
    }
    size_ = static_cast<uint64_t>(st.st_size);
    if (size_ > 0) {
      void* map = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (map == MAP_FAILED) {
        ::close(fd);
        throw Error(std::string("cannot memory-map: ") + std::strerror(errno));
      }
      data_ = static_cast<const uint8_t*>(map);
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

// ---------------------------------------------------------------- ZIP (stored entries, ZIP64)

struct ZipEntry {
  std::string name;
  uint16_t method = 0, flags = 0;
  uint32_t crc = 0;
  uint64_t offset = 0;  // of the data, after the local header
  uint64_t size = 0, compressed_size = 0;
  bool checked = false;
};

class ZipArchive {
 public:
  ZipArchive(const uint8_t* data, uint64_t size) : d_(data), n_(size) { read_directory(); }

  const std::vector<ZipEntry>& entries() const { return entries_; }
  bool contains(const std::string& name) const { return index_.count(name) > 0; }

  // The entry's bytes, its CRC32 checked the first time.
  std::string_view read(const std::string& name) {
    const auto it = index_.find(name);
    if (it == index_.end()) throw Error("zip entry '" + printable(name) + "' is missing");
    ZipEntry& e = entries_[it->second];
    const std::string where = "zip entry '" + printable(name) + "': ";
    if (e.flags & 1) throw Error(where + "is encrypted");
    if (e.method != 0) {
      throw Error(where + "is compressed (method " + std::to_string(e.method) +
                  "); torch.save stores entries uncompressed: re-save the checkpoint with torch.save");
    }
    if (e.compressed_size != e.size) throw Error(where + "stored sizes disagree (damaged archive)");
    if (!e.checked) {
      const uint32_t crc = crc32(d_ + e.offset, e.size);
      // torch.save may be told not to compute checksums (set_crc32_options(False)); it then
      // records 0, which therefore means "not recorded" rather than a mismatch.
      if (e.crc != 0 && crc != e.crc) {
        throw Error(where + "CRC32 mismatch (stored " + hex32(e.crc) + ", computed " + hex32(crc) +
                    "): the file is damaged");
      }
      e.checked = true;
    }
    return {reinterpret_cast<const char*>(d_ + e.offset), static_cast<size_t>(e.size)};
  }

 private:
  void read_directory() {
    constexpr uint64_t kEocd = 22;
    if (n_ < kEocd) throw Error("too short for a zip archive: truncated");
    // The end-of-central-directory record closes the file, followed only by its comment.
    uint64_t eocd = UINT64_MAX;
    const uint64_t lowest = n_ > kEocd + 0xffff ? n_ - kEocd - 0xffff : 0;
    for (uint64_t p = n_ - kEocd + 1; p-- > lowest;) {
      if (le32(d_ + p) == 0x06054b50u && p + kEocd + le16(d_ + p + 20) == n_) {
        eocd = p;
        break;
      }
    }
    if (eocd == UINT64_MAX) throw Error("zip end-of-central-directory record not found: truncated or damaged");
    uint64_t disk = le16(d_ + eocd + 4), cd_disk = le16(d_ + eocd + 6);
    uint64_t count_here = le16(d_ + eocd + 8), count = le16(d_ + eocd + 10);
    uint64_t cd_size = le32(d_ + eocd + 12), cd_offset = le32(d_ + eocd + 16);
    uint64_t cd_limit = eocd;  // the central directory ends before the records that describe it
    if (eocd >= 20 && le32(d_ + eocd - 20) == 0x07064b50u) {
      // ZIP64 locator, then the ZIP64 end record it points at (archives or entries over 4 GB).
      const uint64_t z64 = le64(d_ + eocd - 20 + 8);
      if (le32(d_ + eocd - 20 + 16) > 1) throw Error("multi-part zip archives are not supported");
      if (z64 > eocd - 20 || eocd - 20 - z64 < 56 || le32(d_ + z64) != 0x06064b50u) {
        throw Error("ZIP64 end-of-central-directory record missing or damaged");
      }
      disk = le32(d_ + z64 + 16);
      cd_disk = le32(d_ + z64 + 20);
      count_here = le64(d_ + z64 + 24);
      count = le64(d_ + z64 + 32);
      cd_size = le64(d_ + z64 + 40);
      cd_offset = le64(d_ + z64 + 48);
      cd_limit = z64;
    } else if (count == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu) {
      throw Error("zip archive needs ZIP64 records that are missing: truncated or damaged");
    }
    if (disk != 0 || cd_disk != 0 || count_here != count) throw Error("multi-part zip archives are not supported");
    if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset) {
      throw Error("zip central directory lies outside the file: truncated or damaged");
    }
    if (count > cd_size / 46) throw Error("zip central directory is too small for its " + std::to_string(count) + " entries");
    entries_.reserve(count);
    uint64_t p = cd_offset;
    const uint64_t end = cd_offset + cd_size;
    for (uint64_t i = 0; i < count; ++i) p = read_entry(p, end, cd_offset);
  }

  // One central-directory entry at p; returns where the next one starts.
  uint64_t read_entry(uint64_t p, uint64_t end, uint64_t data_limit) {
    if (end - p < 46 || le32(d_ + p) != 0x02014b50u) throw Error("zip central directory is damaged");
    ZipEntry e;
    e.flags = le16(d_ + p + 8);
    e.method = le16(d_ + p + 10);
    e.crc = le32(d_ + p + 16);
    e.compressed_size = le32(d_ + p + 20);
    e.size = le32(d_ + p + 24);
    const uint64_t name_len = le16(d_ + p + 28), extra_len = le16(d_ + p + 30), comment_len = le16(d_ + p + 32);
    uint64_t disk = le16(d_ + p + 34);
    uint64_t local = le32(d_ + p + 42);
    if (end - p - 46 < name_len + extra_len + comment_len) throw Error("zip central directory is damaged");
    e.name.assign(reinterpret_cast<const char*>(d_ + p + 46), name_len);
    const std::string where = "zip entry '" + printable(e.name) + "': ";

    // ZIP64 extra field: 8-byte values for exactly those fields that hold 0xffffffff, in order.
    bool wide_size = e.size == 0xffffffffu, wide_csize = e.compressed_size == 0xffffffffu;
    bool wide_local = local == 0xffffffffu, wide_disk = disk == 0xffff;
    const uint8_t* x = d_ + p + 46 + name_len;
    for (uint64_t q = 0; q + 4 <= extra_len;) {
      const uint16_t id = le16(x + q), len = le16(x + q + 2);
      if (q + 4 + len > extra_len) throw Error(where + "extra field is damaged");
      if (id == 0x0001) {
        const uint8_t* f = x + q + 4;
        uint64_t left = len;
        auto take8 = [&](uint64_t& v) {
          if (left < 8) throw Error(where + "ZIP64 extra field is too short");
          v = le64(f);
          f += 8;
          left -= 8;
        };
        if (wide_size) {
          take8(e.size);
          wide_size = false;
        }
        if (wide_csize) {
          take8(e.compressed_size);
          wide_csize = false;
        }
        if (wide_local) {
          take8(local);
          wide_local = false;
        }
        if (wide_disk) {
          if (left < 4) throw Error(where + "ZIP64 extra field is too short");
          disk = le32(f);
          wide_disk = false;
        }
      }
      q += 4 + len;
    }
    if (wide_size || wide_csize || wide_local || wide_disk) throw Error(where + "ZIP64 extra field is missing");
    if (disk != 0) throw Error("multi-part zip archives are not supported");

    // The local header repeats the name; its extra field (torch pads with one for alignment)
    // may differ from the central one, so the data offset comes from here.
    if (local > data_limit || data_limit - local < 30 || le32(d_ + local) != 0x04034b50u) {
      throw Error(where + "local header is missing or damaged");
    }
    const uint64_t local_name = le16(d_ + local + 26), local_extra = le16(d_ + local + 28);
    if (local_name != name_len || data_limit - local - 30 < local_name + local_extra ||
        std::memcmp(d_ + local + 30, e.name.data(), name_len) != 0) {
      throw Error(where + "local header does not match the central directory (damaged archive)");
    }
    e.offset = local + 30 + local_name + local_extra;
    if (e.compressed_size > data_limit - e.offset) throw Error(where + "data run past the central directory (damaged archive)");
    if (!index_.emplace(e.name, entries_.size()).second) throw Error(where + "appears twice in the archive");
    entries_.push_back(std::move(e));
    return p + 46 + name_len + extra_len + comment_len;
  }

  const uint8_t* d_;
  uint64_t n_;
  std::vector<ZipEntry> entries_;
  std::map<std::string, size_t> index_;
};

// ---------------------------------------------------------------- pickle values

enum class Kind : uint8_t { None, Bool, Int, BigInt, Float, Str, Bytes, Tuple, List, Dict, Set, Global, Storage, Tensor };

// For messages: "entry 'x' is an int, not a tensor".
const char* kind_name(Kind k) {
  switch (k) {
    case Kind::None: return "None";
    case Kind::Bool: return "a bool";
    case Kind::Int: case Kind::BigInt: return "an int";
    case Kind::Float: return "a float";
    case Kind::Str: return "a str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "a tuple";
    case Kind::List: return "a list";
    case Kind::Dict: return "a dict";
    case Kind::Set: return "a set";
    case Kind::Global: return "a class or function";
    case Kind::Storage: return "a storage";
    case Kind::Tensor: return "a tensor";
  }
  return "a value";
}

// The globals a state dict may name; everything else is refused when the pickle names it.
enum class Global : uint8_t {
  OrderedDict, RebuildTensor, RebuildTensorV2, RebuildTensorV3, RebuildParameter, RebuildParameterWithState,
  StorageType, DType
};

struct Value;

// What a persistent id says about one storage: `numel` elements of `dtype` in the record `key`;
// the tensors see [view_offset, view_offset + view_numel) of it (a legacy-format storage view).
struct StorageRef {
  std::string key;
  torch::ScalarType dtype = torch::kByte;
  int64_t numel = 0, view_offset = 0, view_numel = 0;
};

// A tensor described, not built: the storages of the legacy format come after the pickle.
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
  std::unordered_map<std::string, size_t> index;   // Dict: key_text(key) -> position in entries
  Global global = Global::OrderedDict;
  torch::ScalarType dtype = torch::kFloat;         // Global StorageType / DType
  std::unique_ptr<StorageRef> storage;
  std::unique_ptr<TensorSpec> tensor;
};

// Owns every value of one file: memo and containers hold plain pointers, so a file whose
// containers contain themselves leaks nothing.
class Arena {
 public:
  Value* make(Kind kind) {
    if (values_.size() >= kMaxValues) throw Error("pickle creates more than " + std::to_string(kMaxValues) + " objects");
    values_.push_back(std::make_unique<Value>());
    values_.back()->kind = kind;
    return values_.back().get();
  }

 private:
  std::vector<std::unique_ptr<Value>> values_;
};

bool as_int(const Value* v, int64_t& out) {
  if (v->kind != Kind::Int && v->kind != Kind::Bool) return false;
  out = v->i;
  return true;
}

std::vector<int64_t> int_tuple(const Value* v, const char* what) {
  if (v->kind != Kind::Tuple) throw Error(std::string(what) + " is " + kind_name(v->kind) + ", expected a tuple of ints");
  if (v->items.size() > kMaxDims) throw Error(std::string(what) + " has more than " + std::to_string(kMaxDims) + " dimensions");
  std::vector<int64_t> out;
  for (const Value* item : v->items) {
    int64_t x = 0;
    if (item->kind != Kind::Int || !as_int(item, x)) throw Error(std::string(what) + " holds " + kind_name(item->kind) + ", expected ints");
    out.push_back(x);
  }
  return out;
}

// Dict keys are compared by this text; state dicts only use str (and the odd int) keys.
std::string key_text(const Value* k) {
  switch (k->kind) {
    case Kind::Str: return "s" + k->s;
    case Kind::Bytes: return "y" + k->s;
    case Kind::Int: case Kind::Bool: return "i" + std::to_string(k->i);
    case Kind::BigInt: return "l" + k->s;
    case Kind::None: return "n";
    default: throw Error(std::string("a dict key is ") + kind_name(k->kind) + ": not a plain state dict");
  }
}

void dict_set(Value* dict, Value* key, Value* value) {
  const auto found = dict->index.emplace(key_text(key), dict->entries.size());
  if (found.second) {
    dict->entries.emplace_back(key, value);
  } else {
    dict->entries[found.first->second].second = value;  // Python keeps the first position
  }
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || s.size() - i < n) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

bool storage_dtype(const std::string& name, torch::ScalarType& out) {
  static const std::map<std::string, torch::ScalarType> types = {
      {"FloatStorage", torch::kFloat},   {"HalfStorage", torch::kHalf},   {"BFloat16Storage", torch::kBFloat16},
      {"DoubleStorage", torch::kDouble}, {"LongStorage", torch::kLong},   {"IntStorage", torch::kInt},
      {"ShortStorage", torch::kShort},   {"CharStorage", torch::kChar},   {"ByteStorage", torch::kByte},
      {"BoolStorage", torch::kBool},     {"UntypedStorage", torch::kByte}};
  const auto it = types.find(name);
  if (it == types.end()) return false;
  out = it->second;
  return true;
}

// torch.<dtype> globals (newer versions pass the dtype to _rebuild_tensor_v3), canonical names only.
bool dtype_global(const std::string& name, torch::ScalarType& out) {
  static const std::map<std::string, torch::ScalarType> types = {
      {"float32", torch::kFloat}, {"float16", torch::kHalf}, {"bfloat16", torch::kBFloat16},
      {"float64", torch::kDouble}, {"int64", torch::kLong}, {"int32", torch::kInt}, {"int16", torch::kShort},
      {"int8", torch::kChar}, {"uint8", torch::kByte}, {"bool", torch::kBool}};
  const auto it = types.find(name);
  if (it == types.end()) return false;
  out = it->second;
  return true;
}

// ---------------------------------------------------------------- the restricted unpickler

class Unpickler {
 public:
  // `declared`: every storage the file's persistent ids name, by key (shared by all pickles of
  // one file, so that two declarations of one key must agree).
  Unpickler(Arena& arena, std::map<std::string, StorageRef>& declared) : arena_(arena), declared_(declared) {}

  // Runs the pickle that starts at data[pos] up to its STOP; pos then points past it.
  Value* load(const uint8_t* data, uint64_t size, uint64_t& pos, const std::string& label) {
    d_ = data;
    n_ = size;
    p_ = pos;
    stack_.clear();
    marks_.clear();
    memo_.clear();
    try {
      Value* result = run();
      pos = p_;
      return result;
    } catch (const Error& e) {
      throw Error(label + ": " + e.what() + " (at byte " + std::to_string(op_at_) + ")");
    }
  }

 private:
  // -- reading the opcode stream
  void need(uint64_t k) {
    if (k > n_ - p_) throw Error("truncated pickle");
  }
  uint64_t uint_le(int bytes) {
    need(bytes);
    uint64_t v = 0;
    for (int k = bytes - 1; k >= 0; --k) v = (v << 8) | d_[p_ + k];
    p_ += bytes;
    return v;
  }
  std::string bytes(uint64_t k) {
    need(k);
    std::string s(reinterpret_cast<const char*>(d_ + p_), k);
    p_ += k;
    return s;
  }
  std::string line() {
    for (uint64_t k = 0; k < kMaxLineBytes && p_ + k < n_; ++k) {
      if (d_[p_ + k] == '\n') {
        std::string s(reinterpret_cast<const char*>(d_ + p_), k);
        p_ += k + 1;
        return s;
      }
    }
    throw Error("GLOBAL name without an end of line");
  }

  // -- the stack; a MARK hides everything below it from pop()
  void push(Value* v) {
    if (stack_.size() >= kMaxStack) throw Error("pickle stack grows past " + std::to_string(kMaxStack) + " entries");
    stack_.push_back(v);
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  Value* top() {
    if (stack_.size() <= floor()) throw Error("pickle stack underflow");
    return stack_.back();
  }
  Value* pop() {
    Value* v = top();
    stack_.pop_back();
    return v;
  }
  std::vector<Value*> pop_mark() {
    if (marks_.empty()) throw Error("pickle has no MARK to pop");
    std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  Value* make(Kind k) { return arena_.make(k); }
  Value* make_int(int64_t i) {
    Value* v = make(Kind::Int);
    v->i = i;
    return v;
  }
  Value* make_str(std::string s, bool unicode) {
    if (unicode && !valid_utf8(s)) throw Error("a string is not valid UTF-8");
    Value* v = make(unicode ? Kind::Str : Kind::Bytes);
    v->s = std::move(s);
    return v;
  }
  Value* make_tuple(std::vector<Value*> items) {
    Value* v = make(Kind::Tuple);
    v->items = std::move(items);
    return v;
  }
  void memo_put(uint64_t index) {
    if (memo_.size() >= kMaxMemo && !memo_.count(index)) throw Error("pickle memo grows past " + std::to_string(kMaxMemo) + " entries");
    memo_[index] = top();
  }
  Value* memo_get(uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) throw Error("pickle refers to memo entry " + std::to_string(index) + " that was never stored");
    return it->second;
  }

  // Python's LONG: little-endian two's complement of any length.
  Value* make_long(std::string raw) {
    if (raw.size() <= 8) {
      uint64_t u = 0;
      for (size_t k = raw.size(); k-- > 0;) u = (u << 8) | static_cast<uint8_t>(raw[k]);
      if (!raw.empty() && raw.size() < 8 && (static_cast<uint8_t>(raw.back()) & 0x80)) u |= ~0ull << (8 * raw.size());
      return make_int(static_cast<int64_t>(u));
    }
    Value* v = make(Kind::BigInt);
    v->s = std::move(raw);
    return v;
  }

  Value* run() {
    while (true) {
      op_at_ = p_;
      need(1);
      const uint8_t op = d_[p_++];
      switch (op) {
        case 0x80: {  // PROTO
          need(1);
          if (d_[p_] > 5) throw Error("pickle protocol " + std::to_string(d_[p_]) + " is newer than 5");
          ++p_;
          break;
        }
        case 0x95: {  // FRAME: a length hint only
          const uint64_t len = uint_le(8);
          if (len > n_ - p_) throw Error("pickle frame runs past the end: truncated");
          break;
        }
        case '.': return pop();  // STOP
        case '(':                 // MARK
          if (marks_.size() >= kMaxMarks) throw Error("pickle nests more than " + std::to_string(kMaxMarks) + " MARKs");
          marks_.push_back(stack_.size());
          break;
        case '}': push(make(Kind::Dict)); break;
        case ']': push(make(Kind::List)); break;
        case ')': push(make(Kind::Tuple)); break;
        case 0x8f: push(make(Kind::Set)); break;  // EMPTY_SET
        case 't': push(make_tuple(pop_mark())); break;
        case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
          std::vector<Value*> items(op - 0x84);
          for (size_t k = items.size(); k-- > 0;) items[k] = pop();
          push(make_tuple(std::move(items)));
          break;
        }
        case 'J': push(make_int(static_cast<int32_t>(uint_le(4)))); break;  // BININT
        case 'K': push(make_int(static_cast<int64_t>(uint_le(1)))); break;  // BININT1
        case 'M': push(make_int(static_cast<int64_t>(uint_le(2)))); break;  // BININT2
        case 0x8a: push(make_long(bytes(uint_le(1)))); break;              // LONG1
        case 0x8b: {                                                        // LONG4
          const int64_t len = static_cast<int32_t>(uint_le(4));
          if (len < 0) throw Error("negative LONG4 length");
          push(make_long(bytes(static_cast<uint64_t>(len))));
          break;
        }
        case 'G': {  // BINFLOAT: big-endian IEEE double
          need(8);
          uint64_t bits = 0;
          for (int k = 0; k < 8; ++k) bits = (bits << 8) | d_[p_ + k];
          p_ += 8;
          Value* v = make(Kind::Float);
          std::memcpy(&v->f, &bits, 8);
          push(v);
          break;
        }
        case 'N': push(make(Kind::None)); break;
        case 0x88: case 0x89: {  // NEWTRUE, NEWFALSE
          Value* v = make(Kind::Bool);
          v->i = op == 0x88;
          push(v);
          break;
        }
        case 'X': push(make_str(bytes(uint_le(4)), true)); break;     // BINUNICODE
        case 0x8c: push(make_str(bytes(uint_le(1)), true)); break;    // SHORT_BINUNICODE
        case 0x8d: push(make_str(bytes(uint_le(8)), true)); break;    // BINUNICODE8
        case 'U': push(make_str(bytes(uint_le(1)), true)); break;     // SHORT_BINSTRING (Python 2 str)
        case 'T': {                                                   // BINSTRING
          const int64_t len = static_cast<int32_t>(uint_le(4));
          if (len < 0) throw Error("negative BINSTRING length");
          push(make_str(bytes(static_cast<uint64_t>(len)), true));
          break;
        }
        case 'C': push(make_str(bytes(uint_le(1)), false)); break;    // SHORT_BINBYTES
        case 'B': push(make_str(bytes(uint_le(4)), false)); break;    // BINBYTES
        case 0x8e: push(make_str(bytes(uint_le(8)), false)); break;   // BINBYTES8
        case 'c': {                                                   // GLOBAL
          std::string module = line();
          std::string name = line();
          push(resolve(module, name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          Value* name = pop();
          Value* module = pop();
          if (module->kind != Kind::Str || name->kind != Kind::Str) throw Error("STACK_GLOBAL needs two strings");
          push(resolve(module->s, name->s));
          break;
        }
        case 'R': {  // REDUCE
          Value* args = pop();
          Value* fn = pop();
          push(call(fn, args));
          break;
        }
        case 0x81: {  // NEWOBJ: cls.__new__(cls, *args), only for OrderedDict
          Value* args = pop();
          Value* cls = pop();
          if (cls->kind != Kind::Global || cls->global != Global::OrderedDict) {
            throw Error("NEWOBJ of " + printable(cls->kind == Kind::Global ? cls->s : kind_name(cls->kind)) + " is not supported");
          }
          push(call(cls, args));
          break;
        }
        case 'b': {  // BUILD: an OrderedDict's attributes (a state dict's _metadata) or a Parameter's
          Value* state = pop();
          Value* obj = top();
          (void)state;
          if (obj->kind != Kind::Dict && obj->kind != Kind::Tensor) {
            throw Error(std::string("BUILD on ") + kind_name(obj->kind) + " is not supported");
          }
          break;
        }
        case 'Q': push(persistent_load(pop())); break;  // BINPERSID
        case 'q': memo_put(uint_le(1)); break;          // BINPUT
        case 'r': memo_put(uint_le(4)); break;          // LONG_BINPUT
        case 0x94: memo_put(memo_.size()); break;       // MEMOIZE
        case 'h': push(memo_get(uint_le(1))); break;    // BINGET
        case 'j': push(memo_get(uint_le(4))); break;    // LONG_BINGET
        case 's': {                                     // SETITEM
          Value* value = pop();
          Value* key = pop();
          Value* dict = top();
          if (dict->kind != Kind::Dict) throw Error(std::string("SETITEM on ") + kind_name(dict->kind));
          dict_set(dict, key, value);
          break;
        }
        case 'u': {  // SETITEMS
          std::vector<Value*> items = pop_mark();
          Value* dict = top();
          if (dict->kind != Kind::Dict) throw Error(std::string("SETITEMS on ") + kind_name(dict->kind));
          if (items.size() % 2) throw Error("SETITEMS with an odd number of items");
          for (size_t k = 0; k < items.size(); k += 2) dict_set(dict, items[k], items[k + 1]);
          break;
        }
        case 'a': {  // APPEND
          Value* value = pop();
          Value* list = top();
          if (list->kind != Kind::List) throw Error(std::string("APPEND on ") + kind_name(list->kind));
          list->items.push_back(value);
          break;
        }
        case 'e': case 0x90: {  // APPENDS, ADDITEMS
          std::vector<Value*> items = pop_mark();
          Value* target = top();
          if (target->kind != (op == 'e' ? Kind::List : Kind::Set)) {
            throw Error(std::string(op == 'e' ? "APPENDS" : "ADDITEMS") + " on " + kind_name(target->kind));
          }
          target->items.insert(target->items.end(), items.begin(), items.end());
          break;
        }
        case 0x91: {  // FROZENSET
          Value* v = make(Kind::Set);
          v->items = pop_mark();
          push(v);
          break;
        }
        case '0':  // POP (a MARK when nothing is above it, as Python does)
          if (stack_.size() > floor()) {
            stack_.pop_back();
          } else {
            pop_mark();
          }
          break;
        case '1': pop_mark(); break;  // POP_MARK
        case '2': push(top()); break;  // DUP
        default: {
          char buf[8];
          std::snprintf(buf, sizeof buf, "0x%02x", op);
          throw Error(std::string("unsupported pickle opcode ") + buf + ": not a state dict written by torch.save");
        }
      }
    }
  }

  Value* resolve(const std::string& module, const std::string& name) {
    Value* v = make(Kind::Global);
    v->s = module + "." + name;
    if (module == "collections" && name == "OrderedDict") {
      v->global = Global::OrderedDict;
    } else if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
      v->global = Global::RebuildTensorV2;
    } else if (module == "torch._utils" && name == "_rebuild_tensor_v3") {
      v->global = Global::RebuildTensorV3;
    } else if (module == "torch._utils" && name == "_rebuild_tensor") {
      v->global = Global::RebuildTensor;
    } else if (module == "torch._utils" && name == "_rebuild_parameter") {
      v->global = Global::RebuildParameter;
    } else if (module == "torch._utils" && name == "_rebuild_parameter_with_state") {
      v->global = Global::RebuildParameterWithState;
    } else if ((module == "torch" || (module == "torch.storage" && name == "UntypedStorage")) &&
               storage_dtype(name, v->dtype)) {
      v->global = Global::StorageType;
    } else if (module == "torch" && dtype_global(name, v->dtype)) {
      v->global = Global::DType;
    } else {
      throw Error("refuses to load " + printable(v->s) + " (only plain state dicts are read; nothing in the file is executed)");
    }
    return v;
  }

  // ('storage', storage_type, key, location, numel[, view_metadata]): view_metadata is the
  // legacy format's (view_key, offset, size) or None.
  Value* persistent_load(const Value* pid) {
    if (pid->kind != Kind::Tuple || (pid->items.size() != 5 && pid->items.size() != 6) ||
        pid->items[0]->kind != Kind::Str || pid->items[0]->s != "storage") {
      throw Error("persistent id is not ('storage', type, key, location, size): not a torch.save file");
    }
    const Value* type = pid->items[1];
    const Value* key = pid->items[2];
    int64_t numel = 0;
    if (type->kind != Kind::Global || type->global != Global::StorageType) throw Error("persistent id names no storage type");
    if (key->kind != Kind::Str || key->s.empty() || key->s.size() > 256) throw Error("persistent id has no usable storage key");
    if (pid->items[3]->kind != Kind::Str) throw Error("persistent id's location is not a string");
    if (!as_int(pid->items[4], numel) || numel < 0 || static_cast<uint64_t>(numel) > kMaxElements) {
      throw Error("storage '" + printable(key->s) + "' has an impossible size");
    }
    auto ref = std::make_unique<StorageRef>();
    ref->key = key->s;
    ref->dtype = type->dtype;
    ref->numel = numel;
    ref->view_numel = numel;
    const auto declared = declared_.emplace(ref->key, *ref);
    if (declared.first->second.dtype != ref->dtype || declared.first->second.numel != ref->numel) {
      throw Error("storage '" + printable(key->s) + "' is declared twice with different types or sizes");
    }
    if (pid->items.size() == 6 && pid->items[5]->kind != Kind::None) {
      const Value* view = pid->items[5];
      int64_t offset = 0, size = 0;
      if (view->kind != Kind::Tuple || view->items.size() != 3 || !as_int(view->items[1], offset) ||
          !as_int(view->items[2], size) || offset < 0 || size < 0 || offset > numel || size > numel - offset) {
        throw Error("storage '" + printable(key->s) + "' has a view outside it");
      }
      ref->view_offset = offset;
      ref->view_numel = size;
    }
    Value* v = make(Kind::Storage);
    v->storage = std::move(ref);
    return v;
  }

  Value* call(const Value* fn, const Value* args) {
    if (fn->kind != Kind::Global) throw Error(std::string("REDUCE calls ") + kind_name(fn->kind));
    if (args->kind != Kind::Tuple) throw Error("REDUCE arguments are not a tuple");
    const std::vector<Value*>& a = args->items;
    const std::string name = printable(fn->s);
    auto arity = [&](size_t lo, size_t hi) {
      if (a.size() < lo || a.size() > hi) throw Error(name + " called with " + std::to_string(a.size()) + " arguments");
    };
    switch (fn->global) {
      case Global::OrderedDict:
        arity(0, 0);
        return make(Kind::Dict);
      case Global::RebuildTensor:  // (storage, offset, size, stride)
        arity(4, 4);
        return rebuild(a[0], a[1], a[2], a[3], nullptr);
      case Global::RebuildTensorV2:  // (storage, offset, size, stride, requires_grad, hooks[, metadata])
        arity(6, 7);
        check_extras(a[5], a.size() == 7 ? a[6] : nullptr);
        return rebuild(a[0], a[1], a[2], a[3], nullptr);
      case Global::RebuildTensorV3:  // (storage, offset, size, stride, requires_grad, hooks, dtype[, metadata])
        arity(7, 8);
        check_extras(a[5], a.size() == 8 ? a[7] : nullptr);
        return rebuild(a[0], a[1], a[2], a[3], a[6]);
      case Global::RebuildParameter:           // (data, requires_grad, hooks)
      case Global::RebuildParameterWithState:  // (data, requires_grad, hooks, state)
        arity(3, fn->global == Global::RebuildParameter ? 3 : 4);
        if (a[0]->kind != Kind::Tensor) throw Error(name + " of " + kind_name(a[0]->kind));
        return a[0];
      case Global::StorageType:
      case Global::DType:
        break;
    }
    throw Error(name + " cannot be called here: not a state dict written by torch.save");
  }

  // Backward hooks are an empty OrderedDict in every saved tensor; metadata marks conjugate or
  // negative views of complex tensors, which state dicts do not hold.
  static void check_extras(const Value* hooks, const Value* metadata) {
    if (hooks->kind != Kind::Dict && hooks->kind != Kind::None) throw Error("tensor backward hooks are not a dict");
    if (metadata && metadata->kind != Kind::None && !(metadata->kind == Kind::Dict && metadata->entries.empty())) {
      throw Error("tensor metadata (conjugate or negative views) is not supported");
    }
  }

  Value* rebuild(const Value* storage, const Value* offset_value, const Value* size, const Value* stride,
                 const Value* dtype) {
    if (storage->kind != Kind::Storage) throw Error(std::string("a tensor's storage is ") + kind_name(storage->kind));
    auto spec = std::make_unique<TensorSpec>();
    spec->storage = storage->storage.get();
    spec->dtype = storage->storage->dtype;
    if (dtype) {
      if (dtype->kind != Kind::Global || dtype->global != Global::DType) throw Error("a tensor's dtype is not a torch dtype");
      spec->dtype = dtype->dtype;
    }
    if (!as_int(offset_value, spec->offset) || spec->offset < 0) throw Error("a tensor's storage offset is not a non-negative int");
    spec->sizes = int_tuple(size, "a tensor's size");
    spec->strides = int_tuple(stride, "a tensor's stride");
    if (spec->sizes.size() != spec->strides.size()) throw Error("a tensor's size and stride differ in length");

    // Every element the view can reach lies inside the storage (in bytes: v3 views untyped ones).
    uint64_t numel = 1, last = static_cast<uint64_t>(spec->offset);
    for (size_t k = 0; k < spec->sizes.size(); ++k) {
      const int64_t n = spec->sizes[k], s = spec->strides[k];
      if (n < 0 || s < 0) throw Error("a tensor has a negative size or stride");
      uint64_t reach = 0;
      if (__builtin_mul_overflow(numel, static_cast<uint64_t>(n), &numel) || numel > kMaxElements ||
          (n > 0 && (__builtin_mul_overflow(static_cast<uint64_t>(n - 1), static_cast<uint64_t>(s), &reach) ||
                     __builtin_add_overflow(last, reach, &last)))) {
        throw Error("a tensor's shape is too large");
      }
    }
    spec->numel = numel;
    const StorageRef& st = *spec->storage;
    const uint64_t storage_bytes = static_cast<uint64_t>(st.view_numel) * c10::elementSize(st.dtype);
    const uint64_t item = c10::elementSize(spec->dtype);
    uint64_t end_bytes = 0;
    if (numel > 0 && (__builtin_add_overflow(last, 1ull, &last) || __builtin_mul_overflow(last, item, &end_bytes) ||
                      end_bytes > storage_bytes)) {
      throw Error("a tensor reaches outside its storage '" + printable(st.key) + "'");
    }
    Value* v = make(Kind::Tensor);
    v->tensor = std::move(spec);
    return v;
  }

  Arena& arena_;
  std::map<std::string, StorageRef>& declared_;
  const uint8_t* d_ = nullptr;
  uint64_t n_ = 0, p_ = 0, op_at_ = 0;
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value*> memo_;
};

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
