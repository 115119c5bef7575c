#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>
#include <filesystem>
#include <limits>
#include <random>

#include "metrics/binary.h"
#include "train/loss_scaler.h"
#include "electra/train/batching.h"
#include "electra/train/masking.h"
#include "electra/train/objective.h"
#include "electra/train/pretrainer.h"
#include "electra/train/schedule.h"
#include "util/device.h"
#include "electra/util/error.h"
#include "electra/io/model_dir.h"
#include "electra/io/safetensors.h"
#include <cstdlib>
#include <set>
#include "test_util.h"

using namespace electra;

namespace {

const SpecialIds kSpecial{0, 2, 3, 4};  // pad, cls, sep, mask
constexpr int64_t kVocab = 60;

// Random [CLS] A [SEP] B [SEP] examples with ids in [5, kVocab).
std::vector<TokenizedExample> random_examples(int n, int max_len, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<TokenizedExample> out;
  for (int i = 0; i < n; ++i) {
    const int len = 8 + static_cast<int>(rng() % static_cast<uint64_t>(max_len - 8 + 1));
    const int len_a = 2 + static_cast<int>(rng() % static_cast<uint64_t>(len - 4));
    TokenizedExample e;
    e.ids.push_back(kSpecial.cls);
    // A learnable pattern: each token predicts the next one.
    int32_t t = 5 + static_cast<int32_t>(rng() % 50);
    for (int j = 1; j < len - 1; ++j) {
      if (j == len_a - 1) {
        e.ids.push_back(kSpecial.sep);
        continue;
      }
      e.ids.push_back(t);
      t = 5 + (t - 5 + 1 + static_cast<int32_t>(rng() % 2)) % 55;
    }
    e.ids.push_back(kSpecial.sep);
    e.len_a = len_a;
    out.push_back(e);
  }
  return out;
}

// n examples drawn from a pool of a few sequences: a corpus a tiny model can learn quickly.
std::vector<TokenizedExample> pooled_examples(int n, int pool, uint64_t seed) {
  const auto distinct = random_examples(pool, 32, seed);
  std::vector<TokenizedExample> out;
  for (int i = 0; i < n; ++i) out.push_back(distinct[static_cast<size_t>(i % pool)]);
  return out;
}

ElectraConfig small_model(int64_t embedding, int64_t hidden, int64_t layers, int64_t heads, int64_t ffn) {
  ElectraConfig c;
  c.vocab_size = kVocab;
  c.embedding_size = embedding;
  c.hidden_size = hidden;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.intermediate_size = ffn;
  c.max_position_embeddings = 32;
  return c;
}

PretrainConfig tiny_run(const std::string& output, int64_t steps) {
  PretrainConfig c = PretrainConfig::from_json_string(R"({
    "model": {"size": "tiny", "embedding_size": 16, "hidden_size": 32, "num_hidden_layers": 2,
              "num_attention_heads": 2, "intermediate_size": 64, "max_position_embeddings": 32,
              "generator_hidden_fraction": 0.5},
    "optimizer": {"learning_rate": 2e-3, "warmup_steps": 4},
    "train": {"batch_size": 8, "log_every": 5, "eval_every": 1000, "save_every": 1000, "eval_batches": 2}
  })", "test config");
  c.train.output = output;
  c.train.steps = steps;
  c.train.threads = 1;
  return c;
}

PretrainData data_for(const ExampleSource& train, const ExampleSource* eval) {
  PretrainData d;
  d.train = &train;
  d.eval = eval;
  d.special = kSpecial;
  d.vocab_size = kVocab;
  d.max_seq_len = 32;
  return d;
}

}  // namespace

