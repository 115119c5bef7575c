// The README.md model card of exported folders: the Hub's metadata block and the text.
#include "io/model_card.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace {

using electra::card_metadata;
using electra::ModelCard;
using electra::ModelOrigin;
using electra::render_model_card;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The lines between the opening and closing "---".
std::string metadata_block(const std::string& card) {
  EXPECT_EQ(card.rfind("---\n", 0), 0u);
  const auto end = card.find("\n---\n", 3);
  EXPECT_NE(end, std::string::npos);
  return card.substr(4, end - 3);
}

ModelCard pretrained() {
  ModelCard card;
  card.origin = ModelOrigin::pretrained;
  card.architecture = "ElectraForPreTraining";
  card.data = "the corpus prepared by electra-prepare in `data/wiki`";
  card.tags = {"pretraining", "electra"};  // "electra" is there already: listed once
  card.steps = 10000;
  card.seconds = 2 * 3600 + 13 * 60 + 7;
  card.results_split = "the held-out eval split";
  card.results = {{"replaced-token detection AUC", 0.873449}, {"replaced-token precision", 0.5}};
  return card;
}

TEST(ModelCard, PretrainedDiscriminator) {
  const std::string card = render_model_card(pretrained());
  EXPECT_EQ(metadata_block(card),
            "language: en\nlicense: apache-2.0\nlibrary_name: transformers\ntags:\n- electra\n- libelectra\n"
            "- pretraining\n");  // no pipeline runs replaced-token detection: no pipeline_tag
  EXPECT_TRUE(has(card, "\n# ELECTRA discriminator\n"));
  EXPECT_TRUE(has(card, "pre-trained with libelectra from random initialisation on the corpus prepared by "
                        "electra-prepare in `data/wiki`."));
  EXPECT_TRUE(has(card, "Training: 10000 optimizer steps, 2 h 13 min.\n"));
  EXPECT_TRUE(has(card, "Final numbers on the held-out eval split:\n\n| metric | value |\n|---|---:|\n"
                        "| replaced-token detection AUC | 0.8734 |\n| replaced-token precision | 0.5 |\n"));
  EXPECT_TRUE(has(card, "AutoModelForPreTraining.from_pretrained("));
}

TEST(ModelCard, FinetunedClassifierNamesPipelineAndDataset) {
  ModelCard c;
  c.origin = ModelOrigin::finetuned;
  c.architecture = "ElectraForSequenceClassification";
  c.base_model = "runs/small/discriminator";
  c.data = "GLUE MRPC (3668 training examples)";
  c.datasets = {"nyu-mll/glue"};
  c.tags = {"glue", "mrpc"};
  c.epochs = 3;
  c.steps = 345;
  c.results_split = "the dev set";
  c.results = {{"f1", 88.12}, {"accuracy", 84.0}};
  const std::string card = render_model_card(c);
  EXPECT_TRUE(has(metadata_block(card), "datasets:\n- nyu-mll/glue\npipeline_tag: text-classification\n"));
  EXPECT_TRUE(has(card, "fine-tuned with libelectra from `runs/small/discriminator` on GLUE MRPC (3668 training examples)."));
  EXPECT_TRUE(has(card, "Training: 3 epochs, 345 optimizer steps.\n"));
  EXPECT_TRUE(has(card, "| f1 | 88.12 |\n| accuracy | 84 |\n"));
  EXPECT_TRUE(has(card, "from transformers import AutoTokenizer, AutoModelForSequenceClassification\n"));

  c.results.clear();
  c.results_split = "dev set";
  EXPECT_TRUE(has(render_model_card(c), "No held-out numbers: the run had no dev set.\n"));
  for (const auto& [arch, tag] : {std::pair<const char*, const char*>{"ElectraForQuestionAnswering", "question-answering"},
                                  {"ElectraForTokenClassification", "token-classification"},
                                  {"ElectraForMaskedLM", "fill-mask"},
                                  {"ElectraModel", "feature-extraction"}}) {
    c.architecture = arch;
    EXPECT_TRUE(has(metadata_block(render_model_card(c)), std::string("pipeline_tag: ") + tag + "\n")) << arch;
  }
}

TEST(ModelCard, ConversionKeepsTheSourcesLicenceOrStatesNone) {
  ModelCard c;
  c.origin = ModelOrigin::converted;
  c.architecture = "ElectraModel";
  c.base_model = "models/bert-base";
  c.source_format = "Hugging Face BERT";
  c.license = "";
  c.language = "";
  c.notes = {"Dropped `pooler.dense.weight`: ELECTRA has no pooler"};
  std::string card = render_model_card(c);
  EXPECT_EQ(metadata_block(card), "library_name: transformers\ntags:\n- electra\n- libelectra\npipeline_tag: feature-extraction\n");
  EXPECT_TRUE(has(card, "converted by libelectra's electra-convert from `models/bert-base` (Hugging Face BERT). "
                        "The weights are the source's; no training was done here.\n"));
  EXPECT_FALSE(has(card, "Results"));
  EXPECT_FALSE(has(card, "No held-out numbers"));
  EXPECT_TRUE(has(card, "## Notes\n\n- Dropped `pooler.dense.weight`: ELECTRA has no pooler\n- The licence is the source"));
  c.license = "mit";
  card = render_model_card(c);
  EXPECT_TRUE(has(metadata_block(card), "license: mit\n"));
  EXPECT_FALSE(has(card, "The licence is the source"));
}

TEST(ModelCard, QuotesWhatYamlOrMarkdownWouldMisread) {
  ModelCard c = pretrained();
  c.tags = {"1.0", "true", "a: b", "say \"hi\"", "-x"};
  c.results = {{"a|b", std::nan("")}, {"loss", -0.0}};
  const std::string card = render_model_card(c);
  EXPECT_TRUE(has(metadata_block(card), "- \"1.0\"\n- \"true\"\n- \"a: b\"\n- \"say \\\"hi\\\"\"\n- \"-x\"\n"));
  EXPECT_TRUE(has(card, "| a\\|b | nan |\n| loss | 0 |\n"));
}

TEST(ModelCard, MetadataReadsBack) {
  const auto meta = card_metadata(render_model_card(pretrained()));
  EXPECT_EQ(meta.at("license"), "apache-2.0");
  EXPECT_EQ(meta.at("language"), "en");
  EXPECT_EQ(meta.at("library_name"), "transformers");
  EXPECT_EQ(meta.count("tags"), 0u);  // a list, not a scalar
  // A Hub card from elsewhere: quotes and CRLF line ends.
  const auto other = card_metadata("---\r\nlanguage: \"de\"\r\nlicense: 'cc-by-4.0'\r\ntags:\r\n- x\r\n---\r\n# t\r\n");
  EXPECT_EQ(other.at("language"), "de");
  EXPECT_EQ(other.at("license"), "cc-by-4.0");
  EXPECT_TRUE(card_metadata("# no metadata\nlicense: mit\n").empty());
  EXPECT_TRUE(card_metadata("---\nlicense: mit\n").empty());  // never closed
  EXPECT_TRUE(card_metadata("").empty());
}

TEST(ModelCard, Durations) {
  ModelCard c = pretrained();
  c.steps = 1;
  for (const auto& [seconds, text] : {std::pair<double, const char*>{12.4, "1 optimizer step, 12 s."},
                                      {200, "1 optimizer step, 3 min 20 s."},
                                      {3600, "1 optimizer step, 1 h 00 min."}}) {
    c.seconds = seconds;
    EXPECT_TRUE(has(render_model_card(c), text)) << seconds;
  }
}

}  // namespace
