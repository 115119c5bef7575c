#include "data/example_builder.h"

#include <algorithm>
#include <limits>
#include <string>

#include "electra/util/error.h"

namespace electra {
namespace {

std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void check_probability(double p, const char* name) {
  if (!(p >= 0.0 && p <= 1.0)) throw Error(std::string(name) + " must be in [0, 1], got " + std::to_string(p));
}

}  // namespace

std::vector<std::int32_t> PretrainingExample::token_type_ids() const {
  std::vector<std::int32_t> types(ids.size(), 1);
  std::fill(types.begin(), types.begin() + std::min<std::size_t>(static_cast<std::size_t>(len_a), ids.size()), 0);
  return types;
}

void BuildStats::add(const BuildStats& o) {
  documents += o.documents;
  examples += o.examples;
  single_segment_examples += o.single_segment_examples;
  single_segment_draws += o.single_segment_draws;
  short_target_draws += o.short_target_draws;
  input_tokens += o.input_tokens;
  example_tokens += o.example_tokens;
  truncated_tokens += o.truncated_tokens;
}

std::uint64_t document_seed(std::uint64_t seed, std::uint64_t index) {
  return mix64(mix64(seed + 0x9E3779B97F4A7C15ULL) ^ (index * 0xD1B54A32D192ED03ULL + 1));
}

std::uint64_t SplitMix64::next() {
  state_ += 0x9E3779B97F4A7C15ULL;
  return mix64(state_);
}

double SplitMix64::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

std::int64_t SplitMix64::uniform_int(std::int64_t lo, std::int64_t hi) {
  const auto range = static_cast<std::uint64_t>(hi - lo) + 1;
  if (range == 0) return static_cast<std::int64_t>(next());  // the whole 64-bit range
  const std::uint64_t threshold = (0 - range) % range;      // rejects the biased low values
  for (;;) {
    const std::uint64_t x = next();
    if (x >= threshold) return lo + static_cast<std::int64_t>(x % range);
  }
}

ExampleBuilder::ExampleBuilder(ExampleBuilderOptions options, std::int32_t cls_id, std::int32_t sep_id)
    : options_(options), cls_id_(cls_id), sep_id_(sep_id) {
  if (options_.max_seq_len < 8 || options_.max_seq_len > 65535) {
    throw Error("max_seq_len must be in [8, 65535], got " + std::to_string(options_.max_seq_len));
  }
  check_probability(options_.short_seq_prob, "short_seq_prob");
  check_probability(options_.single_segment_prob, "single_segment_prob");
}

ExampleBuilder::Target ExampleBuilder::draw_target(SplitMix64& random) const {
  if (random.uniform() < options_.short_seq_prob) {
    return {static_cast<std::int32_t>(random.uniform_int(5, options_.max_seq_len)), true};
  }
  return {options_.max_seq_len, false};
}

void ExampleBuilder::build(const std::vector<std::vector<std::int32_t>>& sentences, std::uint64_t seed,
                           std::vector<PretrainingExample>& out, BuildStats& stats) const {
  ++stats.documents;
  SplitMix64 random(seed);
  Target target = draw_target(random);
  std::vector<const std::vector<std::int32_t>*> chunk;
  std::size_t chunk_tokens = 0;
  for (const auto& sentence : sentences) {
    if (sentence.empty()) continue;
    stats.input_tokens += sentence.size();
    chunk.push_back(&sentence);
    chunk_tokens += sentence.size();
    if (chunk_tokens >= static_cast<std::size_t>(target.length)) {
      out.push_back(make_example(chunk, target, random, stats));
      chunk.clear();
      chunk_tokens = 0;
      target = draw_target(random);
    }
  }
  if (!chunk.empty()) out.push_back(make_example(chunk, target, random, stats));
}

PretrainingExample ExampleBuilder::make_example(const std::vector<const std::vector<std::int32_t>*>& chunk,
                                                Target target, SplitMix64& random,
                                                BuildStats& stats) const {
  const bool single = random.uniform() < options_.single_segment_prob;
  const std::size_t first_target =
      single ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>((target.length - 3) / 2);
  std::vector<std::int32_t> a, b;
  bool in_b = false;
  for (const auto* sentence : chunk) {
    if (!in_b && (a.empty() || a.size() + sentence->size() < first_target ||
                  (a.size() < first_target && random.uniform() < 0.5))) {
      a.insert(a.end(), sentence->begin(), sentence->end());
    } else {
      in_b = true;
      b.insert(b.end(), sentence->begin(), sentence->end());
    }
  }
  const std::size_t max_len = static_cast<std::size_t>(options_.max_seq_len);
  const std::size_t input = a.size() + b.size();
  if (a.size() > max_len - 2) a.resize(max_len - 2);
  const std::size_t room_b = max_len >= a.size() + 3 ? max_len - a.size() - 3 : 0;
  if (b.size() > room_b) b.resize(room_b);
  stats.truncated_tokens += input - a.size() - b.size();

  PretrainingExample example;
  example.ids.reserve(a.size() + b.size() + 3);
  example.ids.push_back(cls_id_);
  example.ids.insert(example.ids.end(), a.begin(), a.end());
  example.ids.push_back(sep_id_);
  example.len_a = static_cast<std::int32_t>(example.ids.size());
  if (!b.empty()) {
    example.ids.insert(example.ids.end(), b.begin(), b.end());
    example.ids.push_back(sep_id_);
  }
  ++stats.examples;
  stats.single_segment_draws += single ? 1 : 0;
  stats.single_segment_examples += b.empty() ? 1 : 0;
  stats.short_target_draws += target.short_draw ? 1 : 0;
  stats.example_tokens += example.ids.size();
  return example;
}

}  // namespace electra
