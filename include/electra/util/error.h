#pragma once
// The one exception type the library throws. Messages say what went wrong,
// where (file, key, line) and, when it helps, what to do about it.
#include <stdexcept>
#include <string>

namespace electra {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Error whose message starts with the file it concerns: "<path>: <problem>".
inline Error file_error(const std::string& path, const std::string& problem) {
  return Error(path + ": " + problem);
}

}  // namespace electra
