// SentencePiece inside a process that has LibTorch loaded. Debian's libsentencepiece carries
// protobuf 3.14 and LibTorch links protobuf 3.21: linked together they crash at start-up.
// electra_text opens SentencePiece through its shim in a separate link namespace; this
// binary links LibTorch, uses it, then trains and encodes with SentencePiece.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tokenization/sentencepiece.h"
#include "unit/vocab_test_corpus.h"

namespace electra {
namespace {

TEST(SentencePieceWithTorch, TrainsAndEncodesBesideLibTorch) {
  const torch::Tensor before = torch::arange(6, torch::kFloat32).reshape({2, 3});  // [2, 3]
  ASSERT_EQ(before.sum().item<float>(), 15.0f);

  test::TempDir dir;
  const std::string corpus = test::make_corpus(800);
  test::write_file(dir.file("corpus.txt"), corpus);
  SentencePieceTrainOptions options;
  options.inputs = {dir.file("corpus.txt")};
  options.model_path = dir.file("spm.model");
  options.vocab_size = 150;
  options.threads = 2;
  const auto result = train_sentencepiece(options);
  EXPECT_EQ(result.vocab_size, 150);

  const SentencePieceEncoder spm(options.model_path);
  const std::string line = corpus.substr(0, corpus.find('\n'));
  const auto ids = spm.encode(line);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(spm.decode(ids), line);
  EXPECT_EQ(spm.mask_id(), 4);

  // The ids go into a tensor, as the data pipelines do.
  const torch::Tensor tensor = torch::tensor(std::vector<std::int64_t>(ids.begin(), ids.end()));  // [N]
  EXPECT_EQ(tensor.size(0), static_cast<std::int64_t>(ids.size()));
  EXPECT_EQ(tensor.max().item<std::int64_t>() < spm.vocab_size(), true);
}

}  // namespace
}  // namespace electra
