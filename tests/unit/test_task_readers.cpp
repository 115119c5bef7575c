// Downstream-task readers: generic tables (TSV/CSV/JSONL), GLUE, CoNLL and the
// first-wordpiece encoding of tagged sentences. Hand-made files cover the edge cases;
// with ELECTRA_DATA_DIR set, the real GLUE dev files and CoNLL-2000 are read too.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "electra/tasks/conll.h"
#include "electra/tasks/glue.h"
#include "electra/tasks/tabular.h"
#include "electra/util/error.h"
#include "test_util.h"

namespace electra {
namespace {

using test::TempDir;
using test::write_bytes;

// Expects an electra::Error (not any other exception) whose message holds every part.
template <typename Fn>
void expect_error(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "expected an electra::Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const auto& p : parts) EXPECT_NE(message.find(p), std::string::npos) << "message: " << message << "\nmissing: " << p;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected an electra::Error, got: " << e.what();
  }
}

// Writes `bytes` to `name` in `dir` and returns the path.
std::string write_file(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.file(name);
  write_bytes(path, bytes);
  return path;
}

TableOptions options(TableFormat format, TableColumns columns, bool header = true, bool quoting = false) {
  TableOptions o;
  o.format = format;
  o.header = header;
  o.quoting = quoting;
  o.columns = std::move(columns);
  return o;
}

// ---------------------------------------------------------------- tables

TEST(TableFormat, ParsesTheThreeNames) {
  EXPECT_EQ(parse_table_format("tsv"), TableFormat::tsv);
  EXPECT_EQ(parse_table_format("csv"), TableFormat::csv);
  EXPECT_EQ(parse_table_format("jsonl"), TableFormat::jsonl);
  expect_error([] { parse_table_format("xlsx"); }, {"'xlsx'", "tsv, csv or jsonl"});
}

TEST(ReadTable, TsvNamedColumns) {
  TempDir dir;
  const auto path = write_file(dir, "a.tsv", "id\tleft\tright\ty\nq1\tA one\tB one\tyes\nq2\tA two\tB two\tno\n");
  const auto rows = read_table(path, options(TableFormat::tsv, {"left", "right", "y", "id"}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, "q1");
  EXPECT_EQ(rows[0].text_a, "A one");
  EXPECT_EQ(rows[0].text_b, "B one");
  EXPECT_EQ(rows[0].label, "yes");
  EXPECT_EQ(rows[0].line, 2u);
  EXPECT_EQ(rows[1].id, "q2");
  EXPECT_EQ(rows[1].label, "no");
  EXPECT_EQ(rows[1].line, 3u);
}

TEST(ReadTable, IndexedColumnsWithoutHeaderAndRowNumberIds) {
  TempDir dir;
  const auto path = write_file(dir, "a.tsv", "x\t1\tfirst\ny\t0\tsecond");  // no final newline
  const auto rows = read_table(path, options(TableFormat::tsv, {"2", "", "1", ""}, /*header=*/false));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, "0");
  EXPECT_EQ(rows[0].text_a, "first");
  EXPECT_FALSE(rows[0].text_b.has_value());
  EXPECT_EQ(rows[0].label, "1");
  EXPECT_EQ(rows[1].id, "1");
  EXPECT_EQ(rows[1].text_a, "second");
  EXPECT_EQ(rows[1].line, 2u);
}

TEST(ReadTable, DigitsPickAColumnByPositionEvenWithAHeader) {
  TempDir dir;
  const auto path = write_file(dir, "a.tsv", "a\tb\tc\nx\ty\tz\n");
  const auto rows = read_table(path, options(TableFormat::tsv, {"2", "", "a", ""}));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].text_a, "z");
  EXPECT_EQ(rows[0].label, "x");
}

TEST(ReadTable, BomCrlfAndEmptyLines) {
  TempDir dir;
  const auto path = write_file(dir, "a.tsv", "\xEF\xBB\xBFtext\tlabel\r\n\r\nhello\t1\r\n\nworld\t0\r\n\r\n");
  const auto rows = read_table(path, options(TableFormat::tsv, {"text", "", "label", ""}));
  ASSERT_EQ(rows.size(), 2u);  // the BOM did not spoil the first header name
  EXPECT_EQ(rows[0].text_a, "hello");
  EXPECT_EQ(rows[0].label, "1");  // no '\r' left on the last cell
  EXPECT_EQ(rows[0].line, 3u);
  EXPECT_EQ(rows[1].text_a, "world");
  EXPECT_EQ(rows[1].label, "0");
  EXPECT_EQ(rows[1].line, 5u);
  EXPECT_EQ(rows[1].id, "1");  // empty lines are not rows
}

