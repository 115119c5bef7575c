#pragma once
// The one place where tools turn exceptions into an error line and an exit code.
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <exception>
#include <iostream>
#include <string>

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
