#include "metrics/binary.h"

#include <algorithm>
#include <numeric>

#include "electra/util/error.h"

namespace electra {

void BinaryCounts::add(bool predicted, bool actual) {
  if (predicted) {
    actual ? ++tp : ++fp;
  } else {
    actual ? ++fn : ++tn;
  }
}

void BinaryCounts::merge(const BinaryCounts& o) {
  tp += o.tp;
  fp += o.fp;
  tn += o.tn;
  fn += o.fn;
}

double BinaryCounts::accuracy() const { return total() ? static_cast<double>(tp + tn) / total() : 0.0; }
double BinaryCounts::precision() const { return tp + fp ? static_cast<double>(tp) / (tp + fp) : 0.0; }
double BinaryCounts::recall() const { return tp + fn ? static_cast<double>(tp) / (tp + fn) : 0.0; }
double BinaryCounts::f1() const {
  const double p = precision(), r = recall();
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

double roc_auc(const std::vector<float>& scores, const std::vector<uint8_t>& labels) {
  if (scores.size() != labels.size()) throw Error("roc_auc: scores and labels differ in length");
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double positive_rank_sum = 0.0;
  int64_t positives = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double average_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;  // 1-based
    for (size_t k = i; k < j; ++k) {
      if (labels[order[k]]) {
        positive_rank_sum += average_rank;
        ++positives;
      }
    }
    i = j;
  }
  const int64_t negatives = static_cast<int64_t>(scores.size()) - positives;
  if (positives == 0 || negatives == 0) return 0.5;
  return (positive_rank_sum - positives * (positives + 1) / 2.0) / (static_cast<double>(positives) * negatives);
}

}  // namespace electra
