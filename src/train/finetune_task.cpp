#include "electra/train/finetune_task.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "metrics/chunking.h"
#include "metrics/classification.h"
#include "metrics/squad_eval.h"
#include "electra/nn/embeddings.h"
#include "electra/tasks/conll.h"
#include "electra/tasks/glue.h"
#include "electra/tasks/squad.h"
#include "electra/tasks/tabular.h"
#include "electra/util/error.h"
#include "util/files.h"

namespace fs = std::filesystem;

namespace electra {
namespace {

using json = nlohmann::json;

// A task file named in the config, inside --data: a config cannot make the tool read (and
// quote in an error) a file elsewhere, through an absolute path or "..".
std::string in_dir(const std::string& dir, const std::string& file) {
  if (file.empty() || dir.empty()) return file;
  const auto path = fs::path(dir) / file;  // `file` itself when absolute
  // Compared as written (links inside the folder are the user's own choice).
  const auto inside = fs::absolute(dir).lexically_normal(), resolved = fs::absolute(path).lexically_normal();
  auto end = inside.end();
  if (!inside.empty() && inside.filename().empty()) --end;  // a trailing separator
  if (std::mismatch(inside.begin(), end, resolved.begin(), resolved.end()).first != end) {
    throw Error("task file \"" + file + "\" is outside the --data folder " + dir +
                ": name a file inside it (task.train_file, task.dev_file)");
  }
  return path.string();
}

template <typename T>
void keep_first(std::vector<T>& items, int64_t limit) {
  if (limit > 0 && static_cast<int64_t>(items.size()) > limit) items.resize(static_cast<size_t>(limit));
}

// A SQuAD file whose questions carry neither answers nor "is_impossible" is a test file with the
// answers held back: the official scorer would count every question as unanswerable and report
// F1 100 for empty predictions, so training or scoring on it is refused.
void require_gold(const std::vector<SquadExample>& examples, const std::string& path, const char* role) {
  if (examples.empty()) return;
  for (const auto& e : examples) {
    if (e.is_impossible || !e.answers.empty()) return;
  }
  throw Error(path + ": no question in the " + role + " examples has an answer or \"is_impossible\" (a test file with "
              "its answers held back?); " + role + " needs a labelled file, and --predict " + path +
              " writes predictions for this one");
}

std::string format_number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4f", v);
  return text;
}

// ---------------------------------------------------------------------------------------
// Sentence and sentence-pair classification or regression (GLUE and the user's tables).
class SentenceTask : public FinetuneTask {
 public:
  SentenceTask(const FinetuneConfig& config, const WordPieceTokenizer& tokenizer, const std::string& data_dir,
               const std::string& predict_file)
      : tokenizer_(tokenizer), config_(config) {
    const auto& t = config.task;
    std::string train_name = t.train_file, dev_name = t.dev_file;
    if (t.type == TaskType::glue) {
      glue_ = parse_glue_task(t.name);
      const auto& info = glue_task_info(*glue_);
      name_ = info.name;
      labels_ = info.labels;
      metrics_ = info.metrics;
      submission_name_ = (*glue_ == GlueTask::mnli ? std::string("MNLI-m") : info.directory) + ".tsv";
      if (train_name.empty()) train_name = glue_file_name(*glue_, "train");
      if (dev_name.empty()) dev_name = glue_file_name(*glue_, "dev");
    } else {
      name_ = t.name.empty() ? to_string(t.type) : t.name;
      labels_ = t.labels;
      metrics_ = t.metrics;
      if (metrics_.empty()) {
        metrics_ = t.type == TaskType::regression ? std::vector<std::string>{"pearson", "spearman"}
                                                  : std::vector<std::string>{"accuracy"};
      }
      submission_name_ = "predictions.tsv";
    }
    regression_ = t.type == TaskType::regression || (glue_ && glue_task_info(*glue_).labels.empty());
    for (const auto& m : metrics_) {
      static const std::set<std::string> known = {"accuracy", "f1", "mcc", "pearson", "spearman"};
      if (!known.count(m)) throw Error("task.metrics: unknown metric \"" + m + "\" (accuracy, f1, mcc, pearson, spearman)");
    }

    const bool train_wanted = config.train.epochs > 0;
    if (train_wanted) {
      train_path_ = in_dir(data_dir, train_name);
      auto examples = read(train_path_, true);
      keep_first(examples, config.train.max_train_examples);
      if (!regression_ && labels_.empty()) {  // the user's classification: labels from the training file
        std::set<std::string> seen;
        for (const auto& e : examples) seen.insert(*e.label);
        labels_.assign(seen.begin(), seen.end());
      }
      train_ = encode(examples, train_path_, t.both_orders);
    }
    if (!dev_name.empty()) {
      dev_path_ = in_dir(data_dir, dev_name);
      dev_examples_ = read(dev_path_, true);
      keep_first(dev_examples_, config.train.max_eval_examples);
      if (!regression_ && labels_.empty()) throw Error("task.labels: list the labels when there is no training file");
      dev_ = encode(dev_examples_, dev_path_, false);
    }
    if (!predict_file.empty()) {
      predict_examples_ = read(predict_file, false);
      predict_ = encode(predict_examples_, predict_file, false);
    }
  }

