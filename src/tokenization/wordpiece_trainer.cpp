#include "tokenization/wordpiece_trainer.h"

#include <algorithm>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "electra/tokenization/wordpiece.h"
#include "electra/util/error.h"

namespace electra {
namespace {

constexpr std::uint64_t kReadReportBytes = std::uint64_t{8} << 20;
constexpr std::size_t kMergeReportEvery = 500;

bool is_utf8_lead(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) != 0x80; }

std::size_t count_chars(std::string_view word) {
  return static_cast<std::size_t>(std::count_if(word.begin(), word.end(), is_utf8_lead));
}

// Splits a (valid UTF-8) word into its characters.
template <class Fn>
void for_each_char(std::string_view word, Fn&& fn) {
  std::size_t begin = 0;
  for (std::size_t i = 1; i <= word.size(); ++i) {
    if (i == word.size() || is_utf8_lead(word[i])) {
      fn(word.substr(begin, i - begin), begin == 0);
      begin = i;
    }
  }
}

using PairKey = std::uint64_t;  // (left piece id << 32) | right piece id

PairKey pair_key(std::int32_t left, std::int32_t right) {
  return (static_cast<PairKey>(static_cast<std::uint32_t>(left)) << 32) | static_cast<std::uint32_t>(right);
}

struct HeapEntry {
  std::int64_t count;
  PairKey pair;
};

// Max-heap order: the highest count first; among equal counts, the smaller pair key (the
// pieces that entered the vocabulary first).
bool heap_less(const HeapEntry& a, const HeapEntry& b) {
  return a.count < b.count || (a.count == b.count && a.pair > b.pair);
}

struct Word {
  std::vector<std::int32_t> pieces;
  std::int64_t count;
};

// BPE over the pieces of the words, with pair counts updated incrementally: a merge
// touches only the words that hold the pair (where_), and the heap is corrected lazily
// (an entry whose count is no longer current is pushed again with the current one).
class MergeLearner {
 public:
  MergeLearner(std::vector<Word> words, std::vector<std::string> pieces)
      : words_(std::move(words)), pieces_(std::move(pieces)) {
    for (std::size_t i = 0; i < pieces_.size(); ++i) ids_.emplace(pieces_[i], static_cast<std::int32_t>(i));
    for (std::uint32_t w = 0; w < words_.size(); ++w) {
      const auto& p = words_[w].pieces;
      for (std::size_t i = 0; i + 1 < p.size(); ++i) {
        const PairKey key = pair_key(p[i], p[i + 1]);
        counts_[key] += words_[w].count;
        auto& where = where_[key];
        if (where.empty() || where.back() != w) where.push_back(w);
      }
    }
    heap_.reserve(counts_.size());
    for (const auto& [key, count] : counts_) heap_.push_back({count, key});
    std::make_heap(heap_.begin(), heap_.end(), heap_less);
  }

