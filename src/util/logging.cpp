#include "electra/util/logging.h"

#include <dlfcn.h>

#include <ATen/Parallel.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <mutex>
#include <thread>

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

void set_log_level(spdlog::level::level_enum level) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_level = level;
  spdlog::apply_all([level](const std::shared_ptr<spdlog::logger>& l) { l->set_level(level); });
}

void set_log_enabled(bool enabled) { set_log_level(enabled ? spdlog::level::info : spdlog::level::off); }

int configure_threads(int requested) {
  int threads = requested;
  if (threads <= 0) {
    if (const char* env = std::getenv("OMP_NUM_THREADS")) threads = std::atoi(env);
  }
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  // OpenBLAS (Debian LibTorch's fp32 BLAS) starts its own thread pool on top of LibTorch's
  // OpenMP threads; the two oversubscribe the cores. Measured on 2 cores, fine-tuning a tiny
  // model in fp32: 15 examples/s with both pools, 31 with OpenBLAS on one thread. Respect an
  // explicit OPENBLAS_NUM_THREADS.
  if (!std::getenv("OPENBLAS_NUM_THREADS")) {
    using SetThreads = void (*)(int);
    if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
  }
  return threads;
}

}  // namespace electra