  std::string name() const override { return name_; }
  HeadKind head() const override { return HeadKind::sequence_classification; }
  int64_t num_labels() const override { return regression_ ? 1 : static_cast<int64_t>(labels_.size()); }
  std::vector<std::string> labels() const override { return labels_; }
  const std::vector<TaskFeature>& features(Split s) const override {
    return s == Split::train ? train_ : s == Split::dev ? dev_ : predict_;
  }

  TaskScores score(Split split, const std::vector<torch::Tensor>& logits) const override {
    const auto& feats = features(split);
    TaskScores scores;
    std::vector<int64_t> predicted, gold;
    std::vector<double> predicted_values, gold_values;
    for (size_t i = 0; i < feats.size(); ++i) {
      if (regression_) {
        predicted_values.push_back(logits[i].item<double>());
        gold_values.push_back(feats[i].target);
      } else {
        predicted.push_back(logits[i].argmax().item<int64_t>());
        gold.push_back(feats[i].label);
      }
    }
    for (const auto& m : metrics_) {
      double v = 0;
      if (m == "accuracy") v = accuracy(predicted, gold);
      else if (m == "f1") v = f1_score(predicted, gold);
      else if (m == "mcc") v = matthews_corrcoef(predicted, gold);
      else if (m == "pearson") v = pearson(predicted_values, gold_values);
      else if (m == "spearman") v = spearman(predicted_values, gold_values);
      scores.values.emplace_back(m, 100.0 * v);
    }
    return scores;
  }

  void write_predictions(Split split, const std::vector<torch::Tensor>& logits, const std::string& dir) const override {
    const auto& examples = split == Split::dev ? dev_examples_ : predict_examples_;
    std::ostringstream out;
    // The GLUE server's submission layout; dev files add the gold label for inspection.
    out << "index\tprediction" << (split == Split::dev ? "\tlabel" : "") << "\n";
    for (size_t i = 0; i < examples.size(); ++i) {
      out << examples[i].id << "\t"
          << (regression_ ? format_number(logits[i].item<double>()) : labels_.at(logits[i].argmax().item<int64_t>()));
      if (split == Split::dev) out << "\t" << examples[i].label.value_or("");
      out << "\n";
    }
    write_file_atomic((fs::path(dir) / (split == Split::dev ? "dev_predictions.tsv" : submission_name_)).string(),
                      out.str());
  }

 private:
  std::vector<TextExample> read(const std::string& path, bool labelled) const {
    std::vector<TextExample> examples;
    if (glue_) {
      examples = read_glue(*glue_, path, labelled);
    } else {
      TableOptions options = config_.task.table;
      options.require_label = labelled;
      if (!labelled) options.columns.label.clear();
      examples = read_table(path, options);
    }
    // Training on nothing would keep an untrained model as "best"; predicting nothing, write nothing.
    if (examples.empty()) throw file_error(path, "holds no examples (an empty file, or a header only)");
    return examples;
  }