  // Learns up to `wanted` new pieces (fewer when no pair occurs min_frequency times);
  // returns them in the order learnt.
  std::vector<std::string> learn(std::size_t wanted, std::uint64_t min_frequency,
                                 const std::function<void(std::size_t)>& on_progress) {
    std::vector<std::string> learnt;
    while (learnt.size() < wanted && !heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), heap_less);
      const HeapEntry top = heap_.back();
      heap_.pop_back();
      const auto it = counts_.find(top.pair);
      const std::int64_t current = it == counts_.end() ? 0 : it->second;
      if (current != top.count) {  // stale: counts only fall unless pushed again
        if (current > 0) push(top.pair, current);
        continue;
      }
      if (static_cast<std::uint64_t>(current) < min_frequency) break;
      const auto left = static_cast<std::int32_t>(top.pair >> 32);
      const auto right = static_cast<std::int32_t>(top.pair & 0xFFFFFFFFu);
      std::string merged = pieces_[static_cast<std::size_t>(left)];
      merged.append(std::string_view(pieces_[static_cast<std::size_t>(right)]).substr(2));  // drop "##"
      std::int32_t id;
      if (const auto found = ids_.find(merged); found != ids_.end()) {
        id = found->second;  // the same string from another pair: no new entry
      } else {
        id = static_cast<std::int32_t>(pieces_.size());
        pieces_.push_back(merged);
        ids_.emplace(merged, id);
        learnt.push_back(std::move(merged));
        if (on_progress && learnt.size() % kMergeReportEvery == 0) on_progress(learnt.size());
      }
      apply(top.pair, left, right, id);
    }
    return learnt;
  }

 private:
  void push(PairKey key, std::int64_t count) {
    heap_.push_back({count, key});
    std::push_heap(heap_.begin(), heap_.end(), heap_less);
  }

  void add(PairKey key, std::int64_t delta) {
    auto it = counts_.find(key);
    if (it == counts_.end()) {
      counts_.emplace(key, delta);
    } else if ((it->second += delta) == 0) {
      counts_.erase(it);
    }
  }

  // Replaces every (left, right) in the words that hold it by `id`, updating pair counts.
  void apply(PairKey key, std::int32_t left, std::int32_t right, std::int32_t id) {
    const auto where_it = where_.find(key);
    if (where_it == where_.end()) return;
    const std::vector<std::uint32_t> where = std::move(where_it->second);
    where_.erase(where_it);
    changed_.clear();
    for (const std::uint32_t w : where) {
      auto& pieces = words_[w].pieces;
      const std::int64_t count = words_[w].count;
      merged_.clear();
      for (std::size_t i = 0; i < pieces.size(); ++i) {
        if (i + 1 < pieces.size() && pieces[i] == left && pieces[i + 1] == right) {
          merged_.push_back(id);
          ++i;
        } else {
          merged_.push_back(pieces[i]);
        }
      }
      if (merged_.size() == pieces.size()) continue;  // an old entry: the pair went with an earlier merge
      for (std::size_t i = 0; i + 1 < pieces.size(); ++i) add(pair_key(pieces[i], pieces[i + 1]), -count);
      for (std::size_t i = 0; i + 1 < merged_.size(); ++i) {
        const PairKey p = pair_key(merged_[i], merged_[i + 1]);
        add(p, count);
        if (merged_[i] == id || merged_[i + 1] == id) {
          auto& list = where_[p];
          if (list.empty() || list.back() != w) list.push_back(w);
          changed_.push_back(p);
        }
      }
      pieces.swap(merged_);
    }
    // Only pairs with the new piece can have grown: they get fresh heap entries.
    std::sort(changed_.begin(), changed_.end());
    changed_.erase(std::unique(changed_.begin(), changed_.end()), changed_.end());
    for (const PairKey p : changed_) {
      const auto it = counts_.find(p);
      if (it != counts_.end() && it->second > 0) push(p, it->second);
    }
  }

  std::vector<Word> words_;
  std::vector<std::string> pieces_;
  std::unordered_map<std::string, std::int32_t> ids_;
  std::unordered_map<PairKey, std::int64_t> counts_;
  std::unordered_map<PairKey, std::vector<std::uint32_t>> where_;
  std::vector<HeapEntry> heap_;
  std::vector<std::int32_t> merged_;
  std::vector<PairKey> changed_;
};

std::vector<std::string> special_head(std::size_t num_unused) {
  std::vector<std::string> head = {"[PAD]"};
  for (std::size_t i = 0; i < num_unused; ++i) head.push_back("[unused" + std::to_string(i) + "]");
  for (const char* token : {"[UNK]", "[CLS]", "[SEP]", "[MASK]"}) head.emplace_back(token);
  return head;
}

// Drops the rarest words until the map is at most 3/4 of `limit`; returns how many went.
std::uint64_t prune(std::unordered_map<std::string, std::uint64_t>& counts, std::size_t limit) {
  const std::size_t target = limit / 4 * 3;
  std::uint64_t dropped = 0;
  for (std::uint64_t threshold = 1; counts.size() > target; ++threshold) {
    for (auto it = counts.begin(); it != counts.end();) {
      if (it->second <= threshold) {
        it = counts.erase(it);
        ++dropped;
      } else {
        ++it;
      }
    }
  }
  return dropped;
}

}  // namespace

