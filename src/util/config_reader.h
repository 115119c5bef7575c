#pragma once
// Internal: JSON config sections into typed fields, and "section.key=value" overrides.
// Shared by the pre-training and fine-tuning configs; JSON stays at this edge.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "electra/util/error.h"
#include "util/json_reader.h"

namespace electra {

using json = nlohmann::json;

// Reads one JSON section into typed fields; unknown keys and wrong types are errors
// naming "<source>: key \"section.key\"".
class SectionReader {
 public:
  SectionReader(const json& j, std::string source, std::string section)
      : j_(j), source_(std::move(source)), section_(std::move(section)) {
    if (!j_.is_object()) throw Error(source_ + ": \"" + section_ + "\" must be an object");
  }
  template <typename T>
  void read(const std::string& key, T& field) {
    known_.push_back(key);
    if (!j_.contains(key)) return;
    const json& v = j_.at(key);
    try {
      if constexpr (std::is_same_v<T, bool>) {
        if (!v.is_boolean()) throw Error("expected true or false");
      } else if constexpr (std::is_integral_v<T>) {
        if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())) {
          throw Error("expected an integer");
        }
        if constexpr (std::is_unsigned_v<T>) {
          if (v.get<double>() < 0) throw Error("expected a non-negative integer");
        }
        if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
          throw Error("integer out of range");
        }
        if (v.is_number_integer()) {
          const auto wide = v.get<std::int64_t>();
          if (wide < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
              (wide > 0 && static_cast<std::uint64_t>(wide) > static_cast<std::uint64_t>(std::numeric_limits<T>::max()))) {
            throw Error("integer out of range");
          }
          field = static_cast<T>(wide);
          return;
        }
        // A whole float: checked against T's range before the conversion (out of range is UB).
        const double d = v.get<double>();
        if (!(d >= static_cast<double>(std::numeric_limits<T>::min()) &&
              d < 2.0 * static_cast<double>(std::numeric_limits<T>::max() / 2 + 1))) {
          throw Error("integer out of range");
        }
        field = static_cast<T>(d);
        return;
      } else if constexpr (std::is_floating_point_v<T>) {
        if (!v.is_number()) throw Error("expected a number");
      } else {
        if (!v.is_string()) throw Error("expected a string");
      }
      field = v.get<T>();
    } catch (const Error& e) {
      throw fail(key, std::string(e.what()) + ", got " + v.dump());
    }
  }
  // A string field turned into an enum by `parse`.
  template <typename E>
  void read_enum(const std::string& key, E& field, const std::function<E(const std::string&)>& parse) {
    std::string text;
    read(key, text);
    if (!j_.contains(key)) return;
    try {
      field = parse(text);
    } catch (const Error& e) {
      throw fail(key, e.what());
    }
  }
  void read_list(const std::string& key, std::vector<std::string>& field) {
    known_.push_back(key);
    if (!j_.contains(key)) return;
    const json& v = j_.at(key);
    if (!v.is_array()) throw fail(key, "expected a list of strings, got " + v.dump());
    field.clear();
    for (const auto& item : v) {
      if (!item.is_string()) throw fail(key, "expected a list of strings, got " + v.dump());
      field.push_back(item.get<std::string>());
    }
  }
  Error fail(const std::string& key, const std::string& problem) const {
    return Error(source_ + ": key \"" + section_ + "." + key + "\": " + problem);
  }
  void reject_unknown() const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (std::find(known_.begin(), known_.end(), it.key()) == known_.end()) {
        throw Error(source_ + ": unknown key \"" + section_ + "." + it.key() + "\"");
      }
    }
  }

 private:
  const json& j_;
  std::string source_, section_;
  std::vector<std::string> known_;
};

// A config section declares its keys once, in a function template that calls v(key, field) for
// each field (v(key, field, parse) for an enum stored as its name); the same list then reads the
// section (every other key is an error), writes it, and checks --set overrides.
//
//   template <typename V, typename S> void optimizer_fields(V& v, S& o) { v("eps", o.eps); ... }

