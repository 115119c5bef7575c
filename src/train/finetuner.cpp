#include "electra/train/finetuner.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "electra/dist/distributed.h"
#include "electra/io/model_dir.h"
#include "electra/train/checkpoint.h"
#include "io/model_card.h"
#include "util/device.h"
#include "electra/util/error.h"
#include "util/files.h"
#include "util/logger.h"
#include "train/prefetcher.h"
#include "train/trainer_core.h"

namespace fs = std::filesystem;

namespace electra {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The model card of best/: the task and its data, the training so far, the dev scores.
ModelCard finetune_card(const FinetuneConfig& config, const FinetuneTask& task, const ElectraConfig& model,
                        const std::string& base_model, const TaskScores& scores, double epoch, int64_t steps) {
  ModelCard card;
  card.origin = ModelOrigin::finetuned;
  card.architecture = model.architectures.empty() ? "" : model.architectures.front();
  card.base_model = config.train.random_init ? "" : base_model;
  const std::string name = task.name();
  switch (config.task.type) {
    case TaskType::glue: {
      std::string upper = name;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      card.data = "GLUE " + upper;
      card.datasets = {"nyu-mll/glue"};
      card.tags = {"glue", name};
      break;
    }
    case TaskType::squad:
      card.data = config.task.squad_version == 2 ? "SQuAD 2.0" : "SQuAD 1.1";
      card.datasets = {config.task.squad_version == 2 ? "rajpurkar/squad_v2" : "rajpurkar/squad"};
      card.tags = {"squad"};
      break;
    case TaskType::tagging:
      card.data = "the token-tagging task `" + name + "`";
      card.tags = {name};
      break;
    case TaskType::classification:
    case TaskType::regression:
      card.data = "the sentence " + to_string(config.task.type) + " task `" + name + "`";
      card.tags = {name};
      break;
  }
  card.data += " (" + std::to_string(task.num_examples(Split::train)) + " training examples)";
  card.epochs = epoch;
  card.steps = steps;
  card.results_split = scores.values.empty() ? "dev set" : "the dev set, at the best of the evaluations after each epoch";
  card.results = scores.values;
  return card;
}

}  // namespace

// One step's training rows of this rank, collated (no batch when the rank has none of them).
struct PreparedBatch {
  TaskBatch batch;
  int64_t rows = 0, tokens = 0;
  int64_t epoch = 0, begin = 0, end = 0;  // the global batch: rows [begin, end) of epoch's order
};

Finetuner::Finetuner(FinetuneConfig config, const ModelDirectory& model, const FinetuneTask& task,
                     const WordPieceTokenizer& tokenizer, std::shared_ptr<Distributed> distributed)
    : config_(std::move(config)), task_(task), tokenizer_(tokenizer), model_config_(model.config), base_model_(model.path) {
  const auto& t = config_.train;
  const auto& o = config_.optimizer;
  if (t.max_seq_length > model_config_.max_position_embeddings) {
    throw Error("train.max_seq_length " + std::to_string(t.max_seq_length) + " exceeds " + model.path +
                "/config.json max_position_embeddings " + std::to_string(model_config_.max_position_embeddings));
  }
  core_ = std::make_unique<TrainerCore>(core_settings(t, o, "finetune_config.json"), std::move(distributed));

  const bool answerable = task_.head() == HeadKind::question_answering && config_.squad.answerable_classifier;
  model_ = TaskModel(model_config_, task_.head(), task_.num_labels(), config_.task.classifier_head, answerable);
  load_pretrained(model, answerable);
  TaskHead head;
  head.kind = task_.head();
  head.classifier_head = config_.task.classifier_head;
  head.answerable_classifier = answerable;
  head.labels = task_.labels();
  head.regression = task_.regression();
  model_config_ = with_task_head(model_config_, head, task_.num_labels());
  // One AdamW group per (layer depth, decayed or not): lr * layer_decay^(L+2-depth).
  const int64_t layers = model_config_.num_hidden_layers;
  core_->attach(*model_, [&](const std::string& name) { return layer_lr_multiplier(name, layers, o.layer_decay); });

  const int64_t rows = static_cast<int64_t>(task_.features(Split::train).size());
  steps_per_epoch_ = (rows + t.batch_size - 1) / t.batch_size;
  const auto total = static_cast<int64_t>(std::ceil(t.epochs * static_cast<double>(steps_per_epoch_)));
  schedule_ = LinearSchedule{o.learning_rate, static_cast<int64_t>(o.warmup_proportion * total), total};
}

