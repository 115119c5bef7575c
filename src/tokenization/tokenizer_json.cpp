#include "tokenization/tokenizer_json.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "electra/util/error.h"
#include "util/files.h"
#include "util/json_reader.h"

namespace fs = std::filesystem;

namespace electra {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// The largest published tokenizer.json files are tens of MB; anything far beyond is a mistake.
constexpr unsigned long long kMaxTokenizerJsonBytes = 256ull << 20;
constexpr const char* kNotBert = "; libelectra reads BERT/ELECTRA WordPiece tokenizers";

// ---------------------------------------------------------------------------------------------
// Writing

// A JSON string. Vocabularies read from files are valid UTF-8; one built in code may not be, and
// the `tokenizers` library would refuse the whole file, so it is refused here.
std::string quoted(const std::string& s) {
  try {
    return json(s).dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::exception&) {
    throw Error("the token \"" + json(s).dump(-1, ' ', true, json::error_handler_t::replace) + "\" is not valid UTF-8");
  }
}

// An object written one member a line with nested values indented, as `tokenizers` writes it.
// The members come already as JSON text: the vocabulary (tens of thousands of members, in id
// order) is assembled directly, since an ordered_json object inserts in linear time per key.
// JSON strings hold no raw line break, so indenting after every '\n' touches layout only.
using Members = std::vector<std::pair<std::string, std::string>>;
std::string object_text(const Members& members) {
  if (members.empty()) return "{}";
  std::string out = "{";
  for (std::size_t i = 0; i < members.size(); ++i) {
    out += i == 0 ? "\n  " : ",\n  ";
    out += quoted(members[i].first);
    out += ": ";
    for (const char c : members[i].second) {
      out += c;
      if (c == '\n') out += "  ";
    }
  }
  return out + "\n}";
}

std::string text_of(const ordered_json& j) { return j.dump(2, ' ', false, json::error_handler_t::strict); }

ordered_json template_piece(const char* kind, const std::string& id, int type_id) {
  ordered_json piece = ordered_json::object();
  piece[kind] = ordered_json{{"id", id}, {"type_id", type_id}};
  return piece;
}

std::string render(const Vocab& vocab, const WordPieceOptions& o) {
  const auto id_of = [&](const std::string& token) {
    const std::int32_t id = vocab.id(token);
    if (id < 0) throw Error("the vocabulary has no \"" + token + "\" token");
    return id;
  };
  // The five special tokens, in id order as `tokenizers` lists them.
  std::vector<std::pair<std::int32_t, std::string>> specials;
  for (const auto* token : {&o.pad_token, &o.unk_token, &o.cls_token, &o.sep_token, &o.mask_token}) {
    specials.emplace_back(id_of(*token), *token);
  }
  std::sort(specials.begin(), specials.end());
  specials.erase(std::unique(specials.begin(), specials.end()), specials.end());
  ordered_json added = ordered_json::array();
  for (const auto& [id, token] : specials) {
    added.push_back({{"id", id}, {"content", token}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  }

  // strip_accents null: accents are stripped exactly when lowercasing, as WordPieceTokenizer does.
  const ordered_json normalizer = {{"type", "BertNormalizer"}, {"clean_text", true},
                                   {"handle_chinese_chars", o.tokenize_cjk}, {"strip_accents", nullptr},
                                   {"lowercase", o.lowercase}};
  const ordered_json single = ordered_json::array({template_piece("SpecialToken", o.cls_token, 0),
                                                   template_piece("Sequence", "A", 0),
                                                   template_piece("SpecialToken", o.sep_token, 0)});
  ordered_json pair = single;
  pair.push_back(template_piece("Sequence", "B", 1));
  pair.push_back(template_piece("SpecialToken", o.sep_token, 1));
  ordered_json special_tokens = ordered_json::object();
  for (const auto* token : {&o.cls_token, &o.sep_token}) {
    special_tokens[*token] = ordered_json{{"id", *token},
                                          {"ids", ordered_json::array({id_of(*token)})},
                                          {"tokens", ordered_json::array({*token})}};
  }
  const ordered_json post_processor = {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair},
                                       {"special_tokens", special_tokens}};
  const ordered_json decoder = {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}};

  Members entries;
  entries.reserve(vocab.tokens().size());
  for (std::size_t id = 0; id < vocab.tokens().size(); ++id) {
    entries.emplace_back(vocab.tokens()[id], std::to_string(id));
  }
  const Members model = {{"type", "\"WordPiece\""},
                         {"unk_token", quoted(o.unk_token)},
                         {"continuing_subword_prefix", "\"##\""},
                         {"max_input_chars_per_word", std::to_string(o.max_input_chars_per_word)},
                         {"vocab", object_text(entries)}};
  return object_text({{"version", "\"1.0\""},
                      {"truncation", "null"},
                      {"padding", "null"},
                      {"added_tokens", text_of(added)},
                      {"normalizer", text_of(normalizer)},
                      {"pre_tokenizer", text_of(ordered_json{{"type", "BertPreTokenizer"}})},
                      {"post_processor", text_of(post_processor)},
                      {"decoder", text_of(decoder)},
                      {"model", object_text(model)}}) +
         "\n";
}

// ---------------------------------------------------------------------------------------------
// Reading

// A token for a message: at most 40 bytes, cut at a character boundary.
std::string shown(const std::string& token) {
  if (token.size() <= 40) return "\"" + token + "\"";
  std::size_t end = 40;
  while (end > 0 && (static_cast<unsigned char>(token[end]) & 0xC0) == 0x80) --end;
  return "\"" + token.substr(0, end) + "...\"";
}

// The "type" of a component ("null" when the component is null, "?" when it has none).
std::string type_of(const json& component) {
  if (component.is_null()) return "null";
  if (!component.is_object()) return "?";
  const auto it = component.find("type");
  return it != component.end() && it->is_string() ? it->get<std::string>() : "?";
}

class Parser {
 public:
  Parser(const json& doc, std::string source) : doc_(doc), source_(std::move(source)), r_(source_) {}

