// Fine-tuning pieces that need LibTorch: task heads under transformers' names, the layer-wise
// learning-rate rule, dynamic padding, the losses and the config parser.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "electra/io/model_dir.h"
#include "electra/models/task_models.h"
#include "electra/train/finetune_config.h"
#include "electra/train/finetune_task.h"
#include "electra/train/finetuner.h"
#include "electra/util/error.h"

namespace fs = std::filesystem;
using namespace electra;

namespace {

ElectraConfig tiny_config() {
  ElectraConfig c;
  c.vocab_size = 50;
  c.embedding_size = 16;
  c.hidden_size = 32;
  c.num_hidden_layers = 3;
  c.num_attention_heads = 2;
  c.intermediate_size = 64;
  c.max_position_embeddings = 64;
  return c;
}

std::set<std::string> head_names(const TaskModel& model) {
  std::set<std::string> out;
  for (const auto& p : model->named_parameters()) {
    if (p.key().rfind("electra.", 0) != 0) out.insert(p.key());
  }
  return out;
}

}  // namespace

TEST(TaskModels, HeadsUseTransformersNames) {
  const auto c = tiny_config();
  EXPECT_EQ(head_names(TaskModel(c, HeadKind::sequence_classification, 3)),
            (std::set<std::string>{"classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight",
                                   "classifier.out_proj.bias"}));
  EXPECT_EQ(head_names(TaskModel(c, HeadKind::question_answering, 0)),
            (std::set<std::string>{"qa_outputs.weight", "qa_outputs.bias"}));
  EXPECT_EQ(head_names(TaskModel(c, HeadKind::token_classification, 5)),
            (std::set<std::string>{"classifier.weight", "classifier.bias"}));
}

TEST(TaskModels, LinearHeadIsOneLinearOnClsAndOnlyThat) {
  const auto c = tiny_config();
  torch::manual_seed(5);
  TaskModel model(c, HeadKind::sequence_classification, 3, ClassifierHead::linear);
  EXPECT_EQ(head_names(model), (std::set<std::string>{"classifier.out_proj.weight", "classifier.out_proj.bias"}));
  model->eval();
  auto ids = torch::randint(5, 50, {2, 7}, torch::kLong);
  auto mask = torch::ones({2, 7}, torch::kLong);
  auto types = torch::zeros({2, 7}, torch::kLong);
  auto cls = model->electra(ids, mask, types).select(1, 0);
  auto& proj = model->classifier->out_proj;
  EXPECT_TRUE(torch::allclose(model(ids, mask, types), torch::addmm(proj->bias, cls, proj->weight.t()), 1e-5, 1e-6));
  EXPECT_EQ(parse_classifier_head("transformers"), ClassifierHead::transformers);
  EXPECT_THROW(parse_classifier_head("pooler"), Error);
}

TEST(TaskModels, AnswerableClassifierReadsClsAndTheStartDistribution) {
  const auto c = tiny_config();
  torch::manual_seed(11);
  TaskModel model(c, HeadKind::question_answering, 0, ClassifierHead::transformers, true);
  EXPECT_EQ(head_names(model), (std::set<std::string>{"qa_outputs.weight", "qa_outputs.bias",
                                                      "answerable_classifier.dense.weight",
                                                      "answerable_classifier.dense.bias",
                                                      "answerable_classifier.out_proj.weight",
                                                      "answerable_classifier.out_proj.bias"}));
  EXPECT_EQ(model->answerable_classifier->dense->weight.sizes(), (std::vector<int64_t>{512, 2 * c.hidden_size}));
  model->eval();
  auto ids = torch::randint(5, 50, {2, 7}, torch::kLong);
  auto mask = torch::ones({2, 7}, torch::kLong);
  auto types = torch::zeros({2, 7}, torch::kLong);
  const auto out = model(ids, mask, types);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 7, 3}));
  // The same no-answer logit at every position of a window.
  EXPECT_TRUE(torch::allclose(out.select(2, 2), out.select(2, 2).select(1, 0).unsqueeze(1).expand({2, 7})));

  // By hand: [CLS] state and the start-softmax-weighted states -> dense -> gelu -> out_proj.
  const auto hidden = model->electra(ids, mask, types);
  const auto p = torch::softmax(out.select(2, 0), -1);
  const auto features = torch::cat({hidden.select(1, 0), (p.unsqueeze(-1) * hidden).sum(1)}, -1);
  auto& head = *model->answerable_classifier;
  const auto expected = head.out_proj(torch::gelu(head.dense(features))).squeeze(-1);
  EXPECT_TRUE(torch::allclose(out.select(2, 2).select(1, 0), expected, 1e-5, 1e-6));

  // Padding draws no start probability: two padded positions leave the logit unchanged.
  auto padded_ids = torch::cat({ids, torch::zeros({2, 2}, torch::kLong)}, 1);
  auto padded_mask = torch::cat({mask, torch::zeros({2, 2}, torch::kLong)}, 1);
  auto padded_types = torch::zeros({2, 9}, torch::kLong);
  const auto padded = model(padded_ids, padded_mask, padded_types);
  EXPECT_TRUE(torch::allclose(padded.select(2, 2).select(1, 0), expected, 1e-4, 1e-5));
}