void Finetuner::start_prefetching(int64_t epoch, int64_t cursor) {
  prefetcher_.reset();  // joins the old thread first
  const auto& train = task_.features(Split::train);
  const int64_t rows_total = static_cast<int64_t>(train.size()), batch_size = config_.train.batch_size;
  const int64_t world = core_->group().world_size(), rank = core_->group().rank();
  const HeadKind head = task_.head();
  const bool regression = task_.regression(), pin = core_->device().is_cuda();
  const int32_t pad = tokenizer_.pad_id();
  // Every rank draws the same order for every epoch from the seed, so a resumed run (which
  // redraws the epochs before its own) shuffles exactly as an uninterrupted one.
  struct Walk {
    torch::Generator rng;
    torch::Tensor order;
    int64_t drawn = 0, epoch = 0, cursor = 0;
  };
  auto walk = std::make_shared<Walk>(
      Walk{at::make_generator<at::CPUGeneratorImpl>(config_.train.seed), {}, 0, epoch, cursor});
  auto produce = [walk, &train, rows_total, batch_size, world, rank, head, regression, pad, pin] {
    if (walk->cursor >= rows_total) {
      ++walk->epoch;
      walk->cursor = 0;
    }
    while (walk->drawn <= walk->epoch) {
      walk->order = torch::randperm(rows_total, walk->rng, torch::kLong);
      ++walk->drawn;
    }
    PreparedBatch out;
    out.epoch = walk->epoch;
    out.begin = walk->cursor;
    out.end = std::min(rows_total, out.begin + batch_size);
    walk->cursor = out.end;
    const int64_t global_rows = out.end - out.begin;
    const auto* order = walk->order.data_ptr<int64_t>();
    std::vector<size_t> rows;  // this rank's share of the global batch
    for (int64_t i = out.begin + global_rows * rank / world; i < out.begin + global_rows * (rank + 1) / world; ++i) {
      rows.push_back(static_cast<size_t>(order[i]));
    }
    out.rows = static_cast<int64_t>(rows.size());
    if (rows.empty()) return out;
    for (auto r : rows) out.tokens += static_cast<int64_t>(train[r].input_ids.size());
    out.batch = collate(train, rows, head, regression, pad);
    if (pin) out.batch = out.batch.pinned();
    return out;
  };
  prefetcher_ = std::make_unique<Prefetcher<PreparedBatch>>(produce, static_cast<int>(config_.train.prefetch_batches));
  next_batch_ = {epoch, cursor};
}

Finetuner::~Finetuner() = default;

const std::vector<double>& Finetuner::lr_multipliers() const { return core_->lr_multipliers(); }
const TrainingProgress& Finetuner::progress() const { return core_->progress(); }

void Finetuner::load_pretrained(const ModelDirectory& model, bool answerable) {
  auto log = logger("finetune");
  const std::string& model_dir = model.path;
  const auto classifier_head = config_.task.classifier_head;
  if (config_.train.random_init) {
    log->info("random initialisation (train.random_init): the weights in {} are not used", model_dir);
  } else {
    LoadOptions options;
    const auto& saved = model.task_head;
    const bool other_classifier = saved && task_.head() == HeadKind::sequence_classification &&
                                  saved->classifier_head != classifier_head;
    const bool same_head = saved && !other_classifier && saved->kind == task_.head() &&
                           (task_.head() == HeadKind::question_answering ||
                            static_cast<int64_t>(saved->labels.size()) == task_.num_labels());
    if (other_classifier) {
      const auto saved_head = to_string(saved->classifier_head);
      log->warn("{} holds a {} classifier head but task.classifier_head is {}: the head starts anew "
                "(--set task.classifier_head={} keeps it)",
                model_dir, saved_head, to_string(classifier_head), saved_head);
    }
    if (!same_head) {
      options.allow_missing = {model_->head_prefix()};
      options.ignore_unexpected = {"discriminator_predictions.", "generator_predictions.", "generator_lm_head.",
                                   "classifier.", "qa_outputs."};
    }
    const bool saved_answerable = saved && saved->answerable_classifier;
    if (same_head && saved_answerable != answerable) {
      log->warn("{} {} an answerability classifier but squad.answerable_classifier is {}: {}", model_dir,
                saved_answerable ? "holds" : "has no", answerable ? "true" : "false",
                answerable ? "it starts anew" : "it is left out");
    }
    if (answerable && !(same_head && saved_answerable)) options.allow_missing.push_back(TaskModelImpl::kAnswerablePrefix);
    if (!answerable) options.ignore_unexpected.push_back(TaskModelImpl::kAnswerablePrefix);
    load_weights(*model_, model_dir, options);
    log->info("loaded {} ({}; {})", model_dir, same_head ? "encoder and head" : "encoder, new head",
              to_string(task_.head()));
  }
}

