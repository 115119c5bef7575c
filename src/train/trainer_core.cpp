#include "train/trainer_core.h"

#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string_view>

#include "util/device.h"
#include "electra/util/error.h"
#include "util/files.h"
#include "train/weight_decay.h"
#include "util/logger.h"

namespace fs = std::filesystem;

namespace electra {

TrainerCore::TrainerCore(CoreSettings settings, std::shared_ptr<Distributed> group)
    : settings_(std::move(settings)), group_(group ? std::move(group) : Distributed::single_process()) {
  device_ = resolve_device(settings_.device, group_->local_rank());
  if (settings_.precision == Precision::fp16 && !device_.is_cuda()) {
    throw Error("train.precision fp16 needs a CUDA device (dynamic loss scaling); on the CPU use bf16");
  }
  scaler_ = LossScaler(settings_.precision == Precision::fp16, device_);
  torch::manual_seed(settings_.seed);
  progress_.world_size = group_->world_size();
}

void TrainerCore::attach(torch::nn::Module& model, const std::function<double(const std::string&)>& lr_multiplier) {
  model_ = &model;
  model.to(device_);  // before AdamW sees the parameters
  const auto& s = settings_;
  // Decayed groups first, then by multiplier (std::map order): the same groups on every run.
  std::map<std::pair<double, bool>, std::vector<torch::Tensor>> groups;
  for (const auto& p : model.named_parameters()) {
    const double multiplier = lr_multiplier ? lr_multiplier(p.key()) : 1.0;
    groups[{multiplier, !applies_weight_decay(p.key())}].push_back(p.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (auto& [key, params] : groups) {
    auto options = std::make_unique<torch::optim::AdamWOptions>(s.learning_rate * key.first);
    options->betas({s.beta1, s.beta2}).eps(s.eps).weight_decay(key.second ? 0.0 : s.weight_decay);
    param_groups.emplace_back(std::move(params), std::move(options));
    multipliers_.push_back(key.first);
  }
  optimizer_ = std::make_unique<torch::optim::AdamW>(std::move(param_groups),
                                                     torch::optim::AdamWOptions(s.learning_rate));
  update_ = std::make_unique<AdamWUpdate>(*optimizer_, s.adamw_kernel);
  parameters_ = model.parameters();
  group_->broadcast(model);  // every rank starts from rank 0's weights (and its new heads)
  reducer_ = std::make_unique<GradientReducer>(group_, parameters_);
}

void TrainerCore::begin_step() { optimizer_->zero_grad(); }

void TrainerCore::backward(const torch::Tensor& loss, bool last) {
  reducer_->prepare(/*sync=*/last);
  scaler_.scaled(loss).backward();
}

void TrainerCore::finish_step(double lr) {
  reducer_->finish();  // a rank without rows this step starts every bucket here, with zeros
  scaler_.unscale(parameters_);  // fp16 only
  auto& groups = optimizer_->param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    static_cast<torch::optim::AdamWOptions&>(groups[g].options()).lr(lr * multipliers_[g]);
  }
  // Gradients that are not finite change no weight: fp16's overflows now and then (the scaler
  // lowers its scale for the next step); anything else would spread through the weights into
  // every later checkpoint, so the next check stops the run.
  const auto skipped = update_->step(settings_.max_grad_norm);
  scaler_.update(skipped);
  if (!skipped_.defined()) unchecked_from_ = progress_.step + 1;
  last_update_ = progress_.step + 1;
  skipped_ = skipped_.defined() ? skipped_ + skipped : skipped;
  if ((progress_.step + 1) % std::max<int64_t>(settings_.check_every, 1) == 0) require_finite();
  ++progress_.step;
}

void TrainerCore::profile(const std::function<void()>& step) {
  const auto number = std::to_string(progress_.step + 1);
  const auto path = (fs::path(settings_.output) / ("profile-step-" + number + ".json")).string();
  {
    torch::autograd::profiler::RecordProfile profile(path);  // writes the file when it goes
    step();
  }
  logger("train")->info("wrote the operators of step {} to {}", number, path);
}

void TrainerCore::require_finite() {
  if (!skipped_.defined()) return;
  const auto skipped = static_cast<int64_t>(skipped_.item<float>());
  skipped_ = torch::Tensor();
  if (skipped == 0) return;
  const std::string steps = last_update_ > unchecked_from_
                                ? "steps " + std::to_string(unchecked_from_) + "-" + std::to_string(last_update_)
                                : "step " + std::to_string(unchecked_from_);
  if (scaler_.enabled()) {
    // Overflows are fp16's normal business while the scale settles; only every step skipped at
    // the lowest scale means the gradients are not finite whatever the scale.
    overflowed_steps_ += skipped;
    if (skipped < last_update_ - unchecked_from_ + 1 || scaler_.scale() > 1.0) return;
    throw Error(steps + ": the gradients are not finite even at loss scale 1 (fp16), so no step updated the weights. "
                "Train in bf16 or fp32, lower optimizer.learning_rate, or check the model and the data");
  }
  throw Error(steps + ": the loss or its gradients are not finite (NaN or Inf); such a step does not update the "
              "weights, and no checkpoint was written after it. Lower optimizer.learning_rate, check the model and "
              "the data, or continue from the last checkpoint with --resume");
}

void TrainerCore::on_main(const std::function<void()>& work, const std::string& what) {
  require_finite();
  std::exception_ptr error;
  if (is_main()) {
    try {
      work();
    } catch (...) {
      error = std::current_exception();
    }
  }
  const bool failed = agree_to_stop(error != nullptr);
  if (error) std::rethrow_exception(error);
  if (failed) throw Error("rank 0 failed while " + what + " (its error says why); this rank stops too");
}

void TrainerCore::open_run(const std::string& config_json) {
  if (settings_.output.empty()) throw Error("no output folder: set train.output");
  fs::create_directories(settings_.output);
  if (!is_main()) return;
  write_file_atomic((fs::path(settings_.output) / settings_.config_file).string(), config_json);
  const auto metrics_path = (fs::path(settings_.output) / "metrics.jsonl").string();
  const auto events_folder = fs::path(settings_.output) / "tensorboard";
  if (resumed_step_ >= 0) {
    size_t dropped = drop_metrics_after(metrics_path, resumed_step_);
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(events_folder, ec)) {
      const auto name = entry.path().filename().string();
      if (entry.is_regular_file(ec) && name.rfind("events.out.tfevents.", 0) == 0) {
        dropped += drop_events_after(entry.path().string(), resumed_step_);
      }
    }
    if (dropped > 0) {
      logger("train")->info("dropped {} records logged after step {} by the interrupted run (metrics.jsonl, "
                            "tensorboard/)", dropped, resumed_step_);
    }
  }
  metrics_.open(metrics_path, std::ios::app);
  if (!metrics_) throw file_error(metrics_path, "cannot open for writing");
  events_ = std::make_unique<EventFileWriter>(new_event_file_path(events_folder.string()));
}

void TrainerCore::log_metrics(const nlohmann::json& record) {
  require_finite();  // every rank: no number from a step that did not update is logged
  if (!metrics_.is_open()) return;
  metrics_ << record.dump() << "\n" << std::flush;
  const auto step = record.find("step");
  if (!events_ || step == record.end() || !step->is_number_integer()) return;
  const auto scalars = tensorboard_scalars(record);
  if (!scalars.empty()) events_->add_scalars(step->get<int64_t>(), scalars);
}

std::string TrainerCore::checkpoint_root() const { return (fs::path(settings_.output) / "checkpoints").string(); }

std::string TrainerCore::save_checkpoint(const std::string& config_json, const std::string& extra_json, int keep) {
  if (!is_main()) return "";
  require_finite();
  update_->sync_step_counts();  // fp16 may have skipped steps the host did not see
  CheckpointContents contents{progress_, config_json, extra_json};
  contents.progress.loss_scale = loss_scale();
  contents.progress.world_size = group_->world_size();
  return electra::save_checkpoint(checkpoint_root(), *model_, *optimizer_, contents, keep);
}

CheckpointContents TrainerCore::restore(const std::string& dir) {
  auto contents = load_checkpoint(dir, *model_, *optimizer_);
  update_->reload();
  progress_ = contents.progress;
  progress_.world_size = group_->world_size();
  scaler_.set_scale(progress_.loss_scale);
  return contents;
}

std::string TrainerCore::resume(const std::string& none, const std::function<void(const std::string&)>& restore) {
  const auto checkpoints = list_checkpoints(checkpoint_root());
  if (checkpoints.empty()) throw file_error(settings_.output, none);
  const auto& latest = checkpoints.back();
  try {
    restore(latest);
    resumed_step_ = progress_.step;
  } catch (const Error& e) {
    if (checkpoints.size() < 2) throw;
    // Reported, not skipped: resuming silently from an older checkpoint would drop steps and
    // let pruning delete the damaged one.
    throw Error(std::string(e.what()) + "; the checkpoint before it, " + checkpoints[checkpoints.size() - 2] +
                ", may be intact: move " + latest + " out of checkpoints/ and run --resume again");
  }
  return latest;
}

void TrainerCore::remove_checkpoints() {
  if (!is_main()) return;
  std::error_code ec;
  fs::remove_all(checkpoint_root(), ec);
}

std::vector<Scalar> tensorboard_scalars(const nlohmann::json& record) {
  std::string prefix;
  const auto split = record.find("split");
  if (split != record.end() && split->is_string()) {
    const auto name = split->get<std::string>();
    // "eval" is the tag prefix transformers' Trainer uses for evaluations.
    prefix = (name == "dev" || name == "eval" ? std::string("eval") : name) + "/";
  }
  std::vector<Scalar> out;
  for (const auto& [key, value] : record.items()) {
    if (key == "split" || key == "step" || !value.is_number()) continue;  // booleans are not numbers here
    const double v = value.get<double>();
    if (std::isfinite(v)) out.push_back({prefix + key, static_cast<float>(v)});
  }
  return out;
}

size_t drop_metrics_after(const std::string& path, int64_t step) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return 0;
  const std::string bytes = read_text_file(path);
  std::string kept;
  size_t dropped = 0;
  for (size_t at = 0; at < bytes.size();) {
    const auto end = bytes.find('\n', at);
    if (end == std::string::npos) {  // a line cut short by a crash
      ++dropped;
      break;
    }
    const auto line = std::string_view(bytes).substr(at, end + 1 - at);
    at = end + 1;
    // Lines that are not records with a step are kept: they are not ours to judge.
    const auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (record.is_object() && record.contains("step") && record["step"].is_number_integer() &&
        record["step"].get<int64_t>() > step) {
      ++dropped;
      continue;
    }
    kept += line;
  }
  if (dropped > 0) write_file_atomic(path, kept);
  return dropped;
}

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, seconds));
  char out[32];
  std::snprintf(out, sizeof out, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  return out;
}

}  // namespace electra
