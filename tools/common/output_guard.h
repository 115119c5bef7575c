#pragma once
// A run folder that already holds a run is never written over by accident: continuing it takes
// --resume, replacing it --overwrite, and then only once every input has been read and checked.
// Two runs never share a folder: the first holds a lock on it until it exits.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "electra/dist/distributed.h"
#include "electra/util/error.h"

namespace electra::tools {

class RunFolder {
 public:
  // `products` are the names a run writes in `folder` (checkpoints, exported models, metrics).
  // Rank 0 locks the folder and looks; every rank learns the verdict, so no rank starts while
  // another refuses. Nothing is removed here.
  RunFolder(std::string folder, std::vector<std::string> products, bool resume, bool overwrite,
            std::shared_ptr<Distributed> distributed)
      : folder_(std::move(folder)), products_(std::move(products)), overwrite_(overwrite && !resume),
        distributed_(std::move(distributed)) {
    namespace fs = std::filesystem;
    std::string problem;
    if (distributed_->is_main()) {
      try {
        lock();
        if (!resume && !overwrite) {
          std::string found;
          std::error_code ec;
          for (const auto& name : products_) {
            if (fs::exists(fs::path(folder_) / name, ec)) found += (found.empty() ? "" : ", ") + name;
          }
          if (!found.empty()) {
            problem = folder_ + ": already holds a run (" + found +
                      "); continue it with --resume, replace it with --overwrite, or choose another --output";
          }
        }
      } catch (const Error& e) {
        problem = e.what();
      }
    }
    if (distributed_->sum({problem.empty() ? 0.0 : 1.0})[0] == 0) return;
    throw Error(problem.empty() ? folder_ + ": rank 0 refused to use this output folder" : problem);
  }
  ~RunFolder() {
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  // With --overwrite, removes the earlier run's products (rank 0). Called once the inputs are
  // known to be good, just before training: a mistyped --model or --data loses nothing.
  void replace_earlier_run() {
    namespace fs = std::filesystem;
    if (!overwrite_ || !distributed_->is_main()) return;
    std::error_code ec;
    for (const auto& name : products_) {
      const fs::path path = fs::path(folder_) / name;
      if (!fs::exists(path, ec)) continue;
      fs::remove_all(path, ec);
      if (ec) throw file_error(path.string(), "cannot remove for --overwrite: " + ec.message());
    }
  }

 private:
  void lock() {
    std::error_code ec;
    std::filesystem::create_directories(folder_, ec);
    if (ec) throw file_error(folder_, "cannot create the output folder: " + ec.message());
    const std::string path = (std::filesystem::path(folder_) / ".electra-lock").string();
    lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (lock_fd_ < 0) throw file_error(path, "cannot open the run folder's lock file");
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      char holder[32] = {};
      const auto n = ::pread(lock_fd_, holder, sizeof holder - 1, 0);
      throw file_error(folder_, "another run is using this output folder" +
                                    (n > 0 ? " (process " + std::string(holder, static_cast<size_t>(n)) + ")" : std::string()) +
                                    "; wait for it to finish or choose another --output");
    }
    // The pid is only for the message above: failing to write it does not matter.
    const std::string pid = std::to_string(::getpid());
    if (::ftruncate(lock_fd_, 0) == 0) [[maybe_unused]] const auto written = ::pwrite(lock_fd_, pid.data(), pid.size(), 0);
  }

  std::string folder_;
  std::vector<std::string> products_;
  bool overwrite_;
  std::shared_ptr<Distributed> distributed_;
  int lock_fd_ = -1;
};

}  // namespace electra::tools
