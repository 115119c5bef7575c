#include "electra/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <streambuf>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "electra/io/safetensors.h"
#include "electra/io/state_dict.h"
#include "electra/util/error.h"
#include "util/files.h"
#include "util/json_reader.h"

namespace fs = std::filesystem;

namespace electra {
namespace {

using json = nlohmann::json;

std::string step_name(int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%09lld", static_cast<long long>(step));
  return name;
}

std::vector<fs::path> complete_checkpoints(const std::string& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const auto name = entry.path().filename().string();
    if (!entry.is_symlink() && entry.is_directory() && name.rfind("step-", 0) == 0 && name.find(".tmp") == std::string::npos &&
        fs::exists(entry.path() / "trainer_state.json")) {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A file stream that never reports a failed write to its writer, only afterwards. LibTorch's zip
// writer turns a failed write (a full disk) into an exception, and then throws again from its
// destructor, which ends the process; this way it finishes, and the failure is a clean error.
class QuietFileBuf : public std::streambuf {
 public:
  explicit QuietFileBuf(const std::string& path) : file_(std::fopen(path.c_str(), "wb")), path_(path) {
    if (!file_) throw file_error(path, std::string("cannot create: ") + std::strerror(errno));
  }
  ~QuietFileBuf() override {
    if (file_) std::fclose(file_);
  }
  // Flushes and closes; throws naming the file when any write failed.
  void close() {
    const bool flushed = std::fflush(file_) == 0;
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    if (failed_ || !flushed || !closed) throw file_error(path_, "write failed (disk full?)");
  }

 protected:
  std::streamsize xsputn(const char* data, std::streamsize n) override {
    if (!failed_ && std::fwrite(data, 1, static_cast<size_t>(n), file_) != static_cast<size_t>(n)) failed_ = true;
    return n;
  }
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      const char byte = traits_type::to_char_type(c);
      xsputn(&byte, 1);
    }
    return traits_type::not_eof(c);
  }

 private:
  std::FILE* file_;
  std::string path_;
  bool failed_ = false;
};

void save_optimizer(torch::optim::Optimizer& optimizer, const std::string& path) {
  QuietFileBuf buffer(path);
  std::ostream out(&buffer);
  torch::save(optimizer, out);
  buffer.close();
}

// What a checkpoint folder holds besides trainer_state.json (which lists their checksums).
constexpr const char* kCheckpointFiles[] = {"model.safetensors", "optimizer.pt", "rng.safetensors"};

torch::Device model_device(const torch::nn::Module& model) {
  const auto params = model.parameters();
  return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
}

}  // namespace

std::string save_checkpoint(const std::string& root, const torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                            const CheckpointContents& contents, int keep) {
  const fs::path final_dir = fs::path(root) / step_name(contents.progress.step);
  const fs::path tmp_dir = fs::path(root) / (step_name(contents.progress.step) + ".tmp");
  std::error_code ec;
  // Folders left by a run that crashed while writing one: never complete, never resumed from.
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("step-", 0) == 0 && name.find(".tmp") != std::string::npos) fs::remove_all(entry.path(), ec);
  }
  fs::create_directories(tmp_dir, ec);
  if (ec) throw file_error(tmp_dir.string(), "cannot create checkpoint folder: " + ec.message());

  try {
    save_safetensors((tmp_dir / "model.safetensors").string(), named_tensors(model));
    save_optimizer(optimizer, (tmp_dir / "optimizer.pt").string());
    NamedTensors rng = {{"global", at::detail::getDefaultCPUGenerator().get_state()}};
    const auto device = model_device(model);
    if (device.is_cuda()) rng.emplace_back("cuda", at::globalContext().defaultGenerator(device).get_state());
    save_safetensors((tmp_dir / "rng.safetensors").string(), rng);
    const auto& p = contents.progress;
    json state = {{"format_version", kCheckpointFormatVersion},
                  {"step", p.step},
                  {"epoch", p.epoch},
                  {"cursor", p.cursor},
                  {"tokens_seen", p.tokens_seen},
                  {"elapsed_seconds", p.elapsed_seconds},
                  {"loss_scale", p.loss_scale},
                  {"world_size", p.world_size},
                  {"config", json::parse(contents.config_json)},
                  {"extra", json::parse(contents.extra_json)}};
    for (const auto* name : kCheckpointFiles) state["checksums"][name] = file_checksum((tmp_dir / name).string());
    write_file_atomic((tmp_dir / "trainer_state.json").string(), state.dump(2) + "\n");
  } catch (...) {
    fs::remove_all(tmp_dir, ec);  // the earlier checkpoints stay as they were
    throw;
  }

  fs::remove_all(final_dir, ec);
  fs::rename(tmp_dir, final_dir, ec);
  if (ec) throw file_error(final_dir.string(), "cannot move the checkpoint into place: " + ec.message());

  auto all = complete_checkpoints(root);
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i) fs::remove_all(all[i], ec);
  return final_dir.string();
}

