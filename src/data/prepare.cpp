#include "data/prepare.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "data/corpus_files.h"
#include "data/example_builder.h"
#include "data/shard.h"
#include "electra/tokenization/text_encoder.h"
#include "util/cores.h"
#include "electra/util/error.h"
#include "manifest.h"

namespace electra {
namespace fs = std::filesystem;
namespace {

constexpr const char* kStagingDir = ".prepare-staging";
constexpr std::size_t kBatchBytes = std::size_t{256} << 10;  // text per batch of documents
constexpr std::size_t kBatchDocuments = 1024;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string mib(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

std::string percent(double share) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%", 100.0 * share);
  return text;
}

double share(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

void validate(const PrepareOptions& o) {
  if (o.inputs.empty() && o.prose_inputs.empty()) throw Error("prepare: no corpus input given");
  if (o.output_dir.empty()) throw Error("prepare: no output folder given");
  if (o.vocab_path.empty()) throw Error("prepare: no vocabulary given");
  if (o.max_seq_len < 8 || o.max_seq_len > 65535) {
    throw Error("prepare: max_seq_len must be in [8, 65535], got " + std::to_string(o.max_seq_len));
  }
  if (!(o.short_seq_prob >= 0 && o.short_seq_prob <= 1)) throw Error("prepare: short_seq_prob must be in [0, 1]");
  if (!(o.single_segment_prob >= 0 && o.single_segment_prob <= 1)) {
    throw Error("prepare: single_segment_prob must be in [0, 1]");
  }
  if (!(o.eval_fraction >= 0 && o.eval_fraction < 1)) {
    throw Error("prepare: eval_fraction must be in [0, 1), got " + std::to_string(o.eval_fraction));
  }
  if (o.examples_per_shard == 0) throw Error("prepare: examples_per_shard must be at least 1");
  if (o.threads < 0) throw Error("prepare: threads must be >= 0 (0: one per hardware thread)");
  if (o.corpus.max_document_sentences == 0) throw Error("prepare: max_document_sentences must be at least 1");
}

std::vector<CorpusFile> corpus_files(const PrepareOptions& o) {
  std::vector<CorpusFile> files;
  std::set<std::string> seen;
  auto add = [&](const std::vector<std::string>& inputs, CorpusMode mode) {
    if (inputs.empty()) return;
    for (auto& path : expand_inputs(inputs)) {
      if (!seen.insert(path).second) {
        throw file_error(path, "is named twice, among the inputs and among the prose inputs");
      }
      files.push_back({path, mode});
    }
  };
  add(o.inputs, o.mode);
  add(o.prose_inputs, CorpusMode::prose);
  return files;
}

// ---- packing (worker side) ----

struct Batch {
  std::uint64_t first_document = 0;  // reading-order number of documents[0]
  std::vector<Document> documents;
  std::size_t bytes = 0;
};

struct BatchResult {
  std::uint64_t first_document = 0;
  std::vector<std::vector<PretrainingExample>> documents;  // examples per document
  BuildStats stats;
  std::uint64_t unk_tokens = 0;
};

class Packer {
 public:
  Packer(const TextEncoder& encoder, const ExampleBuilder& builder, std::uint64_t seed)
      : encoder_(encoder), builder_(builder), seed_(seed) {}

  // Thread-safe: TextEncoder::encode and ExampleBuilder::build are const.
  BatchResult pack(const Batch& batch) const {
    BatchResult result;
    result.first_document = batch.first_document;
    result.documents.resize(batch.documents.size());
    std::vector<std::vector<std::int32_t>> ids;
    const std::int32_t unk = encoder_.unk_id();
    for (std::size_t i = 0; i < batch.documents.size(); ++i) {
      const auto& sentences = batch.documents[i].sentences;
      ids.resize(sentences.size());
      for (std::size_t s = 0; s < sentences.size(); ++s) {
        ids[s] = encoder_.encode(sentences[s]);
        for (std::int32_t id : ids[s]) result.unk_tokens += id == unk ? 1 : 0;
      }
      builder_.build(ids, document_seed(seed_, batch.first_document + i), result.documents[i], result.stats);
    }
    return result;
  }

 private:
  const TextEncoder& encoder_;
  const ExampleBuilder& builder_;
  std::uint64_t seed_;
};

// ---- writing (calling thread) ----

class SplitWriter {
 public:
  SplitWriter(std::string name, fs::path dir, ShardInfo info, std::uint64_t per_shard)
      : name_(std::move(name)), dir_(std::move(dir)), info_(info), per_shard_(per_shard) {}

  void add_document(const std::vector<PretrainingExample>& examples) {
    ++split_.documents;
    for (const auto& e : examples) {
      if (!writer_) {
        char file[64];
        std::snprintf(file, sizeof file, "%s-%05zu.shard", name_.c_str(), split_.shards.size());
        file_ = file;
        writer_ = std::make_unique<ShardWriter>((dir_ / file_).string(), info_);
      }
      writer_->add(e);
      ++split_.examples;
      split_.tokens += e.ids.size();
      if (writer_->examples() >= per_shard_) close_shard();
    }
  }
  void finish() { close_shard(); }
  const detail::ManifestSplit& manifest() const { return split_; }

 private:
  void close_shard() {
    if (!writer_) return;
    writer_->close();
    split_.shards.push_back({file_, writer_->examples(), writer_->tokens(), writer_->checksum()});
    writer_.reset();
  }

  std::string name_;
  fs::path dir_;
  ShardInfo info_;
  std::uint64_t per_shard_;
  std::unique_ptr<ShardWriter> writer_;
  std::string file_;
  detail::ManifestSplit split_;
};

// Sends each document's examples to train or eval (see prepare.h), in reading order.
class DatasetSink {
 public:
  DatasetSink(SplitWriter& train, SplitWriter& eval, double eval_fraction)
      : train_(train), eval_(eval), fraction_(eval_fraction) {}

  void add(std::uint64_t document, std::vector<PretrainingExample> examples) {
    if (examples.empty()) return;
    ++documents_;
    examples_ += examples.size();
    if (is_eval(document)) {
      eval_.add_document(examples);
      return;
    }
    if (held_) train_.add_document(*held_);
    held_ = std::move(examples);
  }

  void finish() {
    if (held_) {
      const bool to_eval = fraction_ > 0 && eval_.manifest().documents == 0 && documents_ >= 2;
      (to_eval ? eval_ : train_).add_document(*held_);
      held_.reset();
    }
    train_.finish();
    eval_.finish();
  }

  std::uint64_t examples() const { return examples_; }

 private:
  bool is_eval(std::uint64_t i) const {
    if (fraction_ <= 0) return false;
    return std::floor(static_cast<double>(i + 1) * fraction_) > std::floor(static_cast<double>(i) * fraction_);
  }

  SplitWriter& train_;
  SplitWriter& eval_;
  double fraction_;
  std::optional<std::vector<PretrainingExample>> held_;  // the last train document so far
  std::uint64_t documents_ = 0, examples_ = 0;
};

class ProgressReporter {
 public:
  ProgressReporter(const std::function<void(const PrepareProgress&)>& callback, Clock::time_point start)
      : callback_(callback), start_(start), last_(start) {}

  void maybe(const CorpusReader& reader, std::uint64_t examples) {
    if (!callback_) return;
    const auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    callback_(make(reader, examples, false));
  }
  void done(const CorpusReader& reader, std::uint64_t examples) {
    if (callback_) callback_(make(reader, examples, true));
  }

 private:
  PrepareProgress make(const CorpusReader& reader, std::uint64_t examples, bool done) const {
    PrepareProgress p;
    p.bytes_read = reader.line_stats().bytes_read;
    p.bytes_total = reader.line_stats().bytes_total;
    p.documents = reader.documents();
    p.examples = examples;
    p.seconds = seconds_since(start_);
    p.done = done;
    return p;
  }

  const std::function<void(const PrepareProgress&)>& callback_;
  Clock::time_point start_, last_;
};

struct PipelineTotals {
  BuildStats stats;
  std::uint64_t unk_tokens = 0;
};

class Pipeline {
 public:
  Pipeline(CorpusReader& reader, const Packer& packer, DatasetSink& sink, ProgressReporter& progress)
      : reader_(reader), packer_(packer), sink_(sink), progress_(progress) {}

  PipelineTotals run(int threads) {
    if (threads <= 1) {
      run_inline();
    } else {
      run_threads(threads);
    }
    return totals_;
  }

 private:
  void consume(BatchResult& result) {
    totals_.stats.add(result.stats);
    totals_.unk_tokens += result.unk_tokens;
    for (std::size_t i = 0; i < result.documents.size(); ++i) {
      sink_.add(result.first_document + i, std::move(result.documents[i]));
    }
  }

  // Reads the corpus, calling submit(batch) for every full batch and the last one.
  template <typename Submit>
  void read_batches(Submit&& submit) {
    Batch batch;
    Document document;
    std::uint64_t next_document = 0;
    while (reader_.next(document)) {
      batch.bytes += document.text_bytes();
      batch.documents.push_back(std::move(document));
      ++next_document;
      if (batch.bytes >= kBatchBytes || batch.documents.size() >= kBatchDocuments) {
        submit(std::move(batch));
        batch = Batch{};
        batch.first_document = next_document;
      }
      progress_.maybe(reader_, sink_.examples());
    }
    if (!batch.documents.empty()) submit(std::move(batch));
  }

  void run_inline() {
    read_batches([&](Batch batch) {
      auto result = packer_.pack(batch);
      consume(result);
    });
  }

  // Worker threads pack batches; this thread reads and writes, in batch order. At most
  // `window` batches are in flight (queued, being packed, or packed and waiting).
  void run_threads(int threads) {
    const std::uint64_t window = 2 * static_cast<std::uint64_t>(threads) + 2;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) workers.emplace_back([this] { work(); });
    try {
      read_batches([&](Batch batch) {
        while (pushed_ - written_ >= window) write_next(true);
        {
          std::lock_guard<std::mutex> lock(mutex_);
          queue_.push_back(std::move(batch));
        }
        work_ready_.notify_one();
        ++pushed_;
        while (write_next(false)) {
        }
      });
      while (written_ < pushed_) write_next(true);
    } catch (...) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
      }
      work_ready_.notify_all();
      for (auto& w : workers) w.join();
      throw;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    work_ready_.notify_all();
    for (auto& w : workers) w.join();
  }

