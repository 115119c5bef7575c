#include "train/adamw_update.h"

#include <torch/nn/utils/clip_grad.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "electra/util/error.h"

// CPU fused AdamW arrived in 2.4 (CUDA's in 2.0): below that the op may exist without a CPU kernel.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define ELECTRA_HAVE_FUSED_ADAMW 1
#else
#define ELECTRA_HAVE_FUSED_ADAMW 0
#endif

namespace electra {

AdamWKernel parse_adamw_kernel(const std::string& name) {
  if (name == "auto") return AdamWKernel::automatic;
  if (name == "fused") return AdamWKernel::fused;
  if (name == "foreach") return AdamWKernel::foreach;
  if (name == "plain") return AdamWKernel::plain;
  throw Error("unknown optimizer implementation \"" + name + "\" (expected auto, fused, foreach or plain)");
}

std::string to_string(AdamWKernel kernel) {
  switch (kernel) {
    case AdamWKernel::automatic: return "auto";
    case AdamWKernel::fused: return "fused";
    case AdamWKernel::foreach: return "foreach";
    case AdamWKernel::plain: return "plain";
  }
  return "auto";
}

bool fused_adamw_available() { return ELECTRA_HAVE_FUSED_ADAMW != 0; }

namespace {

// The optimizer's state is keyed by the parameter's TensorImpl: a pointer in LibTorch 2.x, the
// pointer printed as a string in 1.13 (as its own AdamW writes it).
template <typename Map>
typename Map::key_type state_key(const Map&, const torch::Tensor& p) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream key;
    key << p.unsafeGetTensorImpl();
    return key.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

// One parameter group's tensors that have gradients this step, with their (created) state.
struct GroupTensors {
  std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs;
  std::vector<torch::optim::AdamWParamState*> states;
};

GroupTensors gather(torch::optim::AdamW& optimizer, torch::optim::OptimizerParamGroup& group) {
  GroupTensors g;
  auto& state = optimizer.state();
  for (auto& p : group.params()) {
    if (!p.grad().defined()) continue;
    const auto key = state_key(state, p);
    auto found = state.find(key);
    if (found == state.end()) {  // as LibTorch's AdamW starts a parameter: zero moments, step 0
      auto fresh = std::make_unique<torch::optim::AdamWParamState>();
      fresh->step(0);
      fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      found = state.emplace(key, std::move(fresh)).first;
    }
    auto* s = static_cast<torch::optim::AdamWParamState*>(found->second.get());
    g.params.push_back(p);
    g.grads.push_back(p.grad());
    g.exp_avgs.push_back(s->exp_avg());
    g.exp_avg_sqs.push_back(s->exp_avg_sq());
    g.states.push_back(s);
  }
  return g;
}

// The same arithmetic as LibTorch's AdamW::step, a list at a time.
void foreach_adamw(GroupTensors& g, const torch::optim::AdamWOptions& o) {
  const double lr = o.lr(), beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
  std::vector<c10::Scalar> step_sizes, bias2_roots;
  for (auto* s : g.states) {
    s->step(s->step() + 1);
    const auto step = static_cast<double>(s->step());
    step_sizes.emplace_back(-lr / (1 - std::pow(beta1, step)));
    bias2_roots.emplace_back(std::sqrt(1 - std::pow(beta2, step)));
  }
  if (o.weight_decay() != 0) at::_foreach_mul_(g.params, 1 - lr * o.weight_decay());
  at::_foreach_mul_(g.exp_avgs, beta1);
  at::_foreach_add_(g.exp_avgs, g.grads, 1 - beta1);
  at::_foreach_mul_(g.exp_avg_sqs, beta2);
  at::_foreach_addcmul_(g.exp_avg_sqs, g.grads, g.grads, 1 - beta2);
  auto denominators = at::_foreach_sqrt(g.exp_avg_sqs);
  at::_foreach_div_(denominators, bias2_roots);
  at::_foreach_add_(denominators, o.eps());
  at::_foreach_addcdiv_(g.params, g.exp_avgs, denominators, step_sizes);
}

}  // namespace

AdamWUpdate::AdamWUpdate(torch::optim::AdamW& optimizer, AdamWKernel kernel) : optimizer_(optimizer), kernel_(kernel) {
  if (kernel_ == AdamWKernel::automatic) kernel_ = fused_adamw_available() ? AdamWKernel::fused : AdamWKernel::foreach;
  if (kernel_ == AdamWKernel::fused && !fused_adamw_available()) {
    throw Error("optimizer.implementation fused needs LibTorch 2.4 or newer (this build has " +
                std::string(TORCH_VERSION) + "); use foreach or auto");
  }
  for (auto& group : optimizer_.param_groups()) {
    if (static_cast<torch::optim::AdamWOptions&>(group.options()).amsgrad()) {
      throw Error("AdamWUpdate: amsgrad is not supported");
    }
  }
}

torch::Tensor AdamWUpdate::step(double max_norm) {
  torch::NoGradGuard no_grad;
  if (kernel_ == AdamWKernel::plain) return plain_step(max_norm);
  // Every group's tensors with gradients, walked once; the clipping norm spans all of them.
  auto& options = optimizer_.param_groups();
  std::vector<GroupTensors> groups;
  std::vector<torch::Tensor> grads;
  for (auto& group : options) {
    groups.push_back(gather(optimizer_, group));
    grads.insert(grads.end(), groups.back().grads.begin(), groups.back().grads.end());
  }
  if (grads.empty()) return torch::zeros({});

  // The total norm stays on the device: the norm of the per-tensor norms.
  const auto total = torch::stack(at::_foreach_norm(grads, 2)).norm();
  const auto found_inf = torch::isfinite(total).logical_not().to(torch::kFloat);
  if (max_norm > 0) {
    const auto coefficient = (max_norm / (total + 1e-6)).clamp_max(1.0);  // as clip_grad_norm_
#if TORCH_VERSION_MAJOR >= 2
    at::_foreach_mul_(grads, coefficient);
#else
    for (auto& g : grads) g.mul_(coefficient);
#endif
  }
  if (kernel_ == AdamWKernel::foreach) {
    if (found_inf.item<float>() > 0) return found_inf;
    for (size_t i = 0; i < groups.size(); ++i) {
      if (!groups[i].params.empty()) {
        foreach_adamw(groups[i], static_cast<torch::optim::AdamWOptions&>(options[i].options()));
      }
    }
    return found_inf;
  }
#if ELECTRA_HAVE_FUSED_ADAMW
  for (size_t i = 0; i < groups.size(); ++i) {
    auto& g = groups[i];
    if (g.params.empty()) continue;
    std::vector<torch::Tensor> steps;
    for (size_t j = 0; j < g.params.size(); ++j) {
      auto& counted = device_steps_[g.params[j].unsafeGetTensorImpl()];
      if (!counted.defined()) {
        counted = torch::full({}, static_cast<double>(g.states[j]->step()), g.params[j].options().dtype(torch::kFloat));
      }
      g.states[j]->step(g.states[j]->step() + 1);
      steps.push_back(counted);
    }
    at::_foreach_add_(steps, 1);
    const auto& o = static_cast<torch::optim::AdamWOptions&>(options[i].options());
    at::_fused_adamw_(g.params, g.grads, g.exp_avgs, g.exp_avg_sqs, /*max_exp_avg_sqs=*/{}, steps, o.lr(),
                      std::get<0>(o.betas()), std::get<1>(o.betas()), o.weight_decay(), o.eps(), /*amsgrad=*/false,
                      /*maximize=*/false, /*grad_scale=*/c10::nullopt, found_inf);
    // A skipped step is not counted here; the host counts, one ahead, catch up before they are
    // saved (sync_step_counts).
    at::_foreach_sub_(steps, std::vector<torch::Tensor>(steps.size(), found_inf));
  }
#endif
  return found_inf;
}

void AdamWUpdate::sync_step_counts() {
  if (device_steps_.empty()) return;
  auto& state = optimizer_.state();
  for (auto& group : optimizer_.param_groups()) {
    for (auto& p : group.params()) {
      const auto counted = device_steps_.find(p.unsafeGetTensorImpl());
      const auto found = state.find(state_key(state, p));
      if (counted == device_steps_.end() || found == state.end()) continue;
      static_cast<torch::optim::AdamWParamState&>(*found->second).step(counted->second.item<int64_t>());
    }
  }
}

torch::Tensor AdamWUpdate::plain_step(double max_norm) {
  const auto& params = optimizer_.param_groups();
  std::vector<torch::Tensor> all;
  for (const auto& group : params) all.insert(all.end(), group.params().begin(), group.params().end());
  if (all.empty()) return torch::zeros({});
  const auto on_device = torch::TensorOptions().device(all.front().device());
  const double bound = max_norm > 0 ? max_norm : std::numeric_limits<double>::infinity();
  const double norm = torch::nn::utils::clip_grad_norm_(all, bound);  // reads the norm back (a host sync)
  if (!std::isfinite(norm)) return torch::ones({}, on_device);
  optimizer_.step();
  return torch::zeros({}, on_device);
}

}  // namespace electra