  TokenizerJson parse() {
    if (!doc_.is_object()) r_.fail("", "expected a JSON object (a tokenizer.json)");
    TokenizerJson out;
    read_model(out);
    read_normalizer(out.options);
    const std::string pre = type_of(r_.member(doc_, "", "pre_tokenizer"));
    if (pre != "BertPreTokenizer") refuse("pre_tokenizer \"" + pre + "\" is not BertPreTokenizer");
    read_post_processor(out);
    read_added_tokens(out);
    return out;
  }

 private:
  [[noreturn]] void refuse(const std::string& problem) const { throw file_error(source_, problem + kNotBert); }

  void read_model(TokenizerJson& out) {
    const json& model = r_.member(doc_, "", "model");
    const std::string type = r_.string(model, "model", "type");
    if (type != "WordPiece") refuse("model type \"" + type + "\" is not WordPiece");
    const std::string prefix = r_.string(model, "model", "continuing_subword_prefix");
    if (prefix != "##") refuse("model continuing_subword_prefix \"" + prefix + "\" is not \"##\"");
    out.options.unk_token = r_.string(model, "model", "unk_token");
    if (out.options.unk_token.empty()) r_.fail("model", "\"unk_token\" is empty");
    const auto max_chars = r_.u64(model, "model", "max_input_chars_per_word");
    if (max_chars == 0) r_.fail("model", "\"max_input_chars_per_word\" must be at least 1");
    out.options.max_input_chars_per_word = static_cast<std::size_t>(max_chars);

    const json& vocab = r_.member(model, "model", "vocab");
    if (!vocab.is_object()) r_.fail("model", "\"vocab\" must be an object of token: id");
    if (vocab.empty()) r_.fail("model.vocab", "is empty");
    // N distinct ids below N are exactly 0..N-1: no id is missed.
    const std::size_t n = vocab.size();
    std::vector<std::string> tokens(n);
    std::vector<bool> seen(n, false);
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      const std::string& token = it.key();
      if (!it->is_number_unsigned()) r_.fail("model.vocab", "the id of " + shown(token) + " must be a non-negative integer");
      const auto id = it->get<std::uint64_t>();
      if (id >= n) {
        r_.fail("model.vocab", "id " + std::to_string(id) + " of " + shown(token) + " is out of range: the " +
                                   std::to_string(n) + " tokens must have the ids 0.." + std::to_string(n - 1) +
                                   " without gaps");
      }
      if (seen[id]) {
        r_.fail("model.vocab", "id " + std::to_string(id) + " is given to both " + shown(tokens[id]) + " and " +
                                   shown(token));
      }
      if (token.empty()) r_.fail("model.vocab", "id " + std::to_string(id) + " is the empty string");
      // vocab.txt (one token a line) could not hold it, and no WordPiece word contains one.
      if (token.find_first_of("\r\n") != std::string::npos) {
        r_.fail("model.vocab", "the token with id " + std::to_string(id) + " holds a line break");
      }
      seen[id] = true;
      tokens[id] = token;
    }
    out.vocab = Vocab(std::move(tokens));  // distinct and non-empty: checked above
  }