  void work() {
    for (;;) {
      std::unique_lock<std::mutex> lock(mutex_);
      work_ready_.wait(lock, [&] { return !queue_.empty() || stop_ || failure_; });
      if (stop_ || failure_ || queue_.empty()) return;
      Batch batch = std::move(queue_.front());
      queue_.pop_front();
      const std::uint64_t index = taken_++;
      lock.unlock();
      try {
        BatchResult result = packer_.pack(batch);
        lock.lock();
        results_.emplace(index, std::move(result));
      } catch (...) {
        if (!lock.owns_lock()) lock.lock();
        if (!failure_) failure_ = std::current_exception();
        work_ready_.notify_all();
      }
      lock.unlock();
      result_ready_.notify_all();
    }
  }

  // Writes the next batch's result; waits for it when `block`. Rethrows a worker's error.
  bool write_next(bool block) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (block) result_ready_.wait(lock, [&] { return failure_ || results_.count(written_) > 0; });
    if (failure_) std::rethrow_exception(failure_);
    const auto it = results_.find(written_);
    if (it == results_.end()) return false;
    BatchResult result = std::move(it->second);
    results_.erase(it);
    lock.unlock();
    consume(result);
    ++written_;
    progress_.maybe(reader_, sink_.examples());
    return true;
  }

