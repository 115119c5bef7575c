#include "io/zip_archive.h"

#include <array>
#include <cstdio>
#include <cstring>

#include "electra/util/error.h"
#include "io/binary_fields.h"

namespace electra {

namespace {

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

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

}  // namespace

ZipArchive::ZipArchive(const uint8_t* data, uint64_t size) : d_(data), n_(size) { read_directory(); }

std::string_view ZipArchive::read(const std::string& name) {
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

void ZipArchive::read_directory() {
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

uint64_t ZipArchive::read_entry(uint64_t p, uint64_t end, uint64_t data_limit) {
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

}  // namespace electra
