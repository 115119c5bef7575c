#include "electra/io/state_dict.h"

#include <set>
#include <sstream>
#include <torch/torch.h>

#include "electra/util/error.h"

namespace electra {
namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool any_prefix(const std::string& s, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (starts_with(s, p)) return true;
  }
  return false;
}

std::string list_names(const std::vector<std::string>& names) {
  std::ostringstream out;
  const size_t shown = std::min<size_t>(names.size(), 6);
  for (size_t i = 0; i < shown; ++i) out << (i ? ", " : "") << names[i];
  if (names.size() > shown) out << " and " << names.size() - shown << " more";
  return out.str();
}

}  // namespace

NamedTensors named_tensors(const torch::nn::Module& module) {
  NamedTensors out;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/true)) out.emplace_back(b.key(), b.value());
  return out;
}

LoadReport load_state_dict(torch::nn::Module& module, const SafetensorsFile& file, const LoadOptions& options) {
  NamedTensors targets = named_tensors(module);
  std::set<std::string> wanted;
  for (const auto& [name, _] : targets) wanted.insert(name);

  // A bare ElectraModel has no "electra." prefix while task models do; map names both
  // ways so an encoder checkpoint loads into a task model and the reverse.
  bool model_prefixed = false, file_prefixed = false;
  for (const auto& [name, _] : targets) model_prefixed |= starts_with(name, "electra.");
  for (const auto& e : file.entries()) file_prefixed |= starts_with(e.name, "electra.");
  const std::string prefix = "electra.";
  auto to_model = [&](const std::string& file_name) -> std::string {
    if (model_prefixed && !file_prefixed) return prefix + file_name;
    if (!model_prefixed && file_prefixed) return starts_with(file_name, prefix) ? file_name.substr(prefix.size()) : "";
    return file_name;
  };
  auto to_file = [&](const std::string& model_name) -> std::string {
    if (model_prefixed && !file_prefixed) return model_name.substr(prefix.size());
    if (!model_prefixed && file_prefixed) return prefix + model_name;
    return model_name;
  };

  LoadReport report;
  std::vector<std::string> unexpected, missing, mismatched;
  std::set<std::string> present;
  for (const auto& e : file.entries()) {
    const std::string name = to_model(e.name);
    if (!name.empty() && wanted.count(name)) {
      present.insert(name);
    } else if (ends_with(e.name, ".position_ids") || ends_with(e.name, ".token_type_ids") ||
               e.name == "generator_lm_head.weight" || any_prefix(e.name, options.ignore_unexpected)) {
      report.ignored.push_back(e.name);
    } else {
      unexpected.push_back(e.name);
    }
  }
  for (const auto& [name, tensor] : targets) {
    if (!present.count(name)) {
      if (any_prefix(name, options.allow_missing)) {
        report.missing.push_back(name);
      } else {
        missing.push_back(name);
      }
      continue;
    }
    const auto& e = file.entry(to_file(name));
    if (tensor.sizes() != c10::IntArrayRef(e.shape)) {
      mismatched.push_back(name + " (file " + c10::str(c10::IntArrayRef(e.shape)) + ", model " +
                           c10::str(tensor.sizes()) + ")");
    } else if (c10::isFloatingType(safetensors_dtype(e.dtype)) != c10::isFloatingType(tensor.scalar_type())) {
      mismatched.push_back(name + " (file dtype " + e.dtype + ", model " + c10::toString(tensor.scalar_type()) + ")");
    }
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string problem = "does not match the model:";
    if (!missing.empty()) problem += " missing " + std::to_string(missing.size()) + " tensor(s): " + list_names(missing) + ";";
    if (!unexpected.empty()) {
      problem += " unexpected " + std::to_string(unexpected.size()) + " tensor(s): " + list_names(unexpected) + ";";
    }
    if (!mismatched.empty()) problem += " shape or dtype mismatch: " + list_names(mismatched) + ";";
    problem += " check that config.json describes this checkpoint";
    throw file_error(file.path(), problem);
  }
  std::vector<std::string> not_finite;
  for (auto& [name, tensor] : targets) {
    if (!present.count(name)) continue;
    file.copy_into(to_file(name), tensor);
    report.loaded.push_back(name);
    if (tensor.is_floating_point() && !torch::isfinite(tensor).all().item<bool>()) not_finite.push_back(to_file(name));
  }
  if (!not_finite.empty()) {
    // A model that computes NaN answers nothing: refused here rather than printed as scores.
    throw file_error(file.path(), "NaN or Inf in " + std::to_string(not_finite.size()) + " tensor(s): " +
                                      list_names(not_finite) + "; the file is damaged or came from a diverged run");
  }
  return report;
}

}  // namespace electra