  // BertNormalizer, alone or in a Sequence. Its missing flags take BERT's defaults.
  void read_normalizer(WordPieceOptions& o) {
    const json& normalizer = r_.member(doc_, "", "normalizer");
    const json* bert = nullptr;
    std::string where = "normalizer";
    const std::string type = type_of(normalizer);
    if (type == "BertNormalizer") {
      bert = &normalizer;
    } else if (type == "Sequence") {
      const json& list = r_.array(normalizer, where, "normalizers");
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (type_of(list[i]) != "BertNormalizer") continue;
        if (bert) refuse("normalizer holds more than one BertNormalizer");
        bert = &list[i];
        where = "normalizer.normalizers[" + std::to_string(i) + "]";
      }
    }
    if (!bert) refuse("normalizer \"" + type + "\" is not BertNormalizer");
    const auto flag = [&](const char* key) -> std::optional<bool> {
      const auto it = bert->find(key);
      if (it == bert->end() || it->is_null()) return std::nullopt;
      return r_.boolean(*bert, where, key);
    };
    if (!flag("clean_text").value_or(true)) {
      refuse(where + " clean_text false keeps control characters, which BERT's tokenizer drops");
    }
    o.tokenize_cjk = flag("handle_chinese_chars").value_or(true);
    o.lowercase = flag("lowercase").value_or(true);
    // null: accents are stripped when lowercasing (BERT's rule, and WordPieceTokenizer's only one).
    const auto strip_accents = flag("strip_accents");
    if (strip_accents && *strip_accents != o.lowercase) {
      refuse(where + " strip_accents " + (*strip_accents ? "true" : "false") + " with lowercase " +
             (o.lowercase ? "true" : "false") + ": WordPieceTokenizer strips accents exactly when it lowercases");
    }
  }

  // "[CLS] $A [SEP]" for a TemplateProcessing template ("" for a piece of another kind).
  std::string template_text(const json& pieces, const std::string& where) const {
    if (!pieces.is_array()) r_.fail(where, "expected a list of template pieces");
    std::string text;
    for (const auto& piece : pieces) {
      std::string shown_piece = "?";
      if (piece.is_object() && piece.size() == 1) {
        const std::string& kind = piece.begin().key();
        const json& body = piece.begin().value();
        const auto id = body.is_object() ? body.find("id") : body.end();
        const auto type_id = body.is_object() ? body.find("type_id") : body.end();
        if (id != body.end() && id->is_string() && type_id != body.end() && type_id->is_number_unsigned()) {
          if (kind == "SpecialToken") shown_piece = id->get<std::string>();
          if (kind == "Sequence") shown_piece = "$" + id->get<std::string>();
          const auto t = type_id->get<std::uint64_t>();
          if (t != 0) shown_piece += ":" + std::to_string(t);
        }
      }
      text += (text.empty() ? "" : " ") + shown_piece;
    }
    return text;
  }

  // The token `token` of a post-processor must have the id the vocabulary gives it.
  void check_special_id(const Vocab& vocab, const json& token, const json& id) const {
    if (!token.is_string() || !id.is_number_unsigned()) r_.fail("post_processor", "a special token needs a name and an id");
    const auto name = token.get<std::string>();
    const std::int32_t expected = vocab.id(name);
    if (expected < 0 || id.get<std::uint64_t>() != static_cast<std::uint64_t>(expected)) {
      r_.fail("post_processor", "special token " + shown(name) + " has id " + std::to_string(id.get<std::uint64_t>()) +
                                    (expected < 0 ? " but is not in model.vocab"
                                                  : " but model.vocab gives it " + std::to_string(expected)));
    }
  }

  void read_post_processor(const TokenizerJson& out) const {
    const auto& o = out.options;
    const json& post = r_.member(doc_, "", "post_processor");
    const std::string type = type_of(post);
    if (type == "TemplateProcessing") {
      const std::string single = o.cls_token + " $A " + o.sep_token;
      const std::string pair = single + " $B:1 " + o.sep_token + ":1";
      const std::string got_single = template_text(r_.member(post, "post_processor", "single"), "post_processor.single");
      const std::string got_pair = template_text(r_.member(post, "post_processor", "pair"), "post_processor.pair");
      if (got_single != single) refuse("post_processor template \"" + got_single + "\" is not BERT's \"" + single + "\"");
      if (got_pair != pair) refuse("post_processor template \"" + got_pair + "\" is not BERT's \"" + pair + "\"");
      const json& specials = r_.member(post, "post_processor", "special_tokens");
      if (!specials.is_object()) r_.fail("post_processor", "\"special_tokens\" must be an object");
      for (auto it = specials.begin(); it != specials.end(); ++it) {
        const std::string& name = it.key();
        const json& entry = it.value();
        const json& ids = r_.array(entry, "post_processor.special_tokens", "ids");
        const json& tokens = r_.array(entry, "post_processor.special_tokens", "tokens");
        if (ids.size() != tokens.size()) r_.fail("post_processor.special_tokens", shown(name) + ": ids and tokens differ in length");
        for (std::size_t i = 0; i < ids.size(); ++i) check_special_id(out.vocab, tokens[i], ids[i]);
      }
    } else if (type == "BertProcessing") {  // older files: {"sep": ["[SEP]", 102], "cls": ["[CLS]", 101]}
      for (const auto& [key, token] : {std::pair<const char*, const std::string*>{"cls", &o.cls_token}, {"sep", &o.sep_token}}) {
        const json& entry = r_.array(post, "post_processor", key);
        if (entry.size() != 2) r_.fail("post_processor", std::string("\"") + key + "\" must be [token, id]");
        if (entry[0] != *token) refuse(std::string("post_processor ") + key + " token " + entry[0].dump() + " is not \"" + *token + "\"");
        check_special_id(out.vocab, entry[0], entry[1]);
      }
    } else {
      refuse("post_processor \"" + type + "\" does not add " + o.cls_token + " and " + o.sep_token + " as BERT does");
    }
  }

  // Added tokens are split out of the text before normalization; WordPieceTokenizer does that for
  // its five special tokens only.
  void read_added_tokens(const TokenizerJson& out) const {
    const auto it = doc_.find("added_tokens");
    if (it == doc_.end() || it->is_null()) return;
    if (!it->is_array()) r_.fail("", "\"added_tokens\" must be a list");
    const auto& o = out.options;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const std::string where = "added_tokens[" + std::to_string(i) + "]";
      const json& entry = (*it)[i];
      const std::string content = r_.string(entry, where, "content");
      const auto id = r_.u64(entry, where, "id");
      if (content != o.pad_token && content != o.unk_token && content != o.cls_token && content != o.sep_token &&
          content != o.mask_token) {
        refuse("added token " + shown(content) + " is not one of the special tokens " + o.pad_token + " " + o.unk_token +
               " " + o.cls_token + " " + o.sep_token + " " + o.mask_token);
      }
      const std::int32_t expected = out.vocab.id(content);
      if (expected < 0 || id != static_cast<std::uint64_t>(expected)) {
        r_.fail(where, shown(content) + " has id " + std::to_string(id) +
                           (expected < 0 ? " but is not in model.vocab" : " but model.vocab gives it " + std::to_string(expected)));
      }
    }
  }

  const json& doc_;
  std::string source_;
  JsonReader r_;
};

