#include "electra/tasks/squad.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <optional>
#include <sstream>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "../tokenization/unicode.h"
#include "electra/util/error.h"
#include "util/files.h"
#include "util/json_reader.h"

namespace electra {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------- reading

json parse_json_file(const std::string& path) {
  require_regular_file(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path, std::string("cannot open the SQuAD file (") + std::strerror(errno) + ")");
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw file_error(path, "cannot read the SQuAD file");
  return parse_json(content.str(), path);
}

// Byte offset of each code point of `text`, then text.size(): answer_start counts code
// points (Python str indices), the library works in bytes.
std::vector<std::size_t> code_point_offsets(std::string_view text) {
  std::vector<std::size_t> offsets;
  offsets.reserve(text.size() + 1);
  for (std::size_t pos = 0; pos < text.size(); pos += unicode::decode_utf8(text, pos).length) {
    offsets.push_back(pos);
  }
  offsets.push_back(text.size());
  return offsets;
}

std::string in_quotes(std::string_view text) {
  return "\"" + std::string(text.substr(0, 80)) + (text.size() > 80 ? "...\"" : "\"");
}

std::vector<SquadAnswer> read_answers(const JsonReader& r, const json& qa, const std::string& where,
                                      const std::string& id, const std::string& context,
                                      const std::vector<std::size_t>& char_offsets) {
  std::vector<SquadAnswer> answers;
  if (!qa.contains("answers")) return answers;  // unlabelled files may leave the key out
  const json& list = r.array(qa, where, "answers");
  const std::size_t n_chars = char_offsets.size() - 1;
  for (std::size_t k = 0; k < list.size(); ++k) {
    const std::string at = where + ".answers[" + std::to_string(k) + "] (question \"" + id + "\")";
    SquadAnswer answer;
    answer.text = r.string(list[k], at, "text");
    const json& start = r.member(list[k], at, "answer_start");
    if (!start.is_number_integer() || start.get<std::int64_t>() < 0 ||
        static_cast<std::uint64_t>(start.get<std::int64_t>()) > n_chars) {
      r.fail(at, "\"answer_start\" must be a character index into the context (0.." +
                           std::to_string(n_chars) + "), got " + start.dump());
    }
    const std::size_t char_start = start.get<std::size_t>();
    answer.byte_start = char_offsets[char_start];
    if (context.compare(answer.byte_start, answer.text.size(), answer.text) != 0) {
      // Show the context over as many characters as the answer has.
      const std::size_t answer_chars = code_point_offsets(answer.text).size() - 1;
      const std::size_t end = char_offsets[std::min(n_chars, char_start + answer_chars)];
      r.fail(at, "answer " + in_quotes(answer.text) + " does not match the context at answer_start " +
                           std::to_string(char_start) + ", which reads " +
                           in_quotes(std::string_view(context).substr(answer.byte_start, end - answer.byte_start)) +
                           " (answer_start counts Unicode characters)");
    }
    answers.push_back(std::move(answer));
  }
  return answers;
}

// ---------------------------------------------------------------- windows

struct Window {
  std::size_t start;   // first context token
  std::size_t length;  // context tokens in the window
};

// BERT's _DocSpan loop: windows of up to `max_length` tokens, each starting `stride`
// tokens after the previous one (never more than a window length, so no token is
// skipped), until one reaches the end. A context without tokens still gets one empty
// window, so that every example has a feature (and v2 can answer it with the null span).
std::vector<Window> make_windows(std::size_t n_tokens, std::size_t max_length, std::size_t stride) {
  std::vector<Window> windows;
  std::size_t start = 0;
  while (true) {
    const std::size_t length = std::min(n_tokens - start, max_length);
    windows.push_back({start, length});
    if (start + length >= n_tokens) return windows;
    start += std::min(length, stride);
  }
}

// BERT's _check_is_max_context: of the windows holding `token`, the one where it has
// the most context on its shorter side, plus 0.01 per window token (ties: the earlier window).
bool is_max_context(const std::vector<Window>& windows, std::size_t current, std::size_t token) {
  double best_score = -1;
  std::size_t best = 0;
  for (std::size_t w = 0; w < windows.size(); ++w) {
    const Window& win = windows[w];
    if (token < win.start || token >= win.start + win.length) continue;
    const std::size_t left = token - win.start, right = win.start + win.length - 1 - token;
    const double score = static_cast<double>(std::min(left, right)) + 0.01 * static_cast<double>(win.length);
    if (score > best_score) {
      best_score = score;
      best = w;
    }
  }
  return best == current;
}

// First and last token overlapping the bytes [begin, end); none for an answer whose
// bytes hold no token (empty, or only whitespace/dropped characters).
std::optional<std::pair<std::size_t, std::size_t>> tokens_overlapping(const std::vector<Token>& tokens,
                                                                      std::size_t begin, std::size_t end) {
  std::optional<std::pair<std::size_t, std::size_t>> span;
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    if (tokens[t].begin >= end) break;
    if (tokens[t].end <= begin) continue;
    if (!span) span.emplace(t, t);
    span->second = t;
  }
  return span;
}