std::vector<torch::Tensor> Finetuner::predict(Split split) {
  torch::NoGradGuard no_grad;
  model_->eval();
  const auto& features = task_.features(split);
  std::vector<torch::Tensor> out;
  out.reserve(features.size());
  const auto batch_size = static_cast<size_t>(config_.train.eval_batch_size);
  for (size_t begin = 0; begin < features.size(); begin += batch_size) {
    std::vector<size_t> rows;
    for (size_t i = begin; i < std::min(features.size(), begin + batch_size); ++i) rows.push_back(i);
    const auto batch = collate(features, rows, task_.head(), task_.regression(), tokenizer_.pad_id()).to(core_->device());
    torch::Tensor logits;
    {
      auto autocast = core_->autocast();
      logits = model_(batch.input_ids, batch.attention_mask, batch.token_type_ids, batch.token_index)
                   .to(torch::kCPU, torch::kFloat);
    }
    for (size_t b = 0; b < rows.size(); ++b) {
      auto row = logits[static_cast<int64_t>(b)];
      if (task_.head() != HeadKind::sequence_classification) {
        row = row.narrow(0, 0, static_cast<int64_t>(features[rows[b]].input_ids.size()));
      }
      out.push_back(row.contiguous());
    }
  }
  model_->train();
  return out;
}

void Finetuner::save_best(const TaskScores& scores, double epoch) {
  const auto dir = (fs::path(config_.train.output) / "best").string();
  SaveOptions options;
  options.lowercase = tokenizer_.options().lowercase;
  options.model_max_length = static_cast<size_t>(model_config_.max_position_embeddings);
  options.model_card = render_model_card(
      finetune_card(config_, task_, model_config_, base_model_, scores, epoch, core_->progress().step));
  save_model_dir(dir, *model_, model_config_, &tokenizer_.vocab(), options);
  json results = {{"epoch", epoch}, {"task", task_.name()}};
  for (const auto& [name, value] : scores.values) results[name] = value;
  write_file_atomic((fs::path(dir) / "eval_results.json").string(), results.dump(2) + "\n");
}

void Finetuner::write_predictions() {
  if (!task_.has(Split::predict) || !core_->is_main()) return;
  const auto logits = predict(Split::predict);
  task_.write_predictions(Split::predict, logits, config_.train.output);
}

std::string Finetuner::save_checkpoint() {
  json best = json::array();
  for (const auto& [name, value] : best_.scores.values) best.push_back({name, value});
  const json extra = {{"have_best", best_.have}, {"best", best}, {"best_epoch", best_.epoch},
                      {"evaluations_without_gain", best_.evaluations_without_gain}};
  std::string written;
  core_->on_main([&] { written = core_->save_checkpoint(config_.to_json_string(), extra.dump(), /*keep=*/1); },
                 "writing a checkpoint");
  return written;
}

void Finetuner::restore(const std::string& dir) {
  const auto contents = core_->restore(dir);
  require_resumable_config(dir, contents, config_.to_json_string(), {"task", "optimizer", "squad"},
                           {"seed", "batch_size", "epochs", "max_seq_length"});
  const auto extra = json::parse(contents.extra_json);
  best_ = {};
  best_.have = extra.value("have_best", false);
  best_.epoch = extra.value("best_epoch", 0.0);
  for (const auto& pair : extra.value("best", json::array())) {
    best_.scores.values.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<double>());
  }
  best_.evaluations_without_gain = extra.value("evaluations_without_gain", 0);
}

double Finetuner::epochs_done() const {
  if (steps_per_epoch_ == 0) return 0;
  return std::min(config_.train.epochs, static_cast<double>(core_->progress().step) / steps_per_epoch_);
}