TEST(ReadTable, UnquotedTsvKeepsQuotesAsText) {
  TempDir dir;
  const auto path = write_file(dir, "a.tsv", "s\tl\n\" The pie\t1\nsaid \"yes\" .\t0\n\"\"\t1\n");
  const auto rows = read_table(path, options(TableFormat::tsv, {"s", "", "l", ""}));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].text_a, "\" The pie");
  EXPECT_EQ(rows[1].text_a, "said \"yes\" .");
  EXPECT_EQ(rows[2].text_a, "\"\"");
}

TEST(ReadTable, CsvQuoting) {
  TempDir dir;
  const auto path = write_file(dir, "a.csv",
                               "text,label\n"
                               "\"a, b\",1\n"                // delimiter inside quotes
                               "\"say \"\"hi\"\"\",0\n"       // "" is a quote
                               "\"two\nlines\",1\n"          // a cell across lines
                               "\"tab\there\",\"\"\"q\"\"\"\r\n"  // tab inside; label is "q" quoted
                               "plain \"mid\" quote,0\n"     // a quote inside an unquoted cell is text
                               "\"\",1\n");                  // a quoted empty cell
  const auto rows = read_table(path, options(TableFormat::csv, {"text", "", "label", ""}, true, /*quoting=*/true));
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0].text_a, "a, b");
  EXPECT_EQ(rows[0].label, "1");
  EXPECT_EQ(rows[1].text_a, "say \"hi\"");
  EXPECT_EQ(rows[2].text_a, "two\nlines");
  EXPECT_EQ(rows[2].line, 4u);
  EXPECT_EQ(rows[3].text_a, "tab\there");
  EXPECT_EQ(rows[3].label, "\"q\"");
  EXPECT_EQ(rows[3].line, 6u);  // numbering goes on after the two-line cell
  EXPECT_EQ(rows[4].text_a, "plain \"mid\" quote");
  EXPECT_EQ(rows[5].text_a, "");
  EXPECT_EQ(rows[5].line, 8u);
}

TEST(ReadTable, CsvQuotingErrors) {
  TempDir dir;
  const auto open = write_file(dir, "open.csv", "text,label\nok,1\n\"never closed,1\nmore,0\n");
  expect_error([&] { read_table(open, options(TableFormat::csv, {"text", "", "label", ""}, true, true)); },
               {open + ":3:", "never closed"});
  const auto after = write_file(dir, "after.csv", "text,label\n\"quoted\"x,1\n");
  expect_error([&] { read_table(after, options(TableFormat::csv, {"text", "", "label", ""}, true, true)); },
               {after + ":2:", "after a closing quote"});
}

TEST(ReadTable, RowWithTooFewCellsNamesFileAndLine) {
  TempDir dir;
  const auto path = write_file(dir, "a.tsv", "a\tb\tl\nx\ty\t1\nx y\t1\n");
  expect_error([&] { read_table(path, options(TableFormat::tsv, {"a", "b", "l", ""})); },
               {path + ":3:", "2 cells", "fewer than the 3"});
}

TEST(ReadTable, UnknownColumnNames) {
  TempDir dir;
  const auto path = write_file(dir, "a.tsv", "sentence\tlabel\nx\t1\n");
  expect_error([&] { read_table(path, options(TableFormat::tsv, {"text", "", "label", ""})); },
               {path + ":1:", "no column 'text'", "'sentence', 'label'"});
  expect_error([&] { read_table(path, options(TableFormat::tsv, {"sentence", "", "label", ""}, /*header=*/false)); },
               {path, "no header", "0-based index"});
  TableOptions no_text = options(TableFormat::tsv, {"", "", "label", ""});
  expect_error([&] { read_table(path, no_text); }, {"text_a"});
}

TEST(ReadTable, LabelsRequiredOrOptional) {
  TempDir dir;
  const auto empty_label = write_file(dir, "a.tsv", "s\tl\nx\t1\ny\t\n");
  expect_error([&] { read_table(empty_label, options(TableFormat::tsv, {"s", "", "l", ""})); },
               {empty_label + ":3:", "label"});
  const auto short_row = write_file(dir, "b.tsv", "s\tl\nx\t1\ny\n");
  expect_error([&] { read_table(short_row, options(TableFormat::tsv, {"s", "", "l", ""})); }, {short_row + ":3:"});

  TableOptions optional = options(TableFormat::tsv, {"s", "", "l", ""});
  optional.require_label = false;
  const auto rows = read_table(short_row, optional);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].label, "1");
  EXPECT_FALSE(rows[1].label.has_value());
  // A test file without the label column reads with the same options.
  const auto test_file = write_file(dir, "c.tsv", "index\ts\n0\tx\n");
  const auto test_rows = read_table(test_file, optional);
  ASSERT_EQ(test_rows.size(), 1u);
  EXPECT_FALSE(test_rows[0].label.has_value());
}