TEST(Masking, CountsCandidatesAndSplitFollowThePaper) {
  auto rng = at::make_generator<at::CPUGeneratorImpl>(3);
  const auto examples = random_examples(400, 32, 1);
  const auto batch = collate(examples, kSpecial.pad);
  MaskingOptions options;
  const auto m = mask_tokens(batch.input_ids, batch.attention_mask, kSpecial, options, kVocab, 32, rng);
  EXPECT_EQ(max_predictions(0.15, 128), 19);
  const int64_t N = max_predictions(0.15, 32);
  ASSERT_EQ(m.positions.size(1), N);
  int64_t kept = 0, masked = 0, chosen = 0;
  for (int64_t b = 0; b < batch.input_ids.size(0); ++b) {
    const int64_t real = batch.attention_mask[b].sum().item<int64_t>();
    const int64_t expected = std::max<int64_t>(1, std::min<int64_t>(N, std::llround(real * 0.15)));
    const int64_t count = m.weights[b].sum().item<int64_t>();
    EXPECT_EQ(count, expected) << "row " << b;
    std::set<int64_t> seen;
    for (int64_t k = 0; k < count; ++k) {
      const int64_t pos = m.positions[b][k].item<int64_t>();
      EXPECT_TRUE(seen.insert(pos).second) << "position chosen twice";
      const int64_t original = batch.input_ids[b][pos].item<int64_t>();
      EXPECT_NE(original, kSpecial.cls);
      EXPECT_NE(original, kSpecial.sep);
      EXPECT_EQ(batch.attention_mask[b][pos].item<int64_t>(), 1);
      EXPECT_EQ(m.labels[b][k].item<int64_t>(), original);
      const int64_t now = m.input_ids[b][pos].item<int64_t>();
      if (now == kSpecial.mask) ++masked;
      else if (now == original) ++kept;
      else ADD_FAILURE() << "a chosen token was replaced by something other than [MASK]";
      ++chosen;
    }
  }
  // Unchosen positions are untouched.
  EXPECT_EQ((m.input_ids != batch.input_ids).sum().item<int64_t>(), masked);
  const double keep_share = static_cast<double>(kept) / chosen;
  EXPECT_NEAR(keep_share, 0.15, 0.03) << chosen << " chosen";
}

TEST(Masking, RandomTokenOptionForTheBertBaseline) {
  auto rng = at::make_generator<at::CPUGeneratorImpl>(4);
  const auto batch = collate(random_examples(400, 32, 2), kSpecial.pad);
  MaskingOptions bert{0.15, 0.1, 0.1};
  const auto m = mask_tokens(batch.input_ids, batch.attention_mask, kSpecial, bert, kVocab, 32, rng);
  const auto now = m.input_ids.gather(1, m.positions);
  const auto valid = m.weights > 0;
  const double n = valid.sum().item<double>();
  const double as_mask = ((now == kSpecial.mask) & valid).sum().item<double>() / n;
  EXPECT_NEAR(as_mask, 0.8, 0.04);
}

TEST(Objective, SampleEqualToOriginalIsLabelledReal) {
  // A generator that is certain of the right token samples the original everywhere:
  // the discriminator then sees no replaced token at all.
  torch::manual_seed(0);
  auto rng = at::make_generator<at::CPUGeneratorImpl>(5);
  const auto d = small_model(8, 8, 1, 1, 16);
  ElectraPretrainingModel model(d, d, Objective::electra);
  model->eval();
  const auto batch = collate(random_examples(6, 32, 3), kSpecial.pad);
  ObjectiveOptions options;
  auto out = compute_objective(model, batch, kSpecial, options, 32, rng);
  // Every chosen position holds a sample; exactly those whose sample differs from the
  // original are labelled replaced, the correct samples count as real.
  const double replaced = out.disc_labels.sum().item<double>();
  EXPECT_EQ(static_cast<int64_t>(replaced), (out.masked_tokens - out.sampled_correct).item<int64_t>());
  EXPECT_EQ(out.disc_labels.sizes(), batch.input_ids.sizes());
  EXPECT_EQ((out.disc_labels * (1 - batch.attention_mask)).sum().item<double>(), 0.0);  // padding is never replaced

  // A generator certain of the original token samples it: nothing is labelled replaced.
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->generator->parameters()) p.zero_();
    model->generator->generator_lm_head->bias.fill_(-1e4);
  }
  // With every generator weight zero the logits are the output bias alone, so a batch of
  // one repeated token whose bias dominates is predicted with certainty.
  auto same = batch.input_ids.clone();
  same.masked_fill_((batch.attention_mask > 0) & (same != kSpecial.cls) & (same != kSpecial.sep), 9);
  {
    torch::NoGradGuard no_grad;
    model->generator->generator_lm_head->bias[9] = 1e4;
  }
  auto out2 = compute_objective(model, {same, batch.attention_mask, batch.token_type_ids, batch.token_index}, kSpecial,
                                options, 32, rng);
  EXPECT_GT(out2.masked_tokens.item<int64_t>(), 0);
  EXPECT_EQ(out2.sampled_correct.item<int64_t>(), out2.masked_tokens.item<int64_t>());
  EXPECT_EQ(out2.disc_labels.sum().item<double>(), 0.0);
}

