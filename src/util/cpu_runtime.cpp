#include "electra/util/cpu_runtime.h"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>

namespace electra {
namespace {

// OpenBLAS cores without AVX2 kernels: on a CPU that has AVX2 they mean misdetection.
bool pre_avx2_core(const std::string& name) {
  static const std::set<std::string> names = {"Prescott", "Core2",   "Penryn", "Dunnington", "Nehalem",
                                              "Atom",     "Katmai", "Northwood", "Banias",  "Sandybridge"};
  return names.count(name) > 0;
}

std::string openblas_core() {
  using CoreName = char* (*)();
  auto get = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return get ? std::string(get()) : std::string();
}

bool set_if_unset(const char* name, const char* value) {
  if (std::getenv(name)) return false;
  setenv(name, value, 1);
  return true;
}

}  // namespace

void tune_cpu_runtime(char** argv, MatmulBackend backend) {
  const char* off = std::getenv("ELECTRA_NO_CPU_TUNING");
  if (off && std::strcmp(off, "0") != 0) return;
  bool changed = false;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  const std::string core = openblas_core();
  if (!core.empty() && pre_avx2_core(core)) {
    if (__builtin_cpu_supports("avx512f")) {
      changed |= set_if_unset("OPENBLAS_CORETYPE", "SkylakeX");
    } else if (__builtin_cpu_supports("avx2")) {
      changed |= set_if_unset("OPENBLAS_CORETYPE", "Haswell");
    }
  }
#endif
  if (backend == MatmulBackend::openblas_fp32) changed |= set_if_unset("OMP_WAIT_POLICY", "PASSIVE");
  if (!changed) return;
  setenv("ELECTRA_NO_CPU_TUNING", "1", 1);  // once
  execv("/proc/self/exe", argv);
  std::fprintf(stderr, "note: could not re-execute with tuned CPU settings (%s); continuing\n", std::strerror(errno));
}

void keep_freed_memory_in_heap() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace electra
