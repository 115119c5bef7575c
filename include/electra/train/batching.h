#pragma once
// From stored examples to padded tensors, in a deterministic, resumable order.
#include <cstdint>
#include <memory>
#include <vector>

#include "electra/train/objective.h"

namespace electra {

class PretrainingDataset;

struct TokenizedExample {
  std::vector<int32_t> ids;  // [CLS] A [SEP] (B [SEP])
  int32_t len_a = 0;         // tokens with token type 0 ([CLS], A and the first [SEP])
};

// Random access to examples; the trainer does not care where they live.
class ExampleSource {
 public:
  virtual ~ExampleSource() = default;
  virtual int64_t size() const = 0;
  virtual TokenizedExample get(int64_t index) const = 0;
};

// An in-memory source (tests, small data).
class VectorSource : public ExampleSource {
 public:
  explicit VectorSource(std::vector<TokenizedExample> examples) : examples_(std::move(examples)) {}
  int64_t size() const override { return static_cast<int64_t>(examples_.size()); }
  TokenizedExample get(int64_t index) const override { return examples_.at(static_cast<size_t>(index)); }

 private:
  std::vector<TokenizedExample> examples_;
};

// Examples straight from the memory-mapped shards of an electra-prepare folder.
class DatasetSource : public ExampleSource {
 public:
  explicit DatasetSource(const PretrainingDataset& dataset) : dataset_(dataset) {}
  int64_t size() const override;
  TokenizedExample get(int64_t index) const override;

 private:
  const PretrainingDataset& dataset_;
};

// The order of epoch e is a shuffle seeded by (seed, e): a pure function, so a run can
// resume from (epoch, cursor) alone.
std::vector<int64_t> epoch_order(int64_t size, uint64_t seed, int64_t epoch);

// Pads to the longest example of the batch (dynamic padding), or to at least `pad_to` tokens.
PretrainingBatch collate(const std::vector<TokenizedExample>& examples, int64_t pad_id, int64_t pad_to = 0);

// Hands out batches in epoch order and remembers where it is.
class BatchCursor {
 public:
  BatchCursor(const ExampleSource& source, uint64_t seed, int64_t epoch = 0, int64_t cursor = 0);
  std::vector<TokenizedExample> next(int64_t batch_size);  // wraps into the next epoch
  int64_t epoch() const { return epoch_; }
  int64_t cursor() const { return cursor_; }

 private:
  const ExampleSource& source_;
  uint64_t seed_;
  int64_t epoch_, cursor_;
  std::vector<int64_t> order_;
};

}  // namespace electra