TEST(TaskModels, OutputShapes) {
  const auto c = tiny_config();
  auto ids = torch::randint(5, 50, {2, 7}, torch::kLong);
  auto mask = torch::ones({2, 7}, torch::kLong);
  auto types = torch::zeros({2, 7}, torch::kLong);
  TaskModel cls(c, HeadKind::sequence_classification, 3), qa(c, HeadKind::question_answering, 0),
      tag(c, HeadKind::token_classification, 5);
  EXPECT_EQ(cls(ids, mask, types).sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(qa(ids, mask, types).sizes(), (std::vector<int64_t>{2, 7, 2}));
  EXPECT_EQ(tag(ids, mask, types).sizes(), (std::vector<int64_t>{2, 7, 5}));
}

TEST(TaskModels, LayerwiseLearningRateFollowsTheOfficialRule) {
  // L = 3: embeddings depth 0 -> d^5, layer i -> d^(4-i), head -> 1.
  const double d = 0.8;
  EXPECT_DOUBLE_EQ(layer_lr_multiplier("electra.embeddings.word_embeddings.weight", 3, d), std::pow(d, 5));
  EXPECT_DOUBLE_EQ(layer_lr_multiplier("electra.embeddings_project.weight", 3, d), std::pow(d, 5));
  EXPECT_DOUBLE_EQ(layer_lr_multiplier("electra.encoder.layer.0.output.dense.weight", 3, d), std::pow(d, 4));
  EXPECT_DOUBLE_EQ(layer_lr_multiplier("electra.encoder.layer.2.attention.self.query.bias", 3, d), std::pow(d, 2));
  EXPECT_DOUBLE_EQ(layer_lr_multiplier("classifier.out_proj.weight", 3, d), 1.0);
  EXPECT_DOUBLE_EQ(layer_lr_multiplier("qa_outputs.weight", 3, d), 1.0);
  EXPECT_DOUBLE_EQ(layer_lr_multiplier("electra.encoder.layer.10.output.dense.weight", 12, 1.0), 1.0);
}

TEST(TaskModels, FineTunedDirectoryRoundTrip) {
  const auto c = tiny_config();
  torch::manual_seed(3);
  TaskModel model(c, HeadKind::sequence_classification, 2);
  model->eval();
  const auto dir = (fs::temp_directory_path() / "electra-task-roundtrip").string();
  fs::remove_all(dir);
  auto saved = c;
  saved.architectures = {"ElectraForSequenceClassification"};
  save_model_dir(dir, *model, saved, nullptr);
  torch::manual_seed(4);
  TaskModel again(load_config(dir), HeadKind::sequence_classification, 2);
  load_weights(*again, dir);
  again->eval();
  auto ids = torch::randint(5, 50, {3, 6}, torch::kLong);
  auto mask = torch::ones({3, 6}, torch::kLong);
  auto types = torch::zeros({3, 6}, torch::kLong);
  EXPECT_TRUE(torch::allclose(model(ids, mask, types), again(ids, mask, types)));
  fs::remove_all(dir);
}

// What a fine-tuned directory says about its head is written and read as typed fields.
TEST(ModelDirectory, TaskHeadFieldsRoundTripThroughConfigJson) {
  const auto dir = (fs::temp_directory_path() / "electra-task-head").string();
  fs::remove_all(dir);
  TaskHead head;
  head.kind = HeadKind::sequence_classification;
  head.classifier_head = ClassifierHead::linear;
  head.labels = {"negative", "positive"};
  TaskModel model(tiny_config(), head.kind, 2, head.classifier_head);
  save_model_dir(dir, *model, with_task_head(tiny_config(), head, 2), nullptr);
  const auto read = read_model_dir(dir);
  EXPECT_EQ(read.kind, ModelKind::unknown);
  ASSERT_TRUE(read.task_head.has_value());
  EXPECT_EQ(read.task_head->kind, HeadKind::sequence_classification);
  EXPECT_EQ(read.task_head->classifier_head, ClassifierHead::linear);
  EXPECT_EQ(read.task_head->labels, head.labels);
  EXPECT_FALSE(read.task_head->answerable_classifier);
  EXPECT_FALSE(read.task_head->regression);

  // A marker this library did not write names the file.
  auto bad = read.config;
  bad.extra_json = R"({"classifier_head": "mystery"})";
  save_model_dir(dir, *model, bad, nullptr);
  try {
    read_model_dir(dir);
    FAIL() << "an unknown classifier_head was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config.json"), std::string::npos) << e.what();
  }

  // A pre-trained discriminator carries no task head.
  auto pretrained = tiny_config();
  pretrained.architectures = {"ElectraForPreTraining"};
  save_model_dir(dir, *model, pretrained, nullptr);
  EXPECT_EQ(read_model_dir(dir).kind, ModelKind::discriminator);
  EXPECT_FALSE(read_model_dir(dir).task_head.has_value());
  fs::remove_all(dir);
}

