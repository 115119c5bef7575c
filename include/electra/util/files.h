#pragma once
// File helpers shared by every reader and writer of both libraries (no LibTorch here).
#include <fstream>
#include <string>

namespace electra {

// Whole file as bytes; throws electra::Error naming the path when it cannot be read.
std::string read_text_file(const std::string& path);
// Writes `path` through a temporary file in the same folder and a rename, so a crash
// never leaves a half-written file behind and an existing file is replaced only on success.
void write_file_atomic(const std::string& path, const std::string& bytes);

// The same for files written piece by piece: write to stream(), then commit(). Without
// commit() (an exception on the way), the temporary file is removed and `path` untouched.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ostream& stream() { return out_; }
  void commit();

 private:
  std::string path_, tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

}  // namespace electra