  std::vector<TaskFeature> encode(const std::vector<TextExample>& examples, const std::string& path,
                                  bool both_orders) const {
    EncodeOptions options;
    options.max_length = static_cast<size_t>(config_.train.max_seq_length);
    options.truncation = Truncation::longest_first;
    std::vector<TaskFeature> out;
    out.reserve(examples.size() * (both_orders ? 2 : 1));
    for (const auto& e : examples) {
      TaskFeature f;
      if (e.label) {
        if (regression_) {
          try {
            size_t used = 0;
            f.target = std::stof(*e.label, &used);
            if (used != e.label->size()) throw std::invalid_argument("trailing text");
          } catch (const std::exception&) {
            throw file_error(path, "line " + std::to_string(e.line) + ": the target \"" + *e.label + "\" is not a number");
          }
        } else {
          auto it = std::find(labels_.begin(), labels_.end(), *e.label);
          if (it == labels_.end()) {
            std::string known;
            for (const auto& l : labels_) known += (known.empty() ? "" : ", ") + l;
            throw file_error(path, "line " + std::to_string(e.line) + ": unknown label \"" + *e.label +
                                       "\" (task.labels: " + known + ")");
          }
          f.label = it - labels_.begin();
        }
      }
      auto add = [&](std::string_view a, const std::optional<std::string>& b) {
        const auto enc = b ? tokenizer_.encode_pair(a, *b, options) : tokenizer_.encode(a, options);
        TaskFeature g = f;
        g.input_ids = enc.input_ids;
        g.token_type_ids = enc.token_type_ids;
        out.push_back(std::move(g));
      };
      add(e.text_a, e.text_b);
      if (both_orders && e.text_b) add(*e.text_b, e.text_a);
    }
    return out;
  }

  const WordPieceTokenizer& tokenizer_;
  FinetuneConfig config_;
  std::optional<GlueTask> glue_;
  std::string name_, submission_name_, train_path_, dev_path_;
  std::vector<std::string> labels_, metrics_;
  bool regression_ = false;
  std::vector<TextExample> dev_examples_, predict_examples_;
  std::vector<TaskFeature> train_, dev_, predict_;
};

// ---------------------------------------------------------------------------------------
// Token tagging from CoNLL-style files (CoNLL-2000 chunking), scored like conlleval.
class TaggingTask : public FinetuneTask {
 public:
  TaggingTask(const FinetuneConfig& config, const WordPieceTokenizer& tokenizer, const std::string& data_dir,
              const std::string& predict_file)
      : tokenizer_(tokenizer), max_length_(static_cast<size_t>(config.train.max_seq_length)) {
    name_ = config.task.name.empty() ? "tagging" : config.task.name;
    ConllOptions options;
    options.word_column = config.task.word_column;
    options.tag_column = config.task.tag_column;
    labels_ = config.task.labels;
    std::vector<TaggedSentence> train;
    if (config.train.epochs > 0) {
      const auto path = in_dir(data_dir, config.task.train_file);
      train = read_conll(path, options);
      keep_first(train, config.train.max_train_examples);
      if (labels_.empty()) labels_ = collect_tags(train);
      train_ = encode(train, path);
    }
    if (!config.task.dev_file.empty()) {
      const auto path = in_dir(data_dir, config.task.dev_file);
      dev_sentences_ = read_conll(path, options);
      keep_first(dev_sentences_, config.train.max_eval_examples);
      if (labels_.empty()) throw Error("task.labels: list the tags when there is no training file");
      dev_ = encode(dev_sentences_, path, &dev_words_);
    }
    if (!predict_file.empty()) {
      ConllOptions words_only = options;
      words_only.require_tags = false;  // prediction input may hold the words only
      predict_sentences_ = read_conll(predict_file, words_only);  // gold tags, if any, are written beside
      predict_ = encode(predict_sentences_, predict_file, &predict_words_);
    }
  }

