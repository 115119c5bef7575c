// Pre-training data, the parts below the driver: corpus reading, sentence splitting,
// example packing (official builder rules) and shard files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "data/corpus.h"
#include "data/example_builder.h"
#include "data/sentence_splitter.h"
#include "data/shard.h"
#include "electra/util/error.h"
#include "test_util.h"

namespace electra {
namespace {

using test::expect_error;
using test::read_bytes;
using test::TempDir;
using test::write_bytes;
using Ids = std::vector<std::int32_t>;

constexpr std::int32_t kCls = 2, kSep = 3;

// ---------------------------------------------------------------- corpus

std::vector<Document> read_all(const std::vector<CorpusFile>& files, CorpusOptions options = {}) {
  CorpusReader reader(files, options);
  std::vector<Document> documents;
  Document d;
  while (reader.next(d)) documents.push_back(d);
  return documents;
}

std::vector<std::vector<std::string>> sentences_of(const std::vector<Document>& documents) {
  std::vector<std::vector<std::string>> out;
  for (const auto& d : documents) out.push_back(d.sentences);
  return out;
}

using Docs = std::vector<std::vector<std::string>>;

TEST(Corpus, LinesBlankLinesAndFilesEndDocuments) {
  TempDir dir;
  write_bytes(dir.file("a.txt"), "One.\nTwo.\n\n \t \n\n  Three.  \r\nFour.\r\n");
  write_bytes(dir.file("b.txt"), "\n\nFive.");  // leading blanks, no final newline
  write_bytes(dir.file("c.txt"), "");
  write_bytes(dir.file("d.txt"), "Six.\n");
  const auto docs = read_all({{dir.file("a.txt")}, {dir.file("b.txt")}, {dir.file("c.txt")}, {dir.file("d.txt")}});
  EXPECT_EQ(sentences_of(docs), (Docs{{"One.", "Two."}, {"Three.", "Four."}, {"Five."}, {"Six."}}));
  EXPECT_EQ(docs[2].file_index, 1u);
  EXPECT_EQ(docs[3].file_index, 3u);
}

TEST(Corpus, LinesDocumentCap) {
  TempDir dir;
  write_bytes(dir.file("a.txt"), "1\n2\n3\n4\n5\n\n6\n");
  CorpusOptions options;
  options.max_document_sentences = 2;
  EXPECT_EQ(sentences_of(read_all({{dir.file("a.txt")}}, options)), (Docs{{"1", "2"}, {"3", "4"}, {"5"}, {"6"}}));
}

TEST(Corpus, InvalidUtf8IsSkippedAndCounted) {
  TempDir dir;
  // \xFF: never valid; \xC3 followed by a space: truncated sequence; \xED\xA0\x80: a surrogate
  // (3 bytes, each its own maximal ill-formed subpart); \xC3\xA9 (é) is valid.
  write_bytes(dir.file("a.txt"), "\xFFHello caf\xC3\xA9 \xC3 world\n\xED\xA0\x80\n\nx\xF0\x9F\n");
  CorpusReader reader({{dir.file("a.txt")}});
  Document d;
  ASSERT_TRUE(reader.next(d));
  EXPECT_EQ(d.sentences, (std::vector<std::string>{"Hello caf\xC3\xA9  world"}));
  ASSERT_TRUE(reader.next(d));
  EXPECT_EQ(d.sentences, (std::vector<std::string>{"x"}));
  EXPECT_FALSE(reader.next(d));
  EXPECT_EQ(reader.line_stats().invalid_bytes, 1u + 1u + 3u + 2u);
  EXPECT_EQ(reader.documents(), 2u);
  EXPECT_EQ(reader.sentences(), 2u);
}

TEST(Corpus, WhitespaceOnlyAndUnicodeSpaces) {
  TempDir dir;
  // NBSP and ideographic space count as whitespace; a byte order mark is dropped.
  write_bytes(dir.file("a.txt"), "\xEF\xBB\xBFHi\n\xC2\xA0\xE3\x80\x80\nthere\xC2\xA0\n");
  EXPECT_EQ(sentences_of(read_all({{dir.file("a.txt")}})), (Docs{{"Hi"}, {"there"}}));
}

TEST(Corpus, ProseJoinsWrappedLinesAndSplitsSentences) {
  TempDir dir;
  write_bytes(dir.file("book.txt"),
              "It was a dark\nand stormy night. The rain fell\nin torrents.\n\n"
              "Mr. Smith\nstayed home. He read.\n");
  EXPECT_EQ(sentences_of(read_all({{dir.file("book.txt"), CorpusMode::prose}})),
            (Docs{{"It was a dark and stormy night.", "The rain fell in torrents.", "Mr. Smith stayed home.",
                   "He read."}}));
}

TEST(Corpus, ProseSectionBreaksEndLongEnoughDocuments) {
  TempDir dir;
  // Two chapters: the heading and the first chapter stay together (the heading
  // alone is shorter than min_section_sentences), the second chapter starts anew.
  write_bytes(dir.file("book.txt"),
              "CHAPTER I\n\n\nA one. A two. A three.\n\nA four.\n\n\n\nCHAPTER II\n\n\nB one. B two.\n\nB three.\n");
  CorpusOptions options;
  options.min_section_sentences = 3;
  EXPECT_EQ(sentences_of(read_all({{dir.file("book.txt"), CorpusMode::prose}}, options)),
            (Docs{{"CHAPTER I", "A one.", "A two.", "A three.", "A four."}, {"CHAPTER II", "B one.", "B two.", "B three."}}));
  options.min_section_sentences = 100;  // no break is long enough: the file is one document
  EXPECT_EQ(read_all({{dir.file("book.txt"), CorpusMode::prose}}, options).size(), 1u);
}

TEST(Corpus, ProseParagraphEndsDocumentAtSizeAndHardCap) {
  TempDir dir;
  write_bytes(dir.file("book.txt"), "One. Two. Three.\n\nFour. Five.\n\nSix.\n");
  CorpusOptions options;
  options.prose_document_sentences = 3;
  EXPECT_EQ(sentences_of(read_all({{dir.file("book.txt"), CorpusMode::prose}}, options)),
            (Docs{{"One.", "Two.", "Three."}, {"Four.", "Five.", "Six."}}));
  options = {};
  options.max_document_sentences = 2;
  const auto docs = read_all({{dir.file("book.txt"), CorpusMode::prose}}, options);
  std::size_t total = 0;
  for (const auto& d : docs) {
    EXPECT_LE(d.sentences.size(), 3u);  // the cap is checked after each line
    total += d.sentences.size();
  }
  EXPECT_EQ(total, 6u);
}

TEST(Corpus, MixedModesPerFile) {
  TempDir dir;
  write_bytes(dir.file("lines.txt"), "Mr. A. Line one\nline two\n");
  write_bytes(dir.file("prose.txt"), "Para one. Para\ntwo.\n");
  EXPECT_EQ(sentences_of(read_all({{dir.file("lines.txt")}, {dir.file("prose.txt"), CorpusMode::prose}})),
            (Docs{{"Mr. A. Line one", "line two"}, {"Para one.", "Para two."}}));
}

TEST(Corpus, MissingFileIsNamed) {
  TempDir dir;
  CorpusReader reader({{dir.file("missing.txt")}});
  Document d;
  expect_error([&] { reader.next(d); }, {"missing.txt"});
}

TEST(Corpus, ModeNames) {
  EXPECT_EQ(parse_corpus_mode("lines"), CorpusMode::lines);
  EXPECT_EQ(parse_corpus_mode("prose"), CorpusMode::prose);
  EXPECT_STREQ(to_string(CorpusMode::prose), "prose");
  expect_error([] { parse_corpus_mode("paragraphs"); }, {"paragraphs", "lines", "prose"});
}

// ---------------------------------------------------------------- sentence splitter

using Sentences = std::vector<std::string>;

TEST(SentenceSplitter, Cases) {
  const std::vector<std::pair<std::string, Sentences>> cases{
      {"The cat sat. The dog ran.", {"The cat sat.", "The dog ran."}},
      {"Really?! Yes! No?  Maybe.", {"Really?!", "Yes!", "No?", "Maybe."}},
      {"Mr. Smith met Dr. Jones at St. Paul's. They talked.", {"Mr. Smith met Dr. Jones at St. Paul's.", "They talked."}},
      {"Use tools, e.g. Hammers. Or i.e. Nails.", {"Use tools, e.g. Hammers.", "Or i.e. Nails."}},
      {"G. K. Chesterton wrote it. Then he slept.", {"G. K. Chesterton wrote it.", "Then he slept."}},
      {"The U.S. Army came. It left.", {"The U.S. Army came.", "It left."}},
      {"He said \"Stop!\" Then he left.", {"He said \"Stop!\"", "Then he left."}},
      {"(It ended.) Next one.", {"(It ended.)", "Next one."}},
      {"She wrote \xE2\x80\x9CYes.\xE2\x80\x9D Then \xE2\x80\x98no.\xE2\x80\x99 Done.",
       {"She wrote \xE2\x80\x9CYes.\xE2\x80\x9D", "Then \xE2\x80\x98no.\xE2\x80\x99", "Done."}},
      {"Pi is 3.14 today. 42 is the answer.", {"Pi is 3.14 today.", "42 is the answer."}},
      {"It went on... And on.", {"It went on...", "And on."}},
      {"the end. lowercase goes on", {"the end. lowercase goes on"}},
      {"Fin. \xC3\x89" "cole ouverte.", {"Fin.", "\xC3\x89" "cole ouverte."}},
      {"He asked: \"Why?\" \"Because.\"", {"He asked: \"Why?\"", "\"Because.\""}},
      {"no final punctuation", {"no final punctuation"}},
      {"wikitext style . Next sentence .", {"wikitext style .", "Next sentence ."}},
      {"  ", {}},
      {"", {}},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_EQ(split_sentences(text), expected) << "text: " << text;
  }
}

TEST(SentenceSplitter, StreamingMatchesWholeParagraph) {
  const std::vector<std::string> lines{"It was late. Mr.", "Brown went", "home. \"Good night!\"",
                                       "she said.", "The end"};
  std::string joined;
  for (const auto& l : lines) joined += (joined.empty() ? "" : " ") + l;
  SentenceSplitter splitter;
  Sentences streamed;
  for (const auto& l : lines) splitter.add_line(l, streamed);
  splitter.finish(streamed);
  EXPECT_EQ(streamed, split_sentences(joined));
  EXPECT_EQ(streamed, (Sentences{"It was late.", "Mr. Brown went home.", "\"Good night!\" she said.", "The end"}));
}

TEST(SentenceSplitter, HandsOutFinishedSentencesEarly) {
  SentenceSplitter splitter;
  Sentences out;
  splitter.add_line("One here. Two", out);
  EXPECT_EQ(out, Sentences{"One here."});
  splitter.add_line("here.", out);  // the end of "Two here." is not certain yet
  EXPECT_EQ(out.size(), 1u);
  splitter.finish(out);
  EXPECT_EQ(out, (Sentences{"One here.", "Two here."}));
  EXPECT_TRUE(splitter.empty());
}

// ---------------------------------------------------------------- example builder

// Sentences of the given lengths; sentence s of document `doc` holds ids 1000*doc + 10*s + k.
std::vector<Ids> make_sentences(const std::vector<int>& lengths, int doc = 1) {
  std::vector<Ids> out;
  for (std::size_t s = 0; s < lengths.size(); ++s) {
    Ids ids;
    for (int k = 0; k < lengths[s]; ++k) ids.push_back(100000 * doc + 100 * static_cast<int>(s) + k);
    out.push_back(ids);
  }
  return out;
}

void check_layout(const PretrainingExample& e, std::int32_t max_len) {
  ASSERT_GE(e.ids.size(), 2u);
  EXPECT_LE(e.ids.size(), static_cast<std::size_t>(max_len));
  EXPECT_EQ(e.ids.front(), kCls);
  EXPECT_EQ(e.ids.back(), kSep);
  ASSERT_GE(e.len_a, 3) << "segment A is never empty";
  ASSERT_LE(static_cast<std::size_t>(e.len_a), e.ids.size());
  EXPECT_EQ(e.ids[static_cast<std::size_t>(e.len_a) - 1], kSep);
  if (!e.single_segment()) {
    EXPECT_GE(e.ids.size() - static_cast<std::size_t>(e.len_a), 2u) << "B empty";
  }
  const auto types = e.token_type_ids();
  for (std::size_t i = 0; i < e.ids.size(); ++i) {
    EXPECT_EQ(types[i], i < static_cast<std::size_t>(e.len_a) ? 0 : 1);
    if (i != 0 && i + 1 != static_cast<std::size_t>(e.len_a) && i + 1 != e.ids.size()) {
      EXPECT_NE(e.ids[i], kSep);
      EXPECT_NE(e.ids[i], kCls);
    }
  }
}

Ids content(const PretrainingExample& e) {
  Ids out;
  for (std::size_t i = 1; i < e.ids.size(); ++i) {
    if (i + 1 == static_cast<std::size_t>(e.len_a) || i + 1 == e.ids.size()) continue;
    out.push_back(e.ids[i]);
  }
  return out;
}

TEST(ExampleBuilder, HandComputedPairAndSingle) {
  // Sentences of 3 tokens, max 8: the chunk is all three (9 >= 8). Pair: A aims at
  // (8-3)/2 = 2 tokens, so A = s0 and B = s1 s2, cut to 8-3-3 = 2 tokens.
  ExampleBuilderOptions options;
  options.max_seq_len = 8;
  options.short_seq_prob = 0;
  options.single_segment_prob = 0;
  const auto sentences = make_sentences({3, 3, 3});
  std::vector<PretrainingExample> out;
  BuildStats stats;
  ExampleBuilder(options, kCls, kSep).build(sentences, 1, out, stats);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ids, (Ids{kCls, 100000, 100001, 100002, kSep, 100100, 100101, kSep}));
  EXPECT_EQ(out[0].len_a, 5);
  EXPECT_EQ(stats.truncated_tokens, 4u);
  EXPECT_EQ(stats.input_tokens, 9u);
  EXPECT_EQ(stats.example_tokens, 8u);

