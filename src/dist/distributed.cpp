#include "electra/dist/distributed.h"

#include <torch/torch.h>

#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>
#include <functional>
#include <mutex>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <thread>
#include <utility>

#include "electra/util/error.h"
#include "util/logger.h"

// LibTorch guards its Gloo process group with USE_C10D_GLOO, a macro its CMake package does
// not export. libtorch_cpu is built with Gloo wherever Gloo's headers ship with it (Linux, macOS),
// so enable it when they are there; a build without them can still run single-process.
#if !defined(USE_C10D_GLOO) && __has_include(<gloo/algorithm.h>)
#define USE_C10D_GLOO 1
#endif

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(USE_C10D_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(USE_C10D_NCCL)
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace electra {
namespace {

// ---------------------------------------------------------------------------------------------
// Environment

const char* env_value(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

int parse_int(const char* name, const char* text, long min, long max, const std::string& expected) {
  errno = 0;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || errno == ERANGE || value < min || value > max) {
    throw Error(std::string("environment variable ") + name + "=\"" + text + "\" is not " + expected);
  }
  return static_cast<int>(value);
}

// ---------------------------------------------------------------------------------------------
// Collectives over one process group

std::string describe(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error != nullptr ? c10_error->what_without_backtrace() : e.what();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '.')) text.pop_back();
  return text;
}

class Collectives {
 public:
  virtual ~Collectives() = default;
  void all_reduce_sum(torch::Tensor& flat) { all_reduce_sum_async(flat)(); }  // in place
  // Starts an in-place sum; the returned function waits for it.
  virtual std::function<void()> all_reduce_sum_async(torch::Tensor& flat) = 0;
  virtual void broadcast(torch::Tensor& flat, int root) = 0;
  virtual void barrier() = 0;
  // Where flattened buffers live for this backend.
  virtual torch::Device device() const = 0;
};

// LibTorch 1.x derives the process groups from c10d::ProcessGroup, 2.x from c10d::Backend; the
// concrete classes keep the same collective signatures, so hold the concrete class.
template <class ProcessGroup>
class ProcessGroupCollectives final : public Collectives {
 public:
  ProcessGroupCollectives(c10::intrusive_ptr<ProcessGroup> group, torch::Device device, bool barrier_by_all_reduce)
      : group_(std::move(group)), device_(device), barrier_by_all_reduce_(barrier_by_all_reduce) {}

  std::function<void()> all_reduce_sum_async(torch::Tensor& flat) override {
    std::vector<torch::Tensor> tensors{flat};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::SUM;
    auto work = group_->allreduce(tensors, options);
    return [work] { work->wait(); };
  }

  void broadcast(torch::Tensor& flat, int root) override {
    std::vector<torch::Tensor> tensors{flat};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    group_->broadcast(tensors, options)->wait();
  }

  void barrier() override {
    if (barrier_by_all_reduce_) {
      // NCCL's own barrier guesses the device from the rank; a one-element all-reduce on ours,
      // read back on the host, synchronises just as well.
      auto token = torch::zeros({1}, torch::TensorOptions().device(device_));
      all_reduce_sum(token);
      (void)token.item<float>();
    } else {
      group_->barrier(c10d::BarrierOptions())->wait();
    }
  }

  torch::Device device() const override { return device_; }

 private:
  c10::intrusive_ptr<ProcessGroup> group_;
  torch::Device device_;
  bool barrier_by_all_reduce_;
};

// Consecutive tensors of one dtype, up to about bucket_bytes (a larger tensor goes alone).
// Depends only on shapes and dtypes, so every rank plans the same buckets.
struct Bucket {
  std::vector<std::size_t> members;
  torch::ScalarType dtype;
  int64_t numel = 0;
};

std::vector<Bucket> plan_buckets(const std::vector<torch::Tensor>& tensors, std::size_t bucket_bytes) {
  std::vector<Bucket> buckets;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    if (!t.defined()) throw Error("distributed: tensor #" + std::to_string(i) + " of the list is undefined");
    if (t.numel() == 0) continue;
    const std::size_t size = static_cast<std::size_t>(t.numel()) * t.element_size();
    const bool fits = !buckets.empty() && buckets.back().dtype == t.scalar_type() && bytes + size <= bucket_bytes;
    if (!fits) {
      buckets.push_back(Bucket{{}, t.scalar_type(), 0});
      bytes = 0;
    }
    buckets.back().members.push_back(i);
    buckets.back().numel += t.numel();
    bytes += size;
  }
  return buckets;
}