  std::string name() const override { return name_; }
  HeadKind head() const override { return HeadKind::token_classification; }
  int64_t num_labels() const override { return static_cast<int64_t>(labels_.size()); }
  std::vector<std::string> labels() const override { return labels_; }
  const std::vector<TaskFeature>& features(Split s) const override {
    return s == Split::train ? train_ : s == Split::dev ? dev_ : predict_;
  }

  TaskScores score(Split split, const std::vector<torch::Tensor>& logits) const override {
    std::vector<std::vector<std::string>> gold, predicted;
    const auto& sentences = split == Split::dev ? dev_sentences_ : predict_sentences_;
    for (size_t i = 0; i < sentences.size(); ++i) {
      gold.push_back(sentences[i].tags);
      predicted.push_back(word_tags(i, sentences[i], logits[i], split));
    }
    const auto s = conlleval(gold, predicted);
    TaskScores scores;
    scores.values = {{"f1", s.overall.f1()},
                     {"precision", s.overall.precision()},
                     {"recall", s.overall.recall()},
                     {"accuracy", s.accuracy()}};
    return scores;
  }

  void write_predictions(Split split, const std::vector<torch::Tensor>& logits, const std::string& dir) const override {
    const auto& sentences = split == Split::dev ? dev_sentences_ : predict_sentences_;
    std::ostringstream out;  // conlleval's input: word [gold] predicted, blank line between sentences
    for (size_t i = 0; i < sentences.size(); ++i) {
      const auto tags = word_tags(i, sentences[i], logits[i], split);
      for (size_t w = 0; w < sentences[i].words.size(); ++w) {
        out << sentences[i].words[w];
        if (!sentences[i].tags.empty()) out << " " << sentences[i].tags[w];
        out << " " << tags[w] << "\n";
      }
      out << "\n";
    }
    write_file_atomic((fs::path(dir) / (split == Split::dev ? "dev_predictions.txt" : "predictions.txt")).string(),
                      out.str());
  }

 private:
  // Features of `sentences`; word_index (when given) receives each token's word.
  // A tag outside the label set is an error in training data; in evaluation data (CoNLL-2000's
  // test file has I-LST, which its training file lacks) the word keeps its gold tag for
  // scoring and is left out of the loss (-100), as conlleval would count it.
  std::vector<TaskFeature> encode(const std::vector<TaggedSentence>& sentences, const std::string& path,
                                  std::vector<std::vector<int32_t>>* word_index = nullptr) {
    std::vector<TaskFeature> out;
    const bool training = word_index == nullptr;
    for (const auto& s : sentences) {
      std::vector<int64_t> ids;
      for (const auto& tag : s.tags) {
        auto it = std::find(labels_.begin(), labels_.end(), tag);
        if (it == labels_.end()) {
          if (!training) {
            ids.push_back(-100);
            continue;
          }
          throw file_error(path, "line " + std::to_string(s.line) + ": tag \"" + tag +
                                     "\" is not among the training tags (task.labels)");
        }
        ids.push_back(it - labels_.begin());
      }
      auto f = encode_tagged_sentence(tokenizer_, s, ids, max_length_);
      TaskFeature t;
      t.input_ids = f.input_ids;
      t.token_type_ids.assign(f.input_ids.size(), 0);
      t.token_labels = f.labels;
      out.push_back(std::move(t));
      if (word_index) word_index->push_back(f.word_index);
    }
    return out;
  }

  // One tag per word: the prediction at the word's first wordpiece; "O" for words cut by truncation.
  std::vector<std::string> word_tags(size_t i, const TaggedSentence& sentence, const torch::Tensor& logits,
                                     Split split) const {
    const auto& index = (split == Split::dev ? dev_words_ : predict_words_).at(i);
    std::vector<std::string> tags(sentence.words.size(), "O");
    const auto best = logits.argmax(-1);  // [S]
    const auto* b = best.data_ptr<int64_t>();
    for (size_t t = 0; t < index.size() && t < static_cast<size_t>(best.size(0)); ++t) {
      if (index[t] >= 0) tags[static_cast<size_t>(index[t])] = labels_.at(static_cast<size_t>(b[t]));
    }
    return tags;
  }