  options.single_segment_prob = 1;  // one segment: all nine tokens, cut to 8-2 = 6
  out.clear();
  stats = {};
  ExampleBuilder(options, kCls, kSep).build(sentences, 1, out, stats);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ids, (Ids{kCls, 100000, 100001, 100002, 100100, 100101, 100102, kSep}));
  EXPECT_TRUE(out[0].single_segment());
  EXPECT_EQ(stats.truncated_tokens, 3u);
  EXPECT_EQ(stats.single_segment_draws, 1u);
}

TEST(ExampleBuilder, LongSentenceIsTruncatedAndCounted) {
  ExampleBuilderOptions options;
  options.max_seq_len = 128;
  options.short_seq_prob = 0;
  std::vector<PretrainingExample> out;
  BuildStats stats;
  const auto sentences = make_sentences({300});
  ExampleBuilder(options, kCls, kSep).build(sentences, 7, out, stats);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ids.size(), 128u);
  EXPECT_TRUE(out[0].single_segment());  // B is empty: one segment whatever was drawn
  EXPECT_EQ(stats.truncated_tokens, 300u - 126u);
  EXPECT_EQ(content(out[0]), Ids(sentences[0].begin(), sentences[0].begin() + 126));
}

TEST(ExampleBuilder, ChunksFollowTheOfficialRules) {
  // Many documents of varied sentences: every example is well formed, its content is
  // a run of whole sentences of its document in order (cut only at its end), chunks
  // reach the target unless they end the document, and nothing is lost but the cut.
  ExampleBuilderOptions options;
  options.max_seq_len = 64;
  options.short_seq_prob = 0;
  const ExampleBuilder builder(options, kCls, kSep);
  SplitMix64 lengths(99);
  BuildStats stats;
  for (int doc = 0; doc < 300; ++doc) {
    std::vector<int> sizes;
    for (auto n = lengths.uniform_int(1, 30); n > 0; --n) sizes.push_back(static_cast<int>(lengths.uniform_int(1, 40)));
    const auto sentences = make_sentences(sizes, doc + 1);
    std::vector<PretrainingExample> out;
    BuildStats doc_stats;
    builder.build(sentences, document_seed(5, static_cast<std::uint64_t>(doc)), out, doc_stats);
    std::size_t next_sentence = 0;
    for (std::size_t x = 0; x < out.size(); ++x) {
      check_layout(out[x], options.max_seq_len);
      // Rebuild the chunk: whole sentences from next_sentence on, until >= 64 tokens.
      Ids chunk;
      std::size_t first_b = 0;
      std::size_t s = next_sentence;
      while (s < sentences.size() && chunk.size() < 64) {
        chunk.insert(chunk.end(), sentences[s].begin(), sentences[s].end());
        ++s;
      }
      if (s < sentences.size()) {
        EXPECT_GE(chunk.size(), 64u);
      }
      const Ids got = content(out[x]);
      ASSERT_LE(got.size(), chunk.size());
      const std::size_t a = static_cast<std::size_t>(out[x].len_a) - 2;
      EXPECT_TRUE(std::equal(got.begin(), got.begin() + static_cast<long>(a), chunk.begin()));
      // B continues right after the whole sentences of A (A is a prefix of sentences).
      if (!out[x].single_segment()) {
        std::size_t boundary = 0, k = next_sentence;
        while (boundary < a) boundary += sentences[k++].size();
        EXPECT_EQ(boundary, a) << "A ends on a sentence boundary";
        first_b = boundary;
        EXPECT_TRUE(std::equal(got.begin() + static_cast<long>(a), got.end(), chunk.begin() + static_cast<long>(first_b)));
      }
      for (auto id : got) EXPECT_EQ(id / 100000, doc + 1) << "tokens of another document";
      next_sentence = s;
    }
    EXPECT_EQ(next_sentence, sentences.size());
    EXPECT_EQ(doc_stats.input_tokens, doc_stats.example_tokens - 3 * doc_stats.examples +
                                          doc_stats.single_segment_examples + doc_stats.truncated_tokens);
    stats.add(doc_stats);
  }
  EXPECT_EQ(stats.documents, 300u);
  EXPECT_GT(stats.examples, 600u);
}

