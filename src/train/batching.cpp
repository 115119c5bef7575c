#include "electra/train/batching.h"

#include <torch/torch.h>

#include <algorithm>
#include <random>

#include "electra/data/pretraining_dataset.h"
#include "electra/nn/embeddings.h"
#include "electra/util/error.h"

namespace electra {

int64_t DatasetSource::size() const { return static_cast<int64_t>(dataset_.size()); }

TokenizedExample DatasetSource::get(int64_t index) const {
  auto e = dataset_.example(static_cast<size_t>(index));
  return {std::move(e.ids), e.len_a};
}

std::vector<int64_t> epoch_order(int64_t size, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(size));
  for (int64_t i = 0; i < size; ++i) order[static_cast<size_t>(i)] = i;
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch));
  // Fisher-Yates with our own index draw: std::shuffle's use of the engine is unspecified.
  for (int64_t i = size - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

PretrainingBatch collate(const std::vector<TokenizedExample>& examples, int64_t pad_id, int64_t pad_to) {
  if (examples.empty()) throw Error("collate: empty batch");
  size_t longest = static_cast<size_t>(std::max<int64_t>(pad_to, 0));
  for (const auto& e : examples) longest = std::max(longest, e.ids.size());
  const auto B = static_cast<int64_t>(examples.size()), S = static_cast<int64_t>(longest);
  auto ids = torch::full({B, S}, pad_id, torch::kLong);
  auto mask = torch::zeros({B, S}, torch::kLong);
  auto types = torch::zeros({B, S}, torch::kLong);
  auto id_ptr = ids.accessor<int64_t, 2>();
  auto mask_ptr = mask.accessor<int64_t, 2>();
  auto type_ptr = types.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& e = examples[static_cast<size_t>(b)];
    for (size_t s = 0; s < e.ids.size(); ++s) {
      id_ptr[b][static_cast<int64_t>(s)] = e.ids[s];
      mask_ptr[b][static_cast<int64_t>(s)] = 1;
      type_ptr[b][static_cast<int64_t>(s)] = static_cast<int32_t>(s) < e.len_a ? 0 : 1;
    }
  }
  // Static shapes (pad_to) keep every layer at [B, S]; otherwise the encoders skip the padding.
  return {ids, mask, types, pad_to > 0 ? torch::Tensor() : real_token_index(mask)};
}

BatchCursor::BatchCursor(const ExampleSource& source, uint64_t seed, int64_t epoch, int64_t cursor)
    : source_(source), seed_(seed), epoch_(epoch), cursor_(cursor) {
  if (source.size() == 0) throw Error("the training data has no examples");
  order_ = epoch_order(source.size(), seed_, epoch_);
}

std::vector<TokenizedExample> BatchCursor::next(int64_t batch_size) {
  std::vector<TokenizedExample> batch;
  batch.reserve(static_cast<size_t>(batch_size));
  while (static_cast<int64_t>(batch.size()) < batch_size) {
    if (cursor_ >= source_.size()) {
      ++epoch_;
      cursor_ = 0;
      order_ = epoch_order(source_.size(), seed_, epoch_);
    }
    batch.push_back(source_.get(order_[static_cast<size_t>(cursor_++)]));
  }
  return batch;
}

}  // namespace electra