TEST(ReadTable, InvalidUtf8IsAnErrorWithTheLine) {
  TempDir dir;
  const auto path = write_file(dir, "a.tsv", "s\tl\nfine\t1\nbad \xC3\x28 byte\t0\n");
  expect_error([&] { read_table(path, options(TableFormat::tsv, {"s", "", "l", ""})); }, {path + ":3:", "UTF-8"});
  const auto jsonl = write_file(dir, "a.jsonl", "{\"s\": \"bad \xFF\", \"l\": 1}\n");
  expect_error([&] { read_table(jsonl, options(TableFormat::jsonl, {"s", "", "l", ""})); }, {jsonl + ":1:", "UTF-8"});
}

TEST(ReadTable, MissingFileIsNamed) {
  TempDir dir;
  const std::string path = dir.file("nope.tsv");
  expect_error([&] { read_table(path, options(TableFormat::tsv, {"s", "", "l", ""})); }, {path, "cannot open"});
}

TEST(ReadTable, JsonLines) {
  TempDir dir;
  const auto path = write_file(dir, "a.jsonl",
                               "\xEF\xBB\xBF{\"q\": \"first\", \"p\": \"one\", \"label\": \"yes\", \"uid\": 7}\r\n"
                               "\n"
                               "{\"q\": \"caf\xC3\xA9 \\\"x\\\"\", \"p\": \"two\", \"label\": 1, \"uid\": \"b\"}\n"
                               "{\"p\": \"three\", \"q\": \"third\", \"label\": 4.5, \"uid\": \"c\", \"extra\": [1]}\n");
  const auto rows = read_table(path, options(TableFormat::jsonl, {"q", "p", "label", "uid"}));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].id, "7");
  EXPECT_EQ(rows[0].text_a, "first");
  EXPECT_EQ(rows[0].text_b, "one");
  EXPECT_EQ(rows[0].label, "yes");
  EXPECT_EQ(rows[0].line, 1u);
  EXPECT_EQ(rows[1].text_a, "caf\xC3\xA9 \"x\"");
  EXPECT_EQ(rows[1].label, "1");
  EXPECT_EQ(rows[1].line, 3u);
  EXPECT_EQ(rows[2].label, "4.5");
  EXPECT_EQ(rows[2].id, "c");
}

TEST(ReadTable, JsonLinesErrors) {
  TempDir dir;
  const TableOptions o = options(TableFormat::jsonl, {"s", "", "l", ""});
  const auto malformed = write_file(dir, "m.jsonl", "{\"s\": \"a\", \"l\": 1}\n{\"s\": \"b\", \"l\": 1\n");
  expect_error([&] { read_table(malformed, o); }, {malformed + ":2:", "invalid JSON"});
  const auto array = write_file(dir, "arr.jsonl", "[\"a\", 1]\n");
  expect_error([&] { read_table(array, o); }, {array + ":1:", "JSON object"});
  const auto missing = write_file(dir, "miss.jsonl", "{\"s\": \"a\", \"l\": 1}\n{\"l\": 0}\n");
  expect_error([&] { read_table(missing, o); }, {missing + ":2:", "missing field \"s\""});
  const auto number_text = write_file(dir, "num.jsonl", "{\"s\": 3, \"l\": 1}\n");
  expect_error([&] { read_table(number_text, o); }, {number_text + ":1:", "\"s\" is not a string"});
  const auto bool_label = write_file(dir, "bool.jsonl", "{\"s\": \"a\", \"l\": true}\n");
  expect_error([&] { read_table(bool_label, o); }, {bool_label + ":1:", "\"l\" must be a string or a number"});
  const auto no_label = write_file(dir, "nolabel.jsonl", "{\"s\": \"a\"}\n{\"s\": \"b\", \"l\": null}\n");
  expect_error([&] { read_table(no_label, o); }, {no_label + ":1:", "missing field \"l\""});
  TableOptions optional = o;
  optional.require_label = false;
  const auto rows = read_table(no_label, optional);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_FALSE(rows[0].label.has_value());
  EXPECT_FALSE(rows[1].label.has_value());
  EXPECT_EQ(rows[1].id, "1");
}

// ---------------------------------------------------------------- GLUE

TEST(Glue, ParsesEverySpelling) {
  EXPECT_EQ(parse_glue_task("sst2"), GlueTask::sst2);
  EXPECT_EQ(parse_glue_task("SST-2"), GlueTask::sst2);
  EXPECT_EQ(parse_glue_task("sst-2"), GlueTask::sst2);
  EXPECT_EQ(parse_glue_task("STS-B"), GlueTask::stsb);
  EXPECT_EQ(parse_glue_task("CoLA"), GlueTask::cola);
  EXPECT_EQ(parse_glue_task("mnli"), GlueTask::mnli);
  for (const GlueTask task : {GlueTask::cola, GlueTask::sst2, GlueTask::mrpc, GlueTask::stsb, GlueTask::qqp,
                              GlueTask::mnli, GlueTask::qnli, GlueTask::rte, GlueTask::wnli}) {
    const GlueTaskInfo& info = glue_task_info(task);
    EXPECT_EQ(info.task, task);
    EXPECT_EQ(parse_glue_task(info.name), task);
    EXPECT_EQ(parse_glue_task(info.directory), task);
    EXPECT_FALSE(info.metrics.empty());
  }
  expect_error([] { parse_glue_task("squad"); }, {"'squad'", "cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli"});
}

