#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include "electra/models/electra_model.h"
#include "electra/io/state_dict.h"
#include "electra/util/error.h"
#include "test_util.h"

using namespace electra;

namespace {

ElectraConfig tiny_config() {
  ElectraConfig c;
  c.vocab_size = 40;
  c.embedding_size = 8;
  c.hidden_size = 16;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 32;
  c.max_position_embeddings = 24;
  return c;
}

// "name<TAB>d0,d1" lines written by scripts/make_parity_fixtures.py --names.
std::vector<std::string> read_name_list(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "missing fixture " << path;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> describe(const torch::nn::Module& m) {
  std::vector<std::string> lines;
  for (const auto& p : m.named_parameters()) {
    std::string shape;
    for (auto d : p.value().sizes()) shape += (shape.empty() ? "" : ",") + std::to_string(d);
    lines.push_back(p.key() + "\t" + shape);
  }
  return lines;
}

int64_t count(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace

TEST(Modules, NamesAndShapesEqualHuggingFaceForEveryReleasedSize) {
  struct Size {
    const char* name;
    ElectraConfig disc;
    ElectraConfig gen;
    int64_t disc_params;
  };
  auto gen = [](ElectraConfig c, int64_t hidden, int64_t heads) {
    c.hidden_size = hidden;
    c.intermediate_size = 4 * hidden;
    c.num_attention_heads = heads;
    return c;
  };
  const std::vector<Size> sizes = {
      {"small", ElectraConfig::small(), gen(ElectraConfig::small(), 256, 4), 13549057},
      {"base", ElectraConfig::base(), gen(ElectraConfig::base(), 256, 4), 109483009},
      {"large", ElectraConfig::large(), gen(ElectraConfig::large(), 256, 4), 335142913},
  };
  for (const auto& s : sizes) {
    SCOPED_TRACE(s.name);
    ElectraForPreTraining disc(s.disc);
    EXPECT_EQ(describe(*disc), read_name_list(test::fixtures_dir() + "/names/" + s.name + "_discriminator.txt"));
    EXPECT_EQ(count(*disc), s.disc_params);
    ElectraForMaskedLM generator(s.gen);
    EXPECT_EQ(describe(*generator), read_name_list(test::fixtures_dir() + "/names/" + s.name + "_generator.txt"));
  }
}

TEST(Modules, DropoutOnlyInTraining) {
  torch::manual_seed(0);
  ElectraForPreTraining model(tiny_config());
  auto ids = torch::randint(5, 40, {2, 10}, torch::kLong);
  model->eval();
  auto a = model->forward(ids), b = model->forward(ids);
  EXPECT_TRUE(torch::equal(a, b));
  model->train();
  auto c = model->forward(ids), d = model->forward(ids);
  EXPECT_FALSE(torch::allclose(c, d));
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{2, 10}));
}

TEST(Modules, GradientsReachEveryParameter) {
  torch::manual_seed(1);
  ElectraForPreTraining disc(tiny_config());
  auto ids = torch::randint(5, 40, {3, 12}, torch::kLong);
  auto types = torch::cat({torch::zeros({3, 6}, torch::kLong), torch::ones({3, 6}, torch::kLong)}, 1);
  disc->forward(ids, torch::ones({3, 12}, torch::kLong), types).pow(2).sum().backward();
  for (const auto& p : disc->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
}

TEST(Modules, PaddingDoesNotLeakIntoRealTokens) {
  torch::manual_seed(2);
  ElectraForPreTraining model(tiny_config());
  model->eval();
  auto ids = torch::randint(5, 40, {1, 10}, torch::kLong);
  auto mask = torch::ones({1, 10}, torch::kLong);
  mask.narrow(1, 6, 4).zero_();
  auto other = ids.clone();
  other.narrow(1, 6, 4).fill_(7);
  auto a = model->forward(ids, mask).narrow(1, 0, 6);
  auto b = model->forward(other, mask).narrow(1, 0, 6);
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-6);
  auto unpadded = model->forward(ids.narrow(1, 0, 6));
  EXPECT_LT((a - unpadded).abs().max().item<double>(), 1e-5);
}

TEST(Modules, GeneratorOutputIsTiedToWordEmbeddings) {
  torch::manual_seed(3);
  ElectraForMaskedLM gen(tiny_config());
  for (const auto& p : gen->named_parameters()) EXPECT_NE(p.key(), "generator_lm_head.weight");
  auto ids = torch::randint(5, 40, {1, 6}, torch::kLong);
  gen->eval();
  auto before = gen->forward(ids);
  {
    torch::NoGradGuard no_grad;
    // Not a constant shift: LayerNorm outputs sum to zero, so that would cancel out.
    gen->electra->embeddings->word_embeddings->weight[9].add_(torch::randn({8}));
  }
  // Changing one embedding row changes that vocabulary entry's output logit.
  auto after = gen->forward(ids);
  EXPECT_GT((after.select(2, 9) - before.select(2, 9)).abs().max().item<double>(), 1e-3);
}

TEST(Modules, SharedEmbeddingsAreRegisteredOnce) {
  auto c = tiny_config();
  ElectraForPreTraining disc(c);
  auto gc = c;
  gc.hidden_size = 8;
  gc.num_attention_heads = 2;
  gc.intermediate_size = 16;
  ElectraForMaskedLM gen(gc, disc->electra->embeddings);
  EXPECT_FALSE(gen->electra->owns_embeddings());
  for (const auto& p : gen->named_parameters()) EXPECT_EQ(p.key().find("electra.embeddings."), std::string::npos);
  EXPECT_TRUE(gen->electra->embeddings->word_embeddings->weight.is_same(disc->electra->embeddings->word_embeddings->weight));
  // E == H for this generator, so it needs no projection of its own.
  EXPECT_FALSE(gen->electra->embeddings_project);
}

TEST(Dropout, KeepsOneMinusPScaledAndIsTheIdentityInEval) {
  torch::nn::Dropout module(0.1);
  const auto x = torch::ones({400, 500});
  torch::manual_seed(3);
  const auto y = electra::dropout(module, x);
  const double kept = (y != 0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(kept, 0.9, 0.003);  // 200k draws: 5 standard deviations
  EXPECT_TRUE(torch::allclose(y.masked_select(y != 0), torch::full({1}, 1.0 / 0.9)));
  // Gradients flow through the kept elements only, with the same scale.
  auto w = torch::ones({1000}, torch::requires_grad());
  auto out = electra::dropout(module, w);
  out.sum().backward();
  EXPECT_TRUE(torch::equal(w.grad() != 0, out.detach() != 0));
  // bf16 activations stay bf16 and keep their mean (no rounded 1/(1-p) factor).
  const auto b = electra::dropout(module, torch::ones({400, 500}, torch::kBFloat16));
  EXPECT_EQ(b.scalar_type(), torch::kBFloat16);
  EXPECT_NEAR(b.to(torch::kDouble).mean().item<double>(), 1.0, 0.005);
  module->eval();
  EXPECT_TRUE(torch::equal(electra::dropout(module, x), x));
}

// The mask comes from LibTorch's seed (manual_seed repeats it, the next call differs) and not
// from how many threads draw it.
TEST(Dropout, MaskFollowsTheSeedNotTheThreads) {
  torch::nn::Dropout module(0.25);
  const auto x = torch::randn({3, 1000, 7});
  const int threads = at::get_num_threads();
  auto draw = [&](int with_threads) {
    at::set_num_threads(with_threads);
    torch::manual_seed(9);
    auto first = electra::dropout(module, x);
    return std::make_pair(first, electra::dropout(module, x));
  };
  const auto [one, one_next] = draw(1);
  const auto [two, two_next] = draw(2);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(one, two));
  EXPECT_TRUE(torch::equal(one_next, two_next));
  EXPECT_FALSE(torch::equal(one, one_next));
  const double kept = (one != 0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(kept, 0.75, 0.01);  // 21k draws: 4 standard deviations
  // Neighbouring elements (the two halves of one draw) are not tied to each other.
  const auto flat = (one != 0).reshape({-1, 2}).to(torch::kDouble);
  const double both = (flat.select(1, 0) * flat.select(1, 1)).mean().item<double>();
  EXPECT_NEAR(both, 0.75 * 0.75, 0.015);
}

// The fused kernel must compute what the explicit matmul-softmax-matmul computes, with padding
// (so the additive mask matters) and two segments (token types), through a whole encoder.
TEST(Attention, SdpaEqualsExplicitAttention) {
  if (!sdpa_available()) {
    EXPECT_THROW(set_attention_kernel(*ElectraModel(tiny_config()), AttentionKernel::sdpa), Error);
    GTEST_SKIP() << "LibTorch " << TORCH_VERSION << " has no scaled_dot_product_attention";
  }
  torch::manual_seed(3);
  ElectraConfig c = tiny_config();
  c.num_hidden_layers = 3;
  ElectraModel model(c);
  model->eval();
  torch::NoGradGuard no_grad;
  const auto ids = torch::randint(5, c.vocab_size, {3, 11}, torch::kLong);
  auto mask = torch::ones({3, 11}, torch::kLong);
  mask.index_put_({0, torch::indexing::Slice(7)}, 0);  // 7 real tokens
  mask.index_put_({2, torch::indexing::Slice(2)}, 0);  // 2 real tokens
  auto types = torch::zeros({3, 11}, torch::kLong);
  types.index_put_({torch::indexing::Slice(), torch::indexing::Slice(5)}, 1);

  set_attention_kernel(*model, AttentionKernel::explicit_matmul);
  const auto reference = model->forward(ids, mask, types);
  set_attention_kernel(*model, AttentionKernel::sdpa);
  const auto fused = model->forward(ids, mask, types);
  // Every position, padding rows included (they still attend to the real keys).
  EXPECT_LE((fused - reference).abs().max().item<double>(), 1e-5);
  EXPECT_GT(reference.abs().max().item<double>(), 0.1);
  EXPECT_EQ(default_attention_kernel(), AttentionKernel::sdpa);
}

TEST(Unpadding, RealTokensOnlyGiveTheSameOutputsAndGradients) {
  torch::manual_seed(4);
  ElectraConfig c = tiny_config();
  c.embedding_size = 12;  // with embeddings_project
  c.hidden_dropout_prob = c.attention_probs_dropout_prob = 0;  // training mode, the same maths
  const auto ids = torch::randint(5, c.vocab_size, {3, 9}, torch::kLong);
  auto mask = torch::ones({3, 9}, torch::kLong);
  mask.index_put_({0, torch::indexing::Slice(4)}, 0);
  mask.index_put_({2, torch::indexing::Slice(1)}, 0);  // [CLS] alone
  auto types = torch::zeros({3, 9}, torch::kLong);
  types.index_put_({torch::indexing::Slice(), torch::indexing::Slice(3)}, 1);
  const auto index = real_token_index(mask);
  ASSERT_TRUE(index.defined());
  EXPECT_EQ(index.numel(), mask.sum().item<int64_t>());
  EXPECT_FALSE(real_token_index(torch::ones({2, 5}, torch::kLong)).defined());  // nothing to leave out
  auto little = torch::ones({2, 5}, torch::kLong);
  little[1][4] = 0;  // a tenth is padding: below the default quarter, unless asked
  EXPECT_FALSE(real_token_index(little).defined());
  EXPECT_EQ(real_token_index(little, /*min_padding=*/0.1).numel(), 9);

  std::vector<AttentionKernel> kernels = {AttentionKernel::explicit_matmul};
  if (sdpa_available()) kernels.push_back(AttentionKernel::sdpa);
  for (const auto kernel : kernels) {
    ElectraModel model(c);
    set_attention_kernel(*model, kernel);
    const auto real = mask.unsqueeze(-1).to(torch::kFloat);  // [B, S, 1]
    const auto weights = torch::randn({3, 9, c.hidden_size});
    auto run = [&](const torch::Tensor& token_index) {  // hidden states and the gradients of a loss over real tokens
      for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor();
      const auto hidden = model->forward(ids, mask, types, token_index);
      (hidden * real * weights).sum().backward();
      std::vector<torch::Tensor> grads;
      for (const auto& p : model->parameters()) grads.push_back(p.grad().clone());
      return std::make_pair(hidden.detach(), grads);
    };
    const auto [dense, dense_grads] = run({});
    const auto [packed, packed_grads] = run(index);
    EXPECT_LE(((dense - packed) * real).abs().max().item<double>(), 1e-5);
    EXPECT_EQ((packed * (1 - real)).abs().max().item<double>(), 0.0);  // padding's rows are zeros
    ASSERT_EQ(dense_grads.size(), packed_grads.size());
    for (size_t i = 0; i < dense_grads.size(); ++i) {
      EXPECT_LE((dense_grads[i] - packed_grads[i]).abs().max().item<double>(), 1e-5) << "parameter " << i;
    }
    EXPECT_GT(dense_grads.front().abs().max().item<double>(), 0.0);
  }
}