TEST(ExampleBuilder, SingleSegmentShareIsAboutTenPercent) {
  ExampleBuilderOptions options;  // 128 tokens, 0.1 single, 0.05 short
  const ExampleBuilder builder(options, kCls, kSep);
  BuildStats stats;
  std::vector<PretrainingExample> out;
  const auto sentences = make_sentences(std::vector<int>(200, 5));
  for (std::uint64_t doc = 0; doc < 1200; ++doc) {
    builder.build(sentences, document_seed(1, doc), out, stats);
  }
  ASSERT_GT(stats.examples, 8000u);
  const double drawn = static_cast<double>(stats.single_segment_draws) / static_cast<double>(stats.examples);
  EXPECT_NEAR(drawn, 0.10, 0.015);
  const double layout = static_cast<double>(stats.single_segment_examples) / static_cast<double>(stats.examples);
  EXPECT_GE(layout, drawn);  // plus chunks of one sentence
  EXPECT_NEAR(layout, 0.10, 0.03);
  std::size_t single = 0;
  for (const auto& e : out) single += e.single_segment() ? 1 : 0;
  EXPECT_EQ(single, stats.single_segment_examples);
}

TEST(ExampleBuilder, RandomTargetLengthShareIsAboutFivePercent) {
  ExampleBuilderOptions options;
  options.single_segment_prob = 0;
  const ExampleBuilder builder(options, kCls, kSep);
  BuildStats stats;
  std::size_t examples = 0, short_examples = 0, min_short = 1000;
  for (std::uint64_t doc = 0; doc < 100; ++doc) {
    // One-token sentences: a chunk is exactly its target length, so an example shows
    // its target: 128 (cut to 125 tokens for the pair layout) or a draw in [5, 128].
    std::vector<PretrainingExample> out;
    builder.build(make_sentences(std::vector<int>(12000, 1)), document_seed(2, doc), out, stats);
    out.pop_back();  // the end of the document is not a target
    for (const auto& e : out) {
      const std::size_t n = content(e).size();
      ++examples;
      if (n < 125) {
        ++short_examples;
        min_short = std::min(min_short, n);
      }
    }
  }
  ASSERT_GT(stats.examples, 9000u);
  EXPECT_NEAR(static_cast<double>(stats.short_target_draws) / static_cast<double>(stats.examples), 0.05, 0.01);
  EXPECT_GE(min_short, 5u);
  // Draws of 125..128 look like full examples: 120 of the 124 possible lengths are seen.
  EXPECT_NEAR(static_cast<double>(short_examples) / static_cast<double>(examples), 0.05 * 120 / 124, 0.01);
}