TEST(Glue, TaskInfo) {
  using V = std::vector<std::string>;
  EXPECT_EQ(glue_task_info(GlueTask::cola).directory, "CoLA");
  EXPECT_EQ(glue_task_info(GlueTask::cola).metrics, V{"mcc"});
  EXPECT_FALSE(glue_task_info(GlueTask::cola).pair);
  EXPECT_FALSE(glue_task_info(GlueTask::sst2).pair);
  EXPECT_EQ(glue_task_info(GlueTask::sst2).directory, "SST-2");
  EXPECT_EQ(glue_task_info(GlueTask::mrpc).metrics, (V{"accuracy", "f1"}));
  EXPECT_EQ(glue_task_info(GlueTask::qqp).metrics, (V{"accuracy", "f1"}));
  EXPECT_TRUE(glue_task_info(GlueTask::stsb).labels.empty());
  EXPECT_EQ(glue_task_info(GlueTask::stsb).metrics, (V{"spearman", "pearson"}));
  EXPECT_EQ(glue_task_info(GlueTask::stsb).directory, "STS-B");
  EXPECT_EQ(glue_task_info(GlueTask::mnli).labels, (V{"contradiction", "entailment", "neutral"}));
  EXPECT_EQ(glue_task_info(GlueTask::qnli).labels, (V{"entailment", "not_entailment"}));
  EXPECT_EQ(glue_task_info(GlueTask::rte).labels, (V{"entailment", "not_entailment"}));
  EXPECT_EQ(glue_task_info(GlueTask::wnli).labels, (V{"0", "1"}));
  EXPECT_TRUE(glue_task_info(GlueTask::wnli).pair);
  EXPECT_EQ(glue_task_info(GlueTask::rte).metrics, V{"accuracy"});
}

TEST(Glue, FileNames) {
  EXPECT_EQ(glue_file_name(GlueTask::rte, "train"), "train.tsv");
  EXPECT_EQ(glue_file_name(GlueTask::rte, "dev"), "dev.tsv");
  EXPECT_EQ(glue_file_name(GlueTask::rte, "test"), "test.tsv");
  EXPECT_EQ(glue_file_name(GlueTask::mnli, "train"), "train.tsv");
  EXPECT_EQ(glue_file_name(GlueTask::mnli, "dev"), "dev_matched.tsv");
  EXPECT_EQ(glue_file_name(GlueTask::mnli, "dev_mismatched"), "dev_mismatched.tsv");
  EXPECT_EQ(glue_file_name(GlueTask::mnli, "test"), "test_matched.tsv");
  EXPECT_EQ(glue_file_name(GlueTask::mnli, "test_mismatched"), "test_mismatched.tsv");
  expect_error([] { glue_file_name(GlueTask::rte, "dev_mismatched"); }, {"'dev_mismatched'", "rte"});
  expect_error([] { glue_file_name(GlueTask::mnli, "validation"); }, {"'validation'", "dev_mismatched"});
}

TEST(Glue, ReadsEachLayout) {
  TempDir dir;
  // CoLA: no header; the sentence is the 4th column.
  const auto cola = write_file(dir, "cola.tsv", "gj04\t1\t\tThe sailors rode.\ngj04\t0\t*\tRode sailors the.\n");
  auto rows = read_glue(GlueTask::cola, cola, true);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].text_a, "Rode sailors the.");
  EXPECT_EQ(rows[1].label, "0");
  EXPECT_EQ(rows[1].id, "1");
  EXPECT_FALSE(rows[1].text_b.has_value());
  // MRPC: BOM, literal quotes.
  const auto mrpc = write_file(dir, "mrpc.tsv",
                               "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
                               "1\t11\t12\tHe said \" so .\t\" So .\n");
  rows = read_glue(GlueTask::mrpc, mrpc, true);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].text_a, "He said \" so .");
  EXPECT_EQ(rows[0].text_b, "\" So .");
  EXPECT_EQ(rows[0].label, "1");
  // MNLI: gold_label is the last of many columns.
  const auto mnli = write_file(dir, "mnli.tsv",
                               "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
                               "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n"
                               "0\t1\t1e\tgov\t(a)\t(b)\t(A)\t(B)\tPremise .\tHypothesis .\tneutral\tneutral\n");
  rows = read_glue(GlueTask::mnli, mnli, true);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].text_a, "Premise .");
  EXPECT_EQ(rows[0].text_b, "Hypothesis .");
  EXPECT_EQ(rows[0].label, "neutral");
  EXPECT_EQ(rows[0].id, "0");
}