// One bucket's gradients as a flat tensor on `device` (a missing gradient counts as zeros).
torch::Tensor flatten_gradients(const std::vector<torch::Tensor>& params, const Bucket& bucket, const torch::Device& device) {
  std::vector<torch::Tensor> pieces;
  for (std::size_t i : bucket.members) {
    const auto& grad = params[i].grad();
    pieces.push_back(grad.defined()
                         ? grad.detach().reshape({-1}).to(device, bucket.dtype)
                         : torch::zeros({params[i].numel()}, torch::TensorOptions().dtype(bucket.dtype).device(device)));
  }
  return torch::cat(pieces);  // [numel]
}

// Divides the all-reduced sum by the world size and writes each slice into its .grad.
void write_mean_gradients(const std::vector<torch::Tensor>& params, const Bucket& bucket, torch::Tensor& flat, int world) {
  flat.div_(world);
  int64_t offset = 0;
  for (std::size_t i : bucket.members) {
    torch::Tensor param = params[i];
    torch::Tensor mean = flat.narrow(0, offset, param.numel()).view(param.sizes());
    offset += param.numel();
    if (param.grad().defined()) {
      param.mutable_grad().copy_(mean);
    } else {
      param.mutable_grad() = mean.to(param.device(), param.scalar_type(), /*non_blocking=*/false, /*copy=*/true);
    }
  }
}

// Who this rank is and where it meets the others, for the messages.
struct Context {
  DistEnv env;
  std::chrono::milliseconds timeout{0};             // joining the rendezvous
  std::chrono::milliseconds collective_timeout{0};  // each collective afterwards

  std::string who() const {
    return "distributed rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size);
  }
  std::string where() const { return env.master_addr + ":" + std::to_string(env.master_port); }
};

[[maybe_unused]] bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr == "::1" || addr.rfind("127.", 0) == 0;
}

}  // namespace

DistEnv dist_env_from_environment() {
  DistEnv env;
  const int max_int = std::numeric_limits<int>::max();
  const char* rank = env_value("RANK");
  const char* world = env_value("WORLD_SIZE");
  if (rank != nullptr || world != nullptr) {  // torchrun (or any launcher speaking its variables)
    if (rank == nullptr) throw Error("environment variable WORLD_SIZE is set but RANK is not; set both (torchrun does)");
    if (world == nullptr) throw Error("environment variable RANK is set but WORLD_SIZE is not; set both (torchrun does)");
    env.world_size = parse_int("WORLD_SIZE", world, 1, max_int, "a positive integer");
    env.rank = parse_int("RANK", rank, 0, env.world_size - 1,
                         "a rank below WORLD_SIZE=" + std::to_string(env.world_size));
    if (const char* local = env_value("LOCAL_RANK")) {
      env.local_rank = parse_int("LOCAL_RANK", local, 0, max_int, "a non-negative integer");
    }
  } else if (const char* procid = env_value("SLURM_PROCID")) {  // srun
    const char* ntasks = env_value("SLURM_NTASKS");
    if (ntasks == nullptr) {
      throw Error("environment variable SLURM_PROCID is set but SLURM_NTASKS is not; launch with srun --ntasks=N");
    }
    env.world_size = parse_int("SLURM_NTASKS", ntasks, 1, max_int, "a positive integer");
    env.rank = parse_int("SLURM_PROCID", procid, 0, env.world_size - 1,
                         "a rank below SLURM_NTASKS=" + std::to_string(env.world_size));
    if (const char* local = env_value("SLURM_LOCALID")) {
      env.local_rank = parse_int("SLURM_LOCALID", local, 0, max_int, "a non-negative integer");
    }
  }
  if (const char* addr = env_value("MASTER_ADDR")) env.master_addr = addr;
  if (const char* port = env_value("MASTER_PORT")) {
    env.master_port = parse_int("MASTER_PORT", port, 1, 65535, "a TCP port (1-65535)");
  }
  if (const char* ifname = env_value("GLOO_SOCKET_IFNAME")) env.socket_interface = ifname;
  return env;
}