FinetuneMetrics Finetuner::train_step() {
  model_->train();
  auto& progress = core_->progress();
  const int64_t rows_total = static_cast<int64_t>(task_.features(Split::train).size());
  auto normal = [&](std::pair<int64_t, int64_t> at) {  // the end of an epoch is the start of the next
    return at.second >= rows_total ? std::make_pair(at.first + 1, int64_t{0}) : at;
  };
  const auto position = normal({progress.epoch, progress.cursor});
  // The prefetcher runs ahead of where training is; anything else (a restored checkpoint) restarts it.
  if (!prefetcher_ || normal(next_batch_) != position) start_prefetching(position.first, position.second);
  const auto prepared = prefetcher_->next();
  next_batch_ = {prepared.epoch, prepared.end};
  const int64_t world = core_->group().world_size(), global_rows = prepared.end - prepared.begin;
  FinetuneMetrics m;
  m.learning_rate = schedule_(progress.step);
  m.examples = prepared.rows;
  m.tokens = prepared.tokens;
  core_->begin_step();
  if (prepared.rows > 0) {  // a rank may get no row of a short last batch; it still joins the all-reduce
    const auto batch = prepared.batch.to(core_->device());
    torch::Tensor logits;
    {
      auto autocast = core_->autocast();
      logits = model_(batch.input_ids, batch.attention_mask, batch.token_type_ids, batch.token_index);
    }
    const auto loss = task_.loss(logits, batch);
    m.loss = loss.detach();
    // Weighted so that the mean over ranks is the mean over the whole global batch, even when
    // the last batch of an epoch does not split evenly.
    core_->backward(loss * (static_cast<double>(prepared.rows * world) / static_cast<double>(global_rows)),
                    /*last=*/true);
  }
  core_->finish_step(m.learning_rate);
  progress.epoch = prepared.epoch;
  progress.cursor = prepared.end;
  return m;
}

FinetuneMetrics Finetuner::profile_step() {
  FinetuneMetrics m;
  core_->profile([&] {
    m = train_step();
    if (m.loss.defined()) m.loss.item<double>();  // the step's work is done when its loss is read
  });
  return m;
}

void Finetuner::evaluate(double epoch) {
  if (!task_.has(Split::dev)) return;
  // Rank 0 scores; every rank learns whether that failed, then rank 0's count for early stopping.
  core_->on_main([&] {
    const auto logits = predict(Split::dev);
    const auto scores = task_.score(Split::dev, logits);
    for (const auto& [name, value] : scores.values) {
      if (!std::isfinite(value)) {
        throw Error("epoch " + std::to_string(epoch) + " dev " + name + " is not finite: the model's outputs hold NaN "
                    "or Inf (lower optimizer.learning_rate); " + config_.train.output + "/best is left as it was");
      }
    }
    json line = {{"split", "dev"}, {"epoch", epoch}, {"step", core_->progress().step}};
    for (const auto& [name, value] : scores.values) line[name] = value;
    core_->log_metrics(line);
    const bool better = !best_.have || scores.main() > best_.scores.main();
    logger("finetune")->info("epoch {:.2f} dev: {}{}", epoch, scores.summary(), better ? " (best so far)" : "");
    if (better) {
      best_ = {true, scores, epoch, 0};
      save_best(scores, epoch);
      task_.write_predictions(Split::dev, logits, config_.train.output);
    } else {
      ++best_.evaluations_without_gain;
    }
  }, "evaluating on dev");
  const double count = core_->is_main() ? static_cast<double>(best_.evaluations_without_gain) : 0.0;
  best_.evaluations_without_gain = static_cast<int>(core_->agree({count})[0]);
}

