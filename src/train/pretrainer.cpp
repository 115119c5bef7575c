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
#include "electra/metrics/binary.h"
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


// Running sums of one or more objective outputs.
struct Accumulator {
  double loss = 0, mlm_loss = 0, disc_loss = 0;
  int64_t parts = 0, masked = 0, mlm_correct = 0, sampled_correct = 0, tokens = 0;
  BinaryCounts disc;
  std::vector<float> scores;
  std::vector<uint8_t> labels;
  bool keep_scores = false;

  void add(const ObjectiveOutput& out, int64_t real_tokens) {
    loss += out.loss.item<double>();
    mlm_loss += out.mlm_loss.item<double>();
    disc_loss += out.disc_loss.item<double>();
    ++parts;
    masked += out.masked_tokens;
    mlm_correct += out.mlm_correct;
    sampled_correct += out.sampled_correct;
    tokens += real_tokens;
    if (!out.disc_scores.defined()) return;
    auto s = out.disc_scores.to(torch::kCPU, torch::kFloat).contiguous();
    auto l = out.disc_labels.to(torch::kCPU, torch::kFloat).contiguous();
    const float* sp = s.data_ptr<float>();
    const float* lp = l.data_ptr<float>();
    for (int64_t i = 0; i < s.numel(); ++i) {
      disc.add(sp[i] > 0.5f, lp[i] > 0.5f);
      if (keep_scores) {
        scores.push_back(sp[i]);
        labels.push_back(lp[i] > 0.5f);
      }
    }
  }

  PretrainMetrics metrics() const {
    PretrainMetrics m;
    const double n = std::max<int64_t>(parts, 1);
    m.loss = loss / n;
    m.mlm_loss = mlm_loss / n;
    m.disc_loss = disc_loss / n;
    m.mlm_accuracy = masked ? static_cast<double>(mlm_correct) / masked : 0;
    m.sampled_accuracy = masked ? static_cast<double>(sampled_correct) / masked : 0;
    m.disc_accuracy = disc.accuracy();
    m.disc_precision = disc.precision();
    m.disc_recall = disc.recall();
    m.replaced_share = disc.total() ? static_cast<double>(disc.tp + disc.fn) / disc.total() : 0;
    if (keep_scores) m.disc_auc = roc_auc(scores, labels);
    m.tokens = tokens;
    return m;
  }
};

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

