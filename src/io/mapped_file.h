#pragma once
// A whole file mapped read-only into memory: a checkpoint's storages are read in place,
// never copied into a buffer first.
#include <cstdint>
#include <string>

namespace electra {

class MappedFile {
 public:
  // Throws electra::Error (without the path: the caller adds it) when the file cannot be opened,
  // stat'ed or mapped. An empty file maps to data() == nullptr, size() == 0.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace electra