TEST(ExampleBuilder, CrossingTheSegmentAimIsACoinFlip) {
  // 10-token sentences, aim (128-3)/2 = 62: A holds 6 sentences (60) and the 7th is
  // added with probability 1/2 (the official third rule).
  ExampleBuilderOptions options;
  options.short_seq_prob = 0;
  options.single_segment_prob = 0;
  const ExampleBuilder builder(options, kCls, kSep);
  std::map<std::int32_t, int> len_a;
  for (std::uint64_t doc = 0; doc < 2000; ++doc) {
    std::vector<PretrainingExample> out;
    BuildStats stats;
    builder.build(make_sentences(std::vector<int>(13, 10)), document_seed(3, doc), out, stats);
    ASSERT_EQ(out.size(), 1u);
    len_a[out[0].len_a]++;
  }
  ASSERT_EQ(len_a.size(), 2u);
  EXPECT_NEAR(len_a[62] / 2000.0, 0.5, 0.05);
  EXPECT_NEAR(len_a[72] / 2000.0, 0.5, 0.05);
}

TEST(ExampleBuilder, DeterministicPerSeed) {
  const ExampleBuilder builder(ExampleBuilderOptions{}, kCls, kSep);
  const auto sentences = make_sentences(std::vector<int>(200, 7));
  auto run = [&](std::uint64_t seed) {
    std::vector<PretrainingExample> out;
    BuildStats stats;
    builder.build(sentences, seed, out, stats);
    std::vector<Ids> ids;
    for (auto& e : out) {
      ids.push_back(e.ids);
      ids.back().push_back(e.len_a);
    }
    return ids;
  };
  EXPECT_EQ(run(11), run(11));
  EXPECT_NE(run(11), run(12));
  EXPECT_NE(document_seed(1, 0), document_seed(1, 1));
  EXPECT_NE(document_seed(1, 0), document_seed(2, 0));
}

