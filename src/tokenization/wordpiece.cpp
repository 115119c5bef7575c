#include "electra/tokenization/wordpiece.h"

#include <algorithm>
#include <array>
#include <utility>

#include "electra/util/error.h"
#include "unicode.h"

namespace electra {
namespace {

struct Span {
  std::size_t begin;
  std::size_t end;
};

// One character on its way through the basic tokenizer, with the bytes of the
// original text it came from.
struct Char {
  char32_t cp;
  Span source;
};

// A word of the basic tokenizer, handed to WordPiece. Reused from word to word.
struct Word {
  std::string text;                 // UTF-8
  std::vector<std::size_t> starts;  // byte offset of each character in text, then text.size()
  std::vector<Span> sources;        // source bytes of each character
  std::int32_t special_id = -1;     // >= 0: a special token string kept whole

  std::size_t size() const { return sources.size(); }
  void clear() {
    text.clear();
    starts.assign(1, 0);
    sources.clear();
    special_id = -1;
  }
  void push(const Char& c) {
    unicode::append_utf8(text, c.cp);
    starts.push_back(text.size());
    sources.push_back(c.source);
  }
  // Source bytes covered by characters [first, last).
  Span source(std::size_t first, std::size_t last) const {
    Span span = sources[first];
    for (std::size_t i = first + 1; i < last; ++i) {
      span.begin = std::min(span.begin, sources[i].begin);
      span.end = std::max(span.end, sources[i].end);
    }
    return span;
  }
  std::string_view chars(std::size_t first, std::size_t last) const {
    return std::string_view(text).substr(starts[first], starts[last] - starts[first]);
  }
};

struct SpecialString {
  std::string_view text;
  std::int32_t id;
};

constexpr char32_t kCapitalSigma = 0x03A3;
constexpr char32_t kSmallSigma = 0x03C3;
constexpr char32_t kFinalSigma = 0x03C2;

// BERT's basic tokenizer in one pass over the bytes: cleaning, CJK spacing and
// whitespace splitting build a chunk; each chunk is then lowercased, decomposed,
// stripped of accents and split at punctuation into words.
class BasicTokenizer {
 public:
  BasicTokenizer(const WordPieceOptions& options, const std::array<SpecialString, 5>& specials)
      : options_(options), specials_(specials) {
    word_.clear();
  }

  template <class OnWord>
  void run(std::string_view text, OnWord&& on_word) {
    std::size_t pos = 0;
    while (pos < text.size()) {
      if (const SpecialString* special = match_special(text, pos)) {
        flush_chunk(on_word);
        word_.text.assign(special->text);
        word_.starts.push_back(word_.text.size());
        word_.sources.push_back({pos, pos + special->text.size()});
        word_.special_id = special->id;
        on_word(word_);
        word_.clear();
        pos += special->text.size();
        continue;
      }
      const unicode::Decoded decoded = unicode::decode_utf8(text, pos);
      const Char c{decoded.cp, {pos, pos + decoded.length}};
      pos += decoded.length;
      if (c.cp == 0 || c.cp == unicode::kReplacement || unicode::is_control(c.cp)) continue;
      if (unicode::is_whitespace(c.cp) || unicode::is_line_separator(c.cp)) {
        flush_chunk(on_word);
      } else if (options_.tokenize_cjk && unicode::is_cjk(c.cp)) {
        flush_chunk(on_word);
        chunk_.push_back(c);
        flush_chunk(on_word);
      } else {
        chunk_.push_back(c);
      }
    }
    flush_chunk(on_word);
  }

 private:
  const SpecialString* match_special(std::string_view text, std::size_t pos) const {
    if (options_.split_special_tokens) return nullptr;
    const SpecialString* best = nullptr;
    for (const auto& special : specials_) {
      if (special.text.empty() || text[pos] != special.text.front()) continue;
      if (text.compare(pos, special.text.size(), special.text) != 0) continue;
      if (best == nullptr || special.text.size() > best->text.size()) best = &special;
    }
    return best;
  }

