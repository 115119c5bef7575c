#pragma once
// GLUE metrics on plain predictions, defined as the official GLUE evaluation (scikit-learn
// and SciPy) computes them.
#include <cstdint>
#include <vector>

namespace electra {

// All functions throw electra::Error when the two vectors differ in length or are empty.
double accuracy(const std::vector<std::int64_t>& predicted, const std::vector<std::int64_t>& gold);
// F1 of the positive class; 0 when there is no true positive (scikit-learn's zero_division=0).
double f1_score(const std::vector<std::int64_t>& predicted, const std::vector<std::int64_t>& gold,
                std::int64_t positive = 1);
// Matthews correlation for binary labels; 0 when a marginal is constant (scikit-learn).
double matthews_corrcoef(const std::vector<std::int64_t>& predicted, const std::vector<std::int64_t>& gold);
// Pearson r; 0 when either input is constant.
double pearson(const std::vector<double>& x, const std::vector<double>& y);
// Spearman rho: Pearson of the ranks, ties get their average rank (SciPy).
double spearman(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace electra