TEST(ExampleBuilder, SplitMixIsPortable) {
  // Reference values of SplitMix64 (Vigna's splitmix64.c) from seed 0.
  SplitMix64 r(0);
  EXPECT_EQ(r.next(), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(r.next(), 0x6E789E6AA1B965F4ULL);
  SplitMix64 u(42);
  for (int i = 0; i < 10000; ++i) {
    const auto v = u.uniform_int(5, 9);
    ASSERT_GE(v, 5);
    ASSERT_LE(v, 9);
    const double d = u.uniform();
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
  }
}

TEST(ExampleBuilder, RejectsBadOptions) {
  ExampleBuilderOptions options;
  options.max_seq_len = 7;
  expect_error([&] { ExampleBuilder(options, kCls, kSep); }, {"max_seq_len", "7"});
  options.max_seq_len = 65536;
  expect_error([&] { ExampleBuilder(options, kCls, kSep); }, {"max_seq_len"});
  options = {};
  options.short_seq_prob = 1.5;
  expect_error([&] { ExampleBuilder(options, kCls, kSep); }, {"short_seq_prob"});
}

TEST(ExampleBuilder, EmptySentencesAndDocuments) {
  const ExampleBuilder builder(ExampleBuilderOptions{}, kCls, kSep);
  std::vector<PretrainingExample> out;
  BuildStats stats;
  builder.build({}, 1, out, stats);
  builder.build({Ids{}, Ids{}}, 1, out, stats);
  EXPECT_TRUE(out.empty());
  builder.build({Ids{}, Ids{5, 6}, Ids{}}, 1, out, stats);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ids, (Ids{kCls, 5, 6, kSep}));
}