Vocab learn_wordpiece_vocab(const std::vector<std::pair<std::string, std::uint64_t>>& word_counts,
                            const WordPieceTrainOptions& options, std::size_t* alphabet_size) {
  std::vector<std::string> vocab = special_head(options.num_unused);
  if (options.vocab_size < vocab.size()) {
    throw Error("vocab_size " + std::to_string(options.vocab_size) + " is smaller than the " +
                std::to_string(vocab.size()) + " special tokens and unused slots");
  }

  // The alphabet: the most frequent characters seen at least min_frequency times.
  std::unordered_map<std::string, std::uint64_t> char_counts;
  for (const auto& [word, count] : word_counts) {
    for_each_char(word, [&, count = count](std::string_view c, bool) { char_counts[std::string(c)] += count; });
  }
  std::vector<std::pair<std::string, std::uint64_t>> chars;
  for (auto& [c, count] : char_counts) {
    if (count >= options.min_frequency) chars.emplace_back(c, count);
  }
  std::sort(chars.begin(), chars.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (options.limit_alphabet > 0 && chars.size() > options.limit_alphabet) chars.resize(options.limit_alphabet);
  std::unordered_map<std::string, bool> alphabet;  // character -> occurs inside a word
  for (const auto& entry : chars) alphabet.emplace(entry.first, false);

  // Words made only of alphabet characters take part in the merges.
  std::vector<const std::pair<std::string, std::uint64_t>*> kept;
  for (const auto& entry : word_counts) {
    bool covered = true;
    for_each_char(entry.first, [&](std::string_view c, bool) {
      covered = covered && alphabet.count(std::string(c)) > 0;
    });
    if (!covered || entry.second == 0) continue;
    kept.push_back(&entry);
    for_each_char(entry.first, [&](std::string_view c, bool first) {
      if (!first) alphabet[std::string(c)] = true;
    });
  }

  std::vector<std::string> initial, inner;
  for (const auto& [c, occurs_inside] : alphabet) {
    initial.push_back(c);
    if (occurs_inside) inner.push_back("##" + c);
  }
  std::sort(initial.begin(), initial.end());  // UTF-8 byte order is code point order
  std::sort(inner.begin(), inner.end());
  std::vector<std::string> pieces = initial;
  pieces.insert(pieces.end(), inner.begin(), inner.end());
  if (alphabet_size != nullptr) *alphabet_size = pieces.size();
  if (vocab.size() + pieces.size() > options.vocab_size) {
    throw Error("vocab_size " + std::to_string(options.vocab_size) + " cannot hold the " +
                std::to_string(vocab.size()) + " special tokens and the alphabet (" + std::to_string(pieces.size()) +
                " entries for " + std::to_string(initial.size()) +
                " characters); raise vocab_size, or lower limit_alphabet or raise min_frequency");
  }

  std::unordered_map<std::string, std::int32_t> piece_ids;
  for (std::size_t i = 0; i < pieces.size(); ++i) piece_ids.emplace(pieces[i], static_cast<std::int32_t>(i));
  std::vector<Word> words;
  words.reserve(kept.size());
  std::string key;
  for (const auto* entry : kept) {
    Word word{{}, static_cast<std::int64_t>(entry->second)};
    for_each_char(entry->first, [&](std::string_view c, bool first) {
      key.assign(first ? "" : "##");
      key.append(c);
      word.pieces.push_back(piece_ids.at(key));
    });
    if (word.pieces.size() > 1) words.push_back(std::move(word));
  }

  const std::size_t wanted = options.vocab_size - vocab.size() - pieces.size();
  const std::size_t base = vocab.size() + pieces.size();
  std::function<void(std::size_t)> progress;
  if (options.on_merge) {
    progress = [&](std::size_t learnt) { options.on_merge(base + learnt, options.vocab_size); };
  }
  MergeLearner learner(std::move(words), pieces);
  std::vector<std::string> merged = learner.learn(wanted, options.min_frequency, progress);

  vocab.insert(vocab.end(), pieces.begin(), pieces.end());
  vocab.insert(vocab.end(), std::make_move_iterator(merged.begin()), std::make_move_iterator(merged.end()));
  return Vocab(std::move(vocab));
}

WordPieceTrainResult train_wordpiece(const WordPieceTrainOptions& options) {
  if (options.inputs.empty()) throw Error("WordPiece training: no input file given");
  if (options.output.empty()) throw Error("WordPiece training: no output path given");
  if (options.max_words < 16) throw Error("WordPiece training: max_words must be at least 16");

  // The basic tokenizer alone: a vocabulary of the special tokens is all it needs.
  WordPieceOptions basic_options;
  basic_options.lowercase = options.lowercase;
  basic_options.split_special_tokens = true;
  const WordPieceTokenizer basic(Vocab({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}), basic_options);

  WordPieceTrainResult result;
  CorpusLineReader reader(options.inputs);
  std::unordered_map<std::string, std::uint64_t> counts;
  std::string line;
  std::uint64_t next_report = kReadReportBytes;
  while ((options.max_lines == 0 || reader.stats().lines < options.max_lines) && reader.next(line)) {
    for (auto& token : basic.basic_tokenize(line)) {
      if (count_chars(token.text) > options.max_word_chars) {
        ++result.skipped_words;
        continue;
      }
      ++counts[std::move(token.text)];
      ++result.words;
      if (counts.size() > options.max_words) result.pruned_words += prune(counts, options.max_words);
    }
    if (options.on_read && reader.stats().bytes_read >= next_report) {
      options.on_read(reader.stats());
      next_report = reader.stats().bytes_read + kReadReportBytes;
    }
  }
  result.corpus = reader.stats();
  if (options.on_read) options.on_read(result.corpus);
  if (counts.empty()) {
    throw Error("the corpus has no words to learn a vocabulary from (" + std::to_string(result.corpus.files_total) +
                " file(s), " + std::to_string(result.corpus.lines) + " line(s), " +
                std::to_string(result.corpus.bytes_read) + " bytes)");
  }
  result.distinct_words = counts.size();

  std::vector<std::pair<std::string, std::uint64_t>> word_counts(std::make_move_iterator(counts.begin()),
                                                                 std::make_move_iterator(counts.end()));
  counts.clear();
  std::sort(word_counts.begin(), word_counts.end());
  result.vocab = learn_wordpiece_vocab(word_counts, options, &result.alphabet_size);
  result.merges = static_cast<std::size_t>(result.vocab.size()) - result.alphabet_size - options.num_unused - 5;

  const std::filesystem::path parent = std::filesystem::path(options.output).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) throw file_error(parent.string(), "cannot create the output directory (" + ec.message() + ")");
  }
  result.vocab.save(options.output);
  return result;
}

}  // namespace electra