  // Python's str.lower() maps capital sigma to final sigma when it ends a word:
  // cased letter, then case-ignorables, sigma, and no cased letter after the
  // case-ignorables that follow.
  bool is_final_sigma(std::size_t i) const {
    std::size_t j = i;
    while (j > 0 && unicode::is_case_ignorable(chunk_[j - 1].cp)) --j;
    if (j == 0 || !unicode::is_cased(chunk_[j - 1].cp)) return false;
    std::size_t k = i + 1;
    while (k < chunk_.size() && unicode::is_case_ignorable(chunk_[k].cp)) ++k;
    return k == chunk_.size() || !unicode::is_cased(chunk_[k].cp);
  }

  // Lowercase, NFD (with canonical reordering) and drop Mn, as BERT does on the
  // whole whitespace-delimited chunk.
  void normalize_chunk() {
    normalized_.clear();
    bool has_marks = false;
    char32_t decomposed[unicode::kMaxDecomposition];
    for (std::size_t i = 0; i < chunk_.size(); ++i) {
      const Char& c = chunk_[i];
      char32_t lower = c.cp;
      if (c.cp == kCapitalSigma) {
        lower = is_final_sigma(i) ? kFinalSigma : kSmallSigma;
      } else {
        lower = unicode::to_lower(c.cp);
      }
      if (lower < 0xC0) {
        normalized_.push_back({lower, c.source});
        continue;
      }
      const std::size_t n = unicode::decompose(lower, decomposed);
      for (std::size_t k = 0; k < n; ++k) normalized_.push_back({decomposed[k], c.source});
      has_marks = true;
    }
    if (!has_marks) return;

    // Canonical ordering: stable sort of each run of non-starters by combining class.
    for (std::size_t i = 1; i < normalized_.size(); ++i) {
      const int ccc = unicode::combining_class(normalized_[i].cp);
      if (ccc == 0) continue;
      for (std::size_t j = i; j > 0; --j) {
        const int previous = unicode::combining_class(normalized_[j - 1].cp);
        if (previous == 0 || previous <= ccc) break;
        std::swap(normalized_[j - 1], normalized_[j]);
      }
    }

    // Strip accents; a dropped mark joins the source span of the character before it.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < normalized_.size(); ++i) {
      const Char c = normalized_[i];
      if (unicode::is_nonspacing_mark(c.cp)) {
        if (kept > 0) {
          Span& span = normalized_[kept - 1].source;
          span.begin = std::min(span.begin, c.source.begin);
          span.end = std::max(span.end, c.source.end);
        }
        continue;
      }
      normalized_[kept++] = c;
    }
    normalized_.resize(kept);
  }

  template <class OnWord>
  void emit_word(OnWord& on_word) {
    if (word_.size() == 0) return;
    on_word(word_);
    word_.clear();
  }

  template <class OnWord>
  void flush_chunk(OnWord& on_word) {
    if (chunk_.empty()) return;
    const std::vector<Char>* chars = &chunk_;
    if (options_.lowercase) {
      normalize_chunk();
      chars = &normalized_;
    }
    for (const Char& c : *chars) {
      if (unicode::is_punctuation(c.cp)) {
        emit_word(on_word);
        word_.push(c);
        emit_word(on_word);
      } else {
        word_.push(c);
      }
    }
    emit_word(on_word);
    chunk_.clear();
  }

  const WordPieceOptions& options_;
  const std::array<SpecialString, 5>& specials_;
  std::vector<Char> chunk_;       // cleaned characters between whitespace
  std::vector<Char> normalized_;  // chunk_ lowercased, decomposed, without accents
  Word word_;
};

}  // namespace

