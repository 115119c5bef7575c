#include "data/corpus_files.h"

#include <glob.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "../tokenization/unicode.h"
#include "electra/util/error.h"

namespace electra {
namespace fs = std::filesystem;
namespace {

bool is_pattern(const std::string& input) { return input.find_first_of("*?[") != std::string::npos; }

bool is_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);  // follows symbolic links
}

bool is_dir(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

// Every *.txt file below `directory`; throws on a directory that cannot be walked.
void add_directory(const fs::path& directory, std::vector<std::string>& out) {
  std::error_code ec;
  fs::recursive_directory_iterator it(directory, fs::directory_options::skip_permission_denied, ec);
  const fs::recursive_directory_iterator end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path& path = it->path();
    if (path.extension() == ".txt" && is_file(path)) out.push_back(path.string());
  }
  if (ec) throw file_error(directory.string(), "cannot list the directory (" + ec.message() + ")");
}

// Files one input names; empty when it names none.
std::vector<std::string> expand_one(const std::string& input) {
  std::vector<std::string> out;
  if (is_dir(input)) {
    add_directory(input, out);
  } else if (is_file(input)) {
    out.push_back(input);
  } else if (is_pattern(input)) {
    glob_t matches{};
    const int rc = ::glob(input.c_str(), 0, nullptr, &matches);
    if (rc == 0) {
      for (std::size_t i = 0; i < matches.gl_pathc; ++i) {
        const std::string match = matches.gl_pathv[i];
        if (is_dir(match)) {
          add_directory(match, out);
        } else if (is_file(match)) {
          out.push_back(match);
        }
      }
    }
    ::globfree(&matches);
    if (rc != 0 && rc != GLOB_NOMATCH) {
      throw Error("input '" + input + "': the pattern could not be expanded (glob error " + std::to_string(rc) + ")");
    }
  }
  return out;
}

std::string why_nothing(const std::string& input) {
  if (is_dir(input)) return "directory has no *.txt file";
  std::error_code ec;
  if (fs::exists(input, ec)) return "is neither a regular file nor a directory";
  if (is_pattern(input)) return "pattern matches no file";
  return "no such file or directory";
}

}  // namespace

std::vector<std::string> expand_inputs(const std::vector<std::string>& inputs) {
  if (inputs.empty()) throw Error("no corpus input given (expected files, directories or glob patterns)");
  std::vector<std::string> files;
  std::vector<std::string> problems;
  for (const auto& input : inputs) {
    auto found = expand_one(input);
    if (found.empty()) problems.push_back("'" + input + "' (" + why_nothing(input) + ")");
    for (auto& file : found) files.push_back(fs::path(file).lexically_normal().string());
  }
  if (!problems.empty()) {
    std::string message = problems.size() == 1 ? "corpus input " : "corpus inputs ";
    for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? ", " : "") + problems[i];
    throw Error(message + ": no text file to read");
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

std::size_t remove_invalid_utf8(std::string& text) {
  std::size_t i = 0;
  while (i < text.size() && static_cast<unsigned char>(text[i]) < 0x80) ++i;
  if (i == text.size()) return 0;  // ASCII: the common case
  std::size_t kept = i;
  std::size_t removed = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      text[kept++] = text[i++];
      continue;
    }
    const unicode::Decoded d = unicode::decode_utf8(text, i);
    if (d.valid) {
      for (std::size_t k = 0; k < d.length; ++k) text[kept++] = text[i + k];
    } else {
      removed += d.length;
    }
    i += d.length;
  }
  text.resize(kept);
  return removed;
}

CorpusLineReader::CorpusLineReader(std::vector<std::string> files) : files_(std::move(files)) {
  stats_.files_total = files_.size();
  for (const auto& file : files_) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (!ec) stats_.bytes_total += size;
  }
}

CorpusLineReader::~CorpusLineReader() = default;

const std::string& CorpusLineReader::current_file() const {
  static const std::string none;
  return next_file_ == 0 ? none : files_[next_file_ - 1];
}

bool CorpusLineReader::open_next_file() {
  if (next_file_ == files_.size()) return false;
  const std::string& path = files_[next_file_++];
  if (is_dir(path)) throw file_error(path, "is a directory, not a text file");
  in_ = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*in_) throw file_error(path, std::string("cannot open the file (") + std::strerror(errno) + ")");
  line_in_file_ = 0;
  ++stats_.files_done;
  return true;
}

bool CorpusLineReader::next(std::string& line) {
  while (true) {
    if (!in_ && !open_next_file()) return false;
    if (std::getline(*in_, raw_)) {
      const bool had_newline = !in_->eof();
      stats_.bytes_read += raw_.size() + (had_newline ? 1 : 0);
      ++line_in_file_;
      ++stats_.lines;
      if (!raw_.empty() && raw_.back() == '\r') raw_.pop_back();
      const std::size_t removed = remove_invalid_utf8(raw_);
      if (removed > 0) {
        if (stats_.invalid_bytes == 0) stats_.first_invalid = current_file() + ":" + std::to_string(line_in_file_);
        stats_.invalid_bytes += removed;
      }
      line.swap(raw_);
      return true;
    }
    if (in_->bad()) throw file_error(current_file(), "read error after line " + std::to_string(line_in_file_));
    in_.reset();
  }
}

}  // namespace electra