// The generator's samples follow softmax(logits / temperature); a token of probability zero is
// never drawn, and the same generator state draws the same tokens.
TEST(Objective, SamplesFollowTheGeneratorsDistribution) {
  const std::vector<double> p = {0.5, 0.0, 0.3, 0.15, 0.05};
  auto logits = torch::tensor(p).log().to(torch::kFloat).expand({20000, 5}).contiguous();  // log 0 = -inf
  auto rng = at::make_generator<at::CPUGeneratorImpl>(3);
  const auto tokens = sample_tokens(logits, 1.0, rng);
  ASSERT_EQ(tokens.sizes(), (std::vector<int64_t>{20000}));
  const auto counts = torch::bincount(tokens, {}, 5).to(torch::kDouble) / 20000.0;
  for (int64_t v = 0; v < 5; ++v) EXPECT_NEAR(counts[v].item<double>(), p[static_cast<size_t>(v)], 0.015) << "token " << v;
  EXPECT_EQ(counts[1].item<double>(), 0.0);
  auto again = at::make_generator<at::CPUGeneratorImpl>(3);
  EXPECT_TRUE(torch::equal(tokens, sample_tokens(logits, 1.0, again)));
  // A high temperature flattens the distribution towards uniform over the possible tokens.
  const auto flat = torch::bincount(sample_tokens(torch::tensor({0.f, 1.f, 2.f}).expand({20000, 3}), 100.0, rng), {}, 3);
  for (int64_t v = 0; v < 3; ++v) EXPECT_NEAR(flat[v].item<double>() / 20000.0, 1.0 / 3, 0.02);
}

TEST(Objective, SharedParametersAreCountedOnce) {
  const auto d = small_model(8, 16, 1, 2, 32);
  auto g = generator_config(d, 0.5);
  ElectraPretrainingModel model(d, g, Objective::electra);
  std::set<const void*> unique;
  int64_t listed = 0;
  for (const auto& p : model->parameters()) {
    unique.insert(p.unsafeGetTensorImpl());
    ++listed;
  }
  EXPECT_EQ(static_cast<int64_t>(unique.size()), listed);
  // Exported generator still carries the embeddings under HF names.
  bool has_embeddings = false;
  for (const auto& [name, t] : model->generator_tensors()) has_embeddings |= name == "electra.embeddings.word_embeddings.weight";
  EXPECT_TRUE(has_embeddings);
}

TEST(Schedule, WarmupThenLinearDecayToZero) {
  LinearSchedule s{1e-3, 10, 100};
  EXPECT_DOUBLE_EQ(s(0), 0.0);
  EXPECT_DOUBLE_EQ(s(5), 5e-4);
  EXPECT_DOUBLE_EQ(s(10), 1e-3 * 0.9);
  EXPECT_DOUBLE_EQ(s(50), 5e-4);
  EXPECT_DOUBLE_EQ(s(100), 0.0);
}