WordPieceTokenizer::WordPieceTokenizer(Vocab vocab, WordPieceOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  auto require = [this](const std::string& token, const char* option) {
    const std::int32_t id = vocab_.id(token);
    if (id < 0) {
      throw Error("the vocabulary (" + std::to_string(vocab_.size()) + " tokens) has no '" + token +
                  "' token (WordPieceOptions::" + option +
                  "); use the vocab.txt of the checkpoint or set the option to its name");
    }
    return id;
  };
  unk_id_ = require(options_.unk_token, "unk_token");
  cls_id_ = require(options_.cls_token, "cls_token");
  sep_id_ = require(options_.sep_token, "sep_token");
  pad_id_ = require(options_.pad_token, "pad_token");
  mask_id_ = require(options_.mask_token, "mask_token");
  for (const auto& token : vocab_.tokens())
    max_token_bytes_ = std::max(max_token_bytes_, token.size());
}

WordPieceTokenizer WordPieceTokenizer::from_vocab_file(const std::string& path,
                                                       WordPieceOptions options) {
  Vocab vocab = Vocab::from_file(path);
  try {
    return WordPieceTokenizer(std::move(vocab), std::move(options));
  } catch (const Error& e) {
    throw file_error(path, e.what());
  }
}

std::vector<Token> WordPieceTokenizer::tokenize(std::string_view text) const {
  const std::array<SpecialString, 5> specials{{{options_.unk_token, unk_id_},
                                               {options_.cls_token, cls_id_},
                                               {options_.sep_token, sep_id_},
                                               {options_.pad_token, pad_id_},
                                               {options_.mask_token, mask_id_}}};
  std::vector<Token> out;
  std::string key;  // "##" + piece, reused
  auto on_word = [&](const Word& word) {
    const Span whole = word.source(0, word.size());
    if (word.special_id >= 0) {
      out.push_back({word.text, word.special_id, whole.begin, whole.end});
      return;
    }
    if (word.size() > options_.max_input_chars_per_word) {
      out.push_back({options_.unk_token, unk_id_, whole.begin, whole.end});
      return;
    }
    // Greedy longest match first; pieces after the first carry the "##" prefix.
    const std::size_t first_piece = out.size();
    std::size_t start = 0;
    while (start < word.size()) {
      const std::size_t prefix = start == 0 ? 0 : 2;
      std::size_t end = word.size();
      while (end > start && word.starts[end] - word.starts[start] + prefix > max_token_bytes_)
        --end;
      std::int32_t id = -1;
      for (; end > start; --end) {
        if (start == 0) {
          id = vocab_.id(word.chars(start, end));
        } else {
          key.assign("##");
          key.append(word.chars(start, end));
          id = vocab_.id(key);
        }
        if (id >= 0) break;
      }
      if (id < 0) {  // some piece matches nothing: the whole word is unknown
        out.resize(first_piece);
        out.push_back({options_.unk_token, unk_id_, whole.begin, whole.end});
        return;
      }
      const Span span = word.source(start, end);
      out.push_back({vocab_.tokens()[static_cast<std::size_t>(id)], id, span.begin, span.end});
      start = end;
    }
  };
  BasicTokenizer(options_, specials).run(text, on_word);
  return out;
}

std::vector<Token> WordPieceTokenizer::basic_tokenize(std::string_view text) const {
  const std::array<SpecialString, 5> specials{{{options_.unk_token, unk_id_},
                                               {options_.cls_token, cls_id_},
                                               {options_.sep_token, sep_id_},
                                               {options_.pad_token, pad_id_},
                                               {options_.mask_token, mask_id_}}};
  std::vector<Token> out;
  BasicTokenizer(options_, specials).run(text, [&](const Word& word) {
    const Span whole = word.source(0, word.size());
    out.push_back({word.text, -1, whole.begin, whole.end});
  });
  return out;
}

Encoding WordPieceTokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  return build(tokenize(text), std::nullopt, options);
}

Encoding WordPieceTokenizer::encode_pair(std::string_view text_a, std::string_view text_b,
                                         const EncodeOptions& options) const {
  return build(tokenize(text_a), tokenize(text_b), options);
}

