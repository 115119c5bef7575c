#include "metrics/squad_eval.h"

#include <utf8proc.h>

#include <algorithm>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "../tokenization/unicode.h"
#include "electra/util/error.h"

// The official scripts run on Python 3 str, so normalisation is done on code points with
// Python's definitions: str.lower(), re's Unicode \b, str.split()'s whitespace.

namespace electra {
namespace {

using Tokens = std::vector<std::string>;

constexpr std::string_view kPythonPunctuation = R"(!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~)";  // string.punctuation

bool is_python_punctuation(char32_t cp) {
  return cp < 0x80 && kPythonPunctuation.find(static_cast<char>(cp)) != std::string_view::npos;
}

// str.split() with no argument splits on these (Python's _PyUnicode_IsWhitespace).
bool is_python_whitespace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

// re's \w on str patterns: alphanumeric (letters L*, numbers N*) or '_'. Decides where the
// \b around an article is: "a" inside "théa" is not a word of its own.
bool is_word_char(char32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == '_';
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

std::u32string decode(std::string_view text) {
  std::u32string out;
  for (std::size_t pos = 0; pos < text.size();) {
    const unicode::Decoded d = unicode::decode_utf8(text, pos);
    out.push_back(d.cp);
    pos += d.length;
  }
  return out;
}

// Python's str.lower(): the simple mapping plus the two full-mapping cases that matter:
// capital sigma ending a word becomes final sigma, and U+0130 becomes "i" + U+0307.
std::u32string python_lower(const std::u32string& s) {
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char32_t cp = s[i];
    if (cp == 0x0130) {
      out += U"i\u0307";
    } else if (cp == 0x03A3) {
      std::size_t j = i;
      while (j > 0 && unicode::is_case_ignorable(s[j - 1])) --j;
      std::size_t k = i + 1;
      while (k < s.size() && unicode::is_case_ignorable(s[k])) ++k;
      const bool final_sigma = j > 0 && unicode::is_cased(s[j - 1]) && (k == s.size() || !unicode::is_cased(s[k]));
      out.push_back(final_sigma ? 0x03C2 : 0x03C3);
    } else {
      out.push_back(unicode::to_lower(cp));
    }
  }
  return out;
}

// re.sub(r'\b(a|an|the)\b', ' ', text). The articles are all word characters, so the \b's
// mean: no word character right before and right after.
std::u32string replace_articles(const std::u32string& s) {
  static const std::u32string kArticles[] = {U"a", U"an", U"the"};
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    bool replaced = false;
    if (i == 0 || !is_word_char(s[i - 1])) {
      for (const auto& article : kArticles) {
        const std::size_t end = i + article.size();
        if (s.compare(i, article.size(), article) == 0 && (end == s.size() || !is_word_char(s[end]))) {
          out.push_back(U' ');
          i = end;
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out.push_back(s[i++]);
  }
  return out;
}

// normalize_answer(s).split(): the normalised answer's tokens.
Tokens answer_tokens(std::string_view text) {
  std::u32string chars = python_lower(decode(text));
  chars.erase(std::remove_if(chars.begin(), chars.end(), is_python_punctuation), chars.end());
  chars = replace_articles(chars);
  Tokens tokens;
  std::string token;
  for (const char32_t cp : chars) {
    if (is_python_whitespace(cp)) {
      if (!token.empty()) tokens.push_back(std::move(token));
      token.clear();
    } else {
      unicode::append_utf8(token, cp);
    }
  }
  if (!token.empty()) tokens.push_back(std::move(token));
  return tokens;
}

std::string join(const Tokens& tokens) {
  std::string out;
  for (const auto& t : tokens) {
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

// Both scripts' F1 on normalised tokens. They differ only when a side has no token: v1.1
// answers 0 (no overlap), v2.0 answers 1 when both are empty ("no answer" agrees).
double token_f1(const Tokens& gold, const Tokens& prediction, bool v1) {
  if (!v1 && (gold.empty() || prediction.empty())) return gold == prediction ? 1.0 : 0.0;
  std::unordered_map<std::string, std::int64_t> gold_counts;
  for (const auto& t : gold) ++gold_counts[t];
  std::int64_t same = 0;  // size of the multiset intersection (Counter & Counter)
  for (const auto& t : prediction) {
    auto it = gold_counts.find(t);
    if (it != gold_counts.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  if (same == 0) return 0.0;
  // The scripts' exact arithmetic, so the sums match them bit for bit.
  const double precision = 1.0 * static_cast<double>(same) / static_cast<double>(prediction.size());
  const double recall = 1.0 * static_cast<double>(same) / static_cast<double>(gold.size());
  return (2 * precision * recall) / (precision + recall);
}

struct Scored {
  double exact = 0, f1 = 0;
};

// Max over the gold answers, as both scripts take it.
Scored score_question(const std::vector<Tokens>& golds, const Tokens& prediction, bool v1) {
  Scored best;
  for (const auto& gold : golds) {
    best.exact = std::max(best.exact, gold == prediction ? 1.0 : 0.0);
    best.f1 = std::max(best.f1, token_f1(gold, prediction, v1));
  }
  return best;
}

SquadScores evaluate_v1(const std::vector<SquadGold>& gold, const std::map<std::string, std::string>& predictions) {
  SquadScores s;
  s.total = static_cast<std::int64_t>(gold.size());
  double exact = 0, f1 = 0;
  for (const auto& q : gold) {
    const auto it = predictions.find(q.id);
    if (it == predictions.end()) {  // "Unanswered question ... will receive score 0."
      ++s.missing;
      continue;
    }
    std::vector<Tokens> golds;
    for (const auto& a : q.answers) golds.push_back(answer_tokens(a));
    const Scored scored = score_question(golds, answer_tokens(it->second), /*v1=*/true);
    exact += scored.exact;
    f1 += scored.f1;
  }
  s.exact = 100.0 * exact / static_cast<double>(s.total);
  s.f1 = 100.0 * f1 / static_cast<double>(s.total);
  return s;
}

struct Question {
  bool has_answer = false;  // the raw answer list is not empty (make_qid_to_has_ans)
  bool predicted = false;
  bool prediction_empty = true;  // the raw prediction string, as find_best_thresh tests it
  double na_prob = 0.0;
  Scored raw, thresholded;
};

// The v2 script's find_best_thresh: start with every question answered "" (score = number
// of unanswerable ones), then admit answers in order of rising null odds and keep the best
// running score and the na_prob that reached it.
std::pair<double, double> best_threshold(const std::vector<Question>& questions, const std::vector<std::size_t>& order,
                                         double Scored::*score) {
  double current = 0.0;
  for (const auto& q : questions) current += q.predicted && !q.has_answer;
  double best = current, threshold = 0.0;
  for (const std::size_t i : order) {
    const Question& q = questions[i];
    current += q.has_answer ? q.raw.*score : (q.prediction_empty ? 0.0 : -1.0);
    if (current > best) {
      best = current;
      threshold = q.na_prob;
    }
  }
  return {100.0 * best / static_cast<double>(questions.size()), threshold};
}

SquadScores evaluate_v2(const std::vector<SquadGold>& gold, const std::map<std::string, std::string>& predictions,
                        const std::map<std::string, double>& na_probs, double na_threshold) {
  SquadScores s;
  s.version_2 = true;
  s.total = static_cast<std::int64_t>(gold.size());
  std::vector<Question> questions(gold.size());
  for (std::size_t i = 0; i < gold.size(); ++i) {
    Question& q = questions[i];
    q.has_answer = !gold[i].answers.empty();
    const auto it = predictions.find(gold[i].id);
    if (it == predictions.end()) {
      ++s.missing;  // scores 0 (the v2 script would stop with a KeyError)
      continue;
    }
    q.predicted = true;
    q.prediction_empty = it->second.empty();
    if (!na_probs.empty()) {
      const auto p = na_probs.find(gold[i].id);
      if (p == na_probs.end()) throw Error("evaluate_squad: no null odds (na_prob) for question '" + gold[i].id + "'");
      q.na_prob = p->second;
    }
    // Gold answers that normalise to nothing are dropped; none left: the only answer is "".
    std::vector<Tokens> golds;
    for (const auto& a : gold[i].answers) {
      Tokens tokens = answer_tokens(a);
      if (!tokens.empty()) golds.push_back(std::move(tokens));
    }
    if (golds.empty()) golds.emplace_back();
    q.raw = score_question(golds, answer_tokens(it->second), /*v1=*/false);
    // apply_no_ans_threshold: a question whose null odds exceed the threshold is answered "".
    const double null_score = q.has_answer ? 0.0 : 1.0;
    q.thresholded = q.na_prob > na_threshold ? Scored{null_score, null_score} : q.raw;
  }

  // make_eval_dict over all questions, then the HasAns and NoAns subsets (gold order).
  const auto average = [&](bool want_has, bool want_no, double& exact, double& f1, std::int64_t& total) {
    double e = 0, f = 0;
    total = 0;
    for (const auto& q : questions) {
      if (q.has_answer ? !want_has : !want_no) continue;
      ++total;
      e += q.thresholded.exact;
      f += q.thresholded.f1;
    }
    if (total == 0) return;  // the script leaves out an empty breakdown
    exact = 100.0 * e / static_cast<double>(total);
    f1 = 100.0 * f / static_cast<double>(total);
  };
  average(true, true, s.exact, s.f1, s.total);
  average(true, false, s.has_ans_exact, s.has_ans_f1, s.has_ans_total);
  average(false, true, s.no_ans_exact, s.no_ans_f1, s.no_ans_total);

  // The script sweeps only when it was given null odds. Equal na_probs keep gold order (the
  // script keeps the null-odds file's order, which is the prediction order in practice).
  if (!na_probs.empty()) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < questions.size(); ++i) {
      if (questions[i].predicted) order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return questions[a].na_prob < questions[b].na_prob; });
    std::tie(s.best_exact, s.best_exact_thresh) = best_threshold(questions, order, &Scored::exact);
    std::tie(s.best_f1, s.best_f1_thresh) = best_threshold(questions, order, &Scored::f1);
  }
  return s;
}

}  // namespace

std::string normalize_answer(std::string_view text) { return join(answer_tokens(text)); }

double exact_match_score(std::string_view prediction, std::string_view gold) {
  return answer_tokens(prediction) == answer_tokens(gold) ? 1.0 : 0.0;
}

double token_f1_score(std::string_view prediction, std::string_view gold) {
  return token_f1(answer_tokens(gold), answer_tokens(prediction), /*v1=*/false);
}

SquadScores evaluate_squad(const std::vector<SquadGold>& gold, const std::map<std::string, std::string>& predictions,
                           const std::map<std::string, double>& na_probs, double na_threshold) {
  if (gold.empty()) throw Error("evaluate_squad: there are no gold questions to score");
  const bool version_2 = !na_probs.empty() ||
                         std::any_of(gold.begin(), gold.end(), [](const SquadGold& q) { return q.answers.empty(); });
  return version_2 ? evaluate_v2(gold, predictions, na_probs, na_threshold) : evaluate_v1(gold, predictions);
}

}  // namespace electra
