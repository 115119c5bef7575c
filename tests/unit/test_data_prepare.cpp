// The prepare driver (raw text -> shards + manifest) and the dataset reader, on the toy
// WordPiece vocabulary ([PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "data/example_builder.h"
#include "data/prepare.h"
#include "electra/data/pretraining_dataset.h"
#include "data/shard.h"
#include "electra/tokenization/text_encoder.h"
#include "electra/util/error.h"
#include "test_util.h"

namespace electra {
namespace {

namespace fs = std::filesystem;
using test::expect_error;
using test::read_bytes;
using test::TempDir;
using test::write_bytes;

std::string toy_vocab() { return test::source_dir() + "/tests/fixtures/wordpiece_toy_vocab.txt"; }

const std::vector<std::string> kWordsA{"the", "quick", "brown", "fox", "hello", "world"};
const std::vector<std::string> kWordsB{"jumps", "over", "lazy", "dog", "running", "cafe"};

// A lines-mode corpus of `documents` documents; even documents use kWordsA only, odd
// ones kWordsB only, so an example that mixes the groups crossed a document boundary.
std::string make_corpus(int documents, std::uint64_t seed, int max_sentences = 12) {
  SplitMix64 r(seed);
  std::string text;
  for (int d = 0; d < documents; ++d) {
    const auto& words = d % 2 == 0 ? kWordsA : kWordsB;
    for (auto s = r.uniform_int(1, max_sentences); s > 0; --s) {
      for (auto w = r.uniform_int(1, 25); w > 0; --w) {
        text += words[static_cast<std::size_t>(r.uniform_int(0, static_cast<std::int64_t>(words.size()) - 1))];
        text += w > 1 ? " " : "\n";
      }
    }
    text += "\n";
  }
  return text;
}

PrepareOptions options_for(const std::string& input, const std::string& out) {
  PrepareOptions o;
  o.inputs = {input};
  o.output_dir = out;
  o.vocab_path = toy_vocab();
  o.threads = 1;
  return o;
}

std::map<std::string, std::string> folder_bytes(const std::string& dir, bool with_manifest = false) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (!with_manifest && name == "manifest.json") continue;
    files[name] = entry.is_regular_file() ? read_bytes(entry.path().string()) : "<dir>";
  }
  return files;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

std::set<std::int32_t> ids_of(const TextEncoder& encoder, const std::vector<std::string>& words) {
  std::set<std::int32_t> ids;
  for (const auto& w : words) {
    for (auto id : encoder.encode(w)) ids.insert(id);
  }
  return ids;
}

TEST(Prepare, SameShardsForAnyThreadCount) {
  TempDir dir;
  write_bytes(dir.file("corpus.txt"), make_corpus(4000, 1));
  ASSERT_GT(fs::file_size(dir.file("corpus.txt")), std::uintmax_t{1} << 20);  // several batches
  std::map<std::string, std::string> reference;
  for (int threads : {1, 2, 3}) {
    auto o = options_for(dir.file("corpus.txt"), dir.file("out" + std::to_string(threads)));
    o.threads = threads;
    o.examples_per_shard = 2000;
    const auto summary = prepare_pretraining_data(o);
    EXPECT_EQ(summary.threads, threads);
    EXPECT_GT(summary.train_shards, 2u);
    const auto files = folder_bytes(o.output_dir);
    if (threads == 1) {
      reference = files;
      continue;
    }
    ASSERT_EQ(files.size(), reference.size());
    for (const auto& [name, bytes] : reference) EXPECT_TRUE(files.at(name) == bytes) << name << " differs";
    auto a = read_json(dir.file("out1/manifest.json")), b = read_json(o.output_dir + "/manifest.json");
    for (auto* j : {&a, &b}) (*j).erase("summary");
    EXPECT_EQ(a, b);
  }
}

TEST(Prepare, ExamplesRespectLayoutAndDocuments) {
  TempDir dir;
  write_bytes(dir.file("corpus.txt"), make_corpus(600, 2));
  auto o = options_for(dir.file("corpus.txt"), dir.file("out"));
  o.max_seq_len = 32;
  o.threads = 2;
  const auto summary = prepare_pretraining_data(o);
  const auto encoder = open_text_encoder(toy_vocab());
  const auto group_a = ids_of(*encoder, kWordsA), group_b = ids_of(*encoder, kWordsB);
  std::uint64_t examples = 0, tokens = 0, single = 0;
  for (const std::string split : {"train", "eval"}) {
    const auto data = PretrainingDataset::open(o.output_dir, split);
    EXPECT_EQ(data.vocab_fingerprint(), vocab_fingerprint(*encoder));
    EXPECT_EQ(data.vocab_size(), encoder->vocab_size());
    EXPECT_EQ(data.max_seq_len(), 32);
    EXPECT_EQ(data.cls_id(), 2);
    EXPECT_EQ(data.sep_id(), 3);
    EXPECT_EQ(data.mask_id(), 4);
    EXPECT_EQ(data.size(), split == "train" ? summary.train_examples : summary.eval_examples);
    for (std::size_t i = 0; i < data.size(); ++i) {
      const auto e = data.example(i);
      ASSERT_LE(e.ids.size(), 32u);
      ASSERT_EQ(e.ids.front(), 2);
      ASSERT_EQ(e.ids.back(), 3);
      ASSERT_EQ(e.ids[static_cast<std::size_t>(e.len_a) - 1], 3);
      ASSERT_GE(e.len_a, 3);
      if (!e.single_segment()) {
        ASSERT_GE(e.ids.size() - static_cast<std::size_t>(e.len_a), 2u);
      }
      single += e.single_segment() ? 1 : 0;
      int in_a = 0, in_b = 0;
      for (std::size_t k = 1; k + 1 < e.ids.size(); ++k) {
        if (k + 1 == static_cast<std::size_t>(e.len_a)) continue;
        in_a += group_a.count(e.ids[k]) ? 1 : 0;
        in_b += group_b.count(e.ids[k]) ? 1 : 0;
      }
      ASSERT_TRUE(in_a == 0 || in_b == 0) << "example " << i << " of " << split << " mixes two documents";
      ++examples;
      tokens += e.ids.size();
    }
  }
  EXPECT_EQ(examples, summary.train_examples + summary.eval_examples);
  EXPECT_EQ(tokens, summary.example_tokens);
  EXPECT_EQ(single, summary.single_segment_examples);
  EXPECT_EQ(summary.documents, 600u);
  EXPECT_GT(summary.truncated_tokens, 0u);
  EXPECT_EQ(summary.unk_tokens, 0u);
}

TEST(Prepare, HeldOutDocuments) {
  TempDir dir;
  auto run = [&](int documents, double fraction) {
    write_bytes(dir.file("c.txt"), make_corpus(documents, 3, 3));
    auto o = options_for(dir.file("c.txt"), dir.file("out"));
    o.eval_fraction = fraction;
    o.overwrite = true;
    const auto s = prepare_pretraining_data(o);
    EXPECT_EQ(s.train_documents + s.eval_documents, static_cast<std::uint64_t>(documents));
    return s;
  };
  EXPECT_EQ(run(300, 0.01).eval_documents, 3u);
  EXPECT_EQ(run(300, 0.1).eval_documents, 30u);
  EXPECT_EQ(run(5, 0.01).eval_documents, 1u);  // at least one when there are two or more
  EXPECT_EQ(run(2, 0.01).eval_documents, 1u);
  const auto one = run(1, 0.01);
  EXPECT_EQ(one.eval_documents, 0u);
  EXPECT_EQ(one.eval_shards, 0u);
  EXPECT_EQ(run(300, 0.0).eval_documents, 0u);
  // An empty eval split opens as an empty dataset.
  EXPECT_EQ(PretrainingDataset::open(dir.file("out"), "eval").size(), 0u);
}

TEST(Prepare, ManifestContents) {
  TempDir dir;
  write_bytes(dir.file("c.txt"), make_corpus(50, 4));
  auto o = options_for(dir.file("c.txt"), dir.file("out"));
  o.examples_per_shard = 40;
  const auto s = prepare_pretraining_data(o);
  const auto m = read_json(dir.file("out/manifest.json"));
  EXPECT_EQ(m["format"], "electra-pretraining-data");
  EXPECT_EQ(m["format_version"], 1);
  EXPECT_EQ(m["shard_format_version"], kShardFormatVersion);
  EXPECT_EQ(m["max_seq_len"], 128);
  EXPECT_EQ(m["id_bytes"], 2);
  EXPECT_EQ(m["vocab"]["size"], open_text_encoder(toy_vocab())->vocab_size());
  EXPECT_EQ(m["vocab"]["fingerprint"], fingerprint_hex(vocab_fingerprint(*open_text_encoder(toy_vocab()))));
  EXPECT_EQ(m["vocab"]["lowercase"], true);
  EXPECT_TRUE(fs::path(m["vocab"]["path"].get<std::string>()).is_absolute());
  EXPECT_EQ(m["special_ids"]["cls"], 2);
  EXPECT_EQ(m["settings"]["seed"], 12345);
  EXPECT_EQ(m["settings"]["mode"], "lines");
  EXPECT_EQ(m["files"].size(), 1u);
  EXPECT_EQ(m["splits"]["train"]["examples"], s.train_examples);
  EXPECT_EQ(m["splits"]["train"]["shards"].size(), s.train_shards);
  EXPECT_EQ(m["splits"]["train"]["shards"][0]["file"], "train-00000.shard");
  EXPECT_EQ(m["splits"]["train"]["shards"][0]["examples"], 40);
  EXPECT_EQ(m["splits"]["eval"]["shards"][0]["file"], "eval-00000.shard");
  EXPECT_EQ(m["summary"]["documents"], 50);
  const auto files = folder_bytes(o.output_dir, true);
  EXPECT_EQ(files.size(), s.train_shards + s.eval_shards + 1);  // no staging folder, no .tmp left
}

TEST(Prepare, ExistingDatasetIsKeptWithoutOverwrite) {
  TempDir dir;
  write_bytes(dir.file("c.txt"), make_corpus(200, 5));
  auto o = options_for(dir.file("c.txt"), dir.file("out"));
  o.examples_per_shard = 10;  // many shards
  const auto first = prepare_pretraining_data(o);
  const auto before = folder_bytes(o.output_dir, true);
  ASSERT_GT(first.train_shards, 5u);

  o.seed = 999;
  o.examples_per_shard = 100000;
  expect_error([&] { prepare_pretraining_data(o); }, {"out", "already holds a dataset", "overwrite"});
  EXPECT_EQ(folder_bytes(o.output_dir, true), before);

  o.overwrite = true;
  const auto second = prepare_pretraining_data(o);
  EXPECT_EQ(second.train_shards, 1u);
  const auto after = folder_bytes(o.output_dir, true);
  EXPECT_EQ(after.size(), 3u);  // train-00000, eval-00000, manifest: the old shards are gone
  EXPECT_NE(after.at("train-00000.shard"), before.at("train-00000.shard"));
  EXPECT_EQ(PretrainingDataset::open(o.output_dir).size(), second.train_examples);
}

TEST(Prepare, FailureLeavesNoShardsBehind) {
  TempDir dir;
  write_bytes(dir.file("c.txt"), make_corpus(200, 6));
  auto o = options_for(dir.file("c.txt"), dir.file("out"));
  o.examples_per_shard = 10;
  // The last progress call comes after every shard is written, before they are moved
  // into place: failing there is the worst moment.
  o.progress = [](const PrepareProgress& p) {
    if (p.done) throw Error("interrupted");
  };
  expect_error([&] { prepare_pretraining_data(o); }, {"interrupted"});
  EXPECT_FALSE(fs::exists(o.output_dir)) << "the folder it created is removed again";

  // Over an existing dataset, with overwrite: the old one survives intact.
  auto good = options_for(dir.file("c.txt"), dir.file("out"));
  prepare_pretraining_data(good);
  const auto before = folder_bytes(good.output_dir, true);
  o.overwrite = true;
  o.seed = 7;
  expect_error([&] { prepare_pretraining_data(o); }, {"interrupted"});
  EXPECT_EQ(folder_bytes(good.output_dir, true), before);
}

TEST(Prepare, EmptyCorpusIsAnError) {
  TempDir dir;
  write_bytes(dir.file("blank.txt"), "\n   \n\t\n\n");
  write_bytes(dir.file("empty.txt"), "");
  auto o = options_for(dir.file("blank.txt"), dir.file("out"));
  o.inputs.push_back(dir.file("empty.txt"));
  expect_error([&] { prepare_pretraining_data(o); }, {"no examples", "2 file(s)"});
  EXPECT_FALSE(fs::exists(o.output_dir));
  // Text the vocabulary cannot encode at all (control characters only) is no better.
  write_bytes(dir.file("controls.txt"), "\x01\x02\n\x03\n");
  o.inputs = {dir.file("controls.txt")};
  expect_error([&] { prepare_pretraining_data(o); }, {"no examples"});
}

TEST(Prepare, RefusesBadSettings) {
  TempDir dir;
  write_bytes(dir.file("c.txt"), make_corpus(10, 7));
  auto o = options_for(dir.file("c.txt"), dir.file("out"));
  o.inputs = {dir.file("missing.txt"), dir.file("c.txt")};
  expect_error([&] { prepare_pretraining_data(o); }, {"missing.txt"});
  o = options_for(dir.file("c.txt"), dir.file("out"));
  o.max_seq_len = 7;
  expect_error([&] { prepare_pretraining_data(o); }, {"max_seq_len", "7"});
  o.max_seq_len = 65536;
  expect_error([&] { prepare_pretraining_data(o); }, {"max_seq_len"});
  o = options_for(dir.file("c.txt"), dir.file("out"));
  o.eval_fraction = 1.0;
  expect_error([&] { prepare_pretraining_data(o); }, {"eval_fraction"});
  o = options_for(dir.file("c.txt"), dir.file("out"));
  o.inputs.clear();
  expect_error([&] { prepare_pretraining_data(o); }, {"no corpus input"});
  // A vocabulary without [MASK].
  std::ifstream in(toy_vocab());
  std::string vocab, line;
  while (std::getline(in, line)) {
    if (line != "[MASK]") vocab += line + "\n";
  }
  write_bytes(dir.file("vocab.txt"), vocab);
  o = options_for(dir.file("c.txt"), dir.file("out"));
  o.vocab_path = dir.file("vocab.txt");
  expect_error([&] { prepare_pretraining_data(o); }, {"[MASK]"});
  o.vocab_path = dir.file("no-vocab.txt");
  expect_error([&] { prepare_pretraining_data(o); }, {"no-vocab.txt"});
  EXPECT_FALSE(fs::exists(dir.file("out")));
  // The same file as a lines input and a prose input.
  o = options_for(dir.file("c.txt"), dir.file("out"));
  o.prose_inputs = {dir.file("c.txt")};
  expect_error([&] { prepare_pretraining_data(o); }, {"c.txt", "prose"});
}

TEST(Prepare, InvalidUtf8IsCounted) {
  TempDir dir;
  write_bytes(dir.file("c.txt"), "the quick\xFF brown fox\n\xC3(jumps over\n\nthe lazy dog\n");
  auto o = options_for(dir.file("c.txt"), dir.file("out"));
  const auto s = prepare_pretraining_data(o);
  EXPECT_EQ(s.invalid_bytes, 2u);
  EXPECT_NE(s.first_invalid.find("c.txt:1"), std::string::npos);
  EXPECT_EQ(s.documents, 2u);
  EXPECT_EQ(s.sentences, 3u);
  EXPECT_EQ(s.unk_tokens, 0u);
  EXPECT_NE(format_summary(s).find("2 bytes of ill-formed UTF-8"), std::string::npos);
}

TEST(Prepare, LinesAndProseModes) {
  TempDir dir;
  const std::string text =
      "The quick brown fox. The lazy\ndog jumps over. Hello world.\n\nThe fox\nruns.\n";
  write_bytes(dir.file("c.txt"), text);
  auto o = options_for(dir.file("c.txt"), dir.file("lines"));
  const auto lines = prepare_pretraining_data(o);
  EXPECT_EQ(lines.sentences, 4u);  // one per line
  EXPECT_EQ(lines.documents, 2u);
  o.output_dir = dir.file("prose");
  o.mode = CorpusMode::prose;
  const auto prose = prepare_pretraining_data(o);
  EXPECT_EQ(prose.sentences, 4u);  // "The quick brown fox." "The lazy dog jumps over." "Hello world." "The fox runs."
  EXPECT_EQ(prose.documents, 1u);  // one blank line is a paragraph break, not a document break
  // The same token stream either way (one example each, nothing cut).
  const auto a = PretrainingDataset::open(dir.file("lines"), "train");
  const auto b = PretrainingDataset::open(dir.file("prose"), "train");
  std::vector<std::int32_t> ids_a, ids_b;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (auto id : a.example(i).ids) ids_a.push_back(id);
  for (std::size_t i = 0; i < b.size(); ++i)
    for (auto id : b.example(i).ids) ids_b.push_back(id);
  ids_a.erase(std::remove_if(ids_a.begin(), ids_a.end(), [](int id) { return id == 2 || id == 3; }), ids_a.end());
  ids_b.erase(std::remove_if(ids_b.begin(), ids_b.end(), [](int id) { return id == 2 || id == 3; }), ids_b.end());
  // lines: eval holds one of its two documents; compare what both have in train.
  EXPECT_FALSE(ids_b.empty());
  EXPECT_TRUE(std::search(ids_b.begin(), ids_b.end(), ids_a.begin(), ids_a.end()) != ids_b.end());
}

TEST(Prepare, ProgressIsReported) {
  TempDir dir;
  write_bytes(dir.file("c.txt"), make_corpus(100, 8));
  auto o = options_for(dir.file("c.txt"), dir.file("out"));
  std::vector<PrepareProgress> calls;
  o.progress = [&](const PrepareProgress& p) { calls.push_back(p); };
  const auto s = prepare_pretraining_data(o);
  ASSERT_FALSE(calls.empty());
  EXPECT_TRUE(calls.back().done);
  EXPECT_EQ(calls.back().bytes_read, calls.back().bytes_total);
  EXPECT_EQ(calls.back().bytes_total, fs::file_size(dir.file("c.txt")));
  EXPECT_EQ(calls.back().examples, s.train_examples + s.eval_examples);
  EXPECT_NE(format_progress(calls.back()).find("100.0%"), std::string::npos);
}

TEST(PretrainingDataset, ClearErrors) {
  TempDir dir;
  write_bytes(dir.file("c.txt"), make_corpus(100, 9));
  auto o = options_for(dir.file("c.txt"), dir.file("out"));
  o.examples_per_shard = 50;
  prepare_pretraining_data(o);
  const std::string manifest = dir.file("out/manifest.json");
  const std::string good = read_bytes(manifest);

  expect_error([&] { PretrainingDataset::open(dir.file("nowhere")); }, {"manifest.json", "missing"});
  expect_error([&] { PretrainingDataset::open(o.output_dir, "test"); }, {"train", "eval"});

  write_bytes(manifest, "{ not json");
  expect_error([&] { PretrainingDataset::open(o.output_dir); }, {"manifest.json", "invalid JSON"});
  auto j = nlohmann::json::parse(good);
  j["splits"].erase("train");
  write_bytes(manifest, j.dump());
  expect_error([&] { PretrainingDataset::open(o.output_dir); }, {"manifest.json", "splits: missing \"train\""});
  j = nlohmann::json::parse(good);
  j["max_seq_len"] = "long";
  write_bytes(manifest, j.dump());
  expect_error([&] { PretrainingDataset::open(o.output_dir); }, {"manifest.json", "max_seq_len"});
  j = nlohmann::json::parse(good);
  j["format_version"] = 9;
  write_bytes(manifest, j.dump());
  expect_error([&] { PretrainingDataset::open(o.output_dir); }, {"manifest.json", "version 9"});
  write_bytes(manifest, good);

  const std::string shard = dir.file("out/train-00001.shard");
  const std::string shard_bytes = read_bytes(shard);
  std::string bad = shard_bytes;
  bad[100] = static_cast<char>(bad[100] ^ 0x40);
  write_bytes(shard, bad);
  expect_error([&] { PretrainingDataset::open(o.output_dir); }, {"train-00001.shard", "checksum mismatch"});
  write_bytes(shard, shard_bytes.substr(0, 200));
  expect_error([&] { PretrainingDataset::open(o.output_dir); }, {"train-00001.shard", "truncated"});
  fs::remove(shard);
  expect_error([&] { PretrainingDataset::open(o.output_dir); }, {"train-00001.shard", "missing"});
  // A shard of another dataset in its place.
  fs::copy_file(dir.file("out/train-00000.shard"), shard);
  expect_error([&] { PretrainingDataset::open(o.output_dir); }, {"train-00001.shard", "does not match"});
  write_bytes(shard, shard_bytes);
  const auto data = PretrainingDataset::open(o.output_dir);
  EXPECT_EQ(data.shards(), (data.size() + 49) / 50);
  expect_error([&] { data.example(data.size()); }, {"out of range"});
  // Reading across shard boundaries.
  const ShardReader first(dir.file("out/train-00000.shard")), second(shard);
  EXPECT_EQ(data.example(50).ids, second.example(0).ids);
  EXPECT_EQ(data.example(49).ids, first.example(49).ids);
}

}  // namespace
}  // namespace electra