TEST(Glue, TestFilesUseTheIndexColumn) {
  TempDir dir;
  const auto cola = write_file(dir, "cola_test.tsv", "index\tsentence\n0\tOne.\n1\tTwo.\n");
  auto rows = read_glue(GlueTask::cola, cola, false);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].id, "1");
  EXPECT_EQ(rows[1].text_a, "Two.");
  EXPECT_FALSE(rows[1].label.has_value());
  const auto rte = write_file(dir, "rte_test.tsv", "index\tsentence1\tsentence2\n17\tA.\tB.\n");
  rows = read_glue(GlueTask::rte, rte, false);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, "17");
  EXPECT_EQ(rows[0].text_b, "B.");
  const auto qqp = write_file(dir, "qqp_test.tsv", "id\tquestion1\tquestion2\n5\tWhy?\tHow?\n");
  rows = read_glue(GlueTask::qqp, qqp, false);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, "5");
  EXPECT_EQ(rows[0].text_a, "Why?");
}

TEST(Glue, LabelsMustBeInTheTaskSet) {
  TempDir dir;
  const auto rte = write_file(dir, "rte.tsv", "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\tentailment\n1\tA.\tB.\tyes\n");
  expect_error([&] { read_glue(GlueTask::rte, rte, true); },
               {rte + ":3:", "unknown label 'yes' for rte", "entailment, not_entailment"});
  const auto stsb_header = std::string("index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n");
  const auto ok = write_file(dir, "ok.tsv", stsb_header + "0\tg\tf\ty\t0\tn\tn\tA.\tB.\t5.000\n1\tg\tf\ty\t1\tn\tn\tC.\tD.\t0\n");
  const auto rows = read_glue(GlueTask::stsb, ok, true);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].label, "5.000");
  EXPECT_EQ(rows[1].text_b, "D.");
  for (const std::string bad : {"5.1", "-0.5", "x", "1.5x", "nan"}) {
    const auto path = write_file(dir, "bad.tsv", stsb_header + "0\tg\tf\ty\t0\tn\tn\tA.\tB.\t" + bad + "\n");
    expect_error([&] { read_glue(GlueTask::stsb, path, true); }, {path + ":2:", "'" + bad + "'", "[0, 5]"});
  }
}

TEST(Glue, QqpSkipsAndCountsShortRowsOthersFail) {
  TempDir dir;
  const auto qqp = write_file(dir, "qqp.tsv",
                              "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
                              "0\t1\t2\tWhy?\tWhy not?\t0\n"
                              "1\t3\t4\tHow is\n"  // a question broken by a newline
                              "it done?\tHow?\t1\n"
                              "2\t5\t6\tWho?\tWhom?\t1\n");
  std::size_t skipped = 99;
  const auto rows = read_glue(GlueTask::qqp, qqp, true, &skipped);
  EXPECT_EQ(skipped, 2u);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].id, "2");
  EXPECT_EQ(rows[1].line, 5u);
  const auto rte = write_file(dir, "rte.tsv", "index\tsentence1\tsentence2\tlabel\n0\tA.\tentailment\n");
  expect_error([&] { read_glue(GlueTask::rte, rte, true, &skipped); }, {rte + ":2:", "cells"});
}

// ---------------------------------------------------------------- CoNLL

TEST(Conll, ReadsSentences) {
  TempDir dir;
  const auto path = write_file(dir, "a.txt",
                               "\xEF\xBB\xBF-DOCSTART- -X- O\r\n"
                               "\r\n"
                               "Confidence NN B-NP\r\n"
                               "in\tIN   B-PP\n"
                               "\n\n"
                               "  \n"
                               "Rockwell NNP B-NP\n"
                               ". . O");  // no final newline
  const auto sentences = read_conll(path);
  ASSERT_EQ(sentences.size(), 2u);
  EXPECT_EQ(sentences[0].words, (std::vector<std::string>{"Confidence", "in"}));
  EXPECT_EQ(sentences[0].tags, (std::vector<std::string>{"B-NP", "B-PP"}));
  EXPECT_EQ(sentences[0].line, 3u);
  EXPECT_EQ(sentences[1].words, (std::vector<std::string>{"Rockwell", "."}));
  EXPECT_EQ(sentences[1].tags, (std::vector<std::string>{"B-NP", "O"}));
  EXPECT_EQ(sentences[1].line, 8u);

  ConllOptions pos;
  pos.tag_column = 1;
  EXPECT_EQ(read_conll(path, pos)[0].tags, (std::vector<std::string>{"NN", "IN"}));
  ConllOptions from_end;
  from_end.word_column = -3;
  from_end.tag_column = -2;
  EXPECT_EQ(read_conll(path, from_end)[1].words, (std::vector<std::string>{"Rockwell", "."}));
  EXPECT_EQ(read_conll(path, from_end)[1].tags, (std::vector<std::string>{"NNP", "."}));
}

