// The AdamW kernels (plain LibTorch, multi-tensor, fused) against each other, and the prefetching
// thread's order and errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <sstream>
#include <stdexcept>

#include "electra/train/adamw.h"
#include "electra/util/error.h"
#include "train/adamw_update.h"
#include "train/prefetcher.h"

using namespace electra;

namespace {

// Two parameter groups as TrainerCore builds them (decayed, and not decayed at another rate),
// a parameter that never gets a gradient, and fresh optimizer state.
struct Fixture {
  std::vector<torch::Tensor> decayed, plain_rate, idle;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  std::unique_ptr<AdamWUpdate> update;

  Fixture(AdamWKernel kernel, uint64_t seed) {
    torch::manual_seed(seed);
    for (auto shape : {std::vector<int64_t>{7, 5}, {5}, {3, 4, 2}}) decayed.push_back(torch::randn(shape));
    for (auto shape : {std::vector<int64_t>{6}, {2, 9}}) plain_rate.push_back(torch::randn(shape));
    idle.push_back(torch::randn({4}));
    std::vector<torch::optim::OptimizerParamGroup> groups;
    auto a = std::make_unique<torch::optim::AdamWOptions>(3e-2);
    a->betas({0.9, 0.98}).eps(1e-6).weight_decay(0.05);
    groups.emplace_back(decayed, std::move(a));
    auto b = std::make_unique<torch::optim::AdamWOptions>(1e-2);
    b->betas({0.9, 0.98}).eps(1e-6).weight_decay(0.0);
    auto second = plain_rate;
    second.push_back(idle[0]);
    groups.emplace_back(second, std::move(b));
    optimizer = std::make_unique<torch::optim::AdamW>(std::move(groups), torch::optim::AdamWOptions(1e-3));
    update = std::make_unique<AdamWUpdate>(*optimizer, kernel);
  }

  std::vector<torch::Tensor> params() const {
    auto all = decayed;
    all.insert(all.end(), plain_rate.begin(), plain_rate.end());
    all.insert(all.end(), idle.begin(), idle.end());
    return all;
  }

  // Gradients drawn from `rng_seed`, the same for every kernel; `scale` large makes clipping bite.
  void set_gradients(uint64_t rng_seed, double scale) {
    torch::manual_seed(rng_seed);
    for (auto& p : params()) {
      if (p.is_same(idle[0])) continue;
      p.mutable_grad() = torch::randn(p.sizes()) * scale;
    }
  }
};

void expect_close(const Fixture& a, const Fixture& b, double tolerance) {
  const auto pa = a.params(), pb = b.params();
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::allclose(pa[i], pb[i], tolerance, tolerance))
        << "parameter " << i << ": max difference " << (pa[i] - pb[i]).abs().max().item<double>();
  }
}

std::vector<AdamWKernel> fast_kernels() {
  std::vector<AdamWKernel> out{AdamWKernel::foreach};
  if (fused_adamw_available()) out.push_back(AdamWKernel::fused);
  return out;
}

}  // namespace

TEST(AdamW, KernelsMatchLibTorchsAdamWAndClipping) {
  for (const auto kernel : fast_kernels()) {
    Fixture reference(AdamWKernel::plain, 3), tested(kernel, 3);
    for (int step = 0; step < 6; ++step) {
      // Steps 0, 2, 4: gradients large enough that clipping to 1.0 scales them down.
      const double scale = step % 2 == 0 ? 10.0 : 0.01;
      reference.set_gradients(100 + step, scale);
      tested.set_gradients(100 + step, scale);
      EXPECT_EQ(reference.update->step(1.0).item<float>(), 0.0f);
      EXPECT_EQ(tested.update->step(1.0).item<float>(), 0.0f);
    }
    SCOPED_TRACE(to_string(kernel));
    expect_close(reference, tested, 1e-5);
    // A parameter without a gradient is not moved and gets no state, as in LibTorch's AdamW.
    EXPECT_EQ(tested.optimizer->state().size(), reference.optimizer->state().size());
  }
}