// Reads the visited fields from a JSON section.
class FieldReader {
 public:
  explicit FieldReader(SectionReader& r) : r_(r) {}
  template <typename T>
  void operator()(const char* key, T& field) { r_.read(key, field); }
  void operator()(const char* key, std::vector<std::string>& field) { r_.read_list(key, field); }
  template <typename E>
  void operator()(const char* key, E& field, E (*parse)(const std::string&)) { r_.read_enum<E>(key, field, parse); }

 private:
  SectionReader& r_;
};

// Writes the visited fields into a JSON object (enums by name: to_string, found by ADL).
class FieldWriter {
 public:
  explicit FieldWriter(json& out) : out_(out) {}
  template <typename T>
  void operator()(const char* key, const T& field) { out_[key] = field; }
  template <typename E>
  void operator()(const char* key, const E& field, E (*)(const std::string&)) { out_[key] = to_string(field); }

 private:
  json& out_;
};

// root[name] (absent: empty) read into `section` through `fields`; unknown keys are errors.
template <typename Section, typename Fields>
void read_section(const json& root, const std::string& source, const char* name, Section& section, Fields fields) {
  static const json empty = json::object();
  SectionReader r(root.contains(name) ? root.at(name) : empty, source, name);
  FieldReader v(r);
  fields(v, section);
  r.reject_unknown();
}

template <typename Section, typename Fields>
json write_section(const Section& section, Fields fields) {
  json out = json::object();
  FieldWriter v(out);
  fields(v, section);
  return out;
}

// Applies "a.b.c=value" to `root` (value parsed as JSON, else taken as a string).
inline void apply_override(json& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw Error("override \"" + assignment + "\": expected section.key=value");
  }
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  json value;
  try {
    value = json::parse(text);
  } catch (const json::parse_error&) {
    value = text;  // a bare word is a string
  }
  json* node = &root;
  size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw Error("override \"" + assignment + "\": empty key");
    if (dot == std::string::npos) {
      (*node)[part] = value;
      return;
    }
    if (!node->contains(part)) (*node)[part] = json::object();
    node = &(*node)[part];
    if (!node->is_object()) throw Error("override \"" + assignment + "\": \"" + part + "\" is not a section");
    start = dot + 1;
  }
}

// `text` as a JSON object; errors (invalid JSON, another top-level type) name `source`.
inline json parse_json_object(const std::string& text, const std::string& source) {
  json j = parse_json(text, source);
  if (!j.is_object()) throw Error(source + ": expected a JSON object at the top level");
  return j;
}

// The top level of a config file: parsed, overrides applied, only `sections` (and "comment")
// allowed. Errors name `source`.
inline json parse_config_root(const std::string& text, const std::string& source,
                              const std::vector<std::string>& overrides, const std::vector<std::string>& sections) {
  json root = parse_json_object(text, source);
  for (const auto& o : overrides) apply_override(root, o);
  for (auto it = root.begin(); it != root.end(); ++it) {
    if (it.key() == "comment" || std::find(sections.begin(), sections.end(), it.key()) != sections.end()) continue;
    std::string expected;
    for (const auto& name : sections) expected += (expected.empty() ? "" : ", ") + name;
    throw Error(source + ": unknown section \"" + it.key() + "\" (expected " + expected + ")");
  }
  return root;
}

// The AdamW keys both configs' optimizer sections share.
template <typename Optimizer>
void validate_adamw(const Optimizer& o) {
  if (!(o.learning_rate > 0)) throw Error("config key \"optimizer.learning_rate\" must be positive");
  if (!(o.eps > 0)) throw Error("config key \"optimizer.eps\" must be positive");
  if (o.weight_decay < 0) throw Error("config key \"optimizer.weight_decay\" must not be negative");
  if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1)) {
    throw Error("config keys \"optimizer.beta1\" and \"optimizer.beta2\" must be in [0, 1)");
  }
}

// Runs validate() and prefixes its error with the config's source.
template <typename Config>
void validate_config(const Config& config, const std::string& source) {
  try {
    config.validate();
  } catch (const Error& e) {
    throw Error(source + ": " + e.what());
  }
}

}  // namespace electra