TEST(Metrics, RocAucHandlesTiesAndOneClass) {
  EXPECT_DOUBLE_EQ(roc_auc({0.1f, 0.4f, 0.35f, 0.8f}, {0, 0, 1, 1}), 0.75);
  EXPECT_DOUBLE_EQ(roc_auc({0.5f, 0.5f}, {0, 1}), 0.5);
  EXPECT_DOUBLE_EQ(roc_auc({0.2f, 0.9f}, {1, 1}), 0.5);
  BinaryCounts c;
  c.add(true, true);
  c.add(true, false);
  c.add(false, true);
  c.add(false, false);
  EXPECT_DOUBLE_EQ(c.precision(), 0.5);
  EXPECT_DOUBLE_EQ(c.recall(), 0.5);
}

TEST(Batching, StaticShapesPadToTheSequenceLength) {
  const std::vector<TokenizedExample> examples = {{{2, 5, 6, 3}, 4}, {{2, 3}, 2}};
  const auto dynamic = collate(examples, kSpecial.pad), fixed = collate(examples, kSpecial.pad, 32);
  EXPECT_EQ(dynamic.input_ids.sizes(), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(fixed.input_ids.sizes(), (std::vector<int64_t>{2, 32}));
  EXPECT_TRUE(torch::equal(fixed.input_ids.narrow(1, 0, 4), dynamic.input_ids));
  EXPECT_EQ(fixed.attention_mask.sum().item<int64_t>(), 6);
  EXPECT_EQ(fixed.input_ids.narrow(1, 4, 28).ne(kSpecial.pad).sum().item<int64_t>(), 0);
  // Dynamic batches with a quarter or more of padding list their real tokens for the encoders
  // (row 1's padding left out); static ones keep every layer at [B, S].
  ASSERT_TRUE(dynamic.token_index.defined());
  EXPECT_TRUE(torch::equal(dynamic.token_index, torch::arange(6, torch::kLong)));
  EXPECT_FALSE(fixed.token_index.defined());
  EXPECT_FALSE(collate({examples[0]}, kSpecial.pad).token_index.defined());  // nothing to leave out
  const std::vector<TokenizedExample> full = {{{2, 5, 6, 3}, 4}, {{2, 7, 3}, 3}};  // 1 of 8 is padding
  EXPECT_FALSE(collate(full, kSpecial.pad).token_index.defined());
}

TEST(Batching, EpochOrderIsAPermutationAndDeterministic) {
  auto a = epoch_order(100, 7, 0), b = epoch_order(100, 7, 0), c = epoch_order(100, 7, 1);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  std::sort(c.begin(), c.end());
  for (int64_t i = 0; i < 100; ++i) EXPECT_EQ(c[static_cast<size_t>(i)], i);
}

// Collating on the prefetching thread changes nothing: the same batches in the same order give
// the same losses and weights, and with every AdamW kernel.
TEST(Pretrainer, PrefetchingAndAdamWKernelsGiveTheSameRun) {
  VectorSource train(random_examples(40, 32, 21));
  const int64_t steps = 7;  // past the end of the first epoch (40 / 8 = 5 steps)
  auto losses = [&](int64_t prefetch, AdamWKernel kernel, std::vector<torch::Tensor>* weights) {
    test::TempDir dir;
    auto config = tiny_run(dir.path(), steps);
    config.train.prefetch_batches = prefetch;
    config.optimizer.implementation = kernel;
    Pretrainer run(config, data_for(train, nullptr));
    std::vector<double> out;
    for (int64_t i = 0; i < steps; ++i) out.push_back(run.train_step().metrics().loss);
    EXPECT_EQ(run.progress().epoch, 1);
    EXPECT_EQ(run.progress().cursor, 16);
    for (const auto& p : run.model()->parameters()) weights->push_back(p.detach().clone());
    return out;
  };
  std::vector<torch::Tensor> inline_weights, ahead_weights, plain_weights;
  const auto on_thread = losses(0, AdamWKernel::automatic, &inline_weights);
  const auto ahead = losses(3, AdamWKernel::automatic, &ahead_weights);
  EXPECT_EQ(on_thread, ahead);
  for (size_t i = 0; i < inline_weights.size(); ++i) EXPECT_TRUE(torch::equal(inline_weights[i], ahead_weights[i]));
  const auto plain = losses(2, AdamWKernel::plain, &plain_weights);
  // Fixed shapes: every batch padded to 32 tokens; padding is masked, so training still works.
  {
    test::TempDir dir;
    auto config = tiny_run(dir.path(), 3);
    config.train.static_shapes = true;
    Pretrainer run(config, data_for(train, nullptr));
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(std::isfinite(run.train_step().metrics().loss));
  }
  for (size_t i = 0; i < plain.size(); ++i) EXPECT_NEAR(plain[i], ahead[i], 1e-4) << "step " << i;
  for (size_t i = 0; i < plain_weights.size(); ++i) EXPECT_TRUE(torch::allclose(plain_weights[i], ahead_weights[i], 1e-4, 1e-5));
}

TEST(Pretrainer, ResumeContinuesExactly) {
  VectorSource train(random_examples(64, 32, 10));
  test::TempDir full_dir, split_dir;
  const int64_t steps = 6;

  Pretrainer full(tiny_run(full_dir.path(), steps), data_for(train, nullptr));
  std::vector<double> full_losses;
  for (int64_t i = 0; i < steps; ++i) full_losses.push_back(full.train_step().metrics().loss);

  std::vector<double> split_losses;
  {
    Pretrainer first(tiny_run(split_dir.path(), steps), data_for(train, nullptr));
    for (int64_t i = 0; i < steps / 2; ++i) split_losses.push_back(first.train_step().metrics().loss);
    first.save();
    // Disturb the global RNG: the checkpoint must restore it.
    torch::rand({100});
  }
  Pretrainer second(tiny_run(split_dir.path(), steps), data_for(train, nullptr));
  second.restore(latest_checkpoint(split_dir.file("checkpoints")));
  EXPECT_EQ(second.progress().step, steps / 2);
  for (int64_t i = steps / 2; i < steps; ++i) split_losses.push_back(second.train_step().metrics().loss);

  ASSERT_EQ(full_losses.size(), split_losses.size());
  for (size_t i = 0; i < full_losses.size(); ++i) EXPECT_NEAR(full_losses[i], split_losses[i], 1e-6) << "step " << i;
  auto a = full.model()->named_parameters(), b = second.model()->named_parameters();
  for (const auto& p : a) EXPECT_TRUE(torch::allclose(p.value(), b[p.key()], 0, 1e-6)) << p.key();
}

TEST(Pretrainer, TinyRunLearnsAndExports) {
  VectorSource train(pooled_examples(256, 8, 20)), eval(pooled_examples(64, 8, 20));
  test::TempDir dir;
  auto config = tiny_run(dir.path(), 300);
  config.optimizer.learning_rate = 5e-3;
  config.optimizer.warmup_steps = 20;
  Pretrainer trainer(config, data_for(train, &eval));
  const auto before = trainer.evaluate();
  const auto result = trainer.run(false);
  EXPECT_EQ(result.steps, 300);
  // From about 4.1: seeds 1-4 and 42 end between 2.9 and 3.3 (the dropout draws differ by build).
  EXPECT_LT(result.last_eval.mlm_loss, before.mlm_loss - 0.7);
  EXPECT_LT(result.last_eval.disc_loss, before.disc_loss);
  EXPECT_GT(result.last_eval.disc_auc, 0.65);
  EXPECT_TRUE(std::filesystem::exists(dir.file("discriminator/model.safetensors")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("generator/model.safetensors")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("metrics.jsonl")));
  EXPECT_FALSE(latest_checkpoint(dir.file("checkpoints")).empty());
  // The exported discriminator reloads and gives the trainer's own outputs.
  auto reloaded = load_discriminator(dir.file("discriminator"));
  const auto batch = collate(random_examples(4, 32, 22), kSpecial.pad);
  torch::NoGradGuard no_grad;
  trainer.model()->eval();
  auto ours = trainer.model()->discriminator->forward(batch.input_ids, batch.attention_mask, batch.token_type_ids);
  auto theirs = reloaded->forward(batch.input_ids, batch.attention_mask, batch.token_type_ids);
  EXPECT_TRUE(torch::equal(ours, theirs));
}

TEST(Objective, LossesMatchAnIndependentPythonReference) {
  torch::manual_seed(11);
  const auto d = small_model(16, 24, 2, 2, 48);
  auto g = generator_config(d, 0.5);
  ElectraPretrainingModel model(d, g, Objective::electra);
  {
    // Larger weights than the 0.02 initialisation, so the losses are far from trivial.
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.add_(torch::randn(p.sizes()) * 0.2);
  }
  model->eval();  // no dropout: the reference has none
  auto rng = at::make_generator<at::CPUGeneratorImpl>(12);
  const auto batch = collate(random_examples(6, 32, 30), kSpecial.pad);
  torch::NoGradGuard no_grad;
  const auto out = compute_objective(model, batch, kSpecial, ObjectiveOptions{}, 32, rng);
  ASSERT_GT(out.disc_labels.sum().item<double>(), 0.0);

  test::TempDir dir;
  save_model_dir(dir.file("generator"), model->generator_tensors(), model->generator_config(), nullptr);
  save_model_dir(dir.file("discriminator"), model->discriminator_tensors(), model->discriminator_config(), nullptr);
  save_safetensors(dir.file("batch.safetensors"),
                   {{"input_ids", batch.input_ids},
                    {"attention_mask", batch.attention_mask},
                    {"token_type_ids", batch.token_type_ids},
                    {"masked_input_ids", out.masked.input_ids},
                    {"positions", out.masked.positions},
                    {"weights", out.masked.weights},
                    {"sampled", out.sampled},
                    {"mlm_loss", out.mlm_loss},
                    {"disc_loss", out.disc_loss}});
  const std::string command = std::string(ELECTRA_PYTHON) + " " + test::source_dir() +
                              "/scripts/reference_objective.py " + dir.path();
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

TEST(PretrainConfigParsing, DefaultsThenFileThenOverrides) {
  const std::string file = R"({"model": {"size": "small"}, "optimizer": {"learning_rate": 1e-4},
                               "train": {"batch_size": 64, "steps": 10}})";
  const auto c = PretrainConfig::from_json_string(file, "run.json", {"train.steps=20", "objective.type=mlm"});
  EXPECT_EQ(c.model.discriminator.hidden_size, 256);      // preset
  EXPECT_DOUBLE_EQ(c.optimizer.learning_rate, 1e-4);      // file over default
  EXPECT_DOUBLE_EQ(c.optimizer.eps, 1e-6);                // default
  EXPECT_EQ(c.train.batch_size, 64);                      // file
  EXPECT_EQ(c.train.steps, 20);                           // override over file
  EXPECT_EQ(c.objective, Objective::mlm);                 // override, bare word as string
  EXPECT_DOUBLE_EQ(c.objective_options.disc_weight, 50.0);
  // The resolved config reads back to the same config.
  const auto again = PretrainConfig::from_json_string(c.to_json_string(), "resolved");
  EXPECT_EQ(again.to_json_string(), c.to_json_string());
}