  const WordPieceTokenizer& tokenizer_;
  size_t max_length_;
  std::string name_;
  std::vector<std::string> labels_;
  std::vector<TaggedSentence> dev_sentences_, predict_sentences_;
  std::vector<std::vector<int32_t>> dev_words_, predict_words_;  // per token: its word, or -1
  std::vector<TaskFeature> train_, dev_, predict_;
};

// ---------------------------------------------------------------------------------------
// SQuAD 1.1 / 2.0 span extraction with sliding windows.
class SquadTask : public FinetuneTask {
 public:
  SquadTask(const FinetuneConfig& config, const WordPieceTokenizer& tokenizer, const std::string& data_dir,
            const std::string& predict_file)
      : config_(config) {
    const auto& t = config.task;
    name_ = t.name.empty() ? (t.squad_version == 2 ? "squad2" : "squad1") : t.name;
    windows_.max_seq_length = static_cast<size_t>(config.train.max_seq_length);
    windows_.doc_stride = static_cast<size_t>(config.squad.doc_stride);
    windows_.max_query_length = static_cast<size_t>(config.squad.max_query_length);
    const auto train_path = in_dir(data_dir, t.train_file), dev_path = in_dir(data_dir, t.dev_file);
    std::vector<SquadExample> train;
    if (config.train.epochs > 0) train = read_squad(train_path);
    if (!t.dev_file.empty()) {
      if (dev_path == train_path && t.train_articles > 0) {
        // One file, split by article: the first train_articles articles train, the rest evaluate.
        auto all = train.empty() ? read_squad(dev_path) : train;
        train.clear();
        std::vector<std::string> titles;
        for (auto& e : all) {
          if (std::find(titles.begin(), titles.end(), e.title) == titles.end()) titles.push_back(e.title);
          const auto article = std::find(titles.begin(), titles.end(), e.title) - titles.begin();
          (article < t.train_articles ? train : dev_.examples).push_back(std::move(e));
        }
        if (dev_.examples.empty()) throw Error(dev_path + ": task.train_articles leaves no article for evaluation");
        if (config.train.epochs <= 0) train.clear();
      } else {
        dev_.examples = read_squad(dev_path);
      }
      keep_first(dev_.examples, config.train.max_eval_examples);
    }
    keep_first(train, config.train.max_train_examples);
    require_gold(train, train_path, "training");
    require_gold(dev_.examples, dev_path, "evaluation");
    train_.examples = std::move(train);
    if (!predict_file.empty()) predict_.examples = read_squad(predict_file);
    for (auto* part : {&train_, &dev_, &predict_}) {
      part->windows = make_squad_features(tokenizer, part->examples, windows_);
      for (const auto& w : part->windows) {
        TaskFeature f;
        f.input_ids = w.input_ids;
        f.token_type_ids = w.token_type_ids;
        f.start = w.start_position;
        f.end = w.end_position;
        part->features.push_back(std::move(f));
      }
    }
  }

  std::string name() const override { return name_; }
  HeadKind head() const override { return HeadKind::question_answering; }
  int64_t num_labels() const override { return 2; }
  const std::vector<TaskFeature>& features(Split s) const override { return part(s).features; }
  size_t num_examples(Split s) const override { return part(s).examples.size(); }

  TaskScores score(Split split, const std::vector<torch::Tensor>& logits) const override {
    const auto predictions = decode(split, logits);
    std::vector<SquadGold> gold;
    std::map<std::string, std::string> answers;
    std::map<std::string, double> null_odds;
    for (const auto& e : part(split).examples) {
      SquadGold g{e.id, {}};
      for (const auto& a : e.answers) g.answers.push_back(a.text);
      gold.push_back(std::move(g));
    }
    for (const auto& p : predictions) {
      answers[p.id] = p.text;
      if (version_2()) null_odds[p.id] = p.null_score_diff;
    }
    const auto s = evaluate_squad(gold, answers, null_odds);
    TaskScores scores;
    scores.values = {{"f1", s.f1}, {"exact", s.exact}};
    if (s.version_2) {
      scores.values.insert(scores.values.end(), {{"has_ans_f1", s.has_ans_f1},
                                                 {"no_ans_f1", s.no_ans_f1},
                                                 {"best_f1", s.best_f1},
                                                 {"best_f1_thresh", s.best_f1_thresh},
                                                 {"best_exact", s.best_exact},
                                                 {"best_exact_thresh", s.best_exact_thresh}});
    }
    return scores;
  }

