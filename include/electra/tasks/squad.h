#pragma once
// SQuAD 1.1 / 2.0: reading the official JSON, sliding windows over the context, and
// turning start/end logits back into answer text (reference doc section 7).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "electra/tokenization/wordpiece.h"

namespace electra {

struct SquadAnswer {
  std::string text;
  std::size_t byte_start = 0;  // byte offset into the context (the JSON's answer_start counts characters)
};

struct SquadExample {
  std::string id;
  std::string title;
  std::string question;
  std::string context;
  std::vector<SquadAnswer> answers;  // empty for unanswerable questions and unlabelled files
  bool is_impossible = false;
};

// Reads v1.1 or v2.0 files ({"version", "data": [{"title", "paragraphs": [{"context", "qas"}]}]}).
// Errors name the file and, for JSON syntax errors, the byte position; a question without
// "id" or "question", or an answer whose text does not match the context at answer_start
// (after converting characters to bytes), is an error naming the question id.
// (Every answer of the official v1.1 dev and v2.0 dev files matches exactly, so a mismatch
// means a broken file, not a quirk to skip.) "answers" may be absent (unlabelled files);
// is_impossible questions keep no answers ("plausible_answers" is not read); a duplicate
// id is an error, since predictions are keyed by id.
std::vector<SquadExample> read_squad(const std::string& path);

struct SquadWindowOptions {
  std::size_t max_seq_length = 384;
  std::size_t doc_stride = 128;
  std::size_t max_query_length = 64;
};

// One window: [CLS] question [SEP] context piece [SEP] (unpadded).
struct SquadFeature {
  std::size_t example_index = 0;  // into the examples vector
  std::size_t window_index = 0;   // 0, 1, ... within its example
  std::vector<std::int32_t> input_ids;
  std::vector<std::int32_t> token_type_ids;
  // Per token: byte range [begin, end) in the context; (0, 0) for question and special tokens.
  std::vector<std::pair<std::size_t, std::size_t>> context_offsets;
  std::vector<std::uint8_t> is_context;   // 1 for context tokens
  std::vector<std::uint8_t> max_context;  // 1 where this window gives the token its most context
  // Training targets (token indices): the answer span when it lies wholly in this window,
  // else 0 and 0 ([CLS]); also 0 and 0 for unanswerable questions.
  std::int32_t start_position = 0;
  std::int32_t end_position = 0;
};

// Windows over every example's context; the question is truncated to max_query_length
// tokens; consecutive windows start doc_stride tokens apart. The first answer is the
// training target. Throws when max_seq_length cannot hold the question and one context token.
// As BERT's loop: a doc_stride longer than a window advances one window; the last window is
// the first to reach the context's end. A context without tokens gets one window without
// context tokens; an answer whose bytes hold no token targets [CLS].
std::vector<SquadFeature> make_squad_features(const WordPieceTokenizer& tokenizer,
                                              const std::vector<SquadExample>& examples,
                                              const SquadWindowOptions& options);

struct SquadDecodeOptions {
  std::size_t n_best = 20;          // candidate starts and ends, and n-best list length
  std::size_t max_answer_length = 30;
  bool version_2 = false;           // consider the null answer
  double null_threshold = 0.0;      // v2: answer "" when null score - best non-null score > threshold
};

struct SquadCandidate {
  std::string text;
  double start_logit = 0, end_logit = 0;
  double probability = 0;  // softmax over the n-best list's scores
};

struct SquadPrediction {
  std::string id;
  std::string text;                      // "" for a null answer
  std::vector<SquadCandidate> nbest;     // best first; v2 includes the empty answer
  double null_score_diff = 0;            // v2: null score - best non-null score (null_odds.json)
};

// One prediction per example, in example order. start_logits[f] / end_logits[f] belong to
// features[f] and have its length. Candidate spans: top n_best starts x top n_best ends,
// both context tokens with max_context at the start, end >= start, length <= max_answer_length;
// the answer text is the context bytes from the start token's begin to the end token's end.
// v2 null score of an example: the minimum over its windows of start_logit[0] + end_logit[0].
// Equal texts keep the best-scoring span. v2: "" sits in the n-best by its score, or is
// appended when it misses the top n_best (BERT). Without any valid span the text is ""
// (Hugging Face answers "empty"), and v2's null_score_diff is the largest finite double.
// no_answer_logits (v2, the answerability classifier; one per feature, or empty): the example's
// null_score_diff is then the minimum over its windows of that logit, not a span-score difference,
// and the answer is "" when it exceeds null_threshold. The n-best list is ranked as without it.
std::vector<SquadPrediction> decode_squad(const std::vector<SquadExample>& examples,
                                          const std::vector<SquadFeature>& features,
                                          const std::vector<std::vector<float>>& start_logits,
                                          const std::vector<std::vector<float>>& end_logits,
                                          const SquadDecodeOptions& options,
                                          const std::vector<float>& no_answer_logits = {});

}  // namespace electra