namespace {

c10::intrusive_ptr<c10d::Store> connect_store(const Context& s) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(s.env.master_port);
  options.isServer = s.env.rank == 0;
  options.numWorkers = static_cast<std::size_t>(s.env.world_size);
  options.waitWorkers = false;  // wait_for_ranks does it, with a message that says who is missing
  options.timeout = s.timeout;
  try {
    return c10::make_intrusive<c10d::TCPStore>(s.env.master_addr, options);
  } catch (const std::exception& e) {
    if (s.env.rank == 0) {
      throw Error(s.who() + ": cannot host the rendezvous at " + s.where() + ": " + describe(e) +
                  ". Check that MASTER_ADDR is an address of this machine and that MASTER_PORT is free "
                  "(an earlier run may still hold it).");
    }
    throw Error(s.who() + ": cannot reach the rendezvous at " + s.where() + " within " +
                std::to_string(s.timeout.count()) + " ms: " + describe(e) +
                ". Check that rank 0 is running, that every rank has the same MASTER_ADDR and MASTER_PORT, "
                "and that the port is reachable from this machine (firewall).");
  }
}

void wait_for_ranks(const Context& s, c10d::Store& store) {
  const std::string key = "electra/dist/joined";
  const auto deadline = std::chrono::steady_clock::now() + s.timeout;
  int64_t joined = 0;
  try {
    joined = store.add(key, 1);
    while (joined < s.env.world_size && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      joined = store.add(key, 0);
    }
  } catch (const std::exception& e) {
    throw Error(s.who() + ": lost the rendezvous server at " + s.where() + ": " + describe(e) +
                ". Check that rank 0 is still running.");
  }
  if (joined < s.env.world_size) {
    throw Error(s.who() + ": only " + std::to_string(joined) + " of " + std::to_string(s.env.world_size) +
                " ranks joined the rendezvous at " + s.where() + " within " + std::to_string(s.timeout.count()) +
                " ms. Check that every rank was started, with the same WORLD_SIZE, MASTER_ADDR and MASTER_PORT.");
  }
}

#if defined(USE_C10D_GLOO)
std::vector<std::shared_ptr<::gloo::transport::Device>> gloo_devices(const Context& s) {
  std::vector<std::shared_ptr<::gloo::transport::Device>> devices;
  try {
    if (!s.env.socket_interface.empty()) {
      std::stringstream names(s.env.socket_interface);
      for (std::string name; std::getline(names, name, ',');) {
        if (!name.empty()) devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
      }
    } else if (is_loopback(s.env.master_addr)) {
      devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(s.env.master_addr));
    } else {
      devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
  } catch (const std::exception& e) {
    throw Error(s.who() + ": Gloo cannot open a network device (GLOO_SOCKET_IFNAME=\"" + s.env.socket_interface +
                "\"): " + describe(e) + ". Set GLOO_SOCKET_IFNAME to an interface of this machine (see `ip addr`).");
  }
  if (devices.empty()) throw Error(s.who() + ": GLOO_SOCKET_IFNAME=\"" + s.env.socket_interface + "\" names no interface");
  return devices;
}
#endif

#if defined(USE_C10D_GLOO)
std::unique_ptr<Collectives> make_gloo(const Context& s, const c10::intrusive_ptr<c10d::Store>& store) {
  auto options = c10d::ProcessGroupGloo::Options::create(s.collective_timeout);
  options->devices = gloo_devices(s);
  auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, s.env.rank, s.env.world_size, options);
  return std::make_unique<ProcessGroupCollectives<c10d::ProcessGroupGloo>>(group, torch::Device(torch::kCPU), false);
}
#endif

