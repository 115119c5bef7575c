#pragma once
// The one place where tools turn exceptions into an error line and an exit code.
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "electra/util/error.h"

// Tools that link LibTorch define ELECTRA_TOOL_WITH_TORCH (see their CMakeLists.txt) and get
// LibTorch's errors reported too; the others (electra-vocab) build without LibTorch.
#if defined(ELECTRA_TOOL_WITH_TORCH) && defined(__has_include)
#if __has_include(<c10/util/Exception.h>)
#include <c10/util/Exception.h>
#define ELECTRA_TOOL_CATCH_C10 1
#endif
#endif

namespace electra::tools {

// Set by SIGINT/SIGTERM once install_stop_handlers() ran: long runs finish their step and stop.
inline std::atomic<bool> stop_requested{false};
extern "C" inline void request_stop(int) { stop_requested.store(true); }
inline void install_stop_handlers() {
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
}

// "key=<value as a JSON string>": a --set override that keeps a path with quotes, backslashes or
// a leading digit a string.
inline std::string string_override(const std::string& key, const std::string& value) {
  return key + "=" + nlohmann::json(value).dump();
}

// Parses the command line; --help prints and exits 0, a bad command line prints its error and
// exits 2 (CLI11's own exit codes would be 100 and up).
#define ELECTRA_PARSE(app, argc, argv)            \
  do {                                            \
    try {                                         \
      (app).parse((argc), (argv));                \
    } catch (const CLI::ParseError& e) {          \
      return (app).exit(e) == 0 ? 0 : 2;          \
    }                                             \
  } while (false)

// Option checks with messages a user reads: "--steps: must be a positive number, got 0".
inline CLI::Validator number_check(bool zero_ok) {
  return CLI::Validator(
      [=](std::string& value) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        const bool ok = !value.empty() && *end == '\0' && (zero_ok ? v >= 0 : v > 0);
        return ok ? "" : std::string(zero_ok ? "must be zero or more" : "must be a positive number") + ", got " + value;
      },
      zero_ok ? ">= 0" : "> 0");
}
inline CLI::Validator positive_number() { return number_check(false); }
inline CLI::Validator non_negative_number() { return number_check(true); }

// Exit codes: 0 success, 1 error in the input or the run, 2 bad command line.
template <typename Fn>
int guarded_main(const std::string& tool, Fn&& body) {
  try {
    return body();
  } catch (const CLI::ParseError&) {
    throw;  // handled by the caller through app.exit()
  } catch (const electra::Error& e) {
    std::cerr << tool << ": error: " << e.what() << "\n";
#ifdef ELECTRA_TOOL_CATCH_C10
  } catch (const c10::Error& e) {
    std::cerr << tool << ": error: " << e.what_without_backtrace() << "\n";
#endif
  } catch (const std::exception& e) {
    std::cerr << tool << ": error: " << e.what() << "\n";
  }
  return 1;
}

}  // namespace electra::tools
