#include "electra/train/pretrainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "electra/dist/distributed.h"
#include "electra/io/model_dir.h"
#include "electra/io/state_dict.h"
#include "io/model_card.h"
#include "metrics/binary.h"
#include "util/device.h"
#include "electra/util/error.h"
#include "util/files.h"
#include "util/logger.h"
#include "train/prefetcher.h"
#include "train/trainer_core.h"
#include "train/weight_decay.h"

namespace fs = std::filesystem;

namespace electra {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;


json to_json(const PretrainMetrics& m, bool with_disc) {
  json j = {{"loss", m.loss}, {"mlm_loss", m.mlm_loss}, {"mlm_accuracy", m.mlm_accuracy}};
  if (with_disc) {
    j["disc_loss"] = m.disc_loss;
    j["sampled_accuracy"] = m.sampled_accuracy;
    j["disc_accuracy"] = m.disc_accuracy;
    j["disc_precision"] = m.disc_precision;
    j["disc_recall"] = m.disc_recall;
    j["disc_auc"] = m.disc_auc;
    j["replaced_share"] = m.replaced_share;
  }
  return j;
}

// The masking and sampling randomness of one micro-batch slot at one step, as a pure function
// of (seed, step, slot): results do not depend on how the slots of a global batch are spread
// over ranks and accumulation steps (2 ranks x 1 micro-batch = 1 rank x 2), and a resumed run
// draws exactly what an uninterrupted one would.
torch::Generator slot_generator(const torch::Device& device, uint64_t seed, int64_t step, int64_t slot) {
  auto mix = [](uint64_t x) {  // splitmix64 finaliser
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
  };
  return seeded_generator(device, mix(mix(mix(seed) ^ static_cast<uint64_t>(step)) ^ static_cast<uint64_t>(slot)));
}

}  // namespace