// ---------------------------------------------------------------- decoding

// Indices of the n largest logits, largest first; ties keep the lower index first
// (as BERT's stable sort in _get_best_indexes).
std::vector<std::size_t> top_indices(const std::vector<float>& logits, std::size_t n) {
  std::vector<std::size_t> index(logits.size());
  std::iota(index.begin(), index.end(), std::size_t{0});
  n = std::min(n, index.size());
  std::partial_sort(index.begin(), index.begin() + static_cast<std::ptrdiff_t>(n), index.end(),
                    [&](std::size_t a, std::size_t b) {
                      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
                    });
  index.resize(n);
  return index;
}

struct Span {
  std::size_t feature, start, end;
  double start_logit, end_logit;
  double score() const { return start_logit + end_logit; }
};

double score(const SquadCandidate& c) { return c.start_logit + c.end_logit; }

void set_probabilities(std::vector<SquadCandidate>& nbest) {
  double max_score = -std::numeric_limits<double>::infinity();
  for (const auto& c : nbest) max_score = std::max(max_score, score(c));
  double total = 0;
  for (auto& c : nbest) total += (c.probability = std::exp(score(c) - max_score));
  for (auto& c : nbest) c.probability /= total;
}

void check_decode_inputs(const std::vector<SquadExample>& examples, const std::vector<SquadFeature>& features,
                         const std::vector<std::vector<float>>& start_logits,
                         const std::vector<std::vector<float>>& end_logits, const SquadDecodeOptions& options) {
  if (options.n_best == 0) throw Error("decode_squad: n_best must be at least 1");
  if (options.max_answer_length == 0) throw Error("decode_squad: max_answer_length must be at least 1");
  if (start_logits.size() != features.size() || end_logits.size() != features.size()) {
    throw Error("decode_squad: " + std::to_string(features.size()) + " features but " +
                std::to_string(start_logits.size()) + " start and " + std::to_string(end_logits.size()) +
                " end logit rows; pass one row per feature");
  }
  for (std::size_t f = 0; f < features.size(); ++f) {
    const SquadFeature& feature = features[f];
    const std::size_t n = feature.input_ids.size();
    if (feature.example_index >= examples.size()) {
      throw Error("decode_squad: feature " + std::to_string(f) + " refers to example " +
                  std::to_string(feature.example_index) + " of " + std::to_string(examples.size()));
    }
    if (n == 0 || feature.context_offsets.size() != n || feature.is_context.size() != n ||
        feature.max_context.size() != n) {
      throw Error("decode_squad: feature " + std::to_string(f) + " is malformed (per-token vectors differ in length)");
    }
    if (start_logits[f].size() != n || end_logits[f].size() != n) {
      throw Error("decode_squad: feature " + std::to_string(f) + " has " + std::to_string(n) + " tokens but " +
                  std::to_string(start_logits[f].size()) + " start and " + std::to_string(end_logits[f].size()) +
                  " end logits; unpad the logits to the feature's length");
    }
    const std::size_t context_bytes = examples[feature.example_index].context.size();
    for (std::size_t t = 0; t < n; ++t) {
      const auto [begin, end] = feature.context_offsets[t];
      if (feature.is_context[t] && (begin > end || end > context_bytes)) {
        throw Error("decode_squad: feature " + std::to_string(f) + " has offsets outside its example's context; "
                    "pass the features make_squad_features built for these examples");
      }
    }
  }
}

}  // namespace