// ---------------------------------------------------------------- shards

std::vector<PretrainingExample> sample_examples(std::size_t n, std::int32_t vocab, std::uint64_t seed) {
  SplitMix64 r(seed);
  std::vector<PretrainingExample> out;
  for (std::size_t i = 0; i < n; ++i) {
    PretrainingExample e;
    const auto len = r.uniform_int(2, 40);
    for (std::int64_t k = 0; k < len; ++k) e.ids.push_back(static_cast<std::int32_t>(r.uniform_int(0, vocab - 1)));
    e.len_a = static_cast<std::int32_t>(r.uniform_int(1, len));
    out.push_back(e);
  }
  return out;
}

void write_shard(const std::string& path, const std::vector<PretrainingExample>& examples, ShardInfo info) {
  ShardWriter writer(path, info);
  for (const auto& e : examples) writer.add(e);
  writer.close();
}

TEST(Shard, RoundTripWithBothIdWidths) {
  TempDir dir;
  for (std::uint32_t vocab : {30522u, 65536u, 70000u}) {
    const ShardInfo info{vocab, 40, 0x1234567890ABCDEFULL};
    const auto examples = sample_examples(257, static_cast<std::int32_t>(vocab), vocab);
    const std::string path = dir.file("x" + std::to_string(vocab) + ".shard");
    write_shard(path, examples, info);
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
    const auto size = std::filesystem::file_size(path);
    const ShardReader reader(path);
    EXPECT_EQ(reader.info().id_bytes(), vocab <= 65536 ? 2u : 4u);
    EXPECT_EQ(reader.info().vocab_size, vocab);
    EXPECT_EQ(reader.info().max_seq_len, 40u);
    EXPECT_EQ(reader.info().vocab_fingerprint, 0x1234567890ABCDEFULL);
    EXPECT_EQ(reader.format_version(), kShardFormatVersion);
    ASSERT_EQ(reader.size(), examples.size());
    std::uint64_t tokens = 0;
    for (std::size_t i = 0; i < examples.size(); ++i) {
      const auto e = reader.example(i);
      EXPECT_EQ(e.ids, examples[i].ids);
      EXPECT_EQ(e.len_a, examples[i].len_a);
      EXPECT_EQ(reader.length(i), examples[i].ids.size());
      tokens += examples[i].ids.size();
    }
    EXPECT_EQ(reader.tokens(), tokens);
    const std::uint64_t width = vocab <= 65536 ? 2 : 4;
    const auto pad8 = [](std::uint64_t n) { return (n + 7) / 8 * 8; };
    EXPECT_EQ(size, kShardHeaderBytes + pad8(tokens * width) + 8 * (examples.size() + 1) + pad8(2 * examples.size()));
    expect_error([&] { reader.example(examples.size()); }, {path, "out of range"});
  }
}