  void write_predictions(Split split, const std::vector<torch::Tensor>& logits, const std::string& dir) const override {
    json predictions = json::object(), nbest = json::object(), null_odds = json::object();
    for (const auto& p : decode(split, logits)) {
      predictions[p.id] = p.text;
      json list = json::array();
      for (const auto& c : p.nbest) {
        list.push_back({{"text", c.text}, {"probability", c.probability}, {"start_logit", c.start_logit},
                        {"end_logit", c.end_logit}});
      }
      nbest[p.id] = std::move(list);
      null_odds[p.id] = p.null_score_diff;
    }
    const fs::path out(dir);
    const std::string prefix = split == Split::dev ? "dev_" : "";
    write_file_atomic((out / (prefix + "predictions.json")).string(), predictions.dump(2) + "\n");
    write_file_atomic((out / (prefix + "nbest_predictions.json")).string(), nbest.dump(2) + "\n");
    if (version_2()) write_file_atomic((out / (prefix + "null_odds.json")).string(), null_odds.dump(2) + "\n");
  }

 private:
  struct Part {
    std::vector<SquadExample> examples;
    std::vector<SquadFeature> windows;
    std::vector<TaskFeature> features;
  };
  const Part& part(Split s) const { return s == Split::train ? train_ : s == Split::dev ? dev_ : predict_; }
  bool version_2() const { return config_.task.squad_version == 2; }
  double no_answer_weight() const override { return config_.squad.answerable_weight; }