  CorpusReader& reader_;
  const Packer& packer_;
  DatasetSink& sink_;
  ProgressReporter& progress_;
  PipelineTotals totals_;

  std::mutex mutex_;
  std::condition_variable work_ready_, result_ready_;
  std::deque<Batch> queue_;
  std::map<std::uint64_t, BatchResult> results_;
  std::uint64_t taken_ = 0;  // batches taken by workers (= queue order)
  bool stop_ = false;
  std::exception_ptr failure_;
  std::uint64_t pushed_ = 0, written_ = 0;  // calling thread only
};

// Removes the staging folder however the run ends.
class StagingFolder {
 public:
  explicit StagingFolder(fs::path path) : path_(std::move(path)) {
    std::error_code ec;
    fs::remove_all(path_, ec);  // a killed run's leftovers
    if (ec) throw file_error(path_.string(), "cannot remove the stale staging folder (" + ec.message() + ")");
    fs::create_directories(path_, ec);
    if (ec) throw file_error(path_.string(), "cannot create (" + ec.message() + ")");
  }
  ~StagingFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A failed run removes the output folder again when it created it and left it empty.
class OutputFolder {
 public:
  OutputFolder(fs::path path, bool created) : path_(std::move(path)), created_(created) {}
  ~OutputFolder() {
    std::error_code ec;
    if (created_ && !kept_ && fs::is_empty(path_, ec)) fs::remove(path_, ec);
  }
  void keep() { kept_ = true; }