FinetuneResult Finetuner::run(bool resume, const std::atomic<bool>* stop) {
  auto log = logger("finetune");
  const auto& t = config_.train;
  auto& progress = core_->progress();
  const int64_t total = schedule_.total_steps;
  const int64_t rows_total = static_cast<int64_t>(task_.features(Split::train).size());
  log->info("{}: {} training features ({} examples), {} steps ({} per epoch, {} epochs), warmup {}; dev {} features",
            task_.name(), rows_total, task_.num_examples(Split::train), total, steps_per_epoch_, t.epochs,
            schedule_.warmup_steps, task_.features(Split::dev).size());
  if (resume) {
    const auto from = core_->resume("--resume: no checkpoint under checkpoints/ (one is written after every epoch and "
                                    "when a run is interrupted; a completed run removes them)",
                                    [&](const std::string& dir) { restore(dir); });
    log->info("resumed from {} at step {}", from, progress.step);
  }
  core_->open_run(config_.to_json_string());

  FinetuneResult result;
  result.best_dir = (fs::path(t.output) / "best").string();
  const auto start = Clock::now();
  const int64_t first_step = progress.step;
  torch::Tensor loss_sum;  // on the device, read back on logging steps only
  int64_t loss_count = 0, examples_seen = 0;
  double window_seconds = 0;  // training steps since the last progress line
  int64_t window_tokens = 0;
  while (true) {
    // Every "when" decision of the loop is here: an epoch (or the schedule) ended...
    if (progress.cursor >= rows_total || progress.step >= total) {
      evaluate(epochs_done());
      const int patience = t.early_stopping_patience;
      if (patience > 0 && best_.evaluations_without_gain >= patience) {
        log->info("early stopping: no gain in {} evaluations", best_.evaluations_without_gain);
        break;
      }
      if (progress.step >= total) break;
      ++progress.epoch;
      progress.cursor = 0;
      save_checkpoint();  // the next pass starts from here after a crash
    }
    const auto step_start = Clock::now();
    const bool profiling = progress.step + 1 == t.profile_step && core_->is_main();
    const auto m = profiling ? profile_step() : train_step();
    const double step_seconds = std::chrono::duration<double>(Clock::now() - step_start).count();
    result.train_seconds += step_seconds;
    result.train_tokens += m.tokens;
    window_seconds += step_seconds;
    window_tokens += m.tokens;
    if (m.loss.defined()) {
      loss_sum = loss_sum.defined() ? loss_sum + m.loss.to(torch::kDouble) : m.loss.to(torch::kDouble);
      ++loss_count;
    }
    examples_seen += m.examples;
    // ...a progress line is due...
    if (progress.step % t.log_every == 0 || progress.step == total) {
      const double loss = loss_count > 0 ? loss_sum.item<double>() / static_cast<double>(loss_count) : 0.0;
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      const double per_step = elapsed / static_cast<double>(progress.step - first_step);
      // Throughput since the last line, training steps only: evaluations would make it depend on
      // the dev set.
      const double tokens_per_second = static_cast<double>(window_tokens) / std::max(window_seconds, 1e-9);
      log->info("step {}/{} epoch {:.2f} loss {:.4f} lr {:.2e} {:.1f} examples/s {:.0f} tokens/s eta {}", progress.step,
                total, static_cast<double>(progress.step) / steps_per_epoch_, loss, m.learning_rate,
                examples_seen / elapsed, tokens_per_second,
                format_duration(per_step * static_cast<double>(total - progress.step)));
      core_->log_metrics({{"split", "train"}, {"step", progress.step}, {"loss", loss},
                          {"learning_rate", m.learning_rate}, {"examples_per_second", examples_seen / elapsed},
                          {"tokens_per_second", tokens_per_second}});
      loss_sum = torch::Tensor();
      loss_count = 0;
      window_seconds = 0;
      window_tokens = 0;
    }
    // ...or the user stopped the run. Not on the last step: the run is about to finish, and a
    // checkpoint there would skip the final evaluation on resume.
    if (core_->agree_to_stop(stop && stop->load() && progress.step < total)) {
      result.interrupted = true;
      save_checkpoint();
      break;
    }
  }
  result.steps = progress.step;
  if (result.interrupted) log->warn("interrupted after {} steps", progress.step);
  core_->on_main([&] {  // every rank waits for best/
    if (result.interrupted) return;
    core_->remove_checkpoints();
    if (!best_.have) {  // no dev set: keep the last
      save_best({}, static_cast<double>(progress.step) / static_cast<double>(std::max<int64_t>(steps_per_epoch_, 1)));
    }
  }, "writing best/");
  result.best = best_.scores;
  result.best_epoch = best_.epoch;
  if (task_.has(Split::dev) || progress.step > 0) {
    // Predictions come from the kept model, not the last epoch's.
    if (fs::exists(fs::path(result.best_dir) / "model.safetensors")) load_weights(*model_, result.best_dir);
  }
  return result;
}

}  // namespace electra