TEST(Conll, WordsOnlyFiles) {
  TempDir dir;
  const auto words = write_file(dir, "w.txt", "The\ndog\n\nbarks\n");
  ConllOptions untagged;
  untagged.require_tags = false;
  const auto sentences = read_conll(words, untagged);
  ASSERT_EQ(sentences.size(), 2u);
  EXPECT_EQ(sentences[0].words, (std::vector<std::string>{"The", "dog"}));
  EXPECT_TRUE(sentences[0].tags.empty());
  expect_error([&] { read_conll(words); }, {words + ":1:", "1 column"});
  // Tags present are kept even when not required.
  const auto tagged = write_file(dir, "t.txt", "The B-NP\n");
  EXPECT_EQ(read_conll(tagged, untagged)[0].tags, (std::vector<std::string>{"B-NP"}));
  const auto mixed = write_file(dir, "m.txt", "The B-NP\ndog\n");
  expect_error([&] { read_conll(mixed, untagged); }, {mixed + ":2:", "line 1"});
}

TEST(Conll, Errors) {
  TempDir dir;
  const auto few = write_file(dir, "few.txt", "a DT B-NP\nb B-NP\n");
  ConllOptions pos;
  pos.tag_column = 2;
  expect_error([&] { read_conll(few, pos); }, {few + ":2:", "2 column(s)"});
  const auto bad = write_file(dir, "bad.txt", "a B-NP\n\nb\xE2\x82 O\n");
  expect_error([&] { read_conll(bad); }, {bad + ":3:", "UTF-8"});
  const auto empty = write_file(dir, "empty.txt", "\n\n-DOCSTART- -X- O\n\n");
  expect_error([&] { read_conll(empty); }, {empty, "no sentence"});
  expect_error([&] { read_conll(dir.file("missing.txt")); }, {dir.file("missing.txt"), "cannot open"});
}

TEST(Conll, CollectTagsIsSortedAndUnique) {
  std::vector<TaggedSentence> sentences(2);
  sentences[0].tags = {"I-NP", "B-NP", "O"};
  sentences[1].tags = {"B-VP", "B-NP"};
  EXPECT_EQ(collect_tags(sentences), (std::vector<std::string>{"B-NP", "B-VP", "I-NP", "O"}));
  EXPECT_TRUE(collect_tags({}).empty());
}

// ---------------------------------------------------------------- first-wordpiece encoding

// [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4 the=5 dog=6 run=7 ##ning=8 ##s=9 un=10 ##believ=11 ##able=12 .=13
WordPieceTokenizer toy_tokenizer() {
  return WordPieceTokenizer(Vocab({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "dog", "run", "##ning",
                                   "##s", "un", "##believ", "##able", "."}));
}

TaggedSentence sentence(std::vector<std::string> words) {
  TaggedSentence s;
  s.words = std::move(words);
  return s;
}

using Ids = std::vector<std::int32_t>;
using Labels = std::vector<std::int64_t>;

TEST(EncodeTagged, LabelsTheFirstWordpieceOnly) {
  const auto tokenizer = toy_tokenizer();
  // "Unbelievable" lowercases to un ##believ ##able; "dogs." splits into dog ##s .
  const auto f = encode_tagged_sentence(tokenizer, sentence({"The", "Unbelievable", "dogs.", "running"}), {7, 8, 9, 10}, 128);
  EXPECT_EQ(f.input_ids, (Ids{2, 5, 10, 11, 12, 6, 9, 13, 7, 8, 3}));
  EXPECT_EQ(f.labels, (Labels{-100, 7, 8, -100, -100, 9, -100, -100, 10, -100, -100}));
  EXPECT_EQ(f.word_index, (Ids{-1, 0, 1, -1, -1, 2, -1, -1, 3, -1, -1}));
  EXPECT_EQ(f.word_count, 4u);
}

TEST(EncodeTagged, UnlabelledAndEmptyWords) {
  const auto tokenizer = toy_tokenizer();
  // "cat" is not in the vocabulary ([UNK]); a zero-width space tokenizes to nothing and
  // is given [UNK] so that the word keeps its prediction slot.
  const auto f = encode_tagged_sentence(tokenizer, sentence({"cat", "\xE2\x80\x8B", "the"}), {}, 16);
  EXPECT_EQ(f.input_ids, (Ids{2, 1, 1, 5, 3}));
  EXPECT_EQ(f.labels, (Labels{-100, 0, 0, 0, -100}));
  EXPECT_EQ(f.word_index, (Ids{-1, 0, 1, 2, -1}));
  EXPECT_EQ(f.word_count, 3u);
  const auto none = encode_tagged_sentence(tokenizer, sentence({}), {}, 16);
  EXPECT_EQ(none.input_ids, (Ids{2, 3}));
  EXPECT_EQ(none.word_count, 0u);
}

