#pragma once
// The ZIP archives torch.save writes (PyTorch 1.6 and later): stored (uncompressed) entries,
// ZIP64 records for archives or entries over 4 GB, read in place from memory. Layout facts follow
// the public ZIP APPNOTE; every offset and length is checked against the bytes that are there.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace electra {

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
  // Reads the central directory of the `size` bytes at `data`, which must outlive this.
  // Throws electra::Error (without the path: the caller adds it) for a damaged archive.
  ZipArchive(const uint8_t* data, uint64_t size);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  bool contains(const std::string& name) const { return index_.count(name) > 0; }

  // The entry's bytes, its CRC32 checked the first time. Throws electra::Error for a missing,
  // encrypted, compressed or damaged entry.
  std::string_view read(const std::string& name);

 private:
  void read_directory();
  // One central-directory entry at p; returns where the next one starts.
  uint64_t read_entry(uint64_t p, uint64_t end, uint64_t data_limit);

  const uint8_t* d_;
  uint64_t n_;
  std::vector<ZipEntry> entries_;
  std::map<std::string, size_t> index_;
};

}  // namespace electra
