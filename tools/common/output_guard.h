#pragma once
// A run folder that already holds a run is never written over by accident: continuing it takes
// --resume, replacing it --overwrite.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "electra/dist/distributed.h"
#include "electra/util/error.h"

namespace electra::tools {

// `products` are the names a run writes in `folder` (checkpoints, exported models, metrics).
// Rank 0 looks and, with --overwrite, removes them; every rank learns the verdict, so no rank
// starts training while another refuses.
inline void guard_output(const std::string& folder, const std::vector<std::string>& products, bool resume,
                         bool overwrite, const std::shared_ptr<Distributed>& distributed) {
  namespace fs = std::filesystem;
  if (resume) return;
  std::string found;
  if (distributed->is_main()) {
    std::error_code ec;
    for (const auto& name : products) {
      const fs::path path = fs::path(folder) / name;
      if (!fs::exists(path, ec)) continue;
      if (overwrite) {
        fs::remove_all(path, ec);
        if (ec) throw file_error(path.string(), "cannot remove for --overwrite: " + ec.message());
      } else {
        found += (found.empty() ? "" : ", ") + name;
      }
    }
  }
  const bool refused = distributed->sum({found.empty() ? 0.0 : 1.0})[0] > 0;
  if (!refused) return;
  if (found.empty()) throw Error(folder + ": rank 0 refused to write over an earlier run");
  throw file_error(folder, "already holds a run (" + found +
                               "); continue it with --resume, replace it with --overwrite, or choose another --output");
}

}  // namespace electra::tools