Encoding WordPieceTokenizer::build(std::vector<Token> a, std::optional<std::vector<Token>> b,
                                   const EncodeOptions& options) const {
  const std::size_t num_special = b ? 3 : 2;
  const std::size_t total = a.size() + (b ? b->size() : 0) + num_special;
  Encoding encoding;

  if (options.truncation != Truncation::none && total > options.max_length) {
    if (options.max_length < num_special) {
      throw Error("max_length " + std::to_string(options.max_length) +
                  " cannot hold the special tokens of " + (b ? "a pair" : "a sequence") + " (" +
                  std::to_string(num_special) + ")");
    }
    const std::size_t excess = total - options.max_length;
    switch (options.truncation) {
      case Truncation::longest_first:
        for (std::size_t i = 0; i < excess; ++i) {
          if (!b || a.size() > b->size()) {
            a.pop_back();
          } else {
            b->pop_back();
          }
        }
        break;
      case Truncation::only_first:
      case Truncation::only_second: {
        const bool first = options.truncation == Truncation::only_first;
        if (!first && !b) {
          throw Error("truncation only_second needs a pair of sequences, got a single one");
        }
        std::vector<Token>& segment = first ? a : *b;
        if (segment.size() <= excess) {
          throw Error(std::string("truncation ") + (first ? "only_first" : "only_second") +
                      " cannot fit max_length " + std::to_string(options.max_length) + ": " +
                      std::to_string(excess) + " wordpieces must go but the " +
                      (first ? "first" : "second") + " segment has " +
                      std::to_string(segment.size()) +
                      "; use longest_first or a larger max_length");
        }
        segment.resize(segment.size() - excess);
        break;
      }
      case Truncation::none:
        break;
    }
    encoding.num_truncated = excess;
  }

  const std::size_t length = std::max(a.size() + (b ? b->size() : 0) + num_special,
                                      options.pad_to_max_length ? options.max_length : 0);
  encoding.tokens.reserve(length);
  encoding.input_ids.reserve(length);
  encoding.token_type_ids.reserve(length);
  encoding.attention_mask.reserve(length);
  encoding.sequence_ids.reserve(length);
  encoding.offsets.reserve(length);

  auto push = [&](std::string text, std::int32_t id, std::int32_t type, std::int32_t mask,
                  std::int32_t sequence, std::size_t begin, std::size_t end) {
    encoding.tokens.push_back(std::move(text));
    encoding.input_ids.push_back(id);
    encoding.token_type_ids.push_back(type);
    encoding.attention_mask.push_back(mask);
    encoding.sequence_ids.push_back(sequence);
    encoding.offsets.emplace_back(begin, end);
  };
  auto push_segment = [&](std::vector<Token>& segment, std::int32_t sequence) {
    for (Token& token : segment) {
      push(std::move(token.text), token.id, sequence, 1, sequence, token.begin, token.end);
    }
  };

  push(options_.cls_token, cls_id_, 0, 1, -1, 0, 0);
  push_segment(a, 0);
  push(options_.sep_token, sep_id_, 0, 1, -1, 0, 0);
  if (b) {
    push_segment(*b, 1);
    push(options_.sep_token, sep_id_, 1, 1, -1, 0, 0);
  }
  while (encoding.input_ids.size() < length) push(options_.pad_token, pad_id_, 0, 0, -1, 0, 0);
  return encoding;
}

std::string WordPieceTokenizer::decode(const std::vector<std::int32_t>& ids,
                                       bool skip_special_tokens) const {
  std::string text;
  for (const std::int32_t id : ids) {
    const std::string& token = vocab_.token(id);
    if (id == pad_id_) continue;
    if (skip_special_tokens &&
        (id == cls_id_ || id == sep_id_ || id == mask_id_ || id == unk_id_)) {
      continue;
    }
    const bool continuation = token.size() > 2 && token.compare(0, 2, "##") == 0;
    if (continuation) {
      text.append(token, 2, std::string::npos);
    } else {
      if (!text.empty()) text.push_back(' ');
      text.append(token);
    }
  }
  return text;
}

}  // namespace electra
