#pragma once
// Binary classification metrics on plain predictions (no tensors).
#include <cstdint>
#include <vector>

namespace electra {

struct BinaryCounts {
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;

  void add(bool predicted, bool actual);
  void merge(const BinaryCounts& other);
  int64_t total() const { return tp + fp + tn + fn; }
  double accuracy() const;
  double precision() const;  // 0 when nothing was predicted positive
  double recall() const;     // 0 when there is no positive
  double f1() const;
};

// Area under the ROC curve by the rank statistic (ties get their average rank).
// Returns 0.5 when only one class is present.
double roc_auc(const std::vector<float>& scores, const std::vector<uint8_t>& labels);

}  // namespace electra