 private:
  fs::path path_;
  bool created_, kept_ = false;
};

bool is_shard_name(const std::string& name) {
  const bool prefix = name.rfind("train-", 0) == 0 || name.rfind("eval-", 0) == 0;
  auto ends = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return prefix && (ends(".shard") || ends(".shard.tmp"));
}

// Replaces the dataset in `out` (if any) by the shards staged in `staging`, manifest last.
void install(const fs::path& out, const fs::path& staging, const detail::Manifest& manifest) {
  const fs::path manifest_path = out / "manifest.json";
  std::error_code ec;
  std::vector<fs::path> old_files;
  if (fs::exists(manifest_path, ec)) {
    try {
      const auto old = detail::read_manifest(manifest_path.string());
      for (const auto* split : {&old.train, &old.eval}) {
        for (const auto& s : split->shards) old_files.push_back(out / s.file);
      }
    } catch (const Error&) {
      // An unreadable old manifest: its shards are found by name below.
    }
    fs::remove(manifest_path, ec);
    if (ec) throw file_error(manifest_path.string(), "cannot remove the old manifest (" + ec.message() + ")");
  }
  for (const auto& entry : fs::directory_iterator(out, ec)) {
    std::error_code type_ec;
    if (entry.is_regular_file(type_ec) && is_shard_name(entry.path().filename().string())) {
      old_files.push_back(entry.path());
    }
  }
  for (const auto& file : old_files) fs::remove(file, ec);
  for (const auto* split : {&manifest.train, &manifest.eval}) {
    for (const auto& s : split->shards) {
      fs::rename(staging / s.file, out / s.file, ec);
      if (ec) throw file_error((out / s.file).string(), "cannot move the new shard into place (" + ec.message() + ")");
    }
  }
  detail::write_manifest(manifest_path.string(), manifest);
}

nlohmann::json settings_json(const PrepareOptions& o) {
  return {{"mode", to_string(o.mode)},
          {"inputs", o.inputs},
          {"prose_inputs", o.prose_inputs},
          {"lowercase", o.lowercase},
          {"max_seq_len", o.max_seq_len},
          {"short_seq_prob", o.short_seq_prob},
          {"single_segment_prob", o.single_segment_prob},
          {"eval_fraction", o.eval_fraction},
          {"examples_per_shard", o.examples_per_shard},
          {"seed", o.seed},
          {"min_section_sentences", o.corpus.min_section_sentences},
          {"prose_document_sentences", o.corpus.prose_document_sentences},
          {"max_document_sentences", o.corpus.max_document_sentences}};
}

nlohmann::json summary_json(const PrepareSummary& s) {
  return {{"files", s.files},
          {"bytes", s.bytes},
          {"documents", s.documents},
          {"sentences", s.sentences},
          {"input_tokens", s.input_tokens},
          {"example_tokens", s.example_tokens},
          {"truncated_tokens", s.truncated_tokens},
          {"unk_tokens", s.unk_tokens},
          {"invalid_bytes", s.invalid_bytes},
          {"single_segment_examples", s.single_segment_examples},
          {"short_target_examples", s.short_target_examples},
          {"threads", s.threads},
          {"seconds", s.seconds}};
}

}  // namespace

