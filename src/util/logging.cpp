#include "util/logger.h"

#include <dlfcn.h>

#include <ATen/Parallel.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <mutex>

#include "util/cores.h"

namespace electra {
namespace {

std::mutex g_mutex;
spdlog::level::level_enum g_level = spdlog::level::info;

}  // namespace

std::shared_ptr<spdlog::logger> logger(const std::string& tag) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto existing = spdlog::get(tag);
  if (existing) return existing;
  // Progress and logs go to stderr so that stdout stays clean for --json output.
  auto log = spdlog::stderr_color_mt(tag);
  log->set_pattern("%H:%M:%S [%n] %^%v%$");
  log->set_level(g_level);
  return log;
}

void set_log_level(LogLevel level) {
  static constexpr spdlog::level::level_enum levels[] = {spdlog::level::debug, spdlog::level::info, spdlog::level::warn,
                                                         spdlog::level::err, spdlog::level::off};
  std::lock_guard<std::mutex> lock(g_mutex);
  g_level = levels[static_cast<int>(level)];
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->set_level(g_level); });
}

void set_log_enabled(bool enabled) { set_log_level(enabled ? LogLevel::info : LogLevel::off); }

int configure_threads(int requested, MatmulBackend backend) {
  int threads = requested;
  if (threads <= 0) {
    if (const char* env = std::getenv("OMP_NUM_THREADS")) threads = std::atoi(env);
  }
  if (threads <= 0) threads = core_count();
  at::set_num_threads(threads);
  // OpenBLAS starts its own thread pool beside LibTorch's OpenMP threads. Measured on 2 cores,
  // pre-training `small` in fp32 (tokens/s): 652 with OpenBLAS on one thread, 920 on two with
  // OpenMP waiting passively (tune_cpu_runtime). In bf16 the matmuls run in oneDNN and the
  // OpenBLAS pool only competes: 1872 with one thread, 1573 with two.
  if (!std::getenv("OPENBLAS_NUM_THREADS")) {
    using SetThreads = void (*)(int);
    if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
      set(backend == MatmulBackend::openblas_fp32 ? threads : 1);
    }
  }
  keep_freed_memory_in_heap();
  return threads;
}

}  // namespace electra
