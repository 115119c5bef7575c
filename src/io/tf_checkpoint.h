#pragma once
// TensorFlow checkpoints (the V2 tensor bundle: <prefix>.index, an SSTable of BundleEntryProto,
// and <prefix>.data-NNNNN-of-NNNNN, raw tensor bytes), read without TensorFlow.
#include <string>
#include <vector>

#include <torch/types.h>

namespace electra {

struct TfVariable {
  std::string name;  // "electra/encoder/layer_0/attention/self/query/kernel"
  torch::ScalarType dtype;
  std::vector<int64_t> shape;
};

class TfCheckpoint {
 public:
  // `path`: the prefix ("dir/model.ckpt"), its .index file, or a directory holding one
  // checkpoint (the one its `checkpoint` file names when there are several). The whole index
  // is read and validated here; throws electra::Error naming the file and the problem.
  explicit TfCheckpoint(const std::string& path);
  ~TfCheckpoint();
  TfCheckpoint(const TfCheckpoint&) = delete;
  TfCheckpoint& operator=(const TfCheckpoint&) = delete;

  const std::string& prefix() const { return prefix_; }
  const std::vector<TfVariable>& variables() const { return variables_; }  // sorted by name
  bool contains(const std::string& name) const;
  // A CPU tensor with the stored dtype; its bytes are checked against the stored CRC32C.
  torch::Tensor load(const std::string& name) const;

 private:
  struct Entry;
  std::string prefix_;
  std::vector<TfVariable> variables_;
  std::vector<Entry> entries_;  // parallel to variables_
  std::vector<std::string> data_files_;
};

}  // namespace electra
