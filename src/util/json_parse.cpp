#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "electra/util/error.h"
#include "util/json_reader.h"

namespace electra {
namespace {

// What nlohmann's parser does not refuse: nesting deep enough to overflow the stack of the code
// that walks the result (copies, comparisons, destructors), and an object naming a key twice
// (the parser keeps the last value silently). One pass over the bytes, before parsing.
void check_structure(std::string_view text, const std::string& source) {
  struct Frame {
    bool object;
    std::unordered_set<std::string_view> keys;
  };
  std::vector<Frame> frames;
  bool expect_key = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      const size_t start = ++i;
      while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
      if (i >= text.size()) return;  // unterminated: the parser names it
      if (expect_key && !frames.empty() && frames.back().object) {
        const auto key = text.substr(start, i - start);
        if (!frames.back().keys.insert(key).second) {
          throw file_error(source, "invalid JSON at byte " + std::to_string(start) + ": the key \"" +
                                       std::string(key.substr(0, 80)) + "\" appears twice in one object");
        }
      }
      expect_key = false;
    } else if (c == '{' || c == '[') {
      if (frames.size() >= kMaxJsonDepth) {
        throw file_error(source, "invalid JSON at byte " + std::to_string(i) + ": nested deeper than " +
                                     std::to_string(kMaxJsonDepth) + " levels");
      }
      frames.push_back({c == '{', {}});
      expect_key = c == '{';
    } else if (c == '}' || c == ']') {
      if (!frames.empty()) frames.pop_back();
      expect_key = false;
    } else if (c == ',') {
      expect_key = !frames.empty() && frames.back().object;
    }
  }
}

}  // namespace

nlohmann::json parse_json(std::string_view text, const std::string& source) {
  check_structure(text, source);
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    throw file_error(source, "invalid JSON at byte " + std::to_string(e.byte) + " (" + e.what() + ")");
  } catch (const nlohmann::json::exception& e) {  // a number too large for a double, say
    throw file_error(source, std::string("invalid JSON: ") + e.what());
  }
}

}  // namespace electra
