#pragma once
// A small rule-based sentence splitter for running prose (corpus mode "prose").
//
// A sentence ends after a run of '.', '!' or '?' (closing quotes and brackets
// right after it belong to the sentence: `."`, `?)`, `!”`) when the run is followed
// by whitespace and then by an uppercase letter, a digit or an opening quote or
// bracket. A '.' does not end a sentence after
//   - a common abbreviation (Mr. Mrs. Ms. Dr. Prof. St. Jr. Sr. Rev. Gen. Col. Capt.
//     Lt. Sgt. Gov. Sen. Rep. Hon. Mt. Ft. vs. cf. viz. approx. fig. vol. pp. al.
//     e.g. i.e., compared without case),
//   - a single letter (initials: "G. K. Chesterton"),
//   - a word made of one- or two-letter parts joined by dots ("U.S.", "a.m.").
// Text at the end of the paragraph is a sentence even without final punctuation.
// Hyphenated line ends are not rejoined ("self-\ndenying" becomes "self- denying").
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace electra {

// Sentences of one paragraph (lines already joined), trimmed, none empty.
std::vector<std::string> split_sentences(std::string_view paragraph);

// The same rule, fed one line at a time (the lines of a hard-wrapped paragraph are
// joined with a space): sentences are handed out as soon as their end is certain,
// so a paragraph is never held whole. A sentence with no end within 1 MiB is cut at
// its last space before that (or at 1 MiB).
class SentenceSplitter {
 public:
  // Adds a line of the current paragraph (valid UTF-8); appends finished sentences to `out`.
  void add_line(std::string_view line, std::vector<std::string>& out);
  // Ends the paragraph: appends what is left as a sentence (if not empty).
  void finish(std::vector<std::string>& out);
  bool empty() const { return buffer_.empty(); }

 private:
  void extract(std::vector<std::string>& out);
  std::string buffer_;     // text of the paragraph not handed out yet
  std::size_t scan_ = 0;   // where the search for the next sentence end resumes
};

}  // namespace electra