// The process groups: `comm` for tensors (NCCL on CUDA where compiled in, else Gloo) and, next
// to NCCL, a Gloo group `host` for the few numbers the ranks agree on every step, so that
// agreeing never copies to or from the GPU and so never waits for it. Null `host`: use `comm`.
struct Groups {
  std::unique_ptr<Collectives> comm, host;
};

Groups make_collectives(const Context& s, const c10::intrusive_ptr<c10d::Store>& store, bool cuda) {
  try {
    Groups groups;
#if defined(USE_C10D_NCCL)
    if (cuda) {
      c10::cuda::set_device(static_cast<c10::DeviceIndex>(s.env.local_rank));
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = s.collective_timeout;
      auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, s.env.rank, s.env.world_size, options);
      groups.comm = std::make_unique<ProcessGroupCollectives<c10d::ProcessGroupNCCL>>(
          group, torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(s.env.local_rank)), true);
#if defined(USE_C10D_GLOO)
      groups.host = make_gloo(s, c10::make_intrusive<c10d::PrefixStore>("host/", store));
#endif
      return groups;
    }
#endif
#if defined(USE_C10D_GLOO)
    if (cuda && s.env.rank == 0) {
      logger("dist")->warn("libelectra was built without NCCL: CUDA gradients go through host memory and Gloo");
    }
    groups.comm = make_gloo(s, store);
    return groups;
#else
    (void)cuda;
    throw Error(s.who() + ": libelectra was built without Gloo (LibTorch's gloo headers were not found), so it "
                          "cannot run more than one process");
#endif
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(s.who() + ": cannot connect to the other ranks after the rendezvous at " + s.where() + ": " +
                describe(e) + ". Check that the machines reach each other on the interface chosen "
                "(GLOO_SOCKET_IFNAME / NCCL_SOCKET_IFNAME) and that no firewall blocks their ports.");
  }
}

}  // namespace

struct Distributed::State {
  Context ctx;
  c10::intrusive_ptr<c10d::Store> store;  // outlives the process group (declared first)
  std::unique_ptr<Collectives> comm;      // null for a single process
  std::unique_ptr<Collectives> host;      // host-memory sums beside NCCL (make_collectives)

  // Runs one collective; what goes wrong becomes an electra::Error that says what to check.
  template <class F>
  void run(const char* what, F&& f) {
    try {
      f();
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error(ctx.who() + ": " + what + " failed: " + describe(e) + ". A peer may have died or stalled for more than " +
                  std::to_string(ctx.collective_timeout.count()) + " ms (the timeout); check the other ranks' output.");
    }
  }
};

std::shared_ptr<Distributed> Distributed::create(const DistEnv& env, std::chrono::milliseconds timeout, bool cuda,
                                                 std::chrono::milliseconds collective_timeout) {
  if (env.world_size < 1) throw Error("distributed: world_size must be at least 1, not " + std::to_string(env.world_size));
  if (env.rank < 0 || env.rank >= env.world_size) {
    throw Error("distributed: rank " + std::to_string(env.rank) + " is outside [0, " + std::to_string(env.world_size) + ")");
  }
  if (env.local_rank < 0) throw Error("distributed: local_rank must be non-negative");
  auto state = std::make_unique<State>();
  state->ctx.env = env;
  state->ctx.timeout = timeout;
  state->ctx.collective_timeout = std::max(timeout, collective_timeout);
  if (env.world_size > 1 || env.group_for_one_process) {
    if (env.master_port < 1 || env.master_port > 65535) {
      throw Error("distributed: master_port " + std::to_string(env.master_port) + " is not a TCP port (1-65535)");
    }
    if (timeout.count() <= 0) throw Error("distributed: the rendezvous timeout must be positive");
    state->store = connect_store(state->ctx);
    wait_for_ranks(state->ctx, *state->store);
    auto groups = make_collectives(state->ctx, state->store, cuda);
    state->comm = std::move(groups.comm);
    state->host = std::move(groups.host);
    if (env.rank == 0 && env.world_size > 1) {
      logger("dist")->info("{} ranks joined through {} ({})", env.world_size, state->ctx.where(),
                           state->comm->device().is_cuda() ? "nccl" : "gloo");
    }
  }
  return std::shared_ptr<Distributed>(new Distributed(std::move(state)));
}

