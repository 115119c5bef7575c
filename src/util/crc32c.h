#pragma once
// CRC32C (Castagnoli), the checksum of TensorFlow's file formats: checkpoint bundles, LevelDB
// tables, TFRecord framing in TensorBoard event files. No LibTorch here.
#include <cstddef>
#include <cstdint>
#include <string>

namespace electra {

// Continues `crc` (0 to start) over n bytes; uses SSE4.2 when the CPU has it.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n);
inline uint32_t crc32c(const void* data, size_t n) { return crc32c_extend(0, data, n); }
inline uint32_t crc32c(const std::string& bytes) { return crc32c(bytes.data(), bytes.size()); }

// The form TensorFlow stores: rotated and offset, so that the CRC of bytes that themselves
// hold CRCs stays well mixed.
inline uint32_t mask_crc32c(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

}  // namespace electra