TEST(FinetuneTask, CollatePadsToTheLongestMember) {
  std::vector<TaskFeature> features(3);
  features[0].input_ids = {2, 7, 3};
  features[1].input_ids = {2, 7, 8, 9, 3};
  features[2].input_ids = {2, 3};
  for (auto& f : features) {
    f.token_type_ids.assign(f.input_ids.size(), 0);
    f.token_labels.assign(f.input_ids.size(), 1);
  }
  auto b = collate(features, {0, 2}, HeadKind::token_classification, false, 0);
  EXPECT_EQ(b.input_ids.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(b.attention_mask.sum().item<int64_t>(), 5);
  EXPECT_EQ(b.labels[1][2].item<int64_t>(), -100);  // padding is never scored
  EXPECT_EQ(b.input_ids[1][2].item<int64_t>(), 0);
  auto c = collate(features, {1, 0, 2}, HeadKind::token_classification, false, 0);
  EXPECT_EQ(c.input_ids.size(1), 5);
}

namespace {
class FixedTask : public FinetuneTask {
 public:
  explicit FixedTask(HeadKind h, double no_answer_weight = 0) : head_(h), no_answer_weight_(no_answer_weight) {}
  double no_answer_weight() const override { return no_answer_weight_; }
  std::string name() const override { return "fixed"; }
  HeadKind head() const override { return head_; }
  int64_t num_labels() const override { return 2; }
  const std::vector<TaskFeature>& features(Split) const override { return none_; }
  TaskScores score(Split, const std::vector<torch::Tensor>&) const override { return {}; }
  void write_predictions(Split, const std::vector<torch::Tensor>&, const std::string&) const override {}

 private:
  HeadKind head_;
  double no_answer_weight_;
  std::vector<TaskFeature> none_;
};
}  // namespace

TEST(FinetuneTask, SpanLossIgnoresPadding) {
  FixedTask task(HeadKind::question_answering);
  std::vector<TaskFeature> features(2);
  features[0].input_ids = {2, 5, 3, 6, 7};
  features[1].input_ids = {2, 5, 3};
  for (auto& f : features) f.token_type_ids.assign(f.input_ids.size(), 0);
  features[0].start = 3, features[0].end = 4;
  features[1].start = 1, features[1].end = 1;
  auto batch = collate(features, {0, 1}, HeadKind::question_answering, false, 0);
  auto logits = torch::zeros({2, 5, 2});
  // Huge logits on padding must not change the loss.
  auto padded = logits.clone();
  padded[1][3].fill_(50.0);
  padded[1][4].fill_(50.0);
  EXPECT_NEAR(task.loss(logits, batch).item<double>(), task.loss(padded, batch).item<double>(), 1e-6);
  // Uniform over 5 and 3 real positions: (log 5 + log 3) / 2.
  EXPECT_NEAR(task.loss(logits, batch).item<double>(), (std::log(5.0) + std::log(3.0)) / 2, 1e-5);
}

TEST(FinetuneTask, AnswerableLossAddsWeightedBinaryCrossEntropy) {
  FixedTask task(HeadKind::question_answering, 0.5);
  std::vector<TaskFeature> features(2);
  features[0].input_ids = {2, 5, 3, 6};
  features[1].input_ids = {2, 5, 3, 7};
  for (auto& f : features) f.token_type_ids.assign(f.input_ids.size(), 0);
  features[0].start = 0, features[0].end = 0;  // no answer in this window: [CLS]
  features[1].start = 3, features[1].end = 3;
  auto batch = collate(features, {0, 1}, HeadKind::question_answering, false, 0);
  auto logits = torch::zeros({2, 4, 3});
  logits.select(2, 2)[0].fill_(2.0);   // window 0: no-answer logit 2, target 1
  logits.select(2, 2)[1].fill_(-1.0);  // window 1: logit -1, target 0
  const double span = std::log(4.0);
  const double bce = (std::log1p(std::exp(-2.0)) + std::log1p(std::exp(-1.0))) / 2;
  EXPECT_NEAR(task.loss(logits, batch).item<double>(), span + 0.5 * bce, 1e-5);
  // Without the third channel the classifier term is absent.
  EXPECT_NEAR(task.loss(logits.narrow(2, 0, 2), batch).item<double>(), span, 1e-5);
}

TEST(FinetuneConfig, ParsesOverridesAndRejectsBadKeys) {
  const std::string text = R"({"task": {"type": "glue", "name": "mrpc"}, "train": {"epochs": 3}})";
  auto c = FinetuneConfig::from_json_string(text, "t.json", {"train.epochs=10", "optimizer.layer_decay=0.9"});
  EXPECT_EQ(c.train.epochs, 10);
  EXPECT_DOUBLE_EQ(c.optimizer.layer_decay, 0.9);
  EXPECT_DOUBLE_EQ(c.optimizer.warmup_proportion, 0.1);
  EXPECT_EQ(c.task.type, TaskType::glue);
  auto again = FinetuneConfig::from_json_string(c.to_json_string(), "resolved");
  EXPECT_EQ(again.to_json_string(), c.to_json_string());
  try {
    FinetuneConfig::from_json_string(R"({"train": {"epoch": 3}})", "t.json");
    FAIL() << "unknown key accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.epoch"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("t.json"), std::string::npos) << e.what();
  }
  EXPECT_THROW(FinetuneConfig::from_json_string(R"({"task": {"type": "squad", "version": 3}})", "t"), Error);
  EXPECT_THROW(FinetuneConfig::from_json_string(R"({"task": {"type": "poetry"}})", "t"), Error);
  // The answerability classifier: SQuAD 2.0 only, round-trips through the resolved config.
  const auto squad2 = FinetuneConfig::from_json_string(R"({"task": {"type": "squad", "version": 2}})", "t",
                                                       {"squad.answerable_classifier=true", "squad.answerable_weight=0.25"});
  const auto squad2_again = FinetuneConfig::from_json_string(squad2.to_json_string(), "resolved");
  EXPECT_TRUE(squad2_again.squad.answerable_classifier);
  EXPECT_DOUBLE_EQ(squad2_again.squad.answerable_weight, 0.25);
  try {
    FinetuneConfig::from_json_string(R"({"task": {"type": "squad", "version": 1}})", "t", {"squad.answerable_classifier=true"});
    FAIL() << "answerable classifier accepted for SQuAD 1.1";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("squad.answerable_classifier"), std::string::npos) << e.what();
  }
  const auto linear = FinetuneConfig::from_json_string(R"({"task": {"name": "sst2"}})", "t", {"task.classifier_head=linear"});
  EXPECT_EQ(linear.task.classifier_head, ClassifierHead::linear);
  EXPECT_EQ(FinetuneConfig::from_json_string(linear.to_json_string(), "resolved").task.classifier_head,
            ClassifierHead::linear);
  try {
    FinetuneConfig::from_json_string(R"({"task": {"name": "sst2", "classifier_head": "pooler"}})", "t.json");
    ADD_FAILURE() << "an unknown head was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("task.classifier_head"), std::string::npos) << e.what();
  }
}