std::shared_ptr<Distributed> Distributed::single_process() { return create(DistEnv{}, std::chrono::milliseconds(0)); }

Distributed::Distributed(std::unique_ptr<State> state) : state_(std::move(state)) {}
Distributed::~Distributed() = default;

int Distributed::rank() const { return state_->ctx.env.rank; }
int Distributed::world_size() const { return state_->ctx.env.world_size; }
int Distributed::local_rank() const { return state_->ctx.env.local_rank; }

void Distributed::broadcast(torch::nn::Module& module, int root) {
  if (root < 0 || root >= world_size()) {
    throw Error("distributed: broadcast root " + std::to_string(root) + " is not a rank of " + std::to_string(world_size()));
  }
  if (!state_->comm) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors = module.parameters(/*recurse=*/true);
  for (const auto& buffer : module.buffers(/*recurse=*/true)) tensors.push_back(buffer);
  const torch::Device device = state_->comm->device();
  for (const Bucket& bucket : plan_buckets(tensors, 25u << 20)) {
    torch::Tensor flat;  // [numel]
    if (rank() == root) {
      std::vector<torch::Tensor> pieces;
      for (std::size_t i : bucket.members) pieces.push_back(tensors[i].detach().reshape({-1}).to(device));
      flat = torch::cat(pieces);
    } else {
      flat = torch::empty({bucket.numel}, torch::TensorOptions().dtype(bucket.dtype).device(device));
    }
    state_->run("broadcast", [&] { state_->comm->broadcast(flat, root); });
    if (rank() == root) continue;
    int64_t offset = 0;
    for (std::size_t i : bucket.members) {
      auto& t = tensors[i];
      t.copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

void Distributed::average_gradients(const std::vector<torch::Tensor>& params, std::size_t bucket_bytes) {
  if (!state_->comm) return;
  torch::NoGradGuard no_grad;
  for (const Bucket& bucket : plan_buckets(params, bucket_bytes)) {
    torch::Tensor flat = flatten_gradients(params, bucket, state_->comm->device());
    state_->run("gradient all-reduce", [&] { state_->comm->all_reduce_sum(flat); });
    write_mean_gradients(params, bucket, flat, world_size());
  }
}

std::vector<double> Distributed::sum(const std::vector<double>& values) {
  if (!state_->comm || values.empty()) return values;
  auto local = torch::from_blob(const_cast<double*>(values.data()), {static_cast<int64_t>(values.size())},
                                torch::kFloat64);
  auto& group = state_->host ? *state_->host : *state_->comm;
  torch::Tensor total = local.to(group.device(), torch::kFloat64, /*non_blocking=*/false, /*copy=*/true);  // [N]
  state_->run("sum", [&] { group.all_reduce_sum(total); });
  total = total.to(torch::kCPU).contiguous();
  const double* data = total.data_ptr<double>();
  return std::vector<double>(data, data + values.size());
}

void Distributed::barrier() {
  if (!state_->comm) return;
  auto& group = state_->host ? *state_->host : *state_->comm;  // no GPU work to wait for
  state_->run("barrier", [&] { group.barrier(); });
}

struct GradientReducer::Impl {
  std::shared_ptr<Distributed> dist;
  std::vector<torch::Tensor> params;
  std::vector<Bucket> buckets;                  // members index `params`, in launch order
  std::vector<std::size_t> bucket_of;           // param -> bucket
  std::vector<std::size_t> pending;             // per bucket: gradients not complete yet
  std::vector<char> done;                       // per param: its gradient is complete
  std::vector<torch::Tensor> flat;              // per bucket, on the collective's device
  std::vector<std::function<void()>> waits;     // per started bucket
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;  // keeps the hooked nodes alive
  std::size_t next = 0, started_early = 0;
  bool armed = false;
  std::mutex mutex;

  void start(std::size_t b) {
    flat[b] = flatten_gradients(params, buckets[b], dist->state_->comm->device());
    dist->state_->run("gradient all-reduce", [&] { waits[b] = dist->state_->comm->all_reduce_sum_async(flat[b]); });
  }

  void start_ready() {  // in order only: every rank must issue the same sequence
    while (next < buckets.size() && pending[next] == 0) start(next++);
  }

  // A new step: nothing started, every gradient still to come; only a `sync` step's hooks act.
  void reset(bool sync) {
    armed = sync;
    next = 0;
    started_early = 0;
    done.assign(params.size(), 0);
    pending.clear();
    for (const auto& bucket : buckets) pending.push_back(bucket.members.size());
    for (auto& w : waits) w = nullptr;
  }

  void on_gradient(std::size_t i) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed || done[i]) return;
    done[i] = 1;
    --pending[bucket_of[i]];
    const std::size_t before = next;
    start_ready();
    started_early += next - before;
  }
};

GradientReducer::GradientReducer(std::shared_ptr<Distributed> distributed, std::vector<torch::Tensor> params,
                                 std::size_t bucket_bytes)
    : impl_(std::make_shared<Impl>()) {
  impl_->dist = std::move(distributed);
  impl_->params = std::move(params);
  if (!impl_->dist || !impl_->dist->state_->comm) return;  // one process: nothing to do
  const std::size_t n = impl_->params.size();
  std::vector<torch::Tensor> reversed(impl_->params.rbegin(), impl_->params.rend());
  impl_->buckets = plan_buckets(reversed, bucket_bytes);
  impl_->bucket_of.assign(n, 0);
  for (std::size_t b = 0; b < impl_->buckets.size(); ++b) {
    for (auto& member : impl_->buckets[b].members) {
      member = n - 1 - member;  // back to an index of params
      impl_->bucket_of[member] = b;
    }
  }
  impl_->flat.resize(impl_->buckets.size());
  impl_->waits.resize(impl_->buckets.size());
  std::weak_ptr<Impl> weak = impl_;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& p = impl_->params[i];
    if (!p.requires_grad() || p.numel() == 0) continue;
    auto accumulator = torch::autograd::impl::grad_accumulator(p);
    if (!accumulator) continue;
    accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [weak, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
          if (auto impl = weak.lock()) impl->on_gradient(i);
          return outputs;
        }));
    impl_->accumulators.push_back(std::move(accumulator));
  }
}

GradientReducer::~GradientReducer() = default;

void GradientReducer::prepare(bool sync) {
  if (impl_->buckets.empty()) return;
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->reset(sync);
}

void GradientReducer::finish() {
  if (impl_->buckets.empty()) return;
  std::lock_guard<std::mutex> lock(impl_->mutex);
  torch::NoGradGuard no_grad;
  if (!impl_->armed) impl_->reset(false);  // no prepare(true) this step: start every bucket below
  while (impl_->next < impl_->buckets.size()) impl_->start(impl_->next++);
  auto& state = *impl_->dist->state_;
  const int world = impl_->dist->world_size();
  for (std::size_t b = 0; b < impl_->buckets.size(); ++b) {
    state.run("gradient all-reduce", [&] { impl_->waits[b](); });
    write_mean_gradients(impl_->params, impl_->buckets[b], impl_->flat[b], world);
    impl_->flat[b] = torch::Tensor();
    impl_->waits[b] = nullptr;
  }
  impl_->armed = false;
}

std::size_t GradientReducer::buckets_started_early() const { return impl_->started_early; }
std::size_t GradientReducer::bucket_count() const { return impl_->buckets.size(); }

}  // namespace electra