void PretrainStats::add(const ObjectiveOutput& out, const torch::Tensor& attention_mask, int64_t real_tokens) {
  torch::NoGradGuard no_grad;
  const auto options = torch::TensorOptions().dtype(torch::kDouble).device(out.loss.device());
  auto count = [&](const torch::Tensor& t) { return t.defined() ? t.to(options) : torch::zeros({}, options); };
  torch::Tensor confusion;  // tp, fp, fn, tn over real tokens
  if (!out.disc_scores.defined()) {
    confusion = torch::zeros({4}, options);
  } else {
    const auto real = attention_mask.to(torch::kBool);
    const auto predicted = out.disc_scores > 0.5, actual = out.disc_labels > 0.5;
    confusion = torch::stack({(predicted & actual & real).sum(), (predicted & ~actual & real).sum(),
                              (~predicted & actual & real).sum(), (~predicted & ~actual & real).sum()})
                    .to(options);
    if (keep_scores_) {
      const auto s = out.disc_scores.masked_select(real).to(torch::kCPU, torch::kFloat).contiguous();
      const auto l = out.disc_labels.masked_select(real).to(torch::kCPU, torch::kFloat).contiguous();
      scores_.insert(scores_.end(), s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
      for (int64_t i = 0; i < l.numel(); ++i) labels_.push_back(l.data_ptr<float>()[i] > 0.5f);
    }
  }
  const auto row = torch::cat({torch::stack({count(out.loss.detach()), count(out.mlm_loss.detach()),
                                             count(out.disc_loss.detach()), count(out.masked_tokens),
                                             count(out.mlm_correct), count(out.sampled_correct)}),
                               confusion});
  sums_ = sums_.defined() ? sums_ + row : row;
  ++parts_;
  tokens_ += real_tokens;
}

PretrainMetrics PretrainStats::metrics() const {
  PretrainMetrics m;
  m.tokens = tokens_;
  if (!sums_.defined()) return m;
  const auto host = sums_.to(torch::kCPU).contiguous();  // the one wait for the device
  const double* v = host.data_ptr<double>();
  const double n = static_cast<double>(std::max<int64_t>(parts_, 1)), masked = v[3];
  m.loss = v[0] / n;
  m.mlm_loss = v[1] / n;
  m.disc_loss = v[2] / n;
  m.mlm_accuracy = masked > 0 ? v[4] / masked : 0;
  m.sampled_accuracy = masked > 0 ? v[5] / masked : 0;
  BinaryCounts disc;
  disc.tp = static_cast<int64_t>(v[6]);
  disc.fp = static_cast<int64_t>(v[7]);
  disc.fn = static_cast<int64_t>(v[8]);
  disc.tn = static_cast<int64_t>(v[9]);
  m.disc_accuracy = disc.accuracy();
  m.disc_precision = disc.precision();
  m.disc_recall = disc.recall();
  m.replaced_share = disc.total() ? static_cast<double>(disc.tp + disc.fn) / disc.total() : 0;
  if (keep_scores_) m.disc_auc = roc_auc(scores_, labels_);
  return m;
}

// One step's batches, collated ahead of the step on the prefetching thread.
struct PreparedStep {
  std::vector<PretrainingBatch> micro_batches;  // this rank's, on the host
  std::vector<int64_t> real_tokens;             // per micro-batch
  int64_t epoch = 0, cursor = 0;                // the data order's position after this step
};

Pretrainer::Pretrainer(PretrainConfig config, PretrainData data)
    : config_(std::move(config)), data_(data) {
  if (!data_.train) throw Error("pre-training needs training data");
  config_.model.discriminator.vocab_size = data_.vocab_size;
  config_.model.discriminator.max_position_embeddings =
      std::max(config_.model.discriminator.max_position_embeddings, data_.max_seq_len);
  config_.model.discriminator.pad_token_id = data_.special.pad;
  config_.validate();
  const auto& t = config_.train;
  const auto& o = config_.optimizer;
  core_ = std::make_unique<TrainerCore>(core_settings(t, o, "config.json"), data_.distributed);
  const int64_t slots = core_->group().world_size() * t.grad_accum_steps;
  if (t.batch_size % slots != 0) {
    throw Error("train.batch_size " + std::to_string(t.batch_size) + " must be a multiple of world size x " +
                "train.grad_accum_steps (" + std::to_string(slots) + ")");
  }
  model_ = ElectraPretrainingModel(config_.model.discriminator, config_.generator_config(), config_.objective);
  if (!t.init_discriminator.empty() || !t.init_generator.empty()) initialise_from_pretrained();
  core_->attach(*model_);
  schedule_ = LinearSchedule{o.learning_rate, o.warmup_steps, t.steps};
  start_prefetching();
}

Pretrainer::~Pretrainer() = default;

void Pretrainer::start_prefetching() {
  prefetcher_.reset();  // joins the old thread before a new one reads the data
  const auto& progress = core_->progress();
  auto cursor = std::make_shared<BatchCursor>(*data_.train, config_.train.seed, progress.epoch, progress.cursor);
  const int64_t accum = config_.train.grad_accum_steps, batch_size = config_.train.batch_size;
  const int64_t rank = core_->group().rank(), world = core_->group().world_size();
  const int64_t micro_batch = batch_size / (world * accum), pad = data_.special.pad;
  const int64_t pad_to = config_.train.static_shapes ? data_.max_seq_len : 0;
  const bool pin = core_->device().is_cuda();  // page-locked: the copy to the GPU can overlap compute
  // Every rank walks the same global order and takes its own slots of each global batch.
  auto produce = [cursor, accum, batch_size, rank, micro_batch, pad, pad_to, pin] {
    PreparedStep step;
    const auto global = cursor->next(batch_size);
    for (int64_t micro = 0; micro < accum; ++micro) {
      const int64_t slot = rank * accum + micro;
      const std::vector<TokenizedExample> examples(global.begin() + slot * micro_batch,
                                                   global.begin() + (slot + 1) * micro_batch);
      auto batch = collate(examples, pad, pad_to);
      if (pin) batch = batch.pinned();
      int64_t tokens = 0;
      for (const auto& e : examples) tokens += static_cast<int64_t>(e.ids.size());
      step.micro_batches.push_back(std::move(batch));
      step.real_tokens.push_back(tokens);
    }
    step.epoch = cursor->epoch();
    step.cursor = cursor->cursor();
    return step;
  };
  prefetcher_ = std::make_unique<Prefetcher<PreparedStep>>(produce, static_cast<int>(config_.train.prefetch_batches));
}

const TrainingProgress& Pretrainer::progress() const { return core_->progress(); }
const torch::Device& Pretrainer::device() const { return core_->device(); }

void Pretrainer::initialise_from_pretrained() {
  auto log = logger("train");
  if (model_->has_discriminator()) {
    if (!config_.train.init_discriminator.empty()) {
      load_weights(*model_->discriminator, config_.train.init_discriminator);
      log->info("initialised the discriminator from {}", config_.train.init_discriminator);
    }
    if (!config_.train.init_generator.empty()) {
      // Its embeddings are the discriminator's (shared): the copy in the file is skipped.
      LoadOptions options;
      options.ignore_unexpected = {"electra.embeddings."};
      load_weights(*model_->generator, config_.train.init_generator, options);
      log->info("initialised the generator from {}", config_.train.init_generator);
    }
  } else {
    const auto& dir = config_.train.init_generator.empty() ? config_.train.init_discriminator : config_.train.init_generator;
    LoadOptions options;
    options.allow_missing = {"generator_"};
    options.ignore_unexpected = {"discriminator_predictions."};
    load_weights(*model_->generator, dir, options);
    log->info("initialised the model from {}", dir);
  }
}

PretrainStats Pretrainer::train_step() {
  model_->train();
  auto& progress = core_->progress();
  const auto& device = core_->device();
  const int64_t accum = config_.train.grad_accum_steps;
  const int64_t slot0 = core_->group().rank() * accum;
  const auto prepared = prefetcher_->next();
  PretrainStats stats;
  core_->begin_step();
  for (int64_t micro = 0; micro < accum; ++micro) {
    const auto batch = prepared.micro_batches[micro].to(device);
    auto rng = slot_generator(device, config_.train.seed, progress.step, slot0 + micro);
    ObjectiveOutput out;
    {
      auto autocast = core_->autocast();
      out = compute_objective(model_, batch, data_.special, config_.objective_options, data_.max_seq_len, rng);
    }
    core_->backward(out.loss / static_cast<double>(accum), /*last=*/micro == accum - 1);
    stats.add(out, batch.attention_mask, prepared.real_tokens[micro]);
  }
  core_->finish_step(schedule_(progress.step));
  progress.epoch = prepared.epoch;
  progress.cursor = prepared.cursor;
  progress.tokens_seen += stats.tokens() * core_->group().world_size();
  return stats;
}

PretrainStats Pretrainer::profile_step() {
  PretrainStats stats;
  core_->profile([&] {
    stats = train_step();
    stats.metrics();  // the step's work is done when its statistics are read
  });
  return stats;
}

PretrainMetrics Pretrainer::evaluate() {
  if (!data_.eval || data_.eval->size() == 0) return {};
  torch::NoGradGuard no_grad;
  model_->eval();
  // Its own masking stream, reset every time: every evaluation sees the same masks.
  const auto& device = core_->device();
  auto eval_rng = seeded_generator(device, config_.train.seed + 7919);
  PretrainStats stats(/*keep_scores=*/true);
  const int64_t bs = config_.train.batch_size / config_.train.grad_accum_steps;
  const int64_t n = std::min(data_.eval->size(), config_.train.eval_batches * bs);
  for (int64_t start = 0; start < n; start += bs) {
    std::vector<TokenizedExample> examples;
    for (int64_t i = start; i < std::min(n, start + bs); ++i) examples.push_back(data_.eval->get(i));
    const auto batch = collate(examples, data_.special.pad).to(device);
    auto autocast = core_->autocast();
    int64_t tokens = 0;
    for (const auto& e : examples) tokens += static_cast<int64_t>(e.ids.size());
    stats.add(compute_objective(model_, batch, data_.special, config_.objective_options, data_.max_seq_len, eval_rng),
              batch.attention_mask, tokens);
  }
  model_->train();
  return stats.metrics();
}

std::string Pretrainer::save() {
  return core_->save_checkpoint(config_.to_json_string(), "{}", config_.train.keep_checkpoints);
}

void Pretrainer::restore(const std::string& dir) {
  const auto contents = core_->restore(dir);
  // The model tensors already had to match; the objective and data order must too.
  require_resumable_config(dir, contents, config_.to_json_string(), {"objective", "model"}, {"seed", "batch_size"});
  const auto saved = json::parse(contents.config_json);
  // Masking streams belong to micro-batch slots (rank x accumulation step): the same number of
  // slots continues exactly, whatever mix of ranks and accumulation provides them.
  const int64_t world = core_->group().world_size();
  const int64_t saved_world = contents.progress.world_size;
  const int64_t saved_slots = saved_world * saved.at("train").value("grad_accum_steps", int64_t{1});
  if (saved_slots != world * config_.train.grad_accum_steps) {
    throw file_error(dir, "written by " + std::to_string(saved_world) + " rank(s) x " +
                              std::to_string(saved_slots / saved_world) + " accumulation step(s); this run has " +
                              std::to_string(world) + " x " + std::to_string(config_.train.grad_accum_steps) +
                              ". Resume with ranks x train.grad_accum_steps = " + std::to_string(saved_slots) +
                              " (for example --set train.grad_accum_steps=" +
                              std::to_string(std::max<int64_t>(1, saved_slots / world)) + ")");
  }
  start_prefetching();  // from the restored position
}

namespace {

// The model card of an exported folder: the run's length and data, and the last evaluation.
ModelCard pretrain_card(const PretrainConfig& run, const PretrainData& data, const ElectraConfig& model,
                        const PretrainResult& result, double seconds, bool discriminator) {
  ModelCard card;
  card.origin = ModelOrigin::pretrained;
  card.architecture = model.architectures.empty() ? "" : model.architectures.front();
  card.base_model = discriminator ? run.train.init_discriminator : run.train.init_generator;
  const std::string sequences = std::to_string(data.train ? data.train->size() : 0) + " training sequences of up to " +
                                std::to_string(data.max_seq_len) + " tokens";
  card.data = (run.train.data.empty() ? sequences : "the corpus prepared by electra-prepare in `" + run.train.data + "` (" +
                                                        sequences + ")") +
              ", " + to_string(run.objective) + " objective";
  card.tags = {"pretraining", to_string(run.objective)};
  card.steps = result.steps;
  card.seconds = seconds;
  if (!data.eval) {
    card.results_split = "held-out eval split";
    return card;
  }
  card.results_split = "the held-out eval split, after the last step";
  const auto& m = result.last_eval;
  if (discriminator) {
    card.results = {{"replaced-token detection AUC", m.disc_auc}, {"replaced-token detection accuracy", m.disc_accuracy},
                    {"replaced-token precision", m.disc_precision}, {"replaced-token recall", m.disc_recall}};
  } else {
    card.results = {{"masked-token accuracy", m.mlm_accuracy}, {"masked-language-model loss", m.mlm_loss}};
  }
  return card;
}

}  // namespace

void Pretrainer::export_models(PretrainResult& result) {
  std::unique_ptr<Vocab> vocab;
  if (!data_.vocab_path.empty() && data_.vocab_path.size() > 4 &&
      data_.vocab_path.compare(data_.vocab_path.size() - 4, 4, ".txt") == 0) {
    vocab = std::make_unique<Vocab>(Vocab::from_file(data_.vocab_path));
  }
  const fs::path out(config_.train.output);
  SaveOptions options;
  options.lowercase = data_.lowercase;
  options.model_max_length = static_cast<std::size_t>(data_.max_seq_len);
  result.generator_dir = (out / "generator").string();
  const double seconds = core_->progress().elapsed_seconds;
  options.model_card = render_model_card(
      pretrain_card(config_, data_, model_->generator_config(), result, seconds, /*discriminator=*/false));
  save_model_dir(result.generator_dir, model_->generator_tensors(), model_->generator_config(), vocab.get(), options);
  if (model_->has_discriminator()) {
    result.discriminator_dir = (out / "discriminator").string();
    options.model_card = render_model_card(
        pretrain_card(config_, data_, model_->discriminator_config(), result, seconds, /*discriminator=*/true));
    save_model_dir(result.discriminator_dir, model_->discriminator_tensors(), model_->discriminator_config(), vocab.get(),
                   options);
  }
}

PretrainResult Pretrainer::run(bool resume, const std::atomic<bool>* stop) {
  auto log = logger("train");
  const auto& t = config_.train;
  auto& progress = core_->progress();
  if (resume) {
    const auto from = core_->resume("--resume: no checkpoint found under checkpoints/",
                                    [&](const std::string& dir) { restore(dir); });
    log->info("resumed from {} at step {}", from, progress.step);
  }
  core_->open_run(config_.to_json_string());

  int64_t params = 0;
  for (const auto& p : model_->parameters()) params += p.numel();
  log->info("{} objective, {:.2f}M parameters, batch {} x {} tokens, {} steps, {}", to_string(config_.objective),
            params / 1e6, t.batch_size, data_.max_seq_len, t.steps, to_string(t.precision));

  PretrainResult result;
  const auto start = Clock::now();
  const double elapsed_before = progress.elapsed_seconds;
  const double budget_seconds = t.max_minutes * 60.0;  // 0: none
  const int64_t first_step = progress.step;
  auto window_start = start;
  double window_tokens = 0;
  bool out_of_time = false;
  bool budget_fitted = budget_seconds <= 0;
  int64_t last_step = t.steps;  // the schedule's end; a time budget may bring it forward
  while (progress.step < last_step) {
    const bool profiling = progress.step + 1 == t.profile_step && core_->is_main();
    const auto stats = profiling ? profile_step() : train_step();
    progress.elapsed_seconds = elapsed_before + std::chrono::duration<double>(Clock::now() - start).count();
    const double run_seconds = progress.elapsed_seconds - elapsed_before;
    const double seconds_per_step = run_seconds / static_cast<double>(progress.step - first_step);

    // Every "when" decision of the loop is here.
    bool stopping = (stop && stop->load()) || (budget_seconds > 0 && run_seconds >= budget_seconds);
    // Once the pace is known (5% of the budget, at least 30 s), rank 0 fits the schedule to the
    // steps the budget allows, so that a budgeted run ends with its learning rate decayed.
    const bool fit_now = !budget_fitted && core_->is_main() && run_seconds >= std::max(30.0, 0.05 * budget_seconds);
    double fitted_steps = fit_now ? static_cast<double>(progress.step) +
                                        std::floor(0.97 * (budget_seconds - run_seconds) / seconds_per_step)
                                  : 0.0;
    double step_tokens = static_cast<double>(stats.tokens());
    // Ranks must agree on stopping and on the fitted schedule, or the others would wait for
    // collectives forever; the same call makes tok/s count every rank's tokens.
    const auto sums = core_->agree({stopping ? 1.0 : 0.0, step_tokens, fit_now ? 1.0 : 0.0, fitted_steps});
    stopping = sums[0] > 0;
    step_tokens = sums[1];
    const bool fit = sums[2] > 0;
    fitted_steps = sums[3];
    if (fit) {
      budget_fitted = true;
      const auto steps = std::max(progress.step + 1, static_cast<int64_t>(fitted_steps));
      if (steps < t.steps) {
        last_step = steps;
        schedule_.total_steps = steps;
        schedule_.warmup_steps = std::min(schedule_.warmup_steps, steps / 2);
        log->info("time budget {} min at {:.2f} s/step: about {} steps, so the learning rate now decays to 0 at "
                  "step {} instead of {} (train.steps)", t.max_minutes, seconds_per_step, steps, steps, t.steps);
      }
    }
    const bool last = progress.step == last_step;
    window_tokens += step_tokens;
    if (progress.step % t.log_every == 0 || last || stopping) {
      const auto m = stats.metrics();  // waits for the device: on logging steps only
      const double window_seconds = std::chrono::duration<double>(Clock::now() - window_start).count();
      const double tokens_per_second = window_tokens / std::max(window_seconds, 1e-9);
      double eta = seconds_per_step * static_cast<double>(last_step - progress.step);
      if (budget_seconds > 0) eta = std::min(eta, std::max(0.0, budget_seconds - run_seconds));
      log->info("step {}/{}  loss {:.4f}  mlm {:.4f} (acc {:.3f})  disc {:.4f} (acc {:.3f})  lr {:.2e}  {:.0f} tok/s  ETA {}",
                progress.step, last_step, m.loss, m.mlm_loss, m.mlm_accuracy, m.disc_loss, m.disc_accuracy,
                schedule_(progress.step - 1), tokens_per_second, format_duration(eta));
      json record = to_json(m, model_->has_discriminator());
      record["step"] = progress.step;
      record["split"] = "train";
      record["learning_rate"] = schedule_(progress.step - 1);
      record["tokens_per_second"] = tokens_per_second;
      record["elapsed_seconds"] = progress.elapsed_seconds;
      if (const double scale = core_->loss_scale(); scale > 0) {
        record["loss_scale"] = scale;
        record["overflowed_steps"] = core_->overflowed_steps();
      }
      core_->log_metrics(record);
      window_start = Clock::now();
      window_tokens = 0;
    }
    if (progress.step % t.eval_every == 0 || last || stopping) {
      core_->on_main([&] {
        result.last_eval = evaluate();
        if (!data_.eval) return;
        json record = to_json(result.last_eval, model_->has_discriminator());
        record["step"] = progress.step;
        record["split"] = "eval";
        core_->log_metrics(record);
        log->info("eval step {}: mlm acc {:.4f}, disc auc {:.4f}, disc acc {:.4f}, precision {:.3f}, recall {:.3f}",
                  progress.step, result.last_eval.mlm_accuracy, result.last_eval.disc_auc, result.last_eval.disc_accuracy,
                  result.last_eval.disc_precision, result.last_eval.disc_recall);
      }, "evaluating");
    }
    if (progress.step % t.save_every == 0 || last || stopping) {
      core_->on_main([&] { result.checkpoint = save(); }, "writing a checkpoint");
    }
    if (stopping) {
      out_of_time = !(stop && stop->load());
      result.interrupted = !out_of_time;
      break;
    }
  }
  result.steps = progress.step;
  core_->on_main([&] { export_models(result); }, "exporting the models");
  if (result.interrupted) {
    log->warn("stopped at step {}; continue with the same command and --resume", progress.step);
  } else if (out_of_time) {
    log->info("time budget of {} min reached at step {}; --resume continues", t.max_minutes, progress.step);
  } else if (last_step < t.steps) {
    log->info("the schedule fitted to the time budget ended at step {}; --resume continues towards train.steps {}",
              progress.step, t.steps);
  }
  return result;
}

}  // namespace electra