Pretrainer::Pretrainer(PretrainConfig config, PretrainData data)
    : config_(std::move(config)), data_(data) {
  if (!data_.train) throw Error("pre-training needs training data");
  config_.model.discriminator.vocab_size = data_.vocab_size;
  config_.model.discriminator.max_position_embeddings =
      std::max(config_.model.discriminator.max_position_embeddings, data_.max_seq_len);
  config_.model.discriminator.pad_token_id = data_.special.pad;
  config_.validate();
  if (!data_.distributed) data_.distributed = Distributed::single_process();
  device_ = training_device(config_.train.device, *data_.distributed, config_.train.precision);
  scaler_ = LossScaler(config_.train.precision == Precision::fp16);
  torch::manual_seed(config_.train.seed);
  model_ = ElectraPretrainingModel(config_.model.discriminator, config_.generator_config(), config_.objective);
  if (!config_.train.init_discriminator.empty() || !config_.train.init_generator.empty()) initialise_from_pretrained();
  model_->to(device_);  // before the optimizer sees the parameters

  std::vector<torch::Tensor> with_decay, without_decay;
  for (const auto& p : model_->named_parameters()) (applies_weight_decay(p.key()) ? with_decay : without_decay).push_back(p.value());
  const auto& o = config_.optimizer;
  auto options = [&](double decay) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(o.learning_rate).betas({o.beta1, o.beta2}).eps(o.eps).weight_decay(decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(with_decay, options(o.weight_decay));
  groups.emplace_back(without_decay, options(0.0));
  optimizer_ = std::make_unique<torch::optim::AdamW>(std::move(groups), torch::optim::AdamWOptions(o.learning_rate));
  schedule_ = LinearSchedule{o.learning_rate, o.warmup_steps, config_.train.steps};
  cursor_ = std::make_unique<BatchCursor>(*data_.train, config_.train.seed);
  parameters_ = model_->parameters();
  const int64_t slots = data_.distributed->world_size() * config_.train.grad_accum_steps;
  if (config_.train.batch_size % slots != 0) {
    throw Error("train.batch_size " + std::to_string(config_.train.batch_size) + " must be a multiple of world size x " +
                "train.grad_accum_steps (" + std::to_string(slots) + ")");
  }
  data_.distributed->broadcast(*model_);  // every rank starts from rank 0's weights
  progress_.world_size = data_.distributed->world_size();
  reducer_ = std::make_unique<GradientReducer>(data_.distributed, parameters_);
}

bool Pretrainer::is_main() const { return data_.distributed->is_main(); }

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

PretrainMetrics Pretrainer::train_step() {
  model_->train();
  const int64_t accum = config_.train.grad_accum_steps;
  const int64_t rank = data_.distributed->rank();
  const int64_t world = data_.distributed->world_size();
  const int64_t micro_batch = config_.train.batch_size / (world * accum);
  // Every rank walks the same global order and takes its own slots of each global batch.
  const auto global = cursor_->next(config_.train.batch_size);
  Accumulator acc;
  optimizer_->zero_grad();
  for (int64_t micro = 0; micro < accum; ++micro) {
    const int64_t slot = rank * accum + micro;
    const std::vector<TokenizedExample> examples(global.begin() + slot * micro_batch,
                                                 global.begin() + (slot + 1) * micro_batch);
    const auto batch = collate(examples, data_.special.pad).to(device_);
    auto rng = slot_generator(device_, config_.train.seed, progress_.step, slot);
    ObjectiveOutput out;
    {
      AutocastScope autocast(config_.train.precision, device_);
      out = compute_objective(model_, batch, data_.special, config_.objective_options, data_.max_seq_len, rng);
    }
    reducer_->prepare(/*sync=*/micro == accum - 1);
    scaler_.scaled(out.loss / static_cast<double>(accum)).backward();
    acc.add(out, batch.attention_mask.sum().item<int64_t>());
  }
  apply_update(*reducer_, scaler_, parameters_, config_.optimizer.max_grad_norm, *optimizer_, schedule_(progress_.step));
  progress_.loss_scale = scaler_.enabled() ? scaler_.scale() : 0.0;
  ++progress_.step;
  progress_.epoch = cursor_->epoch();
  progress_.cursor = cursor_->cursor();
  progress_.tokens_seen += acc.tokens * world;
  return acc.metrics();
}

PretrainMetrics Pretrainer::evaluate() {
  if (!data_.eval || data_.eval->size() == 0) return {};
  torch::NoGradGuard no_grad;
  model_->eval();
  // Its own masking stream, reset every time: every evaluation sees the same masks.
  auto eval_rng = seeded_generator(device_, config_.train.seed + 7919);
  Accumulator acc;
  acc.keep_scores = true;
  const int64_t bs = config_.train.batch_size / config_.train.grad_accum_steps;
  const int64_t n = std::min(data_.eval->size(), config_.train.eval_batches * bs);
  for (int64_t start = 0; start < n; start += bs) {
    std::vector<TokenizedExample> examples;
    for (int64_t i = start; i < std::min(n, start + bs); ++i) examples.push_back(data_.eval->get(i));
    const auto batch = collate(examples, data_.special.pad).to(device_);
    AutocastScope autocast(config_.train.precision, device_);
    acc.add(compute_objective(model_, batch, data_.special, config_.objective_options, data_.max_seq_len, eval_rng),
            batch.attention_mask.sum().item<int64_t>());
  }
  model_->train();
  return acc.metrics();
}

std::string Pretrainer::save() {
  CheckpointContents contents{progress_, config_.to_json_string()};
  return save_checkpoint((fs::path(config_.train.output) / "checkpoints").string(), *model_, *optimizer_, contents,
                         config_.train.keep_checkpoints);
}

void Pretrainer::restore(const std::string& dir) {
  const auto contents = load_checkpoint(dir, *model_, *optimizer_);
  // The model tensors already had to match; the objective and data order must too.
  require_resumable_config(dir, contents, config_.to_json_string(), {"objective", "model"}, {"seed", "batch_size"});
  const auto saved = json::parse(contents.config_json);
  // Masking streams belong to micro-batch slots (rank x accumulation step): the same number of
  // slots continues exactly, whatever mix of ranks and accumulation provides them.
  const int64_t world = data_.distributed->world_size();
  const int64_t saved_slots = contents.progress.world_size * saved.at("train").value("grad_accum_steps", int64_t{1});
  if (saved_slots != world * config_.train.grad_accum_steps) {
    throw file_error(dir, "written by " + std::to_string(contents.progress.world_size) + " rank(s) x " +
                              std::to_string(saved_slots / contents.progress.world_size) +
                              " accumulation step(s); this run has " + std::to_string(world) + " x " +
                              std::to_string(config_.train.grad_accum_steps) +
                              ". Resume with ranks x train.grad_accum_steps = " + std::to_string(saved_slots) +
                              " (for example --set train.grad_accum_steps=" +
                              std::to_string(std::max<int64_t>(1, saved_slots / world)) + ")");
  }
  progress_ = contents.progress;
  progress_.world_size = world;
  scaler_.set_scale(progress_.loss_scale);
  cursor_ = std::make_unique<BatchCursor>(*data_.train, config_.train.seed, progress_.epoch, progress_.cursor);
}

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
  save_model_dir(result.generator_dir, model_->generator_tensors(), model_->generator_config(), vocab.get(), options);
  if (model_->has_discriminator()) {
    result.discriminator_dir = (out / "discriminator").string();
    save_model_dir(result.discriminator_dir, model_->discriminator_tensors(), model_->discriminator_config(), vocab.get(),
                   options);
  }
}

