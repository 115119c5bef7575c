#include "train/event_file.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "electra/util/error.h"
#include "util/crc32c.h"
#include "util/files.h"

namespace fs = std::filesystem;

namespace electra {

namespace {

// ---------------------------------------------------------------- protobuf wire format

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
}

uint64_t get_le(const std::string& in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(static_cast<uint8_t>(in[at + i])) << (8 * i);
  return v;
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7fu) | 0x80u));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Field keys: (field number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32).
void put_key(std::string& out, int field, int wire) { put_varint(out, static_cast<uint64_t>(field << 3 | wire)); }

void put_bytes(std::string& out, int field, const std::string& bytes) {
  put_key(out, field, 2);
  put_varint(out, bytes.size());
  out += bytes;
}

void put_double(std::string& out, int field, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  put_key(out, field, 1);
  put_le(out, bits, 8);
}

void put_float(std::string& out, int field, float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  put_key(out, field, 5);
  put_le(out, bits, 4);
}

// Reads a varint at `at`; false when it runs past the end or over 10 bytes.
bool get_varint(const std::string& in, size_t& at, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 70 && at < in.size(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in[at++]);
    v |= uint64_t(byte & 0x7fu) << shift;
    if (!(byte & 0x80u)) return true;
  }
  return false;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

constexpr size_t kHeaderBytes = 12;  // length + its CRC
constexpr size_t kFooterBytes = 4;   // the data's CRC

}  // namespace

// ---------------------------------------------------------------- records and events

std::string frame_tfrecord(const std::string& data) {
  std::string out;
  out.reserve(kHeaderBytes + data.size() + kFooterBytes);
  put_le(out, data.size(), 8);
  put_le(out, mask_crc32c(crc32c(out.data(), 8)), 4);
  out += data;
  put_le(out, mask_crc32c(crc32c(data)), 4);
  return out;
}

std::vector<std::string> parse_tfrecords(const std::string& bytes) {
  std::vector<std::string> records;
  size_t at = 0;
  while (bytes.size() - at >= kHeaderBytes) {
    const uint64_t length = get_le(bytes, at, 8);
    if (get_le(bytes, at + 8, 4) != mask_crc32c(crc32c(bytes.data() + at, 8))) break;
    const size_t rest = bytes.size() - at - kHeaderBytes;
    if (rest < kFooterBytes || length > rest - kFooterBytes) break;  // cut short
    std::string data = bytes.substr(at + kHeaderBytes, length);
    if (get_le(bytes, at + kHeaderBytes + length, 4) != mask_crc32c(crc32c(data))) break;
    records.push_back(std::move(data));
    at += kHeaderBytes + length + kFooterBytes;
  }
  return records;
}

std::string file_version_event(double wall_time) {
  std::string event;
  put_double(event, 1, wall_time);
  put_bytes(event, 3, "brain.Event:2");
  return event;
}

std::string scalars_event(double wall_time, int64_t step, const std::vector<Scalar>& scalars) {
  std::string summary;
  for (const auto& s : scalars) {
    std::string value;
    put_bytes(value, 1, s.tag);
    put_float(value, 2, s.value);
    put_bytes(summary, 1, value);
  }
  std::string event;
  put_double(event, 1, wall_time);
  put_key(event, 2, 0);
  put_varint(event, static_cast<uint64_t>(step));  // int64: negatives as 10-byte two's complement
  put_bytes(event, 5, summary);
  return event;
}

int64_t event_step(const std::string& event) {
  int64_t step = 0;
  size_t at = 0;
  while (at < event.size()) {
    uint64_t key, v;
    if (!get_varint(event, at, key)) return -1;
    switch (key & 7u) {
      case 0:
        if (!get_varint(event, at, v)) return -1;
        if ((key >> 3) == 2) step = static_cast<int64_t>(v);
        break;
      case 1:
        if (event.size() - at < 8) return -1;
        at += 8;
        break;
      case 2:
        if (!get_varint(event, at, v) || v > event.size() - at) return -1;
        at += v;
        break;
      case 5:
        if (event.size() - at < 4) return -1;
        at += 4;
        break;
      default:
        return -1;
    }
  }
  return step;
}

// ---------------------------------------------------------------- files

std::string new_event_file_path(const std::string& folder) {
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) throw file_error(folder, "cannot create the TensorBoard folder: " + ec.message());
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "localhost");
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string name = "events.out.tfevents." + std::to_string(seconds) + "." + host + "." +
                           std::to_string(::getpid()) + ".libelectra";
  return (fs::path(folder) / name).string();
}

EventFileWriter::EventFileWriter(std::string path) : path_(std::move(path)) {
  // Appending: a second writer in the same second and process (the name is the same) continues
  // the file instead of truncating what the first one logged.
  file_ = std::fopen(path_.c_str(), "ab");
  if (!file_) throw file_error(path_, std::string("cannot open the TensorBoard event file for writing: ") + std::strerror(errno));
  if (std::ftell(file_) == 0) {
    try {
      write_event(file_version_event(now_seconds()));
    } catch (...) {
      std::fclose(file_);
      throw;
    }
  }
}

EventFileWriter::~EventFileWriter() {
  if (file_) std::fclose(file_);
}

void EventFileWriter::add_scalars(int64_t step, const std::vector<Scalar>& scalars) {
  write_event(scalars_event(now_seconds(), step, scalars));
}

void EventFileWriter::write_event(const std::string& event) {
  const std::string record = frame_tfrecord(event);
  errno = 0;
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() || std::fflush(file_) != 0) {
    const std::string why = errno ? std::strerror(errno) : "write error";
    std::clearerr(file_);
    throw file_error(path_, "cannot write to the TensorBoard event file: " + why +
                                " (is the disk full?)");
  }
}

size_t drop_events_after(const std::string& path, int64_t step) {
  const std::string bytes = read_text_file(path);
  const auto records = parse_tfrecords(bytes);
  std::string kept;
  size_t kept_count = 0;
  for (const auto& r : records) {
    if (event_step(r) > step) continue;  // not an event (-1): kept, it is not ours to judge
    kept += frame_tfrecord(r);
    ++kept_count;
  }
  if (kept.size() != bytes.size()) write_file_atomic(path, kept);
  return records.size() - kept_count;
}

}  // namespace electra