bool exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

TokenizerJson parse_tokenizer_json(std::string_view text, const std::string& source) {
  const json doc = parse_json(text, source);
  return Parser(doc, source).parse();
}

TokenizerJson read_tokenizer_json(const std::string& path) {
  return parse_tokenizer_json(read_text_file(path, kMaxTokenizerJsonBytes), path);
}

std::string tokenizer_json_text(const Vocab& vocab, const WordPieceOptions& options, const std::string& path) {
  try {
    return render(vocab, options);
  } catch (const Error& e) {
    throw file_error(path, e.what());
  } catch (const json::exception& e) {  // a special token that is not valid UTF-8
    throw file_error(path, e.what());
  }
}

void write_tokenizer_json(const std::string& path, const Vocab& vocab, const WordPieceOptions& options) {
  write_file_atomic(path, tokenizer_json_text(vocab, options, path));
}

Vocab read_vocab_file(const std::string& path) {
  return ends_with(path, ".json") ? read_tokenizer_json(path).vocab : Vocab::from_file(path);
}

WordPieceTokenizer read_tokenizer_dir(const std::string& dir) {
  const std::string vocab_path = (fs::path(dir) / "vocab.txt").string();
  const std::string json_path = (fs::path(dir) / "tokenizer.json").string();
  const std::string config_path = (fs::path(dir) / "tokenizer_config.json").string();
  const bool has_vocab = exists(vocab_path), has_json = exists(json_path);

  std::optional<TokenizerJson> from_json;
  if (has_json) from_json = read_tokenizer_json(json_path);
  WordPieceOptions options = from_json ? from_json->options : WordPieceOptions{};
  if (exists(config_path)) {
    const json config = parse_json(read_text_file(config_path), config_path);
    if (config.is_object() && config.contains("do_lower_case")) {
      if (!config["do_lower_case"].is_boolean()) throw file_error(config_path, "key \"do_lower_case\": expected true or false");
      options.lowercase = config["do_lower_case"].get<bool>();
    }
  }
  // Neither file: vocab.txt's reader says what is missing.
  if (!from_json || has_vocab) {
    Vocab vocab = Vocab::from_file(vocab_path);
    if (from_json && vocab.tokens() != from_json->vocab.tokens()) {
      const auto& a = vocab.tokens();
      const auto& b = from_json->vocab.tokens();
      std::size_t i = 0;
      while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
      const std::string difference =
          i < a.size() && i < b.size()
              ? "at id " + std::to_string(i) + " vocab.txt has " + shown(a[i]) + " and tokenizer.json " + shown(b[i])
              : "vocab.txt has " + std::to_string(a.size()) + " tokens and tokenizer.json " + std::to_string(b.size());
      throw file_error(json_path, "its vocabulary differs from vocab.txt beside it (" + difference +
                                      "): remove the stale one, or write both from the same vocabulary");
    }
    try {
      return WordPieceTokenizer(std::move(vocab), options);
    } catch (const Error& e) {
      throw file_error(vocab_path, e.what());
    }
  }
  try {
    return WordPieceTokenizer(std::move(from_json->vocab), options);
  } catch (const Error& e) {
    throw file_error(json_path, e.what());
  }
}

}  // namespace electra
