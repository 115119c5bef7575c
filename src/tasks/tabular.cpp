#include "electra/tasks/tabular.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <string_view>

#include "data/corpus_files.h"
#include "electra/util/error.h"
#include "table_reader.h"
#include "util/json_reader.h"

namespace electra {
namespace {

using json = nlohmann::json;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Lines of one file with their 1-based numbers. CorpusLineReader opens the file (naming
// it when it cannot), drops "\r\n" and removes ill-formed UTF-8; here removed bytes are
// an error instead, since silently editing a labelled example would be worse.
class LineSource {
 public:
  explicit LineSource(const std::string& path) : path_(path), reader_({path}) {}

  bool next(std::string& line) {
    if (!reader_.next(line)) return false;
    ++number_;
    if (reader_.stats().invalid_bytes > 0) throw Error(where() + ": invalid UTF-8");
    if (number_ == 1 && line.compare(0, kBom.size(), kBom) == 0) line.erase(0, kBom.size());
    return true;
  }
  std::size_t number() const { return number_; }
  std::string where() const { return path_ + ":" + std::to_string(number_); }

 private:
  std::string path_;
  CorpusLineReader reader_;
  std::size_t number_ = 0;
};

// One delimited record starting at `line`. With quoting, a cell that starts with '"'
// runs to the next lone '"' ("" is a literal quote) and may span lines, which are pulled
// from `source` (joined with "\n"). Without quoting every byte is literal, as GLUE needs.
std::vector<std::string> split_record(LineSource& source, std::string line, char delimiter, bool quoting) {
  std::vector<std::string> cells(1);
  std::size_t i = 0;
  bool cell_start = true;
  while (i < line.size()) {
    const char c = line[i];
    if (c == delimiter) {
      cells.emplace_back();
      cell_start = true;
      ++i;
      continue;
    }
    if (!(quoting && cell_start && c == '"')) {
      cells.back() += c;
      cell_start = false;
      ++i;
      continue;
    }
    const std::string opened_at = source.where();
    ++i;
    while (true) {
      if (i == line.size()) {
        if (!source.next(line)) throw Error(opened_at + ": quoted cell is never closed");
        cells.back() += '\n';
        i = 0;
      } else if (line[i] != '"') {
        cells.back() += line[i++];
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        i += 2;
      } else {
        ++i;
        break;
      }
    }
    if (i < line.size() && line[i] != delimiter)
      throw Error(source.where() + ": text after a closing quote (write \"\" for a quote inside a quoted cell)");
    cell_start = false;
  }
  return cells;
}

bool is_index(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); });
}

constexpr std::size_t kUnused = static_cast<std::size_t>(-1);

// Column index of `name`: its position in the header, or the digits themselves (also with
// a header, so a column can be picked by position, e.g. MNLI's sentence columns 8 and 9).
// kUnused for an empty name, and for a label the header lacks when labels are optional
// (one TableOptions then reads both a labelled train file and an unlabelled test file).
std::size_t find_column(const std::string& name, const std::vector<std::string>* header, const std::string& where,
                        bool optional = false) {
  if (name.empty()) return kUnused;
  if (header) {
    const auto it = std::find(header->begin(), header->end(), name);
    if (it != header->end()) return static_cast<std::size_t>(it - header->begin());
  }
  if (is_index(name)) return std::stoul(name);
  if (optional) return kUnused;
  if (!header) throw Error(where + ": the file has no header, so column '" + name + "' must be a 0-based index");
  std::string names;
  for (const auto& h : *header) names += (names.empty() ? "'" : ", '") + h + "'";
  throw Error(where + ": no column '" + name + "' in the header (columns: " + names + ")");
}

struct ColumnIndex {
  std::size_t text_a, text_b, label, id;
  std::size_t cells_needed = 0;  // rows with fewer cells are malformed
  const char* needed_by = "";    // the column that needs that many (for the message)
};