TEST(EncodeTagged, Truncation) {
  const auto tokenizer = toy_tokenizer();
  const auto s = sentence({"the", "unbelievable", "dog"});
  const Labels tags = {1, 2, 3};
  // Room for 3 pieces: "the", "un", "##believ": the second word keeps its label.
  auto f = encode_tagged_sentence(tokenizer, s, tags, 5);
  EXPECT_EQ(f.input_ids, (Ids{2, 5, 10, 11, 3}));
  EXPECT_EQ(f.labels, (Labels{-100, 1, 2, -100, -100}));
  EXPECT_EQ(f.word_count, 2u);
  // Exactly the length of the first two words: the third word is dropped.
  f = encode_tagged_sentence(tokenizer, s, tags, 6);
  EXPECT_EQ(f.input_ids, (Ids{2, 5, 10, 11, 12, 3}));
  EXPECT_EQ(f.word_count, 2u);
  f = encode_tagged_sentence(tokenizer, s, tags, 7);
  EXPECT_EQ(f.input_ids, (Ids{2, 5, 10, 11, 12, 6, 3}));
  EXPECT_EQ(f.labels.back() , -100);
  EXPECT_EQ(f.labels[5], 3);
  EXPECT_EQ(f.word_count, 3u);
  f = encode_tagged_sentence(tokenizer, s, tags, 2);
  EXPECT_EQ(f.input_ids, (Ids{2, 3}));
  EXPECT_EQ(f.word_count, 0u);
  expect_error([&] { encode_tagged_sentence(tokenizer, s, tags, 1); }, {"max_length 1"});
  expect_error([&] { encode_tagged_sentence(tokenizer, s, {1, 2}, 16); }, {"2 tag ids for 3 words"});
}

// ---------------------------------------------------------------- real data

std::string data_dir() {
  const char* dir = std::getenv("ELECTRA_DATA_DIR");
  return dir ? dir : "";
}

#define REQUIRE_DATA_DIR() \
  if (data_dir().empty()) GTEST_SKIP() << "ELECTRA_DATA_DIR is not set"

std::string glue_dev(GlueTask task) {
  return data_dir() + "/glue/" + glue_task_info(task).directory + "/" + glue_file_name(task, "dev");
}

TEST(RealGlue, DevCountsAndFirstExamples) {
  REQUIRE_DATA_DIR();
  const std::map<GlueTask, std::size_t> counts = {
      {GlueTask::cola, 1043}, {GlueTask::sst2, 872}, {GlueTask::mrpc, 408}, {GlueTask::stsb, 1500},
      {GlueTask::rte, 277},   {GlueTask::wnli, 71},  {GlueTask::qnli, 5463}};
  std::map<GlueTask, std::vector<TextExample>> dev;
  for (const auto& [task, count] : counts) {
    dev[task] = read_glue(task, glue_dev(task), true);
    EXPECT_EQ(dev[task].size(), count) << glue_task_info(task).name;
    for (const auto& e : dev[task]) {
      ASSERT_TRUE(e.label.has_value());
      EXPECT_EQ(e.text_b.has_value(), glue_task_info(task).pair);
    }
  }
  const auto& cola = dev[GlueTask::cola];
  EXPECT_EQ(cola[0].text_a, "The sailors rode the breeze clear of the rocks.");
  EXPECT_EQ(cola[0].label, "1");
  EXPECT_EQ(cola[0].line, 1u);
  EXPECT_EQ(cola.back().text_a, "John talked to Bill about himself.");  // the file has no final newline
  EXPECT_EQ(cola.back().id, "1042");
  std::size_t unacceptable = 0;
  for (const auto& e : cola) unacceptable += *e.label == "0";
  EXPECT_EQ(unacceptable, 322u);  // cut -f2 CoLA/dev.tsv | sort | uniq -c

  EXPECT_EQ(dev[GlueTask::sst2][0].text_a, "it 's a charming and often affecting journey . ");
  EXPECT_EQ(dev[GlueTask::sst2][0].label, "1");

  const auto& mrpc = dev[GlueTask::mrpc][0];
  EXPECT_EQ(mrpc.text_a, "He said the foodservice pie business doesn 't fit the company 's long-term growth strategy .");
  EXPECT_EQ(mrpc.text_b, "\" The foodservice pie business does not fit our long-term growth strategy .");
  EXPECT_EQ(mrpc.label, "1");
  EXPECT_EQ(mrpc.line, 2u);

  const auto& stsb = dev[GlueTask::stsb];
  EXPECT_EQ(stsb[0].text_a, "A man with a hard hat is dancing.");
  EXPECT_EQ(stsb[0].text_b, "A man wearing a hard hat is dancing.");
  EXPECT_EQ(stsb[0].label, "5.000");
  EXPECT_EQ(stsb[1].label, "4.750");
  EXPECT_EQ(stsb.back().id, "1499");
  EXPECT_EQ(stsb.back().label, "0");

  const auto& rte = dev[GlueTask::rte];
  EXPECT_EQ(rte[0].id, "0");
  EXPECT_EQ(rte[0].text_b, "Christopher Reeve had an accident.");
  EXPECT_EQ(rte[0].label, "not_entailment");
  EXPECT_EQ(rte.back().id, "276");  // quotes in RTE are text: no row swallowed another

  EXPECT_EQ(dev[GlueTask::wnli][0].text_a, "The drain is clogged with hair. It has to be cleaned.");
  EXPECT_EQ(dev[GlueTask::wnli][0].label, "0");

  const auto& qnli = dev[GlueTask::qnli];
  EXPECT_EQ(qnli[0].text_a, "What came into force after the new constitution was herald?");
  EXPECT_EQ(qnli[0].label, "entailment");
  EXPECT_EQ(qnli[1].label, "not_entailment");
  EXPECT_EQ(qnli.back().id, "5462");
}