namespace {

// Twelve rows of 5-8 random ids (batches hold padding), label = whether the first token after
// [CLS] is even: a task the loop can learn.
class ToyTask : public FinetuneTask {
 public:
  ToyTask() {
    torch::manual_seed(11);
    for (int i = 0; i < 12; ++i) {
      TaskFeature f;
      const int64_t length = 5 + i % 4;
      const auto ids = torch::randint(5, 50, {length}, torch::kInt);
      f.input_ids.assign(ids.data_ptr<int32_t>(), ids.data_ptr<int32_t>() + length);
      f.input_ids.front() = 2;  // [CLS]
      f.token_type_ids.assign(static_cast<size_t>(length), 0);
      f.label = f.input_ids[1] % 2;
      train_.push_back(f);
    }
  }
  std::string name() const override { return "toy"; }
  HeadKind head() const override { return HeadKind::sequence_classification; }
  int64_t num_labels() const override { return 2; }
  std::vector<std::string> labels() const override { return {"even", "odd"}; }
  const std::vector<TaskFeature>& features(Split split) const override { return split == Split::train ? train_ : none_; }
  TaskScores score(Split, const std::vector<torch::Tensor>&) const override { return {}; }
  void write_predictions(Split, const std::vector<torch::Tensor>&, const std::string&) const override {}

