#pragma once
// Sentence and sentence-pair examples from delimited or JSON-lines files: the generic
// reader behind GLUE and behind a user's own classification or regression data.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace electra {

struct TextExample {
  std::string id;                     // the id column, or the 0-based row number when there is none
  std::string text_a;
  std::optional<std::string> text_b;  // absent for single-sentence tasks
  std::optional<std::string> label;   // raw label text; absent in unlabelled files
  std::size_t line = 0;               // 1-based line of the row in its file (for error messages)
};

enum class TableFormat { tsv, csv, jsonl };

// Columns by header name, or by 0-based index written as digits ("3") when the file has
// no header. An empty name means "not used".
struct TableColumns {
  std::string text_a;
  std::string text_b;
  std::string label;
  std::string id;
};

struct TableOptions {
  TableFormat format = TableFormat::tsv;
  bool header = true;        // first row names the columns (ignored for jsonl: keys are names)
  bool quoting = false;      // honour "..." quoting with "" escapes (GLUE TSVs are unquoted; CSV is quoted)
  bool require_label = true; // a row without a label cell is an error; false for test files
  TableColumns columns;
};

// TableFormat from "tsv" | "csv" | "jsonl"; throws electra::Error naming the value otherwise.
TableFormat parse_table_format(const std::string& name);
std::string to_string(TableFormat format);

// Reads every row. A UTF-8 BOM is skipped, "\r\n" is accepted, empty lines are skipped.
// Errors (electra::Error, "<path>:<line>: ...") for a missing file, a missing column
// name in the header, a row with too few cells, malformed JSON, a missing or non-string
// (non-number for labels) JSON field, and invalid UTF-8 in a text cell.
std::vector<TextExample> read_table(const std::string& path, const TableOptions& options);

}  // namespace electra
