#pragma once
// Data-parallel communication: one process per device, every rank holds a full replica of the
// model. Rank 0 hosts a TCP rendezvous; the collectives run on Gloo (CPU) or NCCL (CUDA, when
// this library was compiled with USE_C10D_NCCL). A run of one process needs none of it: every
// collective is then a no-op, so a training loop calls them unconditionally.
//
// Every rank must issue the same collectives in the same order with tensors of the same shapes
// and dtypes (the usual data-parallel contract); a Distributed is not meant to be shared by threads.
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace electra {

struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;  // rank on this machine: picks the CUDA device
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // Network interface(s) Gloo binds to, comma-separated (GLOO_SOCKET_IFNAME); empty: the address
  // the host name resolves to, or loopback when MASTER_ADDR is a loopback address.
  std::string socket_interface;
  // Build the process group even for one process (a check of the backend itself, such as
  // electra-gpu-check's one-process NCCL all-reduce); otherwise one process has none.
  bool group_for_one_process = false;
};

// What the launcher says about this process: torchrun's RANK, WORLD_SIZE, LOCAL_RANK; else
// Slurm's SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; else a single process. MASTER_ADDR,
// MASTER_PORT and GLOO_SOCKET_IFNAME come from the environment when set. A malformed or
// inconsistent value throws electra::Error naming the variable.
DistEnv dist_env_from_environment();

class Distributed {
 public:
  // world_size 1: no process group, every collective is a no-op. Otherwise every rank connects to
  // the TCP store that rank 0 hosts at master_addr:master_port and builds the process group:
  // ProcessGroupNCCL on cuda:local_rank when `cuda` and NCCL is compiled in, else ProcessGroupGloo
  // (with `cuda` but no NCCL, Gloo with tensors staged through host memory, and a warning).
  // `timeout` bounds joining: a rank missing at start-up raises electra::Error instead of hanging.
  // `collective_timeout` (at least `timeout`) bounds each later collective, so that a peer that
  // died or stalls is reported too; it is long enough for rank 0 to evaluate and write a
  // checkpoint while the others wait.
  static std::shared_ptr<Distributed> create(const DistEnv& env, std::chrono::milliseconds timeout,
                                             bool cuda = false,
                                             std::chrono::milliseconds collective_timeout = std::chrono::minutes(30));
  // The group of one process: rank 0 of 1, every collective a no-op. Trainers given no group use it.
  static std::shared_ptr<Distributed> single_process();
  ~Distributed();
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  int rank() const;
  int world_size() const;
  int local_rank() const;
  bool is_main() const { return rank() == 0; }

  // Copies `root`'s parameters and buffers into every rank's module, in place (modules must
  // have the same structure on every rank).
  void broadcast(torch::nn::Module& module, int root = 0);

  // Replaces each param's .grad by its mean over the ranks. Gradients are flattened into
  // buckets of about `bucket_bytes` (one dtype per bucket, a larger tensor alone), one
  // all-reduce per bucket. A param without a grad counts as a zero grad, so that every rank
  // issues the same collectives; it receives the mean like the others.
  void average_gradients(const std::vector<torch::Tensor>& params, std::size_t bucket_bytes = 25u << 20);

  // Element-wise sum over the ranks (losses, token counts, metric numerators); every rank
  // passes as many values and gets the same result. In host memory on every backend (beside
  // NCCL through a Gloo group of its own), so that it never waits for a GPU.
  std::vector<double> sum(const std::vector<double>& values);

  // Returns once every rank has reached it.
  void barrier();

 private:
  friend class GradientReducer;
  struct State;
  explicit Distributed(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Gradient averaging overlapped with the backward pass. A hook on each parameter's gradient
// accumulator notes when its gradient is complete; a bucket's all-reduce starts as soon as its
// last member is in, while backward goes on with earlier layers. Buckets follow reverse
// parameter order (the order backward produces gradients) and start strictly in that order, so
// every rank issues the same sequence of collectives. The result equals average_gradients'.
class GradientReducer {
 public:
  GradientReducer(std::shared_ptr<Distributed> distributed, std::vector<torch::Tensor> params,
                  std::size_t bucket_bytes = 25u << 20);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Before each micro-batch's backward pass; only the last one (`sync`) starts all-reduces, the
  // others just accumulate locally.
  void prepare(bool sync);
  // After the last backward pass: starts the buckets still waiting (a parameter without a
  // gradient this step counts as zeros, as in average_gradients), waits for every all-reduce and
  // writes the means into .grad.
  void finish();

  // Of the last step's buckets, how many started during the backward pass (the overlap).
  std::size_t buckets_started_early() const;
  std::size_t bucket_count() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace electra
