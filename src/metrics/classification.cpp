#include "metrics/classification.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <string>

#include "electra/util/error.h"

namespace electra {
namespace {

template <class A, class B>
void check_sizes(const char* metric, const std::vector<A>& a, const std::vector<B>& b) {
  if (a.size() != b.size()) {
    throw Error(std::string(metric) + ": the two inputs differ in length (" + std::to_string(a.size()) + " vs " +
                std::to_string(b.size()) + ")");
  }
  if (a.empty()) throw Error(std::string(metric) + ": the inputs are empty");
}

bool is_constant(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [&](double x) { return x == v.front(); });
}

// Pearson r on inputs already checked; SciPy's pearsonr formula: centre, scale each
// centred vector to unit norm, dot, clip to [-1, 1] (rounding can step just outside).
double pearson_unchecked(const std::vector<double>& x, const std::vector<double>& y) {
  // SciPy answers NaN (with a warning) for constant input; the GLUE scorer wants a number.
  if (is_constant(x) || is_constant(y)) return 0.0;
  const std::size_t n = x.size();
  // SciPy special-cases two points: the sign product, exactly +-1.
  if (n == 2) {
    const auto sign = [](double v) { return static_cast<double>((v > 0) - (v < 0)); };
    return sign(x[1] - x[0]) * sign(y[1] - y[0]);
  }
  const double x_mean = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(n);
  const double y_mean = std::accumulate(y.begin(), y.end(), 0.0) / static_cast<double>(n);
  double x_norm = 0.0, y_norm = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    x_norm += (x[i] - x_mean) * (x[i] - x_mean);
    y_norm += (y[i] - y_mean) * (y[i] - y_mean);
  }
  x_norm = std::sqrt(x_norm);
  y_norm = std::sqrt(y_norm);
  double r = 0.0;
  for (std::size_t i = 0; i < n; ++i) r += ((x[i] - x_mean) / x_norm) * ((y[i] - y_mean) / y_norm);
  return std::clamp(r, -1.0, 1.0);
}

// 1-based ranks; tied values share the average of the ranks they span (scipy.stats.rankdata
// with method="average").
std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j < order.size() && v[order[j]] == v[order[i]]) ++j;
    const double rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;  // mean of i+1..j
    for (std::size_t k = i; k < j; ++k) ranks[order[k]] = rank;
    i = j;
  }
  return ranks;
}

}  // namespace

double accuracy(const std::vector<std::int64_t>& predicted, const std::vector<std::int64_t>& gold) {
  check_sizes("accuracy", predicted, gold);
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < gold.size(); ++i) correct += predicted[i] == gold[i];
  return static_cast<double>(correct) / static_cast<double>(gold.size());
}

double f1_score(const std::vector<std::int64_t>& predicted, const std::vector<std::int64_t>& gold,
                std::int64_t positive) {
  check_sizes("f1_score", predicted, gold);
  std::int64_t tp = 0, predicted_positive = 0, gold_positive = 0;
  for (std::size_t i = 0; i < gold.size(); ++i) {
    const bool p = predicted[i] == positive, g = gold[i] == positive;
    tp += p && g;
    predicted_positive += p;
    gold_positive += g;
  }
  if (tp == 0) return 0.0;  // zero_division=0 (and F1 is 0 anyway when tp is 0)
  // scikit-learn >= 1.3 computes F-beta this way: (1 + b^2) tp / (b^2 |gold| + |predicted|).
  return 2.0 * static_cast<double>(tp) / static_cast<double>(gold_positive + predicted_positive);
}

double matthews_corrcoef(const std::vector<std::int64_t>& predicted, const std::vector<std::int64_t>& gold) {
  check_sizes("matthews_corrcoef", predicted, gold);
  // scikit-learn's multiclass form (identical to the binary one for two labels), from the
  // confusion matrix's marginals: t_k = gold count, p_k = predicted count of label k.
  std::map<std::int64_t, double> gold_count, predicted_count;
  double correct = 0.0;
  for (std::size_t i = 0; i < gold.size(); ++i) {
    gold_count[gold[i]] += 1.0;
    predicted_count[predicted[i]] += 1.0;
    correct += predicted[i] == gold[i];
  }
  const double n = static_cast<double>(gold.size());
  double t_dot_p = 0.0, p_dot_p = 0.0, t_dot_t = 0.0;
  for (const auto& [label, t] : gold_count) {
    t_dot_t += t * t;
    const auto it = predicted_count.find(label);
    if (it != predicted_count.end()) t_dot_p += t * it->second;
  }
  for (const auto& [label, p] : predicted_count) p_dot_p += p * p;
  const double cov_ytyp = correct * n - t_dot_p;
  const double cov_ypyp = n * n - p_dot_p;
  const double cov_ytyt = n * n - t_dot_t;
  // A constant prediction (or gold) makes the correlation undefined; scikit-learn returns 0.
  if (cov_ypyp * cov_ytyt == 0.0) return 0.0;
  return cov_ytyp / std::sqrt(cov_ytyt * cov_ypyp);
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  check_sizes("pearson", x, y);
  return pearson_unchecked(x, y);
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  check_sizes("spearman", x, y);
  return pearson_unchecked(average_ranks(x), average_ranks(y));
}

}  // namespace electra