std::vector<SquadExample> read_squad(const std::string& path) {
  const json root = parse_json_file(path);
  const JsonReader r(path);
  const json& data = r.array(root, "", "data");
  std::vector<SquadExample> examples;
  std::unordered_set<std::string> ids;
  for (std::size_t a = 0; a < data.size(); ++a) {
    const std::string at_article = "data[" + std::to_string(a) + "]";
    const json& paragraphs = r.array(data[a], at_article, "paragraphs");
    const std::string title = data[a].contains("title") ? r.string(data[a], at_article, "title") : "";
    for (std::size_t p = 0; p < paragraphs.size(); ++p) {
      const std::string at_paragraph = at_article + ".paragraphs[" + std::to_string(p) + "]";
      const std::string context = r.string(paragraphs[p], at_paragraph, "context");
      const std::vector<std::size_t> char_offsets = code_point_offsets(context);
      const json& qas = r.array(paragraphs[p], at_paragraph, "qas");
      for (std::size_t q = 0; q < qas.size(); ++q) {
        const std::string at = at_paragraph + ".qas[" + std::to_string(q) + "]";
        SquadExample ex;
        ex.id = r.string(qas[q], at, "id");
        // Predictions are keyed by id: a duplicate would silently overwrite one.
        if (!ids.insert(ex.id).second) r.fail(at, "duplicate question id \"" + ex.id + "\"");
        ex.question = r.string(qas[q], at + " (question \"" + ex.id + "\")", "question");
        if (qas[q].contains("is_impossible")) {
          const json& flag = qas[q]["is_impossible"];
          if (!flag.is_boolean()) r.fail(at, "\"is_impossible\" must be true or false, got " + flag.dump());
          ex.is_impossible = flag.get<bool>();
        }
        ex.title = title;
        ex.context = context;
        // v2 unanswerable questions carry their spans in "plausible_answers" (not read);
        // like the official pipelines, we ignore any "answers" they might have.
        if (!ex.is_impossible) ex.answers = read_answers(r, qas[q], at, ex.id, context, char_offsets);
        examples.push_back(std::move(ex));
      }
    }
  }
  return examples;
}

std::vector<SquadFeature> make_squad_features(const WordPieceTokenizer& tokenizer,
                                              const std::vector<SquadExample>& examples,
                                              const SquadWindowOptions& options) {
  if (options.doc_stride == 0) throw Error("SQuAD windows: doc_stride must be at least 1");
  std::vector<SquadFeature> features;
  // The questions of one paragraph share its context: tokenize it once.
  const std::string* tokenized_context = nullptr;
  std::vector<Token> context_tokens;
  for (std::size_t e = 0; e < examples.size(); ++e) {
    const SquadExample& ex = examples[e];
    std::vector<Token> query = tokenizer.tokenize(ex.question);
    if (query.size() > options.max_query_length) query.resize(options.max_query_length);
    if (options.max_seq_length < query.size() + 4) {
      throw Error("SQuAD windows: max_seq_length " + std::to_string(options.max_seq_length) +
                  " cannot hold question \"" + ex.id + "\" (" + std::to_string(query.size()) +
                  " tokens), 3 special tokens and one context token; raise max_seq_length or lower max_query_length");
    }
    if (tokenized_context == nullptr || *tokenized_context != ex.context) {
      context_tokens = tokenizer.tokenize(ex.context);
      tokenized_context = &ex.context;
    }
    const std::size_t prefix = query.size() + 2;  // [CLS] question [SEP]
    const std::vector<Window> windows =
        make_windows(context_tokens.size(), options.max_seq_length - query.size() - 3, options.doc_stride);

    // Training target: the tokens overlapping the first answer's bytes.
    std::optional<std::pair<std::size_t, std::size_t>> answer;
    if (!ex.is_impossible && !ex.answers.empty()) {
      const SquadAnswer& first = ex.answers.front();
      answer = tokens_overlapping(context_tokens, first.byte_start, first.byte_start + first.text.size());
    }

    for (std::size_t w = 0; w < windows.size(); ++w) {
      SquadFeature f;
      f.example_index = e;
      f.window_index = w;
      const auto push = [&f](std::int32_t id, std::int32_t type, std::pair<std::size_t, std::size_t> offsets,
                             bool context, bool max_context) {
        f.input_ids.push_back(id);
        f.token_type_ids.push_back(type);
        f.context_offsets.push_back(offsets);
        f.is_context.push_back(context ? 1 : 0);
        f.max_context.push_back(max_context ? 1 : 0);
      };
      push(tokenizer.cls_id(), 0, {0, 0}, false, false);
      for (const Token& t : query) push(t.id, 0, {0, 0}, false, false);
      push(tokenizer.sep_id(), 0, {0, 0}, false, false);
      const Window& win = windows[w];
      for (std::size_t k = win.start; k < win.start + win.length; ++k) {
        const Token& t = context_tokens[k];
        push(t.id, 1, {t.begin, t.end}, true, is_max_context(windows, w, k));
      }
      push(tokenizer.sep_id(), 1, {0, 0}, false, false);
      if (answer && answer->first >= win.start && answer->second < win.start + win.length) {
        f.start_position = static_cast<std::int32_t>(prefix + answer->first - win.start);
        f.end_position = static_cast<std::int32_t>(prefix + answer->second - win.start);
      }
      features.push_back(std::move(f));
    }
  }
  return features;
}

