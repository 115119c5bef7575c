#pragma once
// File helpers shared by every reader and writer of both libraries (no LibTorch here).
#include <fstream>
#include <string>

namespace electra {

// What a reader of outside files accepts by default: a file of this size is a mistake.
constexpr unsigned long long kMaxTextFileBytes = 1ull << 30;

// Throws electra::Error naming the path unless it is (or links to) a regular file of at most
// max_bytes: a FIFO, a device such as /dev/zero or a huge file would hang or exhaust memory.
void require_regular_file(const std::string& path, unsigned long long max_bytes = kMaxTextFileBytes);

// Whole file as bytes (require_regular_file first); throws electra::Error naming the path.
std::string read_text_file(const std::string& path, unsigned long long max_bytes = kMaxTextFileBytes);
// Writes `path` through a temporary file in the same folder and a rename, so a crash
// never leaves a half-written file behind and an existing file is replaced only on success.
void write_file_atomic(const std::string& path, const std::string& bytes);

// A 64-bit checksum of the file's bytes as 16 hex digits (for checkpoints: a flipped byte is
// found before it is trained on). Throws electra::Error naming the path when it cannot be read.
std::string file_checksum(const std::string& path);

// A temporary name beside `path` (same folder: the rename is atomic) for a file that something
// else writes (a FILE*, SentencePiece). commit() renames it into place; until then `path` is
// untouched, and the temporary file is removed when this goes out of scope. With
// keep_extension, the temporary name ends like `path` ("v.tmp123.model" for "v.model").
class TemporaryPath {
 public:
  explicit TemporaryPath(std::string path, bool keep_extension = false);
  ~TemporaryPath();
  TemporaryPath(const TemporaryPath&) = delete;
  TemporaryPath& operator=(const TemporaryPath&) = delete;

  const std::string& path() const { return tmp_; }    // write here
  const std::string& target() const { return path_; }
  void commit();  // throws electra::Error naming the target when the rename fails

 private:
  std::string path_, tmp_;
  bool committed_ = false;
};

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
  TemporaryPath tmp_;
  std::ofstream out_;
};

}  // namespace electra
