#include "io/model_card.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace electra {
namespace {

// What config.json's architecture is, for people and for the Hub. A discriminator gets no
// pipeline_tag: no transformers pipeline runs replaced-token detection.
struct Architecture {
  const char* name;
  const char* title;
  const char* what;  // completes "An ... "
  const char* pipeline_tag;
  const char* auto_class;
};
constexpr Architecture kArchitectures[] = {
    {"ElectraForPreTraining", "ELECTRA discriminator", "ELECTRA discriminator (replaced-token detection head)", "",
     "AutoModelForPreTraining"},
    {"ElectraForMaskedLM", "ELECTRA generator", "ELECTRA generator (masked-language-model head)", "fill-mask",
     "AutoModelForMaskedLM"},
    {"ElectraForSequenceClassification", "ELECTRA for sequence classification",
     "ELECTRA model with a sequence-classification head", "text-classification", "AutoModelForSequenceClassification"},
    {"ElectraForTokenClassification", "ELECTRA for token classification",
     "ELECTRA model with a token-classification head", "token-classification", "AutoModelForTokenClassification"},
    {"ElectraForQuestionAnswering", "ELECTRA for question answering",
     "ELECTRA model with a span-extraction (question-answering) head", "question-answering",
     "AutoModelForQuestionAnswering"},
    {"ElectraModel", "ELECTRA encoder", "ELECTRA encoder without a head", "feature-extraction", "AutoModel"},
};
constexpr Architecture kUnknownArchitecture = {"", "ELECTRA model", "ELECTRA model", "", "AutoModel"};

const Architecture& architecture(const std::string& name) {
  for (const auto& a : kArchitectures) {
    if (name == a.name) return a;
  }
  return kUnknownArchitecture;
}

// A YAML scalar: plain when it cannot be read as anything but this string, else double-quoted.
std::string yaml(const std::string& value) {
  std::string lower = value;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  const bool plain_chars = !value.empty() && std::all_of(value.begin(), value.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '/' || c == '-';
  });
  const bool other_type = std::isdigit(static_cast<unsigned char>(value[0])) || value[0] == '-' || value[0] == '.' ||
                          lower == "true" || lower == "false" || lower == "null" || lower == "yes" || lower == "no" ||
                          lower == "on" || lower == "off";
  if (plain_chars && !other_type) return value;
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += escape;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Inside a Markdown table cell or inline code: no line breaks, pipes or backticks to break it.
std::string cell(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
    if (c == '`') c = '\'';
  }
  std::string out;
  for (const char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char text[64];
  std::snprintf(text, sizeof text, "%.4f", v);
  std::string s = text;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string duration(double seconds) {
  const auto total = static_cast<long long>(std::llround(seconds));
  char text[64];
  if (total < 60) {
    std::snprintf(text, sizeof text, "%lld s", total);
  } else if (total < 3600) {
    std::snprintf(text, sizeof text, "%lld min %02lld s", total / 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%lld h %02lld min", total / 3600, total % 3600 / 60);
  }
  return text;
}

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}

void metadata(std::ostringstream& out, const ModelCard& card, const Architecture& arch) {
  out << "---\n";
  if (!card.language.empty()) out << "language: " << yaml(card.language) << "\n";
  if (!card.license.empty()) out << "license: " << yaml(card.license) << "\n";
  out << "library_name: transformers\n";
  std::vector<std::string> tags = {"electra", "libelectra"};
  for (const auto& tag : card.tags) {
    if (!tag.empty() && std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
  }
  out << "tags:\n";
  for (const auto& tag : tags) out << "- " << yaml(tag) << "\n";
  if (!card.datasets.empty()) {
    out << "datasets:\n";
    for (const auto& d : card.datasets) out << "- " << yaml(d) << "\n";
  }
  if (*arch.pipeline_tag) out << "pipeline_tag: " << arch.pipeline_tag << "\n";
  out << "---\n\n";
}

}  // namespace

std::string render_model_card(const ModelCard& card) {
  const Architecture& arch = architecture(card.architecture);
  std::ostringstream out;
  metadata(out, card, arch);
  out << "# " << arch.title << "\n\n";

  const std::string from = card.base_model.empty() ? "" : " from `" + cell(card.base_model) + "`";
  switch (card.origin) {
    case ModelOrigin::pretrained:
      out << "An " << arch.what << ", pre-trained with libelectra"
          << (card.base_model.empty() ? " from random initialisation" : ", continuing" + from);
      break;
    case ModelOrigin::finetuned:
      out << "An " << arch.what << ", fine-tuned with libelectra"
          << (card.base_model.empty() ? " from random initialisation" : from);
      break;
    case ModelOrigin::converted:
      out << "An " << arch.what << ", converted by libelectra's electra-convert" << from
          << (card.source_format.empty() ? "" : " (" + card.source_format + ")")
          << ". The weights are the source's; no training was done here";
      break;
  }
  if (!card.data.empty() && card.origin != ModelOrigin::converted) out << " on " << card.data;
  out << ".\n\n";

  std::vector<std::string> training;
  if (card.epochs > 0) training.push_back(number(card.epochs) + (card.epochs == 1 ? " epoch" : " epochs"));
  if (card.steps > 0) training.push_back(std::to_string(card.steps) + (card.steps == 1 ? " optimizer step" : " optimizer steps"));
  if (card.seconds > 0) training.push_back(duration(card.seconds));
  if (!training.empty()) {
    out << "Training: ";
    for (std::size_t i = 0; i < training.size(); ++i) out << (i ? ", " : "") << training[i];
    out << ".\n\n";
  }

  if (!card.results.empty()) {
    out << "## Results\n\nFinal numbers on " << card.results_split << ":\n\n| metric | value |\n|---|---:|\n";
    for (const auto& [name, value] : card.results) out << "| " << cell(name) << " | " << number(value) << " |\n";
    out << "\n";
  } else if (card.origin != ModelOrigin::converted) {
    out << "No held-out numbers: the run had no " << card.results_split << ".\n\n";
  }

  out << "## Usage\n\n```python\nfrom transformers import AutoTokenizer, " << arch.auto_class << "\n\n"
      << "tokenizer = AutoTokenizer.from_pretrained(\"path/to/this/folder\")\n"
      << "model = " << arch.auto_class << ".from_pretrained(\"path/to/this/folder\")\n```\n";

  std::vector<std::string> notes = card.notes;
  if (card.license.empty()) notes.push_back("The licence is the source checkpoint's; its folder did not state one.");
  if (!notes.empty()) {
    out << "\n## Notes\n\n";
    for (const auto& note : notes) out << "- " << note << "\n";
  }
  return out.str();
}

std::map<std::string, std::string> card_metadata(const std::string& readme) {
  std::map<std::string, std::string> values;
  std::istringstream in(readme);
  std::string line;
  if (!std::getline(in, line) || trim(line) != "---") return values;
  std::map<std::string, std::string> found;
  while (std::getline(in, line)) {
    if (trim(line) == "---") return found;
    if (line.empty() || line[0] == ' ' || line[0] == '\t' || line[0] == '-' || line[0] == '#') continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = trim(line.substr(colon + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    if (!value.empty()) found[trim(line.substr(0, colon))] = value;
  }
  return values;  // no closing line: not a metadata block
}

}  // namespace electra