TEST(AdamW, GradientsThatAreNotFiniteChangeNothing) {
  for (const auto kernel : {AdamWKernel::plain, AdamWKernel::foreach, AdamWKernel::fused}) {
    if (kernel == AdamWKernel::fused && !fused_adamw_available()) continue;
    SCOPED_TRACE(to_string(kernel));
    Fixture s(kernel, 5);
    s.set_gradients(1, 1.0);
    ASSERT_EQ(s.update->step(1.0).item<float>(), 0.0f);
    std::vector<torch::Tensor> before;
    for (const auto& p : s.params()) before.push_back(p.clone());
    s.set_gradients(2, 1.0);
    s.plain_rate[1].mutable_grad()[0][3] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_EQ(s.update->step(1.0).item<float>(), 1.0f);
    const auto after = s.params();
    for (size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i])) << "parameter " << i;
    // The next finite step goes on as if the bad one had not happened.
    Fixture clean(kernel, 5);
    clean.set_gradients(1, 1.0);
    clean.update->step(1.0);
    s.set_gradients(3, 1.0);
    clean.set_gradients(3, 1.0);
    s.update->step(1.0);
    clean.update->step(1.0);
    if (kernel == AdamWKernel::fused) expect_close(s, clean, 1e-6);
  }
}

// The state the fast kernels leave is LibTorch's own: saved and loaded by torch::save /
// torch::load (what checkpoints do), it continues under the plain kernel as under the same one.
TEST(AdamW, StateRoundTripsThroughLibTorchSerialization) {
  for (const auto kernel : fast_kernels()) {
    SCOPED_TRACE(to_string(kernel));
    Fixture first(kernel, 9);
    for (int step = 0; step < 3; ++step) {
      first.set_gradients(200 + step, 1.0);
      first.update->step(1.0);
    }
    std::stringstream saved;
    torch::save(*first.optimizer, saved);
    Fixture resumed(AdamWKernel::plain, 9);
    const auto from = first.params(), to = resumed.params();
    {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
    }
    torch::load(*resumed.optimizer, saved);
    resumed.update->reload();
    for (int step = 3; step < 5; ++step) {
      first.set_gradients(200 + step, 1.0);
      resumed.set_gradients(200 + step, 1.0);
      first.update->step(1.0);
      resumed.update->step(1.0);
    }
    expect_close(first, resumed, 1e-5);
  }
}

TEST(AdamW, KernelNamesAndAvailability) {
  EXPECT_EQ(parse_adamw_kernel("auto"), AdamWKernel::automatic);
  EXPECT_EQ(to_string(parse_adamw_kernel("foreach")), "foreach");
  EXPECT_THROW(parse_adamw_kernel("fast"), Error);
  Fixture automatic(AdamWKernel::automatic, 1);
  EXPECT_EQ(automatic.update->kernel(), fused_adamw_available() ? AdamWKernel::fused : AdamWKernel::foreach);
  if (!fused_adamw_available()) {
    EXPECT_THROW(Fixture(AdamWKernel::fused, 1), Error);
  }
}

TEST(Prefetcher, YieldsWhatTheProducerMakesInOrder) {
  for (int depth : {0, 1, 3}) {
    int next = 0;
    Prefetcher<int> ahead([&next] { return next++; }, depth);
    for (int i = 0; i < 50; ++i) EXPECT_EQ(ahead.next(), i) << "depth " << depth;
  }
}

TEST(Prefetcher, RethrowsTheProducersErrorInTurn) {
  int next = 0;
  Prefetcher<int> ahead(
      [&next] {
        if (next == 3) throw Error("shard 2 is damaged");
        return next++;
      },
      2);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(ahead.next(), i);
  try {
    ahead.next();
    ADD_FAILURE() << "expected the producer's error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "shard 2 is damaged");
  }
}
