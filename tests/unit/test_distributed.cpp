// Data-parallel communication: launcher environment parsing, and two ranks of one process
// (two threads) talking over loopback through the real TCPStore + Gloo path.
#include <gtest/gtest.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "electra/dist/distributed.h"
#include "electra/util/error.h"

using namespace electra;
using namespace std::chrono_literals;

namespace {

// Clears every variable dist_env_from_environment reads and restores them afterwards.
class ScopedEnv {
 public:
  ScopedEnv() {
    for (const char* name : kNames) {
      const char* value = std::getenv(name);
      saved_[name] = value ? std::optional<std::string>(value) : std::nullopt;
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }
  void set(const char* name, const char* value) { ::setenv(name, value, 1); }

 private:
  static constexpr const char* kNames[] = {"RANK",         "WORLD_SIZE",   "LOCAL_RANK",    "MASTER_ADDR",       "MASTER_PORT",
                                           "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "GLOO_SOCKET_IFNAME"};
  std::map<std::string, std::optional<std::string>> saved_;
};

// A port nothing listens on right now: bind port 0 on loopback and let it go.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

DistEnv loopback_env(int rank, int world_size, int port) {
  DistEnv env;
  env.rank = rank;
  env.world_size = world_size;
  env.local_rank = rank;
  env.master_addr = "127.0.0.1";
  env.master_port = port;
  return env;
}

// Runs body(rank) on one thread per rank; an exception escaping a rank fails the test.
void run_ranks(int world_size, const std::function<void(int)>& body) {
  std::vector<std::thread> threads;
  for (int rank = 0; rank < world_size; ++rank) {
    threads.emplace_back([rank, &body] {
      try {
        body(rank);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "rank " << rank << " threw: " << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
}

// The message of the electra::Error that fn throws ("" and a failure when it throws none).
std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected electra::Error, got another exception: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected electra::Error, nothing was thrown";
  return "";
}

// Linear + BatchNorm (float parameters, float and int64 buffers) with values that depend on rank.
torch::nn::Sequential make_model(int rank) {
  torch::nn::Sequential model(torch::nn::Linear(3, 4), torch::nn::BatchNorm1d(4));
  torch::NoGradGuard no_grad;
  int k = 0;  // every tensor gets different values, so a misplaced slice shows
  for (auto& p : model->parameters()) {
    p.copy_(torch::arange(p.numel(), torch::kFloat).view(p.sizes()) * (rank + 1) + 100 * rank + 1000 * k++);
  }
  for (auto& b : model->buffers()) b.fill_(7 * rank + 1 + k++);
  return model;
}

torch::Tensor param_with_grad(torch::Tensor value, std::optional<torch::Tensor> grad) {
  auto p = torch::zeros_like(value).requires_grad_(true);
  if (grad) p.mutable_grad() = *grad;
  return p;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Environment

TEST(DistEnv, NoLauncherMeansOneProcess) {
  ScopedEnv env;
  const DistEnv d = dist_env_from_environment();
  EXPECT_EQ(d.rank, 0);
  EXPECT_EQ(d.world_size, 1);
  EXPECT_EQ(d.local_rank, 0);
  EXPECT_EQ(d.master_addr, "127.0.0.1");
  EXPECT_EQ(d.master_port, 29500);
  EXPECT_EQ(d.socket_interface, "");
}

TEST(DistEnv, ReadsTorchrunVariables) {
  ScopedEnv env;
  env.set("RANK", "5");
  env.set("WORLD_SIZE", "8");
  env.set("LOCAL_RANK", "1");
  env.set("MASTER_ADDR", "10.1.2.3");
  env.set("MASTER_PORT", "23456");
  env.set("GLOO_SOCKET_IFNAME", "eth0");
  env.set("SLURM_PROCID", "2");  // torchrun's variables win over Slurm's
  env.set("SLURM_NTASKS", "4");
  const DistEnv d = dist_env_from_environment();
  EXPECT_EQ(d.rank, 5);
  EXPECT_EQ(d.world_size, 8);
  EXPECT_EQ(d.local_rank, 1);
  EXPECT_EQ(d.master_addr, "10.1.2.3");
  EXPECT_EQ(d.master_port, 23456);
  EXPECT_EQ(d.socket_interface, "eth0");
}

TEST(DistEnv, ReadsSlurmVariables) {
  ScopedEnv env;
  env.set("SLURM_PROCID", "3");
  env.set("SLURM_NTASKS", "4");
  env.set("SLURM_LOCALID", "1");
  DistEnv d = dist_env_from_environment();
  EXPECT_EQ(d.rank, 3);
  EXPECT_EQ(d.world_size, 4);
  EXPECT_EQ(d.local_rank, 1);
  EXPECT_EQ(d.master_addr, "127.0.0.1");
  EXPECT_EQ(d.master_port, 29500);

  env.set("MASTER_ADDR", "node017");
  env.set("MASTER_PORT", "4242");
  d = dist_env_from_environment();
  EXPECT_EQ(d.master_addr, "node017");
  EXPECT_EQ(d.master_port, 4242);
}

TEST(DistEnv, MalformedValuesNameTheVariable) {
  struct Case {
    std::vector<std::pair<const char*, const char*>> vars;
    std::string expected;  // in the message
  };
  const std::vector<Case> cases = {
      {{{"RANK", "one"}, {"WORLD_SIZE", "2"}}, "RANK=\"one\""},
      {{{"RANK", "2"}, {"WORLD_SIZE", "2"}}, "RANK=\"2\""},
      {{{"RANK", "-1"}, {"WORLD_SIZE", "2"}}, "RANK=\"-1\""},
      {{{"RANK", "0"}, {"WORLD_SIZE", "0"}}, "WORLD_SIZE=\"0\""},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2x"}}, "WORLD_SIZE=\"2x\""},
      {{{"RANK", "0"}, {"WORLD_SIZE", "99999999999999999999"}}, "WORLD_SIZE="},
      {{{"RANK", "0"}}, "WORLD_SIZE is not"},
      {{{"WORLD_SIZE", "2"}}, "RANK is not"},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "-3"}}, "LOCAL_RANK=\"-3\""},
      {{{"SLURM_PROCID", "0"}}, "SLURM_NTASKS is not"},
      {{{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "two"}}, "SLURM_NTASKS=\"two\""},
      {{{"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "4"}}, "SLURM_PROCID=\"4\""},
      {{{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "x"}}, "SLURM_LOCALID=\"x\""},
      {{{"MASTER_PORT", "70000"}}, "MASTER_PORT=\"70000\""},
      {{{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "29500 "}}, "MASTER_PORT=\"29500 \""},
  };
  for (const auto& c : cases) {
    ScopedEnv env;
    for (const auto& [name, value] : c.vars) env.set(name, value);
    const std::string message = error_of([] { dist_env_from_environment(); });
    EXPECT_NE(message.find(c.expected), std::string::npos) << "expected \"" << c.expected << "\" in: " << message;
  }
}

// ---------------------------------------------------------------------------------------------
// One process: nothing to talk to, every collective is a no-op

TEST(Distributed, SingleProcessCollectivesAreNoOps) {
  for (auto dist : {Distributed::create(DistEnv{}, 1s), Distributed::single_process()}) {
    EXPECT_EQ(dist->rank(), 0);
    EXPECT_EQ(dist->world_size(), 1);
    EXPECT_TRUE(dist->is_main());

    auto model = make_model(3);
    auto before = make_model(3);
    dist->broadcast(*model);
    for (std::size_t i = 0; i < model->parameters().size(); ++i) {
      EXPECT_TRUE(torch::equal(model->parameters()[i], before->parameters()[i]));
    }
    auto p = param_with_grad(torch::zeros({3}), torch::full({3}, 5.0f));
    auto q = param_with_grad(torch::zeros({2}), std::nullopt);
    dist->average_gradients({p, q});
    EXPECT_TRUE(torch::equal(p.grad(), torch::full({3}, 5.0f)));
    EXPECT_FALSE(q.grad().defined());
    EXPECT_EQ(dist->sum({1.5, -2.0}), (std::vector<double>{1.5, -2.0}));
    dist->barrier();
    EXPECT_NE(error_of([&] { dist->broadcast(*model, 1); }).find("root 1"), std::string::npos);
  }
}

// What electra-gpu-check does with NCCL on a GPU, here with Gloo: a real group of one process.
TEST(Distributed, OneProcessGroupWhenAsked) {
  DistEnv env = loopback_env(0, 1, free_port());
  env.group_for_one_process = true;
  auto dist = Distributed::create(env, 10s);
  EXPECT_EQ(dist->sum({1.5, -2.0, 1e6}), (std::vector<double>{1.5, -2.0, 1e6}));
  auto p = param_with_grad(torch::zeros({3}), torch::full({3}, 5.0f));
  dist->average_gradients({p});
  EXPECT_TRUE(torch::equal(p.grad(), torch::full({3}, 5.0f)));
  dist->barrier();
}

TEST(Distributed, RejectsAnInconsistentEnv) {
  EXPECT_NE(error_of([] { Distributed::create(loopback_env(2, 2, 29500), 1s); }).find("rank 2"), std::string::npos);
  EXPECT_NE(error_of([] { Distributed::create(loopback_env(0, 0, 29500), 1s); }).find("world_size"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Two ranks over loopback

TEST(Distributed, TwoRanksBroadcastAverageSumAndBarrier) {
  const int port = free_port();
  std::atomic<bool> rank1_reached_barrier{false};
  run_ranks(2, [&](int rank) {
    auto dist = Distributed::create(loopback_env(rank, 2, port), 20s);
    EXPECT_EQ(dist->rank(), rank);
    EXPECT_EQ(dist->world_size(), 2);
    EXPECT_EQ(dist->local_rank(), rank);
    EXPECT_EQ(dist->is_main(), rank == 0);

    // Broadcast from rank 0: parameters and buffers (float and int64) become rank 0's.
    auto model = make_model(rank);
    dist->broadcast(*model);
    auto reference = make_model(0);
    const auto got = model->named_parameters();
    for (const auto& p : reference->named_parameters()) {
      EXPECT_TRUE(torch::equal(got[p.key()], p.value())) << "rank " << rank << " parameter " << p.key();
    }
    const auto got_buffers = model->named_buffers();
    for (const auto& b : reference->named_buffers()) {
      EXPECT_TRUE(torch::equal(got_buffers[b.key()], b.value())) << "rank " << rank << " buffer " << b.key();
    }
    // ... and from rank 1.
    torch::nn::Linear small(2, 2);
    {
      torch::NoGradGuard no_grad;
      for (auto& p : small->parameters()) p.fill_(rank + 1);
    }
    dist->broadcast(*small, 1);
    for (const auto& p : small->parameters()) EXPECT_TRUE(torch::equal(p, torch::full_like(p, 2.0f))) << "rank " << rank;

    // Gradient mean with 40-byte buckets: [w] (48 bytes, alone), [b, e] (16 + 8), [d] (double).
    // Rank 1 has no grad for d: it counts as zero and receives the mean.
    const float r = static_cast<float>(rank);
    auto w = param_with_grad(torch::zeros({4, 3}), torch::arange(12, torch::kFloat).view({4, 3}) * (r + 1));
    auto b = param_with_grad(torch::zeros({4}), torch::full({4}, 10 * r));
    auto e = param_with_grad(torch::zeros({2}), torch::full({2}, rank == 0 ? 1.0f : 3.0f));
    auto d = param_with_grad(torch::zeros({5}, torch::kFloat64),
                             rank == 0 ? std::optional<torch::Tensor>(torch::full({5}, 4.0, torch::kFloat64)) : std::nullopt);
    dist->average_gradients({w, b, e, d}, 40);
    EXPECT_TRUE(torch::allclose(w.grad(), torch::arange(12, torch::kFloat).view({4, 3}) * 1.5f)) << w.grad();
    EXPECT_TRUE(torch::allclose(b.grad(), torch::full({4}, 5.0f))) << b.grad();
    EXPECT_TRUE(torch::allclose(e.grad(), torch::full({2}, 2.0f))) << e.grad();
    ASSERT_TRUE(d.grad().defined()) << "rank " << rank;
    EXPECT_EQ(d.grad().scalar_type(), torch::kFloat64);
    EXPECT_TRUE(torch::allclose(d.grad(), torch::full({5}, 2.0, torch::kFloat64))) << d.grad();

    EXPECT_EQ(dist->sum({rank + 1.0, 0.5 * rank, -1.0}), (std::vector<double>{3.0, 0.5, -2.0}));
    EXPECT_TRUE(dist->sum({}).empty());

    // Rank 0 may only leave the barrier after rank 1 got there (which it does late).
    if (rank == 1) {
      std::this_thread::sleep_for(300ms);
      rank1_reached_barrier = true;
    }
    dist->barrier();
    if (rank == 0) {
      EXPECT_TRUE(rank1_reached_barrier.load());
    }
  });
}

// The overlapped reducer gives the mean of the ranks' gradients, with several buckets and with
// accumulation over micro-batches (only the last one all-reduces).
TEST(Distributed, GradientReducerOverlapsAndEqualsTheMean) {
  const int port = free_port();
  auto inputs = [](int rank, int micro) {  // what rank `rank` sees in micro-batch `micro`
    auto gen = at::make_generator<at::CPUGeneratorImpl>(100 + 10 * rank + micro);  // ranks are threads
    return torch::randn({5, 3}, gen);
  };
  auto loss_of = [](torch::nn::Sequential& model, const torch::Tensor& x) { return model->forward(x).pow(2).mean(); };
  run_ranks(2, [&](int rank) {
    auto dist = Distributed::create(loopback_env(rank, 2, port), 20s);
    // Expected: every rank's accumulated gradients, averaged (computed locally on a copy).
    auto reference = make_model(0);
    for (int r = 0; r < 2; ++r) {
      for (int micro = 0; micro < 2; ++micro) loss_of(reference, inputs(r, micro)).backward();
    }
    auto model = make_model(0);
    auto params = model->parameters();
    GradientReducer reducer(dist, params, /*bucket_bytes=*/40);  // several buckets
    for (int micro = 0; micro < 2; ++micro) {
      reducer.prepare(/*sync=*/micro == 1);
      loss_of(model, inputs(rank, micro)).backward();
    }
    reducer.finish();
    // [BatchNorm bias + weight], [Linear bias], [Linear weight] in 40-byte buckets: hooks start
    // them while backward runs (at least all but the last; finish() starts whatever is left).
    EXPECT_EQ(reducer.bucket_count(), 3u);
    EXPECT_GE(reducer.buckets_started_early(), 2u) << "rank " << rank;
    const auto expected = reference->parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
      ASSERT_TRUE(params[i].grad().defined());
      EXPECT_TRUE(torch::allclose(params[i].grad(), expected[i].grad() / 2.0, 1e-5, 1e-6))
          << "rank " << rank << " parameter " << i << "\n" << params[i].grad() << "\n" << expected[i].grad() / 2.0;
    }
    // A step where this rank has nothing to back-propagate still joins with zeros.
    for (auto& p : params) p.mutable_grad().zero_();
    if (rank == 0) {
      reducer.prepare(true);
      loss_of(model, inputs(0, 0)).backward();
    }
    reducer.finish();
    auto only0 = make_model(0);
    loss_of(only0, inputs(0, 0)).backward();
    const auto half = only0->parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
      EXPECT_TRUE(torch::allclose(params[i].grad(), half[i].grad() / 2.0, 1e-5, 1e-6)) << "rank " << rank << " " << i;
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Failures are bounded errors, not hangs

TEST(Distributed, RendezvousWithAMissingRankFailsWithinTheTimeout) {
  const int port = free_port();
  const auto start = std::chrono::steady_clock::now();
  const std::string message = error_of([&] { Distributed::create(loopback_env(0, 2, port), 2s); });
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, 20s);
  EXPECT_NE(message.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << message;
  EXPECT_NE(message.find("1 of 2 ranks"), std::string::npos) << message;
}

TEST(Distributed, RendezvousWithoutRankZeroFailsWithinTheTimeout) {
  const int port = free_port();
  const auto start = std::chrono::steady_clock::now();
  const std::string message = error_of([&] { Distributed::create(loopback_env(1, 2, port), 2s); });
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, 20s);
  EXPECT_NE(message.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << message;
  EXPECT_NE(message.find("rank 0 is running"), std::string::npos) << message;
}

TEST(Distributed, ADeadPeerRaisesInsteadOfHanging) {
  const int port = free_port();
  std::atomic<bool> rank1_gone{false};
  run_ranks(2, [&](int rank) {
    auto dist = Distributed::create(loopback_env(rank, 2, port), 3s);
    EXPECT_EQ(dist->sum({1.0}), std::vector<double>{2.0});
    if (rank == 1) {
      dist.reset();  // the process group closes its connections
      rank1_gone = true;
      return;
    }
    while (!rank1_gone) std::this_thread::sleep_for(10ms);
    const auto start = std::chrono::steady_clock::now();
    const std::string message = error_of([&] { dist->sum({1.0}); });
    EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
    EXPECT_NE(message.find("rank 0 of 2: sum failed"), std::string::npos) << message;
  });
}
