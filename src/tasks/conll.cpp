#include "electra/tasks/conll.h"

#include <algorithm>
#include <set>
#include <string_view>

#include "data/corpus_files.h"
#include "electra/util/error.h"

namespace electra {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::int64_t kIgnore = -100;  // the label cross-entropy ignores

std::vector<std::string_view> split_columns(std::string_view line) {
  std::vector<std::string_view> columns;
  std::size_t i = 0;
  while (true) {
    i = line.find_first_not_of(" \t", i);
    if (i == std::string_view::npos) return columns;
    const std::size_t end = std::min(line.find_first_of(" \t", i), line.size());
    columns.push_back(line.substr(i, end - i));
    i = end;
  }
}

// Column `column` of a line with n columns (negative counts from the end); -1 when absent.
long resolve(int column, std::size_t n) {
  const long index = column >= 0 ? column : static_cast<long>(n) + column;
  return index >= 0 && index < static_cast<long>(n) ? index : -1;
}

}  // namespace

std::vector<TaggedSentence> read_conll(const std::string& path, const ConllOptions& options) {
  // CorpusLineReader names the file when it cannot be opened and drops "\r\n"; the bytes
  // it removes as ill-formed UTF-8 are an error here (a word must not change silently).
  CorpusLineReader reader({path});
  std::vector<TaggedSentence> sentences;
  TaggedSentence current;
  bool current_tagged = false;
  const auto finish = [&] {
    if (!current.words.empty()) sentences.push_back(std::move(current));
    current = TaggedSentence{};
  };
  std::string line;
  std::size_t number = 0, column_count = 0, column_line = 0;
  while (reader.next(line)) {
    ++number;
    const std::string where = path + ":" + std::to_string(number);
    if (reader.stats().invalid_bytes > 0) throw Error(where + ": invalid UTF-8");
    std::string_view text = line;
    if (number == 1 && text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
    const auto columns = split_columns(text);
    if (columns.empty() || columns[0] == "-DOCSTART-") {  // both end a sentence
      finish();
      continue;
    }
    // Every line of a CoNLL file has the same columns: a short line would otherwise read its
    // part-of-speech tag as the chunk tag (with tag_column -1, the last column).
    if (column_count == 0) {
      column_count = columns.size();
      column_line = number;
    } else if (columns.size() != column_count) {
      throw Error(where + ": found " + std::to_string(columns.size()) + " column(s), but line " +
                  std::to_string(column_line) + " has " + std::to_string(column_count) +
                  " (every word line needs the same columns)");
    }
    const long word = resolve(options.word_column, columns.size());
    const long tag = resolve(options.tag_column, columns.size());
    const bool tagged = tag >= 0 && tag != word;
    if (word < 0 || (options.require_tags && !tagged))
      throw Error(where + ": found " + std::to_string(columns.size()) + " column(s), but the word is column " +
                  std::to_string(options.word_column) +
                  (options.require_tags ? " and the tag column " + std::to_string(options.tag_column) : std::string()) +
                  " (0-based; negative counts from the end)");
    if (current.words.empty()) {
      current.line = number;
      current_tagged = tagged;
    } else if (tagged != current_tagged) {
      throw Error(where + ": some words of the sentence starting at line " + std::to_string(current.line) +
                  " have a tag and others do not");
    }
    current.words.emplace_back(columns[word]);
    if (tagged) current.tags.emplace_back(columns[tag]);
  }
  finish();
  if (sentences.empty()) throw file_error(path, "no sentence in the file (is it empty?)");
  return sentences;
}

std::vector<std::string> collect_tags(const std::vector<TaggedSentence>& sentences) {
  std::set<std::string> tags;
  for (const auto& sentence : sentences) tags.insert(sentence.tags.begin(), sentence.tags.end());
  return {tags.begin(), tags.end()};
}

TaggingFeature encode_tagged_sentence(const WordPieceTokenizer& tokenizer, const TaggedSentence& sentence,
                                      const std::vector<std::int64_t>& tag_ids, std::size_t max_length) {
  if (!tag_ids.empty() && tag_ids.size() != sentence.words.size())
    throw Error("encode_tagged_sentence: " + std::to_string(tag_ids.size()) + " tag ids for " +
                std::to_string(sentence.words.size()) + " words (sentence at line " + std::to_string(sentence.line) + ")");
  if (max_length < 2)
    throw Error("encode_tagged_sentence: max_length " + std::to_string(max_length) + " cannot hold [CLS] and [SEP]");
  TaggingFeature feature;
  const auto push = [&](std::int32_t id, std::int64_t label, std::int32_t word) {
    feature.input_ids.push_back(id);
    feature.labels.push_back(label);
    feature.word_index.push_back(word);
  };
  push(tokenizer.cls_id(), kIgnore, -1);
  const std::size_t last = max_length - 1;  // room left for [SEP]
  // Truncation is per wordpiece, as with Hugging Face's is_split_into_words: a word whose
  // first piece fits keeps its label even when later pieces are cut.
  for (std::size_t w = 0; w < sentence.words.size() && feature.input_ids.size() < last; ++w) {
    std::vector<Token> pieces = tokenizer.tokenize(sentence.words[w]);
    if (pieces.empty()) pieces.push_back({tokenizer.options().unk_token, tokenizer.unk_id(), 0, 0});
    const std::int64_t label = tag_ids.empty() ? 0 : tag_ids[w];
    for (std::size_t k = 0; k < pieces.size() && feature.input_ids.size() < last; ++k)
      push(pieces[k].id, k == 0 ? label : kIgnore, k == 0 ? static_cast<std::int32_t>(w) : -1);
    ++feature.word_count;
  }
  push(tokenizer.sep_id(), kIgnore, -1);
  return feature;
}

}  // namespace electra
