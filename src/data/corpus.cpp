#include "data/corpus.h"

#include "../tokenization/unicode.h"
#include "electra/util/error.h"

namespace electra {
namespace {

bool is_space_cp(char32_t cp) {
  switch (cp) {
    case ' ': case '\t': case '\n': case '\r': case '\f': case '\v':
    case 0x0085: case 0x00A0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
    case 0x205F: case 0x3000: case 0xFEFF:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

// Start of the character that ends just before `end` (end > 0).
std::size_t previous_char(std::string_view text, std::size_t end) {
  std::size_t pos = end - 1;
  for (int k = 0; k < 3 && pos > 0 && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80; ++k) --pos;
  return pos;
}

}  // namespace

CorpusMode parse_corpus_mode(std::string_view name) {
  if (name == "lines") return CorpusMode::lines;
  if (name == "prose") return CorpusMode::prose;
  throw Error("unknown corpus mode '" + std::string(name) + "' (expected lines or prose)");
}

const char* to_string(CorpusMode mode) { return mode == CorpusMode::lines ? "lines" : "prose"; }

std::size_t Document::text_bytes() const {
  std::size_t bytes = 0;
  for (const auto& s : sentences) bytes += s.size();
  return bytes;
}

std::string_view trim_whitespace(std::string_view text) {
  std::size_t begin = 0, end = text.size();
  while (begin < end) {
    const auto d = unicode::decode_utf8(text, begin);
    if (!d.valid || !is_space_cp(d.cp)) break;
    begin += d.length;
  }
  while (end > begin) {
    const std::size_t start = previous_char(text, end);
    if (start < begin) break;
    const auto d = unicode::decode_utf8(text, start);
    if (!d.valid || start + d.length != end || !is_space_cp(d.cp)) break;
    end = start;
  }
  return text.substr(begin, end - begin);
}

namespace {
std::vector<std::string> paths_of(const std::vector<CorpusFile>& files) {
  std::vector<std::string> paths;
  paths.reserve(files.size());
  for (const auto& f : files) paths.push_back(f.path);
  return paths;
}
}  // namespace

CorpusReader::CorpusReader(std::vector<CorpusFile> files, CorpusOptions options)
    : files_(std::move(files)), options_(options), lines_(paths_of(files_)) {
  if (options_.max_document_sentences == 0) throw Error("corpus: max_document_sentences must be at least 1");
}

void CorpusReader::take(Document& document) {
  for (auto& s : split_) document.sentences.push_back(std::move(s));
  sentences_ += split_.size();
  split_.clear();
}

void CorpusReader::end_paragraph(Document& document) {
  splitter_.finish(split_);
  take(document);
}

bool CorpusReader::next(Document& document) {
  document.sentences.clear();
  document.file_index = current_file_;
  auto finish = [&] {
    if (!document.sentences.empty()) ++documents_;
    return !document.sentences.empty();
  };
  while (!done_) {
    if (!pending_) {
      if (!lines_.next(line_)) {  // the end of the corpus ends the last document
        done_ = true;
        end_paragraph(document);
        return finish();
      }
      pending_ = true;
    }
    const std::size_t file = lines_.stats().files_done - 1;
    if (file != current_file_) {  // the first line of a file: the end of the previous one ends the document
      end_paragraph(document);
      blank_run_ = 0;
      current_file_ = file;
      if (finish()) return true;
      document.file_index = current_file_;
    }
    pending_ = false;
    if (add_line(document)) return finish();
  }
  return false;
}

bool CorpusReader::add_line(Document& document) {
  const auto text = trim_whitespace(line_);
  if (files_[current_file_].mode == CorpusMode::lines) {
    if (text.empty()) return !document.sentences.empty();
    document.sentences.emplace_back(text);
    ++sentences_;
    return document.sentences.size() >= options_.max_document_sentences;
  }
  if (text.empty()) {
    ++blank_run_;
    if (blank_run_ == 1) {  // the end of a paragraph
      end_paragraph(document);
      if (document.sentences.size() >= options_.prose_document_sentences) return true;
    }
    return blank_run_ >= 2 && document.sentences.size() >= options_.min_section_sentences;
  }
  blank_run_ = 0;
  splitter_.add_line(text, split_);
  take(document);
  return document.sentences.size() >= options_.max_document_sentences;
}

}  // namespace electra