std::vector<TextExample> read_delimited(const std::string& path, const TableOptions& options, std::size_t* skipped) {
  const char delimiter = options.format == TableFormat::csv ? ',' : '\t';
  LineSource source(path);
  std::vector<TextExample> examples;
  std::optional<std::vector<std::string>> header;
  std::optional<ColumnIndex> columns;
  // Columns are looked up once: in the header (errors name its line), or as indices.
  const auto resolve_columns = [&](const std::string& where) {
    const auto* names = header ? &*header : nullptr;
    const TableColumns& c = options.columns;
    columns = ColumnIndex{find_column(c.text_a, names, where), find_column(c.text_b, names, where),
                          find_column(c.label, names, where, !options.require_label), find_column(c.id, names, where)};
    // A missing label cell is fine when labels are optional (an unlabelled row).
    const std::pair<std::size_t, const char*> required[] = {
        {columns->text_a, "text_a"}, {columns->text_b, "text_b"}, {columns->id, "id"},
        {options.require_label ? columns->label : kUnused, "label"}};
    for (const auto& [index, name] : required) {
      if (index != kUnused && index + 1 > columns->cells_needed) {
        columns->cells_needed = index + 1;
        columns->needed_by = name;
      }
    }
  };
  if (!options.header) resolve_columns(path);
  std::size_t row = 0;  // data rows so far: the id when there is no id column
  std::string line;
  while (source.next(line)) {
    if (line.empty()) continue;
    const std::size_t line_number = source.number();
    const std::string where = source.where();
    std::vector<std::string> cells = split_record(source, std::move(line), delimiter, options.quoting);
    if (!columns) {
      header = std::move(cells);
      resolve_columns(where);
      continue;
    }
    const std::size_t row_number = row++;
    if (cells.size() < columns->cells_needed) {
      if (skipped) {
        ++*skipped;
        continue;
      }
      throw Error(where + ": row has " + std::to_string(cells.size()) + " cells, fewer than the " +
                  std::to_string(columns->cells_needed) + " its " + columns->needed_by +
                  " column needs (a missing delimiter?)");
    }
    TextExample example;
    example.line = line_number;
    example.id = columns->id != kUnused ? cells[columns->id] : std::to_string(row_number);
    example.text_a = cells[columns->text_a];
    if (columns->text_b != kUnused) example.text_b = cells[columns->text_b];
    if (columns->label != kUnused && columns->label < cells.size() && !cells[columns->label].empty())
      example.label = cells[columns->label];
    if (options.require_label && !example.label) throw Error(where + ": the label cell is empty");
    examples.push_back(std::move(example));
  }
  return examples;
}

std::string json_text(const json& row, const std::string& key, const std::string& where) {
  const auto it = row.find(key);
  if (it == row.end()) throw Error(where + ": missing field \"" + key + "\"");
  if (!it->is_string()) throw Error(where + ": field \"" + key + "\" is not a string");
  return it->get<std::string>();
}

// Labels and ids may be numbers ({"label": 1}, {"score": 4.5}); they keep their JSON spelling.
std::optional<std::string> json_label(const json& row, const std::string& key, bool required, const std::string& where) {
  const auto it = row.find(key);
  if (it == row.end() || it->is_null()) {
    if (required) throw Error(where + ": missing field \"" + key + "\"");
    return std::nullopt;
  }
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  throw Error(where + ": field \"" + key + "\" must be a string or a number");
}

std::vector<TextExample> read_jsonl(const std::string& path, const TableOptions& options) {
  const TableColumns& c = options.columns;
  LineSource source(path);
  std::vector<TextExample> examples;
  std::string line;
  while (source.next(line)) {
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = source.where();
    const json row = parse_json(line, where);
    if (!row.is_object()) throw Error(where + ": expected a JSON object, one per line");
    TextExample example;
    example.line = source.number();
    example.id = c.id.empty() ? std::to_string(examples.size()) : *json_label(row, c.id, true, where);
    example.text_a = json_text(row, c.text_a, where);
    if (!c.text_b.empty()) example.text_b = json_text(row, c.text_b, where);
    if (!c.label.empty()) example.label = json_label(row, c.label, options.require_label, where);
    examples.push_back(std::move(example));
  }
  return examples;
}

}  // namespace

TableFormat parse_table_format(const std::string& name) {
  if (name == "tsv") return TableFormat::tsv;
  if (name == "csv") return TableFormat::csv;
  if (name == "jsonl") return TableFormat::jsonl;
  throw Error("unknown table format '" + name + "' (expected tsv, csv or jsonl)");
}

std::string to_string(TableFormat format) {
  switch (format) {
    case TableFormat::tsv: return "tsv";
    case TableFormat::csv: return "csv";
    case TableFormat::jsonl: return "jsonl";
  }
  return "?";
}

namespace detail {

std::vector<TextExample> read_table(const std::string& path, const TableOptions& options, std::size_t* skipped) {
  if (options.columns.text_a.empty()) throw Error(path + ": no text_a column given (columns.text_a)");
  if (options.require_label && options.columns.label.empty())
    throw Error(path + ": labels are required but no label column is given (columns.label)");
  if (options.format == TableFormat::jsonl) return read_jsonl(path, options);
  return read_delimited(path, options, skipped);
}

}  // namespace detail

std::vector<TextExample> read_table(const std::string& path, const TableOptions& options) {
  return detail::read_table(path, options, nullptr);
}

}  // namespace electra