TEST(PretrainConfigParsing, BadKeysAndValuesNameKeyAndFile) {
  using test::expect_error;
  expect_error([] { PretrainConfig::from_json_string(R"({"train": {"batch_sise": 3}})", "a.json"); },
               {"a.json", "train.batch_sise", "unknown"});
  expect_error([] { PretrainConfig::from_json_string(R"({"optimizer": {"learning_rate": "fast"}})", "b.json"); },
               {"b.json", "optimizer.learning_rate", "number"});
  expect_error([] { PretrainConfig::from_json_string(R"({"model": {"size": "huge"}})", "c.json"); },
               {"c.json", "model.size", "huge"});
  expect_error([] { PretrainConfig::from_json_string(R"({"trian": {}})", "d.json"); }, {"d.json", "trian"});
  expect_error([] { PretrainConfig::from_json_string("{}", "e.json", {"train.steps"}); }, {"train.steps", "key=value"});
  expect_error([] { PretrainConfig::from_json_string("{}", "f.json", {"train.steps=-5"}); }, {"f.json", "train.steps"});
  expect_error([] { PretrainConfig::from_json_string(R"({"objective": {"type": "gan"}})", "g.json"); },
               {"g.json", "objective.type", "gan"});
}

TEST(Pretrainer, ContinuesFromExportedModelDirectories) {
  VectorSource train(pooled_examples(64, 8, 40));
  test::TempDir first_dir, second_dir;
  Pretrainer first(tiny_run(first_dir.path(), 5), data_for(train, nullptr));
  const auto exported = first.run(false);

  auto config = tiny_run(second_dir.path(), 5);
  config.train.init_discriminator = exported.discriminator_dir;
  config.train.init_generator = exported.generator_dir;
  Pretrainer second(config, data_for(train, nullptr));
  auto a = first.model()->named_parameters(), b = second.model()->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& p : a) EXPECT_TRUE(torch::equal(p.value(), b[p.key()])) << p.key();
  EXPECT_EQ(second.progress().step, 0);  // a fresh run: new optimizer and schedule
  EXPECT_NO_THROW(second.train_step());
}