 private:
  std::vector<TaskFeature> train_, none_;
};

torch::Tensor flat_weights(TaskModel& model) {
  std::vector<torch::Tensor> parts;
  for (const auto& p : model->parameters()) parts.push_back(p.detach().flatten());
  return torch::cat(parts);
}

// A tokenizer of 50 tokens and a random tiny discriminator directory under `root`.
WordPieceTokenizer toy_tokenizer() {
  std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (int i = 5; i < 50; ++i) tokens.push_back("w" + std::to_string(i));
  return WordPieceTokenizer{Vocab(tokens)};
}

ModelDirectory toy_model_dir(const fs::path& root, const WordPieceTokenizer& tokenizer) {
  auto c = tiny_config();
  c.architectures = {"ElectraForPreTraining"};
  torch::manual_seed(1);
  save_model_dir((root / "model").string(), *ElectraModel(c), c, &tokenizer.vocab());
  return read_model_dir((root / "model").string());
}

}  // namespace

// The public step: one update per call on the next batch of the epoch's order, at the
// schedule's learning rate; and a run stopped after one step resumes to the same weights.
TEST(Finetuner, TrainStepAndRunResumeExactly) {
  const auto root = fs::temp_directory_path() / "electra-finetuner-step";
  fs::remove_all(root);
  const auto tokenizer = toy_tokenizer();
  const auto model = toy_model_dir(root, tokenizer);
  const ToyTask task;
  auto config_for = [&](const std::string& out) {
    return FinetuneConfig::from_json_string("{}", "test", {"task.name=toy", "train.batch_size=4", "train.epochs=2",
                                                           "train.output=\"" + (root / out).string() + "\"",
                                                           "train.device=cpu", "train.max_seq_length=32",
                                                           "optimizer.warmup_proportion=0.5"});
  };

  Finetuner stepped(config_for("stepped"), model, task, tokenizer);
  EXPECT_EQ(stepped.total_steps(), 6);
  const auto before = flat_weights(stepped.model());
  const auto first = stepped.train_step();
  const auto second = stepped.train_step();
  EXPECT_EQ(stepped.progress().step, 2);
  EXPECT_EQ(stepped.progress().cursor, 8);
  EXPECT_EQ(first.examples, 4);
  EXPECT_DOUBLE_EQ(first.learning_rate, 0.0);  // warmup starts at 0
  EXPECT_GT(second.learning_rate, 0.0);
  EXPECT_TRUE(std::isfinite(second.loss.item<double>()));
  EXPECT_FALSE(torch::equal(before, flat_weights(stepped.model())));

  Finetuner whole(config_for("whole"), model, task, tokenizer);
  const auto done = whole.run();
  EXPECT_EQ(done.steps, 6);
  EXPECT_FALSE(fs::exists(root / "whole" / "checkpoints"));  // a completed run removes them

  std::atomic<bool> stop{true};
  const auto stopped = Finetuner(config_for("resumed"), model, task, tokenizer).run(false, &stop);
  EXPECT_TRUE(stopped.interrupted);
  EXPECT_EQ(stopped.steps, 1);
  Finetuner resumed(config_for("resumed"), model, task, tokenizer);
  const auto finished = resumed.run(/*resume=*/true);
  EXPECT_EQ(finished.steps, 6);
  EXPECT_TRUE(torch::equal(flat_weights(whole.model()), flat_weights(resumed.model())));
  fs::remove_all(root);
}

