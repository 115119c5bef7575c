#include "electra/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "electra/util/error.h"
#include "util/files.h"
#include "util/json_reader.h"

namespace electra {
namespace {

using json = nlohmann::json;

// No real header comes near this; a larger value means a corrupt or foreign file.
constexpr uint64_t kMaxHeaderBytes = 100000000;  // the format's own limit (safetensors: MAX_HEADER_SIZE)

size_t element_size(const std::string& dtype) { return c10::elementSize(safetensors_dtype(dtype)); }

}  // namespace

torch::ScalarType safetensors_dtype(const std::string& name) {
  if (name == "F32") return torch::kFloat;
  if (name == "F16") return torch::kHalf;
  if (name == "BF16") return torch::kBFloat16;
  if (name == "F64") return torch::kDouble;
  if (name == "I64") return torch::kLong;
  if (name == "I32") return torch::kInt;
  if (name == "I16") return torch::kShort;
  if (name == "I8") return torch::kChar;
  if (name == "U8") return torch::kByte;
  if (name == "BOOL") return torch::kBool;
  throw Error("unsupported safetensors dtype \"" + name + "\"");
}

std::string safetensors_dtype_name(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat: return "F32";
    case torch::kHalf: return "F16";
    case torch::kBFloat16: return "BF16";
    case torch::kDouble: return "F64";
    case torch::kLong: return "I64";
    case torch::kInt: return "I32";
    case torch::kShort: return "I16";
    case torch::kChar: return "I8";
    case torch::kByte: return "U8";
    case torch::kBool: return "BOOL";
    default: throw Error(std::string("cannot store dtype ") + c10::toString(type) + " in safetensors");
  }
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw file_error(path, errno == ENOENT ? "no such file" : std::string("cannot open: ") + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw file_error(path, "not a regular file");
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8) {
    ::close(fd);
    throw file_error(path, "truncated safetensors file: " + std::to_string(file_size) +
                               " bytes, shorter than the 8-byte header length");
  }
  void* map = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) throw file_error(path, std::string("cannot memory-map: ") + std::strerror(errno));
  map_ = map;
  map_size_ = file_size;

  try {
    const auto* bytes = static_cast<const uint8_t*>(map);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
    if (header_len > kMaxHeaderBytes) {
      throw file_error(path, "header length " + std::to_string(header_len) + " exceeds the format's limit of " +
                                 std::to_string(kMaxHeaderBytes) + " bytes: not a safetensors file");
    }
    if (header_len > file_size - 8) {
      throw file_error(path, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                                 std::to_string(file_size) + " bytes): truncated or not a safetensors file");
    }
    const json header = parse_json(std::string_view(reinterpret_cast<const char*>(bytes) + 8, header_len), path + " (header)");
    if (!header.is_object()) throw file_error(path, "header is not a JSON object");

    const uint64_t data_size = file_size - 8 - header_len;
    data_ = bytes + 8 + header_len;
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") {
        if (!it->is_object()) throw file_error(path, "__metadata__ is not an object");
        for (auto m = it->begin(); m != it->end(); ++m) {
          if (m->is_string()) metadata_[m.key()] = m->get<std::string>();
        }
        continue;
      }
      const std::string where = "tensor \"" + it.key() + "\": ";
      const json& t = *it;
      if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") || !t.contains("data_offsets")) {
        throw file_error(path, where + "entry needs dtype, shape and data_offsets");
      }
      SafetensorsEntry e;
      e.name = it.key();
      try {
        e.dtype = t.at("dtype").get<std::string>();
        e.shape = t.at("shape").get<std::vector<int64_t>>();
        const auto offsets = t.at("data_offsets").get<std::vector<uint64_t>>();
        if (offsets.size() != 2) throw file_error(path, where + "data_offsets must have two numbers");
        e.begin = offsets[0];
        e.end = offsets[1];
      } catch (const json::exception& ex) {
        throw file_error(path, where + "malformed entry: " + ex.what());
      }
      size_t esize = 0;
      try {
        esize = element_size(e.dtype);
      } catch (const Error& ex) {
        throw file_error(path, where + ex.what());
      }
      uint64_t numel = 1, nbytes = 0;
      for (int64_t d : e.shape) {
        if (d < 0) throw file_error(path, where + "negative dimension in shape");
        if (__builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel)) {
          throw file_error(path, where + "shape holds more than 2^64 elements");
        }
      }
      if (__builtin_mul_overflow(numel, static_cast<uint64_t>(esize), &nbytes)) {
        throw file_error(path, where + "shape needs more than 2^64 bytes");
      }
      if (e.begin > e.end || e.end > data_size) {
        throw file_error(path, where + "data offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                                   ") out of range of the " + std::to_string(data_size) +
                                   "-byte data section (file truncated?)");
      }
      if (e.end - e.begin != nbytes) {
        throw file_error(path, where + "holds " + std::to_string(e.end - e.begin) + " bytes but its shape and dtype need " +
                                   std::to_string(nbytes));
      }
      entries_.push_back(std::move(e));
    }
    std::sort(entries_.begin(), entries_.end(),
              [](const SafetensorsEntry& a, const SafetensorsEntry& b) { return a.begin < b.begin || (a.begin == b.begin && a.end < b.end); });
    uint64_t cursor = 0;
    for (const auto& e : entries_) {
      if (e.begin < cursor) throw file_error(path, "tensor \"" + e.name + "\" overlaps the tensor before it");
      if (e.begin > cursor) throw file_error(path, "gap in the data section before tensor \"" + e.name + "\"");
      cursor = e.end;
    }
    if (cursor != data_size) {
      throw file_error(path, "data section has " + std::to_string(data_size - cursor) +
                                 " bytes that belong to no tensor");
    }
    for (size_t i = 0; i < entries_.size(); ++i) index_[entries_[i].name] = i;
  } catch (...) {
    ::munmap(map_, map_size_);
    map_ = nullptr;
    throw;
  }
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, map_size_);
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw file_error(path_, "no tensor named \"" + name + "\"");
  return entries_[it->second];
}

