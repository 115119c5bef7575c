#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Dispatch.h>
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

// Element i is dropped when its 32-bit draw falls below `threshold` (p * 2^32); the draws of
// elements 2j and 2j + 1 are the halves of splitmix64(seed + j). Any thread can draw any element,
// so the mask does not depend on how the work is split. Fills keep[2 * begin, 2 * end) (up to n)
// with `one` or zero.
template <typename T>
void draw_pairs(T* keep, int64_t begin, int64_t end, int64_t n, uint64_t seed, uint64_t threshold, T one) {
  for (int64_t pair = begin; pair < end; ++pair) {
    const uint64_t bits = splitmix64(seed + static_cast<uint64_t>(pair));
    keep[2 * pair] = (bits & 0xFFFFFFFFULL) >= threshold ? one : T(0);
    if (2 * pair + 1 < n) keep[2 * pair + 1] = (bits >> 32) >= threshold ? one : T(0);
  }
}

uint64_t threshold_for(double p) { return static_cast<uint64_t>(std::llround(p * 4294967296.0)); }

uint64_t draw_seed() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(generator)->random64();
}

// out = x * keep * scale for float and double, in one vectorisable pass; keep comes from
// `keep_in`, or (with `keep_out`) is drawn here in the same loop (draw_pairs).
torch::Tensor masked_scale(const torch::Tensor& x, double scale, const bool* keep_in, bool* keep_out = nullptr,
                           uint64_t seed = 0, double p = 0) {
  const auto input = x.contiguous();
  auto out = torch::empty_like(input);
  const int64_t n = input.numel();
  const auto threshold = threshold_for(p);
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "electra_dropout", [&] {
    const scalar_t* in = input.data_ptr<scalar_t>();
    scalar_t* o = out.data_ptr<scalar_t>();
    const auto s = static_cast<scalar_t>(scale);
    split_work((n + 1) / 2, 16384, [&](int64_t begin, int64_t end) {  // in pairs of elements
      if (keep_out) draw_pairs(keep_out, begin, end, n, seed, threshold, true);
      const bool* k = keep_out ? keep_out : keep_in;
      // Branch-free, so that the compiler vectorises it.
      for (int64_t i = 2 * begin; i < std::min(n, 2 * end); ++i) o[i] = in[i] * (s * k[i]);
    });
  });
  return out.view(x.sizes());
}

// The keep mask alone, as 1 and 0 in x's 16-bit type (their bit patterns written as integers),
// for LibTorch's vectorised multiply: the conversions of these types would keep a scalar loop
// here from vectorising.
torch::Tensor draw_keep(const torch::Tensor& x, uint64_t seed, double p) {
  const int64_t n = x.numel();
  auto keep = torch::empty(x.sizes(), x.options().memory_format(torch::MemoryFormat::Contiguous));
  const uint16_t one = x.scalar_type() == torch::kBFloat16 ? 0x3F80 : 0x3C00;  // 1.0 in bf16, in fp16
  auto* k = reinterpret_cast<uint16_t*>(keep.data_ptr());
  const auto threshold = threshold_for(p);
  split_work((n + 1) / 2, 16384, [&](int64_t begin, int64_t end) { draw_pairs(k, begin, end, n, seed, threshold, one); });
  return keep;
}

// x * keep * scale; for the 16-bit types x * scale rounds once, as before the mask (which only zeroes).
torch::Tensor apply_keep(const torch::Tensor& x, const torch::Tensor& keep, double scale) {
  if (keep.scalar_type() == torch::kBool) return masked_scale(x, scale, keep.data_ptr<bool>());
  return x.mul(scale).mul_(keep);
}

struct CpuDropout : torch::autograd::Function<CpuDropout> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p) {
    RECORD_FUNCTION("electra::dropout", std::vector<c10::IValue>());  // a custom function is no operator to the profiler
    const double scale = 1.0 / (1.0 - p);
    torch::Tensor keep, out;
    if (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble) {  // mask and scale in one pass
      keep = torch::empty({x.numel()}, torch::kBool);
      out = masked_scale(x, scale, nullptr, keep.data_ptr<bool>(), draw_seed(), p);
    } else {  // bf16, fp16
      keep = draw_keep(x, draw_seed(), p);
      out = apply_keep(x, keep, scale);
    }
    ctx->save_for_backward({keep});
    ctx->saved_data["scale"] = scale;
    return out;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grads) {
    const auto keep = ctx->get_saved_variables()[0];
    return {apply_keep(grads[0], keep, ctx->saved_data["scale"].toDouble()), torch::Tensor()};
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