double PrepareProgress::eta_seconds() const {
  if (bytes_read == 0 || bytes_total < bytes_read || seconds <= 0) return -1;
  return seconds * static_cast<double>(bytes_total - bytes_read) / static_cast<double>(bytes_read);
}

double PrepareSummary::truncated_share() const { return share(truncated_tokens, input_tokens); }
double PrepareSummary::unk_share() const { return share(unk_tokens, input_tokens); }

PrepareSummary prepare_pretraining_data(const PrepareOptions& options) {
  const auto start = Clock::now();
  validate(options);
  const auto files = corpus_files(options);
  const auto encoder = open_text_encoder(options.vocab_path, options.lowercase);

  const fs::path out(options.output_dir);
  const fs::path manifest_path = out / "manifest.json";
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) throw file_error(out.string(), "exists and is not a folder");
  if (fs::exists(manifest_path, ec) && !options.overwrite) {
    throw file_error(out.string(), "already holds a dataset (manifest.json); set overwrite (--overwrite) to replace it");
  }
  const bool created = fs::create_directories(out, ec);
  if (ec) throw file_error(out.string(), "cannot create the output folder (" + ec.message() + ")");
  OutputFolder output_folder(out, created);
  StagingFolder staging(out / kStagingDir);

  ExampleBuilderOptions build_options;
  build_options.max_seq_len = options.max_seq_len;
  build_options.short_seq_prob = options.short_seq_prob;
  build_options.single_segment_prob = options.single_segment_prob;
  const ExampleBuilder builder(build_options, encoder->cls_id(), encoder->sep_id());
  const Packer packer(*encoder, builder, options.seed);

  ShardInfo info;
  info.vocab_size = static_cast<std::uint32_t>(encoder->vocab_size());
  info.max_seq_len = static_cast<std::uint32_t>(options.max_seq_len);
  info.vocab_fingerprint = vocab_fingerprint(*encoder);
  SplitWriter train("train", staging.path(), info, options.examples_per_shard);
  SplitWriter eval("eval", staging.path(), info, options.examples_per_shard);
  DatasetSink sink(train, eval, options.eval_fraction);

  int threads = options.threads;
  if (threads == 0) threads = core_count();

  CorpusReader reader(files, options.corpus);
  ProgressReporter progress(options.progress, start);
  Pipeline pipeline(reader, packer, sink, progress);
  const PipelineTotals totals = pipeline.run(threads);
  sink.finish();
  progress.done(reader, sink.examples());

  PrepareSummary s;
  const auto& lines = reader.line_stats();
  s.files = lines.files_total;
  s.bytes = lines.bytes_read;
  s.documents = reader.documents();
  s.sentences = reader.sentences();
  s.train_documents = train.manifest().documents;
  s.eval_documents = eval.manifest().documents;
  s.train_examples = train.manifest().examples;
  s.eval_examples = eval.manifest().examples;
  s.train_shards = train.manifest().shards.size();
  s.eval_shards = eval.manifest().shards.size();
  s.input_tokens = totals.stats.input_tokens;
  s.example_tokens = totals.stats.example_tokens;
  s.truncated_tokens = totals.stats.truncated_tokens;
  s.unk_tokens = totals.unk_tokens;
  s.invalid_bytes = lines.invalid_bytes;
  s.first_invalid = lines.first_invalid;
  s.single_segment_examples = totals.stats.single_segment_examples;
  s.short_target_examples = totals.stats.short_target_draws;
  s.threads = threads;
  if (s.train_examples + s.eval_examples == 0) {
    throw Error("prepare: the corpus gave no examples (" + std::to_string(s.files) + " file(s), " +
                std::to_string(s.bytes) + " bytes, " + std::to_string(s.documents) +
                " document(s)): it is empty, blank or has no text the vocabulary can encode");
  }

  detail::Manifest manifest;
  manifest.shard_format_version = kShardFormatVersion;
  manifest.vocab_path = fs::absolute(options.vocab_path, ec).string();
  manifest.vocab_description = encoder->describe();
  manifest.vocab_size = encoder->vocab_size();
  manifest.vocab_fingerprint = info.vocab_fingerprint;
  manifest.lowercase = options.lowercase;
  manifest.pad_id = encoder->pad_id();
  manifest.unk_id = encoder->unk_id();
  manifest.cls_id = encoder->cls_id();
  manifest.sep_id = encoder->sep_id();
  manifest.mask_id = encoder->mask_id();
  manifest.max_seq_len = options.max_seq_len;
  manifest.id_bytes = info.id_bytes();
  manifest.train = train.manifest();
  manifest.eval = eval.manifest();
  manifest.settings = settings_json(options);
  for (const auto& f : files) manifest.files.push_back({{"path", f.path}, {"mode", to_string(f.mode)}});
  s.seconds = seconds_since(start);
  manifest.summary = summary_json(s);
  install(out, staging.path(), manifest);
  output_folder.keep();
  s.seconds = seconds_since(start);
  return s;
}