torch::Tensor SafetensorsFile::load(const std::string& name) const {
  const auto& e = entry(name);
  auto out = torch::empty(e.shape, torch::TensorOptions().dtype(safetensors_dtype(e.dtype)));
  if (e.end > e.begin) std::memcpy(out.data_ptr(), data_ + e.begin, e.end - e.begin);  // mapping may be unaligned
  return out;
}

void SafetensorsFile::copy_into(const std::string& name, torch::Tensor& dst) const {
  const auto& e = entry(name);
  if (dst.sizes() != c10::IntArrayRef(e.shape)) {
    throw file_error(path_, "tensor \"" + name + "\" has shape " + c10::str(c10::IntArrayRef(e.shape)) +
                                " but the model expects " + c10::str(dst.sizes()));
  }
  const auto stored = safetensors_dtype(e.dtype);
  if (c10::isFloatingType(stored) != c10::isFloatingType(dst.scalar_type())) {
    throw file_error(path_, "tensor \"" + name + "\" is stored as " + e.dtype + " but the model expects " +
                                c10::toString(dst.scalar_type()));
  }
  torch::NoGradGuard no_grad;
  if (stored == dst.scalar_type() && dst.is_cpu() && dst.is_contiguous()) {
    if (e.end > e.begin) std::memcpy(dst.data_ptr(), data_ + e.begin, e.end - e.begin);
  } else {
    dst.copy_(load(name));
  }
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata, torch::ScalarType dtype) {
  if (dtype != torch::kFloat && dtype != torch::kHalf && dtype != torch::kBFloat16) {
    throw Error("safetensors: floating tensors can be saved as float32, float16 or bfloat16 only");
  }
  json header = json::object();
  json meta = json::object();
  meta["format"] = "pt";
  for (const auto& [k, v] : metadata) meta[k] = v;
  header["__metadata__"] = meta;
  std::vector<torch::ScalarType> types;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (header.contains(name)) throw Error("safetensors: tensor name \"" + name + "\" given twice");
    const auto type = c10::isFloatingType(t.scalar_type()) ? dtype : t.scalar_type();
    types.push_back(type);
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * c10::elementSize(type);
    header[name] = {{"dtype", safetensors_dtype_name(type)},
                    {"shape", t.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data section 8-byte aligned

  AtomicFile file(path);
  auto& out = file.stream();
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>((static_cast<uint64_t>(text.size()) >> (8 * i)) & 0xff);
  out.write(reinterpret_cast<const char*>(len), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (size_t i = 0; i < tensors.size(); ++i) {
    auto t = tensors[i].second.detach().to(torch::kCPU, types[i]).contiguous();
    out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
  }
  file.commit();
}

}  // namespace electra
