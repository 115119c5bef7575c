#pragma once
// Typed access to the members of a parsed JSON document, for the readers of outside files
// (SQuAD files, the prepared-data manifest). Every error names the file and where the member
// sits ("data[3].paragraphs[0].qas[7]: missing \"id\""), so that a user can find it in a large
// file. Header-only and LibTorch-free: both libraries' readers use it.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "electra/util/error.h"

namespace electra {

// Deeper nesting is refused: no file this project reads comes near it.
constexpr std::size_t kMaxJsonDepth = 256;

// Every JSON document from outside goes through this: invalid JSON, nesting deeper than
// kMaxJsonDepth and a key named twice in one object are errors naming `source` and the byte.
nlohmann::json parse_json(std::string_view text, const std::string& source);

class JsonReader {
 public:
  using json = nlohmann::json;
  explicit JsonReader(std::string path) : path_(std::move(path)) {}

  const json& member(const json& object, const std::string& where, const char* key) const {
    if (!object.is_object()) fail(where, "expected a JSON object, got " + brief(object));
    const auto it = object.find(key);
    if (it == object.end()) fail(where, std::string("missing \"") + key + "\"");
    return *it;
  }
  const json& array(const json& object, const std::string& where, const char* key) const {
    return checked(object, where, key, &json::is_array, "a list");
  }
  std::string string(const json& object, const std::string& where, const char* key) const {
    return checked(object, where, key, &json::is_string, "a string").get<std::string>();
  }
  bool boolean(const json& object, const std::string& where, const char* key) const {
    return checked(object, where, key, &json::is_boolean, "true or false").get<bool>();
  }
  std::uint64_t u64(const json& object, const std::string& where, const char* key) const {
    return checked(object, where, key, &json::is_number_unsigned, "a non-negative integer").get<std::uint64_t>();
  }
  std::int32_t i32(const json& object, const std::string& where, const char* key) const {
    const auto value = u64(object, where, key);
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())) {
      fail(where, std::string("\"") + key + "\" is out of range");
    }
    return static_cast<std::int32_t>(value);
  }
  // 16 hexadecimal digits (fingerprints and checksums).
  std::uint64_t hex64(const json& object, const std::string& where, const char* key) const {
    const std::string text = string(object, where, key);
    std::uint64_t value = 0;
    bool ok = text.size() == 16;
    for (char c : text) {
      const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      ok = ok && digit >= 0;
      value = (value << 4) | static_cast<std::uint64_t>(digit < 0 ? 0 : digit);
    }
    if (!ok) fail(where, std::string("\"") + key + "\" must be 16 hexadecimal digits");
    return value;
  }

  [[noreturn]] void fail(const std::string& where, const std::string& problem) const {
    throw file_error(path_, (where.empty() ? "top level" : where) + ": " + problem);
  }

 private:
  const json& checked(const json& object, const std::string& where, const char* key, bool (json::*is)() const noexcept,
                      const char* expected) const {
    const json& v = member(object, where, key);
    if (!(v.*is)()) fail(where, std::string("\"") + key + "\" must be " + expected + ", got " + brief(v));
    return v;
  }
  static std::string brief(const json& v) {
    std::string text = v.dump();
    return text.size() > 60 ? text.substr(0, 57) + "..." : text;
  }
  std::string path_;
};

}  // namespace electra
