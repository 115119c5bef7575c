#pragma once
// Raw text corpora for pre-training (reference doc section 4), read as a stream of
// documents, each a list of sentences. Nothing but the document being read is held
// in memory: files are read line by line, one at a time.
//
// Two layouts:
//   lines (the official builder's format): one sentence per line; a blank line
//     (empty or whitespace only) ends a document, and so does the end of a file.
//   prose (books, articles): paragraphs separated by blank lines, hard-wrapped lines
//     inside a paragraph joined with a space, and each paragraph split into sentences
//     by the rules of data/sentence_splitter.h. A document is a chapter-sized run of
//     paragraphs: it ends at a section break (two or more blank lines in a row, as
//     between the chapters of a Project Gutenberg book or the articles and sections of
//     WikiText) once it holds at least `min_section_sentences`, at the first paragraph
//     end once it holds `prose_document_sentences`, and at the end of the file.
// In both layouts a document is cut after `max_document_sentences` sentences, which
// bounds memory on inputs without any blank line (the rest starts a new document).
//
// Text handling: lines come from CorpusLineReader (data/corpus_files.h): "\r\n" line
// ends are accepted and bytes that are not well-formed UTF-8 are removed and counted
// (line_stats().invalid_bytes), never passed on. Sentences are trimmed of Unicode
// whitespace (a byte order mark included). A line is held whole while it is read (in
// prose mode a paragraph is not: finished sentences are handed out as they come).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/corpus_files.h"
#include "data/sentence_splitter.h"

namespace electra {

enum class CorpusMode { lines, prose };

// "lines" / "prose"; throws electra::Error naming the accepted values otherwise.
CorpusMode parse_corpus_mode(std::string_view name);
const char* to_string(CorpusMode mode);

struct CorpusOptions {
  std::size_t min_section_sentences = 16;      // prose: a section break ends a document this long
  std::size_t prose_document_sentences = 512;  // prose: a paragraph end ends a document this long
  std::size_t max_document_sentences = 100000; // both modes: hard cap (memory bound)
};

struct CorpusFile {
  std::string path;
  CorpusMode mode = CorpusMode::lines;
};

struct Document {
  std::vector<std::string> sentences;  // trimmed, non-empty, valid UTF-8
  std::size_t file_index = 0;          // index into the reader's file list
  std::size_t text_bytes() const;
};

// `text` without leading and trailing whitespace (ASCII and Unicode spaces, U+FEFF).
std::string_view trim_whitespace(std::string_view text);

class CorpusReader {
 public:
  // Files are read in the given order. Throws electra::Error naming a file that
  // cannot be opened or read, when it is reached.
  explicit CorpusReader(std::vector<CorpusFile> files, CorpusOptions options = {});

  // The next document with at least one sentence; false at the end of the corpus.
  bool next(Document& document);

  const std::vector<CorpusFile>& files() const { return files_; }
  const CorpusStats& line_stats() const { return lines_.stats(); }  // files, bytes, invalid bytes
  std::uint64_t documents() const { return documents_; }
  std::uint64_t sentences() const { return sentences_; }

 private:
  bool add_line(Document& document);  // true when the line ends the document
  void end_paragraph(Document& document);
  void take(Document& document);

  std::vector<CorpusFile> files_;
  CorpusOptions options_;
  CorpusLineReader lines_;
  std::string line_;
  bool pending_ = false;                  // line_ is read but not used yet
  bool done_ = false;
  std::size_t current_file_ = static_cast<std::size_t>(-1);
  SentenceSplitter splitter_;             // prose: the paragraph being read
  std::vector<std::string> split_;        // prose: sentences just split
  std::size_t blank_run_ = 0;             // prose: blank lines just read
  std::uint64_t documents_ = 0, sentences_ = 0;
};

}  // namespace electra