TEST(Shard, HeaderBytesAreAsDocumented) {
  TempDir dir;
  write_shard(dir.file("a.shard"), {PretrainingExample{{2, 7, 3}, 3}}, ShardInfo{100, 16, 42});
  const std::string bytes = read_bytes(dir.file("a.shard"));
  ASSERT_EQ(bytes.size(), 80u + 8 + 16 + 8);
  EXPECT_EQ(bytes.substr(0, 8), "ELECSHRD");
  auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (int k = 3; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(k)]);
    return v;
  };
  EXPECT_EQ(u32(8), 1u);    // version
  EXPECT_EQ(u32(12), 80u);  // header size
  EXPECT_EQ(u32(16), 100u);
  EXPECT_EQ(u32(20), 2u);
  EXPECT_EQ(u32(24), 16u);
  EXPECT_EQ(u32(32), 1u);   // examples (low half)
  EXPECT_EQ(u32(40), 3u);   // tokens
  EXPECT_EQ(u32(48), 42u);  // fingerprint
  EXPECT_EQ(u32(56), 32u);  // payload
  EXPECT_EQ(bytes.substr(80, 8), std::string("\x02\x00\x07\x00\x03\x00\x00\x00", 8));
  EXPECT_EQ(static_cast<unsigned char>(bytes[80 + 8 + 8]), 3u);      // offsets[1] = 3
  EXPECT_EQ(static_cast<unsigned char>(bytes[80 + 8 + 16]), 3u);     // len_a[0] = 3
  EXPECT_EQ(fnv1a64(bytes.data() + 80, 32), ShardReader(dir.file("a.shard")).checksum());
}

