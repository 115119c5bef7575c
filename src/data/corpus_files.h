#pragma once
// Corpus input files: which files a list of inputs names, and reading their lines as
// clean UTF-8. Shared by vocabulary training (electra-vocab) and data preparation
// (electra-prepare). No LibTorch (library electra_text).
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace electra {

// Expands corpus inputs into a sorted, de-duplicated list of regular files:
//   - a file stands for itself (whatever its name);
//   - a directory for every *.txt file below it, recursively (hidden files included,
//     symbolic links to files followed, links to directories not);
//   - a pattern with *, ? or [ for what glob(3) matches; a matched directory expands as above.
// Paths are compared after lexical normalization ("a/./b.txt" and "a/b.txt" are one file).
// Throws electra::Error naming every input that yields no file (missing path, empty
// directory, pattern that matches nothing).
std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs);

// What CorpusLineReader has read so far.
struct CorpusStats {
  std::size_t files_total = 0;      // files to read
  std::size_t files_done = 0;       // files opened so far (the current one included)
  std::uint64_t bytes_total = 0;    // sum of the file sizes (for progress)
  std::uint64_t bytes_read = 0;     // bytes consumed, line ends and invalid bytes included
  std::uint64_t lines = 0;          // lines returned (blank ones included)
  std::uint64_t invalid_bytes = 0;  // bytes of ill-formed UTF-8 removed
  std::string first_invalid;        // "<file>:<line>" of the first ill-formed UTF-8, or empty
};

// Reads the lines of several files in order. A line comes back without its "\n" or
// "\r\n", with ill-formed UTF-8 removed (every byte of each ill-formed sequence is dropped
// and counted in stats().invalid_bytes, the Unicode rule for maximal ill-formed subparts).
// A last line without a newline is still a line. Throws electra::Error naming the file
// when one cannot be opened or read.
class CorpusLineReader {
 public:
  explicit CorpusLineReader(std::vector<std::string> files);
  ~CorpusLineReader();
  CorpusLineReader(const CorpusLineReader&) = delete;
  CorpusLineReader& operator=(const CorpusLineReader&) = delete;

  // The next line into `line`; false when every file has been read.
  bool next(std::string& line);
  const CorpusStats& stats() const { return stats_; }
  // File of the line last returned (empty before the first).
  const std::string& current_file() const;

 private:
  bool open_next_file();

  std::vector<std::string> files_;
  std::size_t next_file_ = 0;
  std::unique_ptr<std::ifstream> in_;
  std::uint64_t line_in_file_ = 0;
  std::string raw_;
  CorpusStats stats_;
};

// Removes ill-formed UTF-8 from `text` in place; returns the number of bytes removed.
std::size_t remove_invalid_utf8(std::string& text);

}  // namespace electra
