#pragma once
// --nproc-per-node N for one machine: the tool starts N copies of itself with the variables
// torchrun would set (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
// and OMP_NUM_THREADS = cores / N unless already set), waits for them, and stops the others as
// soon as one fails, so a dead rank never leaves the rest hanging.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "tool_main.h"
#include "util/cores.h"
#include "util/device.h"
#include "electra/dist/distributed.h"
#include "util/logger.h"  // the library's private loggers (tools build in its tree)

namespace electra::tools {

// The ranks of this launcher, for its signal handler (which may only read plain memory).
inline pid_t launched_ranks[1024];
inline volatile sig_atomic_t launched_count = 0;
extern "C" inline void forward_to_ranks(int signal) {
  for (sig_atomic_t i = 0; i < launched_count; ++i) kill(launched_ranks[i], signal);
}

// Runs `argv` (minus the launcher's own option, already removed by the caller) as `nproc`
// ranks; returns the first non-zero exit status, or 0. SIGINT and SIGTERM to the launcher reach
// every rank (each finishes its step, writes its checkpoint and stops); if the launcher itself is
// killed, its ranks get SIGTERM from the kernel (PR_SET_PDEATHSIG) instead of training on alone.
inline int launch_local_ranks(int nproc, const std::vector<std::string>& args) {
  const char* port_env = std::getenv("MASTER_PORT");
  const std::string port = port_env ? port_env : std::to_string(29500 + std::random_device{}() % 2000);
  const int threads_per_rank = std::max(1, core_count() / nproc);
  const pid_t launcher = getpid();
  std::signal(SIGINT, forward_to_ranks);
  std::signal(SIGTERM, forward_to_ranks);
  std::vector<pid_t> children;
  for (int rank = 0; rank < nproc; ++rank) {
    const pid_t pid = fork();
    if (pid < 0) {
      std::cerr << "cannot start rank " << rank << "\n";
      for (pid_t c : children) kill(c, SIGTERM);
      return 1;
    }
    if (pid == 0) {
      std::signal(SIGINT, SIG_DFL);
      std::signal(SIGTERM, SIG_DFL);
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != launcher) _exit(143);  // the launcher died before the line above
      setenv("RANK", std::to_string(rank).c_str(), 1);
      setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      setenv("MASTER_ADDR", "127.0.0.1", 0);
      setenv("MASTER_PORT", port.c_str(), 1);
      setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      // N ranks each taking every core would oversubscribe them (as torchrun does, share them out).
      setenv("OMP_NUM_THREADS", std::to_string(threads_per_rank).c_str(), 0);
      std::vector<char*> cargs;
      for (const auto& a : args) cargs.push_back(const_cast<char*>(a.c_str()));
      cargs.push_back(nullptr);
      execv("/proc/self/exe", cargs.data());
      _exit(127);
    }
    children.push_back(pid);
    launched_ranks[launched_count] = pid;
    launched_count = launched_count + 1;
  }
  int result = 0;
  for (size_t left = children.size(); left > 0;) {
    int status = 0;
    const pid_t done = wait(&status);
    if (done < 0) {
      if (errno == EINTR) continue;  // a forwarded signal
      break;
    }
    --left;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0 && result == 0) {
      result = code;
      for (pid_t c : children) {
        if (c != done) kill(c, SIGTERM);
      }
    }
  }
  return result;
}

// Removes "--nproc-per-node N" / "--nproc-per-node=N" from argv; returns N (0 when absent).
// A value that is not a whole number from 1 to 1024 is a command-line error (exit 2).
inline int take_nproc_option(int argc, char** argv, std::vector<std::string>& rest) {
  int n = 0;
  auto parse = [&](const std::string& text) {
    char* end = nullptr;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || value < 1 || value > 1024) {
      std::fprintf(stderr, "%s: --nproc-per-node: expected a whole number from 1 to 1024, got \"%s\"\n",
                   argc > 0 ? argv[0] : "electra", text.c_str());
      std::exit(2);
    }
    return static_cast<int>(value);
  };
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--nproc-per-node") {
      n = parse(i + 1 < argc ? argv[++i] : "");
    } else if (a.rfind("--nproc-per-node=", 0) == 0) {
      n = parse(a.substr(17));
    } else {
      rest.push_back(a);
    }
  }
  return n;
}

// The options every data-parallel tool takes.
struct DistributedOptions {
  double rendezvous_seconds = 120;   // every rank must have joined by then
  double collective_seconds = 1800;  // a collective that takes longer means a rank or the network failed
};
inline void add_distributed_options(CLI::App& app, DistributedOptions* options) {
  static int nproc_unused = 0;  // handled by take_nproc_option before parsing; listed for --help
  app.add_option("--nproc-per-node", nproc_unused, "Start N data-parallel ranks on this machine");
  app.add_option("--rendezvous-timeout", options->rendezvous_seconds,
                 "Seconds to wait for every rank to join (default 120)")
      ->check(positive_number());
  app.add_option("--collective-timeout", options->collective_seconds,
                 "Seconds after which a collective that has not finished (a rank died, the network is cut) ends "
                 "every rank with an error (default 1800: rank 0 may be evaluating or writing a checkpoint)")
      ->check(positive_number());
}

// Joins the data-parallel group the environment describes (torchrun or Slurm variables); a
// single process gets the group of one. Ranks other than 0 stop logging.
// `device_spec` (train.device) decides the backend: NCCL when it resolves to a GPU, else Gloo.
inline std::shared_ptr<Distributed> start_distributed(const std::string& log_tag, const DistributedOptions& options,
                                                      const std::string& device_spec) {
  const auto env = dist_env_from_environment();
  if (env.world_size <= 1) return Distributed::single_process();
  if (env.rank != 0) set_log_enabled(false);
  const bool cuda = resolve_device(device_spec, env.local_rank).is_cuda();
  const auto ms = [](double seconds) { return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)); };
  auto group = Distributed::create(env, ms(options.rendezvous_seconds), cuda, ms(options.collective_seconds));
  logger(log_tag)->info("data parallel: {} ranks, rendezvous {}:{}", env.world_size, env.master_addr, env.master_port);
  return group;
}

}  // namespace electra::tools