std::vector<std::string> list_checkpoints(const std::string& root) {
  std::vector<std::string> out;
  for (const auto& dir : complete_checkpoints(root)) out.push_back(dir.string());
  return out;
}

void require_resumable_config(const std::string& checkpoint, const CheckpointContents& contents,
                              const std::string& config_json, const std::vector<std::string>& sections,
                              const std::vector<std::string>& train_keys) {
  const auto saved = json::parse(contents.config_json), now = json::parse(config_json);
  for (const auto& key : sections) {
    if (saved.value(key, json()) != now.value(key, json())) {
      throw file_error(checkpoint, "this checkpoint was trained with a different \"" + key +
                                       "\" section; resume with the config in its trainer_state.json");
    }
  }
  // Both trainers' configs always carry a train section.
  for (const auto& key : train_keys) {
    const json was = saved.at("train").value(key, json());
    if (was != now.at("train").value(key, json())) {
      throw file_error(checkpoint, "train." + key + " differs from the checkpoint's (" + was.dump() +
                                       "); it must match to continue exactly");
    }
  }
}

std::string latest_checkpoint(const std::string& root) {
  const auto all = list_checkpoints(root);
  return all.empty() ? "" : all.back();
}

CheckpointContents load_checkpoint(const std::string& dir, torch::nn::Module& model, torch::optim::Optimizer& optimizer) {
  const std::string state_path = (fs::path(dir) / "trainer_state.json").string();
  const json state = parse_json(read_text_file(state_path), state_path);
  CheckpointContents c;
  try {
    const int version = state.at("format_version").get<int>();
    if (version > kCheckpointFormatVersion) {
      throw file_error(state_path, "checkpoint format " + std::to_string(version) + " is newer than this build supports (" +
                                       std::to_string(kCheckpointFormatVersion) + ")");
    }
    c.progress.step = state.at("step").get<int64_t>();
    c.progress.epoch = state.at("epoch").get<int64_t>();
    c.progress.cursor = state.at("cursor").get<int64_t>();
    c.progress.tokens_seen = state.at("tokens_seen").get<int64_t>();
    c.progress.elapsed_seconds = state.at("elapsed_seconds").get<double>();
    c.progress.loss_scale = state.value("loss_scale", 0.0);
    c.progress.world_size = state.value("world_size", int64_t{1});
    c.config_json = state.at("config").dump();
    c.extra_json = state.value("extra", json::object()).dump();
  } catch (const json::exception& e) {
    throw file_error(state_path, std::string("corrupt trainer state: ") + e.what());
  }
  for (const auto* name : kCheckpointFiles) {
    const auto path = (fs::path(dir) / name).string();
    std::error_code ec;
    if (fs::is_symlink(path, ec)) throw file_error(path, "is a symbolic link; a checkpoint holds its own files");
    require_regular_file(path, 1ull << 40);
    // Checkpoints written before checksums were recorded have none to compare.
    const auto recorded = state.contains("checksums") ? state["checksums"].value(name, std::string()) : std::string();
    if (!recorded.empty() && file_checksum(path) != recorded) {
      throw file_error(path, "does not match the checksum recorded in trainer_state.json: the file was damaged or "
                             "changed after the checkpoint was written");
    }
  }
  SafetensorsFile weights((fs::path(dir) / "model.safetensors").string());
  load_state_dict(model, weights);
  const auto device = model_device(model);
  const std::string optimizer_path = (fs::path(dir) / "optimizer.pt").string();
  try {
    torch::load(optimizer, optimizer_path, device);
  } catch (const c10::Error& e) {
    throw file_error(optimizer_path, std::string("cannot read optimizer state: ") + e.what_without_backtrace());
  }
  SafetensorsFile rng((fs::path(dir) / "rng.safetensors").string());
  auto global = at::detail::getDefaultCPUGenerator();  // a handle; the state is shared
  global.set_state(rng.load("global"));
  if (device.is_cuda() && rng.contains("cuda")) {
    auto cuda = at::globalContext().defaultGenerator(device);
    cuda.set_state(rng.load("cuda"));
  }
  return c;
}

}  // namespace electra