TEST(RealGlue, TrainCounts) {
  REQUIRE_DATA_DIR();
  const std::map<GlueTask, std::size_t> counts = {{GlueTask::cola, 8551}, {GlueTask::sst2, 67349},
                                                  {GlueTask::mrpc, 3668}, {GlueTask::stsb, 5749},
                                                  {GlueTask::rte, 2490},  {GlueTask::wnli, 635}};
  for (const auto& [task, count] : counts) {
    const auto path = data_dir() + "/glue/" + glue_task_info(task).directory + "/train.tsv";
    EXPECT_EQ(read_glue(task, path, true).size(), count) << path;
  }
}

TEST(RealConll, CountsAndTagSet) {
  REQUIRE_DATA_DIR();
  const auto train = read_conll(data_dir() + "/conll2000/train.txt");
  const auto test = read_conll(data_dir() + "/conll2000/test.txt");
  EXPECT_EQ(train.size(), 8936u);
  EXPECT_EQ(test.size(), 2012u);
  std::size_t words = 0;
  for (const auto& s : train) {
    ASSERT_EQ(s.words.size(), s.tags.size());
    words += s.words.size();
  }
  EXPECT_EQ(words, 211727u);  // awk 'NF' train.txt | wc -l
  EXPECT_EQ(train[0].words[0], "Confidence");
  EXPECT_EQ(train[0].tags[0], "B-NP");
  EXPECT_EQ(train[0].tags[1], "B-PP");
  EXPECT_EQ(train[1].line, train[0].line + train[0].words.size() + 1);
  const std::vector<std::string> tags = {"B-ADJP", "B-ADVP", "B-CONJP", "B-INTJ", "B-LST", "B-NP", "B-PP", "B-PRT",
                                         "B-SBAR", "B-UCP", "B-VP", "I-ADJP", "I-ADVP", "I-CONJP", "I-INTJ", "I-NP",
                                         "I-PP", "I-PRT", "I-SBAR", "I-UCP", "I-VP", "O"};
  EXPECT_EQ(collect_tags(train), tags);
  EXPECT_EQ(collect_tags(test).size(), 19u);
}

TEST(RealConll, EveryWordOfEverySentenceKeepsOneLabel) {
  REQUIRE_DATA_DIR();
  const auto tokenizer = WordPieceTokenizer::from_vocab_file(data_dir() + "/vocab/bert-base-uncased-vocab.txt");
  const auto sentences = read_conll(data_dir() + "/conll2000/test.txt");
  std::size_t truncated = 0;
  for (const auto& s : sentences) {
    const std::vector<std::int64_t> ids(s.words.size(), 1);
    const auto f = encode_tagged_sentence(tokenizer, s, ids, 64);
    ASSERT_LE(f.input_ids.size(), 64u);
    ASSERT_EQ(f.input_ids.front(), tokenizer.cls_id());
    ASSERT_EQ(f.input_ids.back(), tokenizer.sep_id());
    std::size_t labelled = 0;
    for (std::size_t i = 0; i < f.labels.size(); ++i) {
      if (f.labels[i] == -100) continue;
      ASSERT_EQ(f.word_index[i], static_cast<std::int32_t>(labelled)) << "sentence at line " << s.line;
      ++labelled;
    }
    ASSERT_EQ(labelled, f.word_count);
    if (f.word_count < s.words.size()) {
      ++truncated;
      EXPECT_EQ(f.input_ids.size(), 64u);
    }
  }
  EXPECT_GT(truncated, 0u);  // some CoNLL sentences are longer than 62 pieces
  EXPECT_LT(truncated, sentences.size() / 10);
}

}  // namespace
}  // namespace electra