std::string format_progress(const PrepareProgress& p) {
  char text[256];
  const double rate = p.seconds > 0 ? static_cast<double>(p.bytes_read) / p.seconds / (1024.0 * 1024.0) : 0.0;
  const double fraction = share(p.bytes_read, p.bytes_total);
  std::string eta = "ETA --";
  if (p.done) {
    eta = "done";
  } else if (p.eta_seconds() >= 0) {
    const auto left = static_cast<long long>(p.eta_seconds() + 0.5);
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "ETA %lld:%02lld", left / 60, left % 60);
    eta = buffer;
  }
  std::snprintf(text, sizeof text, "%s / %s (%.1f%%), %llu documents, %llu examples, %.1f MiB/s, %s",
                mib(p.bytes_read).c_str(), mib(p.bytes_total).c_str(), 100.0 * fraction,
                static_cast<unsigned long long>(p.documents), static_cast<unsigned long long>(p.examples), rate,
                eta.c_str());
  return text;
}

std::string format_summary(const PrepareSummary& s) {
  const auto n = [](std::uint64_t v) { return std::to_string(v); };
  const std::uint64_t examples = s.train_examples + s.eval_examples;
  std::string text;
  text += "read:      " + n(s.files) + " files, " + mib(s.bytes) + ", " + n(s.documents) + " documents, " +
          n(s.sentences) + " sentences\n";
  text += "examples:  " + n(s.train_examples) + " train (" + n(s.train_documents) + " documents, " +
          n(s.train_shards) + " shards), " + n(s.eval_examples) + " eval (" + n(s.eval_documents) +
          " documents, " + n(s.eval_shards) + " shards)\n";
  text += "tokens:    " + n(s.input_tokens) + " from the text, " + n(s.example_tokens) +
          " stored with [CLS]/[SEP]; truncated " + percent(s.truncated_share()) + ", [UNK] " +
          percent(s.unk_share()) + "\n";
  text += "layout:    single segment " + percent(share(s.single_segment_examples, examples)) +
          ", random target length " + percent(share(s.short_target_examples, examples)) + "\n";
  text += "invalid:   " + n(s.invalid_bytes) + " bytes of ill-formed UTF-8 skipped" +
          (s.first_invalid.empty() ? std::string() : " (first at " + s.first_invalid + ")") + "\n";
  char time[64];
  std::snprintf(time, sizeof time, "time:      %.2f s (%d thread%s)\n", s.seconds, s.threads, s.threads == 1 ? "" : "s");
  text += time;
  return text;
}

}  // namespace electra