  std::vector<SquadPrediction> decode(Split split, const std::vector<torch::Tensor>& logits) const {
    std::vector<std::vector<float>> starts, ends;
    std::vector<float> no_answer;  // the answerability classifier's third channel, when present
    for (const auto& l : logits) {
      auto c = l.to(torch::kFloat).contiguous();  // [S, 2] or [S, 3]
      auto s = c.select(1, 0).contiguous(), e = c.select(1, 1).contiguous();
      starts.emplace_back(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
      ends.emplace_back(e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
      if (c.size(1) == 3) no_answer.push_back(c[0][2].item<float>());
    }
    SquadDecodeOptions options;
    options.n_best = static_cast<size_t>(config_.squad.n_best);
    options.max_answer_length = static_cast<size_t>(config_.squad.max_answer_length);
    options.version_2 = version_2();
    options.null_threshold = config_.squad.null_threshold;
    return decode_squad(part(split).examples, part(split).windows, starts, ends, options, no_answer);
  }

  FinetuneConfig config_;
  std::string name_;
  SquadWindowOptions windows_;
  Part train_, dev_, predict_;
};

}  // namespace

std::string to_string(Split split) {
  switch (split) {
    case Split::train: return "train";
    case Split::dev: return "dev";
    case Split::predict: return "predict";
  }
  return "?";
}

std::string TaskScores::summary() const {
  std::string out;
  for (const auto& [name, value] : values) {
    char text[64];
    std::snprintf(text, sizeof text, "%s%s %.2f", out.empty() ? "" : ", ", name.c_str(), value);
    out += text;
  }
  return out;
}

TaskBatch collate(const std::vector<TaskFeature>& features, const std::vector<size_t>& rows, HeadKind head,
                  bool regression, int32_t pad_id) {
  const auto B = static_cast<int64_t>(rows.size());
  int64_t S = 1;
  for (auto r : rows) S = std::max<int64_t>(S, static_cast<int64_t>(features.at(r).input_ids.size()));
  auto ids = torch::full({B, S}, pad_id, torch::kLong);
  auto mask = torch::zeros({B, S}, torch::kLong);
  auto types = torch::zeros({B, S}, torch::kLong);
  TaskBatch batch;
  if (head == HeadKind::token_classification) batch.labels = torch::full({B, S}, -100, torch::kLong);
  else if (head == HeadKind::question_answering) batch.labels = torch::zeros({B, 2}, torch::kLong);
  else batch.labels = regression ? torch::zeros({B}, torch::kFloat) : torch::zeros({B}, torch::kLong);
  auto id = ids.accessor<int64_t, 2>(), m = mask.accessor<int64_t, 2>(), ty = types.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& f = features[rows[static_cast<size_t>(b)]];
    for (size_t t = 0; t < f.input_ids.size(); ++t) {
      id[b][t] = f.input_ids[t];
      m[b][t] = 1;
      ty[b][t] = t < f.token_type_ids.size() ? f.token_type_ids[t] : 0;
    }
    if (head == HeadKind::token_classification) {
      auto l = batch.labels.accessor<int64_t, 2>();
      for (size_t t = 0; t < f.token_labels.size(); ++t) l[b][t] = f.token_labels[t];
    } else if (head == HeadKind::question_answering) {
      batch.labels[b][0] = f.start;
      batch.labels[b][1] = f.end;
    } else if (regression) {
      batch.labels[b] = f.target;
    } else {
      batch.labels[b] = f.label;
    }
  }
  batch.input_ids = ids;
  batch.attention_mask = mask;
  batch.token_type_ids = types;
  batch.token_index = real_token_index(mask);
  return batch;
}

TaskBatch TaskBatch::pinned() const {
  auto pin = [](const torch::Tensor& t) { return t.defined() ? t.pin_memory() : t; };
  return {pin(input_ids), pin(attention_mask), pin(token_type_ids), pin(labels), pin(token_index)};
}

torch::Tensor FinetuneTask::loss(const torch::Tensor& logits, const TaskBatch& batch) const {
  namespace F = torch::nn::functional;
  auto x = logits.to(torch::kFloat);
  switch (head()) {
    case HeadKind::sequence_classification:
      if (regression()) return F::mse_loss(x.squeeze(-1), batch.labels);
      return F::cross_entropy(x, batch.labels);
    case HeadKind::token_classification:
      return F::cross_entropy(x.reshape({-1, x.size(-1)}), batch.labels.reshape({-1}),
                              F::CrossEntropyFuncOptions().ignore_index(-100));
    case HeadKind::question_answering: {
      // Padding can never be an answer: keep its logits out of the softmax.
      auto pad = batch.attention_mask.eq(0).unsqueeze(-1);  // [B, S, 1]
      x = x.masked_fill(pad, -1e4);
      const auto start = F::cross_entropy(x.select(2, 0), batch.labels.select(1, 0));
      const auto end = F::cross_entropy(x.select(2, 1), batch.labels.select(1, 1));
      if (x.size(2) == 2) return (start + end) / 2;
      // The answerability classifier: a window without an answer targets [CLS] (position 0).
      const auto no_answer = batch.labels.eq(0).all(1).to(torch::kFloat);  // [B]
      const auto classifier = F::binary_cross_entropy_with_logits(x.select(1, 0).select(1, 2), no_answer);
      return (start + end) / 2 + no_answer_weight() * classifier;
    }
  }
  return {};
}

std::unique_ptr<FinetuneTask> make_task(const FinetuneConfig& config, const WordPieceTokenizer& tokenizer,
                                        const std::string& data_dir, const std::string& predict_file) {
  switch (config.task.type) {
    case TaskType::glue:
    case TaskType::classification:
    case TaskType::regression: return std::make_unique<SentenceTask>(config, tokenizer, data_dir, predict_file);
    case TaskType::tagging: return std::make_unique<TaggingTask>(config, tokenizer, data_dir, predict_file);
    case TaskType::squad: return std::make_unique<SquadTask>(config, tokenizer, data_dir, predict_file);
  }
  throw Error("unknown task type");
}

}  // namespace electra
