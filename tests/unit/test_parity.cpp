// Outputs of our modules against an independent Python implementation of Hugging Face's
// ELECTRA (scripts/make_parity_fixtures.py), on checkpoints that script wrote.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "electra/io/model_dir.h"
#include "test_util.h"

using namespace electra;

namespace {

constexpr double kTolerance = 1e-4;

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

class Parity : public ::testing::TestWithParam<std::string> {
 protected:
  std::string dir() const { return test::fixtures_dir() + "/parity/" + GetParam(); }
  void SetUp() override {
    expected_ = std::make_unique<SafetensorsFile>(dir() + "/expected.safetensors");
    ids_ = expected_->load("input_ids");
    types_ = expected_->load("token_type_ids");
    mask_ = expected_->load("attention_mask");
  }
  std::unique_ptr<SafetensorsFile> expected_;
  torch::Tensor ids_, types_, mask_;
};

}  // namespace

TEST_P(Parity, DiscriminatorHiddenStatesAndLogits) {
  auto disc = load_discriminator(dir() + "/discriminator");
  torch::NoGradGuard no_grad;
  // The fixture rows cover a single segment, a pair with token types and a padded row.
  ASSERT_GT(types_.sum().item<int64_t>(), 0);
  ASSERT_LT(mask_.sum().item<int64_t>(), mask_.numel());
  auto hidden = disc->electra(ids_, mask_, types_);
  EXPECT_LE(max_diff(hidden, expected_->load("disc_hidden")), kTolerance);
  EXPECT_LE(max_diff(disc->discriminator_predictions(hidden), expected_->load("disc_logits")), kTolerance);
}

TEST_P(Parity, GeneratorHiddenStatesAndLogits) {
  auto gen = load_generator(dir() + "/generator");
  torch::NoGradGuard no_grad;
  auto hidden = gen->electra(ids_, mask_, types_);
  EXPECT_LE(max_diff(hidden, expected_->load("gen_hidden")), kTolerance);
  EXPECT_LE(max_diff(gen->logits(hidden), expected_->load("gen_logits")), kTolerance);
  EXPECT_LE(max_diff(gen->forward(ids_, mask_, types_), expected_->load("gen_logits")), kTolerance);
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, Parity, ::testing::Values("proj", "noproj"));

TEST(ParityDtypes, HalfPrecisionCheckpointsMatchAfterConversion) {
  const std::string dir = test::fixtures_dir() + "/parity/proj";
  SafetensorsFile expected(dir + "/expected.safetensors");
  auto ids = expected.load("input_ids"), types = expected.load("token_type_ids"), mask = expected.load("attention_mask");
  for (const std::string variant : {"bf16", "f16"}) {
    SCOPED_TRACE(variant);
    auto disc = load_discriminator(dir + "/discriminator_" + variant);
    torch::NoGradGuard no_grad;
    EXPECT_EQ(disc->electra->embeddings->word_embeddings->weight.scalar_type(), torch::kFloat);
    auto logits = disc->forward(ids, mask, types);
    EXPECT_LE(max_diff(logits, expected.load("disc_logits_" + variant)), kTolerance);
    // ... and the rounding was real: the float32 checkpoint's logits differ.
    EXPECT_GT(max_diff(logits, expected.load("disc_logits")), 1e-4);
  }
}
