#pragma once
// Small helpers shared by the readers of pytorch_model.bin (ZIP archive, pickle, legacy stream):
// little-endian fields, and bytes from the file made safe to quote in a message.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace electra {

inline uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t le32(const uint8_t* p) { return le16(p) | (static_cast<uint32_t>(le16(p + 2)) << 16); }
inline uint64_t le64(const uint8_t* p) { return le32(p) | (static_cast<uint64_t>(le32(p + 4)) << 32); }

// Names from the file go into messages: keep them short and free of control bytes.
inline std::string printable(std::string_view s) {
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

}  // namespace electra
