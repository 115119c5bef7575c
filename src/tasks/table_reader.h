#pragma once
// Internal: read_table that skips (and counts in *skipped) rows with too few cells instead of
// failing, when `skipped` is not null (GLUE's QQP files have such rows).
#include <cstddef>
#include <string>
#include <vector>

#include "electra/tasks/tabular.h"

namespace electra::detail {

std::vector<TextExample> read_table(const std::string& path, const TableOptions& options, std::size_t* skipped);

}  // namespace electra::detail
