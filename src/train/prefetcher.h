#pragma once
// Internal: runs `produce` on a background thread, up to `depth` results ahead of the consumer,
// so that reading and collating the next batches overlaps the current step's compute. Results
// come out in the order they were produced; an exception thrown by `produce` is rethrown by the
// next() that would have returned its result. depth 0 runs `produce` inline in next().
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace electra {

template <typename T>
class Prefetcher {
 public:
  Prefetcher(std::function<T()> produce, int depth) : produce_(std::move(produce)), depth_(depth) {
    if (depth_ > 0) worker_ = std::thread([this] { work(); });
  }
  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    if (worker_.joinable()) worker_.join();
  }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  T next() {
    if (depth_ <= 0) return produce_();
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return !ready_.empty() || error_; });
    if (ready_.empty()) std::rethrow_exception(error_);
    T out = std::move(ready_.front());
    ready_.pop_front();
    changed_.notify_all();
    return out;
  }

 private:
  void work() {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return stopping_ || static_cast<int>(ready_.size()) < depth_; });
        if (stopping_) return;
      }
      try {
        T item = produce_();
        std::lock_guard<std::mutex> lock(mutex_);
        ready_.push_back(std::move(item));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        error_ = std::current_exception();
        changed_.notify_all();
        return;
      }
      changed_.notify_all();
    }
  }

  std::function<T()> produce_;
  int depth_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<T> ready_;
  std::exception_ptr error_;
  bool stopping_ = false;
  std::thread worker_;  // last: starts after every member it reads is built
};

}  // namespace electra
