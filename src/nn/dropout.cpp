#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <future>
#include <mutex>
#include <vector>

#include "electra/nn/embeddings.h"

namespace electra {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// fn(begin, end) over [0, n) in one piece per LibTorch thread, the pieces after the first on
// LibTorch's inter-op pool: this library is compiled without OpenMP, where at::parallel_for runs
// serially. Between operators the intra-op threads are idle, so the cores are free.
template <typename F>
void split_work(int64_t n, int64_t grain, const F& fn) {
  const int64_t pieces = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), n / std::max<int64_t>(grain, 1)));
  const int64_t per = (n + pieces - 1) / pieces;
  std::vector<std::future<void>> others;
  for (int64_t piece = 1; piece < pieces; ++piece) {
    auto done = std::make_shared<std::promise<void>>();
    others.push_back(done->get_future());
    const int64_t begin = piece * per, end = std::min(n, begin + per);
    at::launch([done, begin, end, &fn] {
      fn(begin, end);
      done->set_value();
    });
  }
  fn(0, std::min(n, per));
  for (auto& other : others) other.wait();
}

uint64_t draw_seed() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

// out = x * keep * scale, computed in float and stored in x's dtype; keep comes from `keep_in`,
// or (with `keep_out`) is drawn here: element i is dropped when its 32-bit draw falls below
// p * 2^32, the draws of elements 2j and 2j + 1 being the halves of splitmix64(seed + j). Any
// thread can draw any element, so the mask does not depend on how the work is split.
torch::Tensor masked_scale(const torch::Tensor& x, double scale, const bool* keep_in, bool* keep_out = nullptr,
                           uint64_t seed = 0, double p = 0) {
  const auto input = x.contiguous();
  auto out = torch::empty_like(input);
  const int64_t n = input.numel();
  const auto threshold = static_cast<uint64_t>(std::llround(p * 4294967296.0));
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, input.scalar_type(), "electra_dropout", [&] {
    const scalar_t* in = input.data_ptr<scalar_t>();
    scalar_t* o = out.data_ptr<scalar_t>();
    using acc_t = at::opmath_type<scalar_t>;
    const auto s = static_cast<acc_t>(scale);
    split_work((n + 1) / 2, 16384, [&](int64_t begin, int64_t end) {  // in pairs of elements
      const int64_t first = 2 * begin, last = std::min(n, 2 * end);
      if (keep_out) {
        for (int64_t pair = begin; pair < end; ++pair) {
          const uint64_t bits = splitmix64(seed + static_cast<uint64_t>(pair));
          keep_out[2 * pair] = (bits & 0xFFFFFFFFULL) >= threshold;
          if (2 * pair + 1 < n) keep_out[2 * pair + 1] = (bits >> 32) >= threshold;
        }
      }
      const bool* k = keep_out ? keep_out : keep_in;
      // Branch-free, so that the compiler vectorises it.
      for (int64_t i = first; i < last; ++i) o[i] = static_cast<scalar_t>(static_cast<acc_t>(in[i]) * (s * k[i]));
    });
  });
  return out.view(x.sizes());
}

struct CpuDropout : torch::autograd::Function<CpuDropout> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p) {
    RECORD_FUNCTION("electra::dropout", std::vector<c10::IValue>());  // a custom function is no operator to the profiler
    auto keep = torch::empty({x.numel()}, torch::kBool);
    const auto out = masked_scale(x, 1.0 / (1.0 - p), nullptr, keep.data_ptr<bool>(), draw_seed(), p);
    ctx->save_for_backward({keep});
    ctx->saved_data["scale"] = 1.0 / (1.0 - p);
    return out;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto keep = ctx->get_saved_variables()[0];
    return {masked_scale(grads[0], ctx->saved_data["scale"].toDouble(), keep.data_ptr<bool>()), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor dropout(torch::nn::Dropout& module, const torch::Tensor& x) {
  const double p = module->options.p();
  if (!module->is_training() || p <= 0.0) return x;
  if (p >= 1.0) return x * 0;
  if (!x.device().is_cpu()) return torch::dropout(x, p, /*train=*/true);
  return CpuDropout::apply(x, p);
}

}  // namespace electra