TEST(Pretrainer, MlmBaselineTrainsTheGeneratorAlone) {
  VectorSource train(pooled_examples(64, 8, 50));
  test::TempDir dir;
  auto config = tiny_run(dir.path(), 40);
  config.objective = Objective::mlm;
  config.optimizer.learning_rate = 5e-3;
  Pretrainer trainer(config, data_for(train, &train));
  EXPECT_FALSE(trainer.model()->has_discriminator());
  // The MLM baseline's model is discriminator-sized.
  EXPECT_EQ(trainer.model()->generator_config().hidden_size, 32);
  const auto before = trainer.evaluate();
  const auto result = trainer.run(false);
  EXPECT_LT(result.last_eval.mlm_loss, before.mlm_loss);
  EXPECT_TRUE(result.discriminator_dir.empty());
  EXPECT_TRUE(std::filesystem::exists(dir.file("generator/model.safetensors")));
  EXPECT_FALSE(std::filesystem::exists(dir.file("discriminator")));
}

TEST(Pretrainer, Bf16LossTracksFp32AndWeightsStayFp32) {
  // Same data, masks and initial weights; bf16 autocast may only perturb the losses a little.
  // Tolerance: 2% relative per step over 20 steps (bf16 keeps 8 mantissa bits; the weights,
  // optimizer state and losses stay fp32).
  VectorSource train(pooled_examples(64, 8, 21));
  test::TempDir fp32_dir, bf16_dir;
  auto config = tiny_run(fp32_dir.path(), 20);
  Pretrainer fp32(config, data_for(train, nullptr));
  config.train.output = bf16_dir.path();
  config.train.precision = Precision::bf16;
  Pretrainer bf16(config, data_for(train, nullptr));
  double first = 0, last_fp32 = 0, last_bf16 = 0;
  for (int i = 0; i < 20; ++i) {
    const auto a = fp32.train_step().metrics().loss, b = bf16.train_step().metrics().loss;
    if (i == 0) first = a;
    EXPECT_NEAR(b, a, 0.02 * a) << "step " << i;
    last_fp32 = a;
    last_bf16 = b;
  }
  EXPECT_LT(last_fp32, first);  // it trained
  EXPECT_LT(last_bf16, first);
  for (const auto& p : bf16.model()->parameters()) EXPECT_EQ(p.scalar_type(), torch::kFloat);
  const auto checkpoint = bf16.save();
  const SafetensorsFile weights((std::filesystem::path(checkpoint) / "model.safetensors").string());
  ASSERT_FALSE(weights.entries().empty());
  for (const auto& e : weights.entries()) EXPECT_EQ(e.dtype, "F32") << e.name;
}