TEST(Shard, CorruptionIsDetected) {
  TempDir dir;
  const std::string path = dir.file("c.shard");
  write_shard(path, sample_examples(50, 1000, 3), ShardInfo{1000, 40, 7});
  const std::string good = read_bytes(path);

  std::string bad = good;
  bad[81] = static_cast<char>(bad[81] ^ 0x01);  // a payload byte: the first id
  write_bytes(path, bad);
  expect_error([&] { ShardReader r(path); }, {path, "checksum mismatch"});
  EXPECT_NO_THROW(ShardReader(path, false).size());  // unchecked: opens (the tables are intact)

  bad = good;
  bad[17] = static_cast<char>(bad[17] ^ 0x01);  // vocabulary size, in the header
  write_bytes(path, bad);
  expect_error([&] { ShardReader r(path); }, {path, "header checksum"});

  write_bytes(path, good.substr(0, good.size() - 9));
  expect_error([&] { ShardReader r(path); }, {path, "truncated"});
  write_bytes(path, good.substr(0, 40));
  expect_error([&] { ShardReader r(path); }, {path, "truncated"});
  write_bytes(path, "");
  expect_error([&] { ShardReader r(path); }, {path, "truncated"});
  write_bytes(path, good + "extra");
  expect_error([&] { ShardReader r(path); }, {path, "unexpected bytes"});

  bad = good;
  bad[0] = 'X';
  write_bytes(path, bad);
  expect_error([&] { ShardReader r(path); }, {path, "bad magic"});

  bad = good;
  bad[8] = 2;  // a newer format, with a valid header checksum
  const std::uint64_t h = fnv1a64(bad.data(), 72);
  for (int k = 0; k < 8; ++k) bad[72 + static_cast<std::size_t>(k)] = static_cast<char>(h >> (8 * k));
  write_bytes(path, bad);
  expect_error([&] { ShardReader r(path); }, {path, "version 2", "newer"});

  expect_error([&] { ShardReader r(dir.file("missing.shard")); }, {"missing.shard", "cannot open"});
}

TEST(Shard, UnclosedWriterLeavesNothing) {
  TempDir dir;
  const std::string path = dir.file("u.shard");
  {
    ShardWriter writer(path, ShardInfo{100, 16, 1});
    writer.add(PretrainingExample{{2, 5, 3}, 3});
    const std::filesystem::directory_iterator entries(dir.path());
    ASSERT_NE(entries, std::filesystem::directory_iterator());  // a temporary file, being written
    EXPECT_NE(entries->path().filename().string().find(".tmp"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(path));
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));  // neither the shard nor its temporary file
}

TEST(Shard, WriterRejectsBadExamples) {
  TempDir dir;
  ShardWriter writer(dir.file("w.shard"), ShardInfo{100, 8, 1});
  expect_error([&] { writer.add(PretrainingExample{{2, 100, 3}, 3}); }, {"w.shard", "100", "vocabulary"});
  expect_error([&] { writer.add(PretrainingExample{{2, -1, 3}, 3}); }, {"-1"});
  expect_error([&] { writer.add(PretrainingExample{Ids(9, 5), 3}); }, {"9 tokens"});
  expect_error([&] { writer.add(PretrainingExample{{2, 5, 3}, 4}); }, {"len_a"});
  expect_error([&] { writer.add(PretrainingExample{{}, 0}); }, {"0 tokens"});
  // Rejected examples leave no trace.
  writer.add(PretrainingExample{{2, 5, 99, 3}, 3});
  writer.close();
  const ShardReader reader(dir.file("w.shard"));
  ASSERT_EQ(reader.size(), 1u);
  EXPECT_EQ(reader.example(0).ids, (Ids{2, 5, 99, 3}));
  expect_error([&] { ShardWriter w(dir.file("nope/x.shard"), ShardInfo{100, 8, 1}); }, {"nope/x.shard.tmp"});
}

TEST(Shard, Fingerprints) {
  EXPECT_EQ(fnv1a64("", 0), 0xCBF29CE484222325ULL);
  EXPECT_EQ(fnv1a64("a", 1), 0xAF63DC4C8601EC8CULL);  // published FNV-1a 64 test vector
  EXPECT_EQ(fingerprint_hex(0xAF63DC4C8601EC8CULL), "af63dc4c8601ec8c");
}

}  // namespace
}  // namespace electra