PretrainResult Pretrainer::run(bool resume, const std::atomic<bool>* stop) {
  auto log = logger("train");
  const auto& t = config_.train;
  fs::create_directories(t.output);
  if (resume) {
    const auto checkpoints = list_checkpoints((fs::path(t.output) / "checkpoints").string());
    if (checkpoints.empty()) throw file_error(t.output, "--resume: no checkpoint found under checkpoints/");
    const auto& latest = checkpoints.back();
    try {
      restore(latest);
    } catch (const Error& e) {
      if (checkpoints.size() < 2) throw;
      // Reported, not skipped: resuming silently from an older checkpoint would drop steps and
      // let pruning delete the damaged one.
      throw Error(std::string(e.what()) + "; the checkpoint before it, " + checkpoints[checkpoints.size() - 2] +
                  ", may be intact: move " + latest + " out of checkpoints/ and run --resume again");
    }
    log->info("resumed from {} at step {}", latest, progress_.step);
  }
  std::ofstream metrics_file;  // only rank 0 writes; elsewhere the stream stays closed and ignores output
  if (is_main()) {
    write_file_atomic((fs::path(t.output) / "config.json").string(), config_.to_json_string());
    metrics_file.open((fs::path(t.output) / "metrics.jsonl").string(), std::ios::app);
  }

  int64_t params = 0;
  for (const auto& p : model_->parameters()) params += p.numel();
  log->info("{} objective, {:.2f}M parameters, batch {} x {} tokens, {} steps, {}", to_string(config_.objective),
            params / 1e6, t.batch_size, data_.max_seq_len, t.steps, to_string(t.precision));

  PretrainResult result;
  const auto start = Clock::now();
  const double elapsed_before = progress_.elapsed_seconds;
  const double budget_seconds = t.max_minutes * 60.0;  // 0: none
  const int64_t first_step = progress_.step;
  auto window_start = start;
  double window_tokens = 0;
  Accumulator window;
  bool out_of_time = false;
  bool budget_fitted = budget_seconds <= 0;
  int64_t last_step = t.steps;  // the schedule's end; a time budget may bring it forward
  while (progress_.step < last_step) {
    const auto m = train_step();
    progress_.elapsed_seconds = elapsed_before + std::chrono::duration<double>(Clock::now() - start).count();
    const double run_seconds = progress_.elapsed_seconds - elapsed_before;
    const double seconds_per_step = run_seconds / static_cast<double>(progress_.step - first_step);

    // Every "when" decision of the loop is here.
    bool stopping = (stop && stop->load()) || (budget_seconds > 0 && run_seconds >= budget_seconds);
    // Once the pace is known (5% of the budget, at least 30 s), rank 0 fits the schedule to the
    // steps the budget allows, so that a budgeted run ends with its learning rate decayed.
    const bool fit_now = !budget_fitted && is_main() && run_seconds >= std::max(30.0, 0.05 * budget_seconds);
    double fitted_steps = fit_now ? static_cast<double>(progress_.step) +
                                        std::floor(0.97 * (budget_seconds - run_seconds) / seconds_per_step)
                                  : 0.0;
    double step_tokens = static_cast<double>(m.tokens);
    // Ranks must agree on stopping and on the fitted schedule, or the others would wait for
    // collectives forever; the same call makes tok/s count every rank's tokens.
    const auto sums = data_.distributed->sum({stopping ? 1.0 : 0.0, step_tokens, fit_now ? 1.0 : 0.0, fitted_steps});
    stopping = sums[0] > 0;
    step_tokens = sums[1];
    const bool fit = sums[2] > 0;
    fitted_steps = sums[3];
    if (fit) {
      budget_fitted = true;
      const auto steps = std::max(progress_.step + 1, static_cast<int64_t>(fitted_steps));
      if (steps < t.steps) {
        last_step = steps;
        schedule_.total_steps = steps;
        schedule_.warmup_steps = std::min(schedule_.warmup_steps, steps / 2);
        log->info("time budget {} min at {:.2f} s/step: about {} steps, so the learning rate now decays to 0 at "
                  "step {} instead of {} (train.steps)", t.max_minutes, seconds_per_step, steps, steps, t.steps);
      }
    }
    const bool last = progress_.step == last_step;
    window_tokens += step_tokens;
    if (progress_.step % t.log_every == 0 || last || stopping) {
      const double window_seconds = std::chrono::duration<double>(Clock::now() - window_start).count();
      const double tokens_per_second = window_tokens / std::max(window_seconds, 1e-9);
      double eta = seconds_per_step * static_cast<double>(last_step - progress_.step);
      if (budget_seconds > 0) eta = std::min(eta, std::max(0.0, budget_seconds - run_seconds));
      log->info("step {}/{}  loss {:.4f}  mlm {:.4f} (acc {:.3f})  disc {:.4f} (acc {:.3f})  lr {:.2e}  {:.0f} tok/s  ETA {}",
                progress_.step, last_step, m.loss, m.mlm_loss, m.mlm_accuracy, m.disc_loss, m.disc_accuracy,
                schedule_(progress_.step - 1), tokens_per_second, format_duration(eta));
      json record = to_json(m, model_->has_discriminator());
      record["step"] = progress_.step;
      record["split"] = "train";
      record["learning_rate"] = schedule_(progress_.step - 1);
      record["tokens_per_second"] = tokens_per_second;
      record["elapsed_seconds"] = progress_.elapsed_seconds;
      if (scaler_.enabled()) record["loss_scale"] = scaler_.scale();
      metrics_file << record.dump() << "\n" << std::flush;
      window_start = Clock::now();
      window_tokens = 0;
    }
    if (is_main() && (progress_.step % t.eval_every == 0 || last || stopping)) {
      result.last_eval = evaluate();
      if (data_.eval) {
        json record = to_json(result.last_eval, model_->has_discriminator());
        record["step"] = progress_.step;
        record["split"] = "eval";
        metrics_file << record.dump() << "\n" << std::flush;
        log->info("eval step {}: mlm acc {:.4f}, disc auc {:.4f}, disc acc {:.4f}, precision {:.3f}, recall {:.3f}",
                  progress_.step, result.last_eval.mlm_accuracy, result.last_eval.disc_auc, result.last_eval.disc_accuracy,
                  result.last_eval.disc_precision, result.last_eval.disc_recall);
      }
    }
    if (is_main() && (progress_.step % t.save_every == 0 || last || stopping)) result.checkpoint = save();
    if (stopping) {
      out_of_time = !(stop && stop->load());
      result.interrupted = !out_of_time;
      break;
    }
  }
  result.steps = progress_.step;
  if (is_main()) export_models(result);
  data_.distributed->barrier();
  if (result.interrupted) {
    log->warn("stopped at step {}; continue with the same command and --resume", progress_.step);
  } else if (out_of_time) {
    log->info("time budget of {} min reached at step {}; --resume continues", t.max_minutes, progress_.step);
  } else if (last_step < t.steps) {
    log->info("the schedule fitted to the time budget ended at step {}; --resume continues towards train.steps {}",
              progress_.step, t.steps);
  }
  return result;
}

}  // namespace electra