std::vector<SquadPrediction> decode_squad(const std::vector<SquadExample>& examples,
                                          const std::vector<SquadFeature>& features,
                                          const std::vector<std::vector<float>>& start_logits,
                                          const std::vector<std::vector<float>>& end_logits,
                                          const SquadDecodeOptions& options,
                                          const std::vector<float>& no_answer_logits) {
  check_decode_inputs(examples, features, start_logits, end_logits, options);
  if (!no_answer_logits.empty() && no_answer_logits.size() != features.size()) {
    throw Error("decode_squad: " + std::to_string(features.size()) + " features but " +
                std::to_string(no_answer_logits.size()) + " no-answer logits; pass one per feature or none");
  }
  std::vector<std::vector<std::size_t>> features_of(examples.size());
  for (std::size_t f = 0; f < features.size(); ++f) features_of[features[f].example_index].push_back(f);

  std::vector<SquadPrediction> predictions;
  predictions.reserve(examples.size());
  for (std::size_t e = 0; e < examples.size(); ++e) {
    const SquadExample& ex = examples[e];
    if (features_of[e].empty()) {
      throw Error("decode_squad: question \"" + ex.id + "\" has no features; decode the features "
                  "make_squad_features built for exactly these examples");
    }
    std::vector<Span> spans;
    SquadCandidate null{"", 0, 0, 0};
    double null_score = std::numeric_limits<double>::infinity();
    double no_answer = std::numeric_limits<double>::infinity();  // the classifier's, when given
    for (const std::size_t f : features_of[e]) {
      if (!no_answer_logits.empty()) no_answer = std::min(no_answer, static_cast<double>(no_answer_logits[f]));
      const SquadFeature& feature = features[f];
      const std::vector<float>& starts = start_logits[f];
      const std::vector<float>& ends = end_logits[f];
      if (starts[0] + static_cast<double>(ends[0]) < null_score) {
        null_score = starts[0] + static_cast<double>(ends[0]);
        null.start_logit = starts[0];
        null.end_logit = ends[0];
      }
      const std::vector<std::size_t> top_ends = top_indices(ends, options.n_best);
      for (const std::size_t s : top_indices(starts, options.n_best)) {
        if (!feature.is_context[s] || !feature.max_context[s]) continue;
        for (const std::size_t t : top_ends) {
          if (!feature.is_context[t] || t < s || t - s + 1 > options.max_answer_length) continue;
          spans.push_back({f, s, t, starts[s], ends[t]});
        }
      }
    }
    // Stable: equal scores keep window, start, end order, as BERT's sort does.
    std::stable_sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.score() > b.score(); });

    SquadPrediction prediction;
    prediction.id = ex.id;
    std::unordered_set<std::string> seen;  // the same text from several windows: keep the best
    for (const Span& span : spans) {
      if (prediction.nbest.size() == options.n_best) break;
      const auto& offsets = features[span.feature].context_offsets;
      const std::size_t begin = offsets[span.start].first, end = offsets[span.end].second;
      std::string text = ex.context.substr(begin, end - begin);
      if (!seen.insert(text).second) continue;
      prediction.nbest.push_back({std::move(text), span.start_logit, span.end_logit, 0});
    }
    const bool has_span = !prediction.nbest.empty();
    const double best_non_null = has_span ? score(prediction.nbest.front()) : 0;
    const std::string best_text = has_span ? prediction.nbest.front().text : "";

    if (options.version_2) {
      // The null answer competes in the n-best by score (after equal scores), and is
      // appended when it does not make the top n_best, as in BERT's run_squad.py.
      auto& nbest = prediction.nbest;
      const auto pos = std::find_if(nbest.begin(), nbest.end(),
                                    [&](const SquadCandidate& c) { return score(c) < null_score; });
      const bool in_top = pos - nbest.begin() < static_cast<std::ptrdiff_t>(options.n_best);
      nbest.insert(pos, null);
      if (in_top && nbest.size() > options.n_best) nbest.pop_back();
      // Without any valid span the null answer wins at every threshold; the largest finite
      // double says so and still serializes in null_odds.json (infinity would not).
      prediction.null_score_diff = !has_span                  ? std::numeric_limits<double>::max()
                                   : no_answer_logits.empty() ? null_score - best_non_null
                                                              : no_answer;
      if (has_span && prediction.null_score_diff <= options.null_threshold) prediction.text = best_text;
    } else if (has_span) {
      prediction.text = prediction.nbest.front().text;
    } else {
      // No valid span (rare; e.g. max_context excludes every top start). Hugging Face answers the
      // placeholder "empty"; we answer "" so the text always comes from the context.
      prediction.nbest.push_back({"", 0, 0, 0});
    }
    set_probabilities(prediction.nbest);
    predictions.push_back(std::move(prediction));
  }
  return predictions;
}

}  // namespace electra