TEST(Device, ResolvesSpecsAndRefusesWhatIsNotThere) {
  EXPECT_TRUE(electra::resolve_device("cpu").is_cpu());
  EXPECT_EQ(electra::resolve_device("auto").is_cuda(), torch::cuda::is_available());
  EXPECT_THROW(electra::resolve_device("gpu"), electra::Error);
  EXPECT_THROW(electra::resolve_device("cuda:x"), electra::Error);
  if (!torch::cuda::is_available()) {
    try {
      electra::resolve_device("cuda:0");
      FAIL() << "cuda:0 resolved without a GPU";
    } catch (const electra::Error& e) {
      EXPECT_NE(std::string(e.what()).find("cuda:0"), std::string::npos) << e.what();
      // The CUDA build (b) without a GPU and the CPU build (a) say different things.
      const char* why = torch::hasCUDA() ? "no CUDA GPU is visible" : "built without CUDA";
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  }
  // Same seed, same draws; the generator does not touch the global one.
  auto a = electra::seeded_generator(torch::Device(torch::kCPU), 7);
  auto b = electra::seeded_generator(torch::Device(torch::kCPU), 7);
  EXPECT_TRUE(torch::equal(torch::rand({5}, a), torch::rand({5}, b)));
}

TEST(LossScaler, ScalesUnscalesLowersOnOverflowAndGrowsOnTheDevice) {
  electra::LossScaler scaler(true, torch::kCPU, /*initial_scale=*/1024.0, /*growth_interval=*/2);
  auto w = torch::ones({3}, torch::requires_grad());
  scaler.scaled((w * 2.0).sum()).backward();
  EXPECT_NEAR(w.grad()[0].item<double>(), 2048.0, 1e-9);
  scaler.unscale({w});
  EXPECT_NEAR(w.grad()[0].item<double>(), 2.0, 1e-9);  // the true gradient
  const auto clean = torch::zeros({}), overflow = torch::ones({});
  scaler.update(clean);
  EXPECT_EQ(scaler.scale(), 1024.0);
  scaler.update(clean);
  EXPECT_EQ(scaler.scale(), 2048.0);  // two clean steps: doubled
  scaler.update(clean);
  scaler.update(overflow);
  EXPECT_EQ(scaler.scale(), 1024.0);  // overflow: halved, and the clean count starts again
  scaler.update(clean);
  EXPECT_EQ(scaler.scale(), 1024.0);
  scaler.update(clean);
  EXPECT_EQ(scaler.scale(), 2048.0);
  for (int i = 0; i < 20; ++i) scaler.update(overflow);
  EXPECT_EQ(scaler.scale(), 1.0);  // never below 1
  scaler.set_scale(256.0);
  EXPECT_EQ(scaler.scale(), 256.0);  // as a checkpoint restores it

  electra::LossScaler off(false);
  auto loss = torch::tensor(3.0);
  EXPECT_EQ(off.scaled(loss).item<double>(), 3.0);
  w.mutable_grad().fill_(5.0);
  off.unscale({w});
  off.update(overflow);
  EXPECT_EQ(w.grad()[0].item<double>(), 5.0);  // disabled: touches nothing
  EXPECT_EQ(off.scale(), 1.0);
}

TEST(PretrainConfigTest, PrecisionNamesRoundTrip) {
  for (auto p : {electra::Precision::fp32, electra::Precision::bf16, electra::Precision::fp16}) {
    EXPECT_EQ(electra::parse_precision(electra::to_string(p)), p);
  }
  EXPECT_THROW(electra::parse_precision("fp8"), electra::Error);
  EXPECT_EQ(electra::parse_precision("fp16"), electra::Precision::fp16);
  EXPECT_EQ(electra::to_string(electra::Precision::fp16), "fp16");
}
