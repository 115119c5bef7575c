#include "electra/train/finetuner.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "electra/dist/distributed.h"
#include "electra/io/model_dir.h"
#include "electra/train/checkpoint.h"
#include "electra/util/device.h"
#include "electra/util/error.h"
#include "electra/util/files.h"
#include "util/logger.h"
#include "train/autocast_scope.h"
#include "train/update.h"
#include "train/weight_decay.h"

namespace fs = std::filesystem;

namespace electra {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

}  // namespace

bool Finetuner::is_main() const { return distributed_->is_main(); }

Finetuner::Finetuner(FinetuneConfig config, const ModelDirectory& model, const FinetuneTask& task,
                     const WordPieceTokenizer& tokenizer, std::string output_dir,
                     std::shared_ptr<Distributed> distributed)
    : config_(std::move(config)),
      task_(task),
      tokenizer_(tokenizer),
      output_(std::move(output_dir)),
      distributed_(distributed ? std::move(distributed) : Distributed::single_process()) {
  auto log = logger("finetune");
  const std::string& model_dir = model.path;
  model_config_ = model.config;
  if (config_.train.max_seq_length > model_config_.max_position_embeddings) {
    throw Error("train.max_seq_length " + std::to_string(config_.train.max_seq_length) + " exceeds " + model_dir +
                "/config.json max_position_embeddings " + std::to_string(model_config_.max_position_embeddings));
  }
  device_ = training_device(config_.train.device, *distributed_, config_.train.precision);
  scaler_ = LossScaler(config_.train.precision == Precision::fp16);
  torch::manual_seed(config_.train.seed);
  const auto classifier_head = config_.task.classifier_head;
  const bool answerable = task_.head() == HeadKind::question_answering && config_.squad.answerable_classifier;
  model_ = TaskModel(model_config_, task_.head(), task_.num_labels(), classifier_head, answerable);
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
  TaskHead head;
  head.kind = task_.head();
  head.classifier_head = classifier_head;
  head.answerable_classifier = answerable;
  head.labels = task_.labels();
  head.regression = task_.regression();
  model_config_ = with_task_head(model_config_, head, task_.num_labels());
  model_->to(device_);  // before the optimizer sees the parameters

  // One parameter group per (layer depth, decay or not): lr * layer_decay^(L+2-depth).
  const auto& o = config_.optimizer;
  std::map<std::pair<double, bool>, std::vector<torch::Tensor>> groups;
  for (const auto& p : model_->named_parameters()) {
    const double scale = layer_lr_multiplier(p.key(), model_config_.num_hidden_layers, o.layer_decay);
    groups[{scale, applies_weight_decay(p.key())}].push_back(p.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (auto& [key, params] : groups) {
    auto options = std::make_unique<torch::optim::AdamWOptions>(o.learning_rate * key.first);
    options->betas({o.beta1, o.beta2}).eps(o.eps).weight_decay(key.second ? o.weight_decay : 0.0);
    param_groups.emplace_back(std::move(params), std::move(options));
    lr_multipliers_.push_back(key.first);
  }
  optimizer_ = std::make_unique<torch::optim::AdamW>(std::move(param_groups),
                                                     torch::optim::AdamWOptions(o.learning_rate));
  parameters_ = model_->parameters();
  distributed_->broadcast(*model_);  // the new head starts from rank 0's draw
  reducer_ = std::make_unique<GradientReducer>(distributed_, parameters_);
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
    const auto batch = collate(features, rows, task_.head(), task_.regression(), tokenizer_.pad_id()).to(device_);
    torch::Tensor logits;
    {
      AutocastScope autocast(config_.train.precision, device_);
      logits = model_(batch.input_ids, batch.attention_mask, batch.token_type_ids).to(torch::kCPU, torch::kFloat);
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
  const auto dir = (fs::path(output_) / "best").string();
  SaveOptions options;
  options.lowercase = tokenizer_.options().lowercase;
  options.model_max_length = static_cast<size_t>(model_config_.max_position_embeddings);
  save_model_dir(dir, *model_, model_config_, &tokenizer_.vocab(), options);
  json results = {{"epoch", epoch}, {"task", task_.name()}};
  for (const auto& [name, value] : scores.values) results[name] = value;
  write_file_atomic((fs::path(dir) / "eval_results.json").string(), results.dump(2) + "\n");
}

void Finetuner::write_predictions() {
  if (!task_.has(Split::predict) || !is_main()) return;
  const auto logits = predict(Split::predict);
  task_.write_predictions(Split::predict, logits, output_);
}

void Finetuner::save_checkpoint(const FinetuneResult& result, const RunState& state) {
  if (!is_main()) return;
  CheckpointContents contents;
  contents.progress.step = result.steps;
  contents.progress.epoch = state.epoch;
  contents.progress.cursor = state.cursor;
  contents.progress.loss_scale = scaler_.enabled() ? scaler_.scale() : 0.0;
  contents.progress.world_size = distributed_->world_size();
  contents.config_json = config_.to_json_string();
  json best = json::array();
  for (const auto& [name, value] : result.best.values) best.push_back({name, value});
  contents.extra_json = json{{"have_best", state.have_best}, {"best", best}, {"best_epoch", result.best_epoch},
                             {"evaluations_without_gain", state.evaluations_without_gain}}.dump();
  electra::save_checkpoint((fs::path(output_) / "checkpoints").string(), *model_, *optimizer_, contents, 1);
}

void Finetuner::restore_checkpoint(FinetuneResult& result, RunState& state) {
  const auto all = list_checkpoints((fs::path(output_) / "checkpoints").string());
  if (all.empty()) {
    throw file_error(output_, "--resume: no checkpoint under checkpoints/ (one is written after every epoch and "
                              "when a run is interrupted; a completed run removes them)");
  }
  const auto contents = load_checkpoint(all.back(), *model_, *optimizer_);
  require_resumable_config(all.back(), contents, config_.to_json_string(), {"task", "optimizer", "squad"},
                           {"seed", "batch_size", "epochs", "max_seq_length"});
  const auto extra = json::parse(contents.extra_json);
  result.steps = contents.progress.step;
  result.best_epoch = extra.value("best_epoch", 0.0);
  for (const auto& pair : extra.value("best", json::array())) {
    result.best.values.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<double>());
  }
  state.epoch = contents.progress.epoch;
  state.cursor = contents.progress.cursor;
  state.have_best = extra.value("have_best", false);
  state.evaluations_without_gain = extra.value("evaluations_without_gain", 0);
  scaler_.set_scale(contents.progress.loss_scale);
  logger("finetune")->info("resumed from {} at step {}", all.back(), result.steps);
}

FinetuneResult Finetuner::run(const std::atomic<bool>* stop, bool resume) {
  auto log = logger("finetune");
  fs::create_directories(output_);
  std::ofstream metrics;  // rank 0 only; elsewhere the closed stream ignores output
  if (is_main()) {
    write_file_atomic((fs::path(output_) / "finetune_config.json").string(), config_.to_json_string());
    metrics.open((fs::path(output_) / "metrics.jsonl").string(), std::ios::app);
  }
  const int64_t world = distributed_->world_size();
  const int64_t rank = distributed_->rank();

  const auto& train = task_.features(Split::train);
  const auto batch_size = static_cast<size_t>(config_.train.batch_size);
  const int64_t steps_per_epoch = static_cast<int64_t>((train.size() + batch_size - 1) / batch_size);
  const int64_t total_steps = static_cast<int64_t>(std::ceil(config_.train.epochs * steps_per_epoch));
  const int64_t warmup = static_cast<int64_t>(config_.optimizer.warmup_proportion * total_steps);
  const LinearSchedule schedule{config_.optimizer.learning_rate, warmup, total_steps};
  log->info("{}: {} training features ({} examples), {} steps ({} per epoch, {} epochs), warmup {}; dev {} features",
            task_.name(), train.size(), task_.num_examples(Split::train), total_steps, steps_per_epoch,
            config_.train.epochs, warmup, task_.features(Split::dev).size());

  FinetuneResult result;
  result.best_dir = (fs::path(output_) / "best").string();
  RunState state;
  if (resume) restore_checkpoint(result, state);
  auto evaluate = [&](double epoch) {
    if (!task_.has(Split::dev)) return;
    if (!is_main()) {  // rank 0 scores; the others learn whether to stop from it
      state.evaluations_without_gain = static_cast<int>(distributed_->sum({0.0})[0]);
      return;
    }
    const auto logits = predict(Split::dev);
    const auto scores = task_.score(Split::dev, logits);
    json line = {{"split", "dev"}, {"epoch", epoch}, {"step", result.steps}};
    for (const auto& [name, value] : scores.values) line[name] = value;
    metrics << line.dump() << "\n" << std::flush;
    const bool better = !state.have_best || scores.main() > result.best.main();
    log->info("epoch {:.2f} dev: {}{}", epoch, scores.summary(), better ? " (best so far)" : "");
    if (better) {
      state.have_best = true;
      result.best = scores;
      result.best_epoch = epoch;
      state.evaluations_without_gain = 0;
      save_best(scores, epoch);
      task_.write_predictions(Split::dev, logits, output_);
    } else {
      ++state.evaluations_without_gain;
    }
    distributed_->sum({static_cast<double>(state.evaluations_without_gain)});
  };

  torch::Generator rng = at::make_generator<at::CPUGeneratorImpl>(config_.train.seed);
  for (int64_t e = 0; e < state.epoch; ++e) torch::randperm(static_cast<int64_t>(train.size()), rng, torch::kLong);
  model_->train();
  const auto start = Clock::now();
  const int64_t first_step = result.steps;
  double loss_sum = 0;
  int64_t loss_count = 0, examples_seen = 0;
  for (; result.steps < total_steps; ++state.epoch, state.cursor = 0) {
    const auto order = torch::randperm(static_cast<int64_t>(train.size()), rng, torch::kLong);
    const auto* o = order.data_ptr<int64_t>();
    for (size_t begin = static_cast<size_t>(state.cursor); begin < train.size() && result.steps < total_steps;
         begin += batch_size) {
      // This rank's share of the global batch (every rank draws the same order).
      const size_t end = std::min(train.size(), begin + batch_size), global_rows = end - begin;
      const size_t share_begin = begin + global_rows * static_cast<size_t>(rank) / static_cast<size_t>(world);
      const size_t share_end = begin + global_rows * static_cast<size_t>(rank + 1) / static_cast<size_t>(world);
      std::vector<size_t> rows;
      for (size_t i = share_begin; i < share_end; ++i) rows.push_back(static_cast<size_t>(o[i]));
      const double lr = schedule(result.steps);
      optimizer_->zero_grad();
      double step_loss = 0;
      if (!rows.empty()) {  // a rank may get no row of a short last batch; it still joins the all-reduce
        const auto batch = collate(train, rows, task_.head(), task_.regression(), tokenizer_.pad_id()).to(device_);
        torch::Tensor logits;
        {
          AutocastScope autocast(config_.train.precision, device_);
          logits = model_(batch.input_ids, batch.attention_mask, batch.token_type_ids);
        }
        auto loss = task_.loss(logits, batch);
        step_loss = loss.item<double>();
        // Scaled so that averaging over ranks gives the mean over the whole global batch, even
        // when the last batch of an epoch does not split evenly.
        reducer_->prepare(/*sync=*/true);
        scaler_.scaled(loss * (static_cast<double>(rows.size()) * world / static_cast<double>(global_rows))).backward();
      }
      apply_update(*reducer_, scaler_, parameters_, config_.optimizer.max_grad_norm, *optimizer_, lr, lr_multipliers_);
      ++result.steps;
      state.cursor = static_cast<int64_t>(end);

      loss_sum += step_loss;
      ++loss_count;
      examples_seen += static_cast<int64_t>(rows.size());
      if (result.steps % config_.train.log_every == 0 || result.steps == total_steps) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        const double per_step = elapsed / static_cast<double>(result.steps - first_step);
        log->info("step {}/{} epoch {:.2f} loss {:.4f} lr {:.2e} {:.1f} examples/s eta {}", result.steps, total_steps,
                  static_cast<double>(result.steps) / steps_per_epoch, loss_sum / loss_count, lr,
                  examples_seen / elapsed, format_duration(per_step * (total_steps - result.steps)));
        metrics << json{{"split", "train"}, {"step", result.steps}, {"loss", loss_sum / loss_count},
                        {"learning_rate", lr}, {"examples_per_second", examples_seen / elapsed}}.dump()
                << "\n" << std::flush;
        loss_sum = 0;
        loss_count = 0;
      }
      // Not on the last step: the run is about to finish, and a checkpoint there would skip the
      // final evaluation on resume.
      bool stopping = stop && stop->load() && result.steps < total_steps;
      stopping = distributed_->sum({stopping ? 1.0 : 0.0})[0] > 0;
      if (stopping) {
        result.interrupted = true;
        break;
      }
    }
    if (result.interrupted) {
      save_checkpoint(result, state);
      break;
    }
    evaluate(std::min(config_.train.epochs, static_cast<double>(result.steps) / steps_per_epoch));
    const int patience = config_.train.early_stopping_patience;
    if (patience > 0 && state.evaluations_without_gain >= patience) {
      log->info("early stopping: no gain in {} evaluations", state.evaluations_without_gain);
      break;
    }
    if (result.steps < total_steps) {  // the next pass starts from here after a crash
      save_checkpoint(result, {state.epoch + 1, 0, state.have_best, state.evaluations_without_gain});
    }
  }
  if (!result.interrupted && is_main()) {
    std::error_code ec;
    fs::remove_all(fs::path(output_) / "checkpoints", ec);
  }
  if (total_steps == 0) evaluate(0);  // evaluation (and prediction) only
  if (result.interrupted) log->warn("interrupted after {} steps", result.steps);
  if (!state.have_best && !result.interrupted && is_main()) {
    save_best({}, static_cast<double>(result.steps) / std::max<int64_t>(steps_per_epoch, 1));  // no dev set: keep the last
  }
  distributed_->barrier();  // rank 0 has written best/
  if (task_.has(Split::dev) || result.steps > 0) {
    // Predictions come from the kept model, not the last epoch's.
    if (fs::exists(fs::path(result.best_dir) / "model.safetensors")) load_weights(*model_, result.best_dir);
  }
  return result;
}

}  // namespace electra