// Batches collated ahead on a background thread are the batches collated in the step: the same
// rows in the same order across an epoch boundary, so the same losses and weights.
TEST(Finetuner, PrefetchingGivesTheSameStepsAcrossEpochs) {
  const auto root = fs::temp_directory_path() / "electra-finetuner-prefetch";
  fs::remove_all(root);
  const auto tokenizer = toy_tokenizer();
  const auto model = toy_model_dir(root, tokenizer);
  const ToyTask task;
  auto steps_with = [&](int prefetch) {
    Finetuner finetuner(FinetuneConfig::from_json_string(
                            "{}", "test", {"task.name=toy", "train.batch_size=4", "train.epochs=2", "train.device=cpu",
                                           "train.max_seq_length=32", "train.output=\"" + (root / "out").string() + "\"",
                                           "train.prefetch_batches=" + std::to_string(prefetch)}),
                        model, task, tokenizer);
    std::vector<double> losses;
    std::vector<int64_t> positions;
    for (int64_t i = 0; i < finetuner.total_steps(); ++i) {
      losses.push_back(finetuner.train_step().loss.item<double>());
      positions.push_back(finetuner.progress().epoch * 1000 + finetuner.progress().cursor);
    }
    return std::make_tuple(losses, positions, flat_weights(finetuner.model()));
  };
  const auto [inline_losses, inline_positions, inline_weights] = steps_with(0);
  const auto [ahead_losses, ahead_positions, ahead_weights] = steps_with(3);
  EXPECT_EQ(inline_positions, (std::vector<int64_t>{4, 8, 12, 1004, 1008, 1012}));  // 12 rows, 2 epochs
  EXPECT_EQ(ahead_positions, inline_positions);
  EXPECT_EQ(ahead_losses, inline_losses);
  EXPECT_TRUE(torch::equal(inline_weights, ahead_weights));
  fs::remove_all(root);
}

// A non-finite loss or gradient ends the run with a clear error before the weights change.
TEST(Finetuner, NonFiniteGradientsStopBeforeTheUpdate) {
  const auto root = fs::temp_directory_path() / "electra-finetuner-nan";
  fs::remove_all(root);
  const auto tokenizer = toy_tokenizer();
  const auto model = toy_model_dir(root, tokenizer);
  const ToyTask task;
  const auto config = FinetuneConfig::from_json_string(
      "{}", "test", {"task.name=toy", "train.batch_size=4", "train.device=cpu", "train.max_seq_length=32",
                     "train.log_every=1", "train.output=\"" + (root / "out").string() + "\""});
  Finetuner finetuner(config, model, task, tokenizer);
  {
    torch::NoGradGuard no_grad;
    finetuner.model()->parameters().back().fill_(std::numeric_limits<float>::quiet_NaN());  // the head's bias
  }
  const auto before = flat_weights(finetuner.model());
  try {
    finetuner.train_step();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not finite"), std::string::npos) << e.what();
  }
  EXPECT_EQ(finetuner.progress().step, 0);
  EXPECT_TRUE(torch::equal(before.nan_to_num(0), flat_weights(finetuner.model()).nan_to_num(0)));
  fs::remove_all(root);
}
