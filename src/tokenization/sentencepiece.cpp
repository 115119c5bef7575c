#include "tokenization/sentencepiece.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <utility>

#include "util/cores.h"
#include "util/files.h"
#include "electra/util/error.h"
#include "spm_shim/spm_shim.h"

#ifndef ELECTRA_SPM_SHIM_NAME
#define ELECTRA_SPM_SHIM_NAME "libelectra_spm_shim.so"
#endif
#ifndef ELECTRA_SPM_SHIM_INSTALL_DIR
#define ELECTRA_SPM_SHIM_INSTALL_DIR "/usr/local/lib"
#endif

namespace electra {
namespace fs = std::filesystem;
namespace {

constexpr const char* kShimEnv = "ELECTRA_SPM_SHIM";
constexpr const char* kSpecialPieces[5] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

// The shim's functions, resolved once per process. The library stays loaded until exit.
struct Shim {
  std::string path;
  decltype(&electra_spm_train) train = nullptr;
  decltype(&electra_spm_load) load = nullptr;
  decltype(&electra_spm_free) free = nullptr;
  decltype(&electra_spm_piece_size) piece_size = nullptr;
  decltype(&electra_spm_piece_to_id) piece_to_id = nullptr;
  decltype(&electra_spm_id_to_piece) id_to_piece = nullptr;
  decltype(&electra_spm_encode) encode = nullptr;
  decltype(&electra_spm_decode) decode = nullptr;
  decltype(&electra_spm_unk_id) unk_id = nullptr;
};

bool file_exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

// Directory of the library this code is part of (libelectra_text.so).
fs::path own_directory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&sentencepiece_shim_path), &info) == 0 || info.dli_fname == nullptr) return {};
  std::error_code ec;
  const fs::path self = fs::absolute(info.dli_fname, ec);
  return ec ? fs::path() : self.parent_path();
}

template <class Fn>
void resolve(void* handle, const std::string& path, const char* name, Fn& out) {
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr) {
    throw file_error(path, std::string("is not an electra SentencePiece shim (no symbol ") + name +
                               "); rebuild the electra_spm_shim target");
  }
  out = reinterpret_cast<Fn>(symbol);
}

Shim open_shim(const std::string& path) {
  // A link namespace of its own: SentencePiece's protobuf must not meet LibTorch's.
  void* handle = dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw file_error(path, std::string("cannot load the SentencePiece shim (") + (why ? why : "unknown error") +
                               "); is SentencePiece installed (Debian: libsentencepiece0)?");
  }
  Shim shim;
  shim.path = path;
  decltype(&electra_spm_abi_version) abi_version = nullptr;
  resolve(handle, path, "electra_spm_abi_version", abi_version);
  if (abi_version() != ELECTRA_SPM_SHIM_ABI_VERSION) {
    throw file_error(path, "SentencePiece shim of interface version " + std::to_string(abi_version()) + ", expected " +
                               std::to_string(ELECTRA_SPM_SHIM_ABI_VERSION) +
                               " (a shim from another build of libelectra; rebuild or reinstall it)");
  }
  resolve(handle, path, "electra_spm_train", shim.train);
  resolve(handle, path, "electra_spm_load", shim.load);
  resolve(handle, path, "electra_spm_free", shim.free);
  resolve(handle, path, "electra_spm_piece_size", shim.piece_size);
  resolve(handle, path, "electra_spm_piece_to_id", shim.piece_to_id);
  resolve(handle, path, "electra_spm_id_to_piece", shim.id_to_piece);
  resolve(handle, path, "electra_spm_encode", shim.encode);
  resolve(handle, path, "electra_spm_decode", shim.decode);
  resolve(handle, path, "electra_spm_unk_id", shim.unk_id);
  return shim;
}

Shim find_and_open_shim() {
  if (const char* env = std::getenv(kShimEnv); env != nullptr && *env != '\0') {
    if (!file_exists(env)) {
      throw file_error(env, std::string("no such file (named by ") + kShimEnv +
                                "); point it at libelectra_spm_shim.so or unset it");
    }
    return open_shim(env);
  }
  std::vector<fs::path> candidates;
  if (const fs::path dir = own_directory(); !dir.empty()) candidates.push_back(dir / ELECTRA_SPM_SHIM_NAME);
  candidates.push_back(fs::path(ELECTRA_SPM_SHIM_INSTALL_DIR) / ELECTRA_SPM_SHIM_NAME);
  for (const auto& candidate : candidates) {
    if (file_exists(candidate)) return open_shim(candidate.string());
  }
  std::string tried;
  for (const auto& candidate : candidates) tried += (tried.empty() ? "" : ", ") + candidate.string();
  throw Error(std::string("SentencePiece support needs ") + ELECTRA_SPM_SHIM_NAME +
              ", which was not found (looked for " + tried + "); build the electra_spm_shim target, install it " +
              "beside libelectra_text, or set " + kShimEnv + " to its path");
}

const Shim& shim() {
  static const Shim instance = find_and_open_shim();  // retried on the next call when it throws
  return instance;
}

struct ErrorBuffer {
  char text[1024] = {0};
  std::string str() const { return text[0] ? std::string(text) : std::string("unknown error"); }
};

bool is_blank(const std::string& line) {
  return line.find_first_not_of(" \t\v\f") == std::string::npos;
}

// The training sentences, read by our CorpusLineReader and pulled by the shim's trainer.
struct SentenceFeed {
  explicit SentenceFeed(std::vector<std::string> files, std::uint64_t max_length,
                        const std::function<void(const CorpusStats&)>& on_read)
      : reader(std::move(files)), max_sentence_length(max_length), on_read(on_read) {}

  CorpusLineReader reader;
  std::string line;
  std::uint64_t max_sentence_length;
  const std::function<void(const CorpusStats&)>& on_read;
  std::uint64_t next_report = kReportEvery;
  std::uint64_t sentences = 0;
  std::uint64_t skipped_too_long = 0;
  std::exception_ptr error;

  static constexpr std::uint64_t kReportEvery = std::uint64_t{16} << 20;
};

// Called from the shim (another link namespace): no exception may leave it.
int next_sentence(void* context, const char** data, std::size_t* size) noexcept {
  auto& feed = *static_cast<SentenceFeed*>(context);
  try {
    while (feed.reader.next(feed.line)) {
      if (feed.on_read && feed.reader.stats().bytes_read >= feed.next_report) {
        feed.on_read(feed.reader.stats());
        feed.next_report = feed.reader.stats().bytes_read + SentenceFeed::kReportEvery;
      }
      if (is_blank(feed.line)) continue;
      if (feed.line.size() > feed.max_sentence_length) {
        ++feed.skipped_too_long;
        continue;
      }
      ++feed.sentences;
      *data = feed.line.data();
      *size = feed.line.size();
      return 1;
    }
    if (feed.on_read) feed.on_read(feed.reader.stats());
    return 0;
  } catch (...) {
    feed.error = std::current_exception();
    return -1;
  }
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string sentencepiece_shim_path() { return shim().path; }

std::string to_string(SentencePieceModelType type) {
  return type == SentencePieceModelType::bpe ? "bpe" : "unigram";
}

SentencePieceModelType sentencepiece_model_type(const std::string& name) {
  if (name == "unigram") return SentencePieceModelType::unigram;
  if (name == "bpe") return SentencePieceModelType::bpe;
  throw Error("unknown SentencePiece model type '" + name + "' (expected unigram or bpe)");
}

std::string sentencepiece_vocab_path(const std::string& model_path) {
  if (!ends_with(model_path, ".model") || model_path.size() == 6) {
    throw file_error(model_path, "a SentencePiece model path must end in .model (the .vocab file goes beside it)");
  }
  return model_path.substr(0, model_path.size() - 6) + ".vocab";
}

SentencePieceTrainResult train_sentencepiece(const SentencePieceTrainOptions& options) {
  const std::string& model_path = options.model_path;
  const std::string vocab_path = sentencepiece_vocab_path(model_path);
  if (options.vocab_size <= 5) {
    throw Error("SentencePiece vocab_size " + std::to_string(options.vocab_size) +
                " leaves no room beside the 5 special pieces");
  }
  if (!(options.character_coverage > 0.0 && options.character_coverage <= 1.0)) {
    throw Error("character_coverage must be in (0, 1], got " + std::to_string(options.character_coverage));
  }
  if (options.inputs.empty()) throw Error("SentencePiece training: no input file given");
  const Shim& spm = shim();  // fail early when SentencePiece is unavailable

  const fs::path parent = fs::path(model_path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) throw file_error(parent.string(), "cannot create the output directory (" + ec.message() + ")");
  }
  // SentencePiece writes <prefix>.model and <prefix>.vocab; both are renamed into place only
  // once training succeeded (and removed otherwise).
  TemporaryPath temporary_model(model_path, /*keep_extension=*/true);
  TemporaryPath temporary_vocab(vocab_path, /*keep_extension=*/true);
  const std::string temporary = temporary_model.path().substr(0, temporary_model.path().size() - 6);

  const int threads = options.threads > 0 ? options.threads
                                          : core_count();
  const std::vector<std::pair<std::string, std::string>> settings = {
      {"model_prefix", temporary},
      {"model_type", to_string(options.model_type)},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"input_sentence_size", std::to_string(options.input_sentence_size)},
      {"shuffle_input_sentence", "true"},
      {"max_sentence_length", std::to_string(options.max_sentence_length)},
      {"num_threads", std::to_string(threads)},
      {"random_seed", std::to_string(options.seed)},
      {"normalization_rule_name", options.lowercase ? "nmt_nfkc_cf" : "nmt_nfkc"},
      {"pad_id", "0"},
      {"unk_id", "1"},
      {"bos_id", "-1"},
      {"eos_id", "-1"},
      {"pad_piece", "[PAD]"},
      {"unk_piece", "[UNK]"},
      {"user_defined_symbols", "[CLS],[SEP],[MASK]"},
      {"minloglevel", options.verbose ? "0" : "1"},
  };
  std::vector<const char*> keys, values;
  for (const auto& [key, value] : settings) {
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }

  static std::mutex one_at_a_time;  // SentencePiece's seed and log level are process-wide
  const std::lock_guard<std::mutex> lock(one_at_a_time);
  SentenceFeed feed(options.inputs, options.max_sentence_length, options.on_read);
  ErrorBuffer error;
  const int rc = spm.train(keys.data(), values.data(), keys.size(), &next_sentence, &feed, error.text,
                           sizeof(error.text));
  if (feed.error) std::rethrow_exception(feed.error);
  if (feed.sentences == 0) {
    const CorpusStats& stats = feed.reader.stats();
    std::string message = "the corpus has no text to train on (" + std::to_string(stats.files_total) + " file(s), " +
                          std::to_string(stats.lines) + " line(s), all blank";
    if (feed.skipped_too_long > 0) {
      message += " or longer than " + std::to_string(options.max_sentence_length) + " bytes";
    }
    throw Error(message + ")");
  }
  if (rc != 0) {
    throw file_error(model_path, "SentencePiece training failed: " + error.str());
  }

  SentencePieceTrainResult result;
  result.model_path = model_path;
  result.vocab_path = vocab_path;
  temporary_vocab.commit();
  temporary_model.commit();
  result.corpus = feed.reader.stats();
  result.sentences = feed.sentences;
  result.skipped_too_long = feed.skipped_too_long;
  result.vocab_size = SentencePieceEncoder(model_path).vocab_size();
  return result;
}

// --- SentencePieceEncoder ----------------------------------------------------------------

struct SentencePieceEncoder::Model {
  const Shim* spm = nullptr;
  void* handle = nullptr;
  ~Model() {
    if (handle != nullptr) spm->free(handle);
  }
};

SentencePieceEncoder::SentencePieceEncoder(const std::string& model_path)
    : path_(model_path), model_(std::make_unique<Model>()) {
  std::error_code ec;
  if (fs::is_directory(model_path, ec)) throw file_error(model_path, "is a directory, not a SentencePiece .model file");
  if (!fs::exists(model_path, ec)) throw file_error(model_path, "no such SentencePiece model file");
  model_->spm = &shim();
  ErrorBuffer error;
  model_->handle = model_->spm->load(model_path.c_str(), error.text, sizeof(error.text));
  if (model_->handle == nullptr) {
    throw file_error(model_path, "cannot load the SentencePiece model: " + error.str());
  }
  vocab_size_ = model_->spm->piece_size(model_->handle);
  std::int32_t* ids[5] = {&pad_id_, &unk_id_, &cls_id_, &sep_id_, &mask_id_};
  std::string missing;
  for (int i = 0; i < 5; ++i) {
    *ids[i] = id(kSpecialPieces[i]);
    if (*ids[i] < 0) missing += std::string(missing.empty() ? "" : ", ") + kSpecialPieces[i];
  }
  if (!missing.empty()) {
    throw file_error(model_path,
                     "the SentencePiece model has no " + missing +
                         " piece; electra needs [PAD], [UNK], [CLS], [SEP] and [MASK]. Train the model with "
                         "electra-vocab, or with spm_train --pad_id=0 --unk_id=1 --pad_piece=[PAD] "
                         "--unk_piece=[UNK] --user_defined_symbols=[CLS],[SEP],[MASK] --bos_id=-1 --eos_id=-1");
  }
  const int model_unk = model_->spm->unk_id(model_->handle);
  if (model_unk != unk_id_) {
    throw file_error(model_path, "the SentencePiece model's unknown piece is '" + token(model_unk) +
                                     "' (id " + std::to_string(model_unk) + "), not [UNK] (id " +
                                     std::to_string(unk_id_) + "); train it with --unk_piece=[UNK]");
  }
}

SentencePieceEncoder::~SentencePieceEncoder() = default;
SentencePieceEncoder::SentencePieceEncoder(SentencePieceEncoder&&) noexcept = default;
SentencePieceEncoder& SentencePieceEncoder::operator=(SentencePieceEncoder&&) noexcept = default;

std::vector<std::int32_t> SentencePieceEncoder::encode(std::string_view text) const {
  std::vector<std::int32_t> ids(text.size() + 8);
  ErrorBuffer error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const long n = model_->spm->encode(model_->handle, text.data(), text.size(), ids.data(), ids.size(),
                                       error.text, sizeof(error.text));
    if (n < 0) throw file_error(path_, "SentencePiece cannot encode the text: " + error.str());
    const bool fits = static_cast<std::size_t>(n) <= ids.size();
    ids.resize(static_cast<std::size_t>(n));
    if (fits) return ids;
  }
  return ids;  // the second call had room for every id
}

std::string SentencePieceEncoder::token(std::int32_t id) const {
  std::string piece(32, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    const long n = model_->spm->id_to_piece(model_->handle, id, piece.data(), piece.size());
    if (n < 0) {
      throw Error("token id " + std::to_string(id) + " is out of range for " + describe());
    }
    const bool fits = static_cast<std::size_t>(n) <= piece.size();
    piece.resize(static_cast<std::size_t>(n));
    if (fits) return piece;
  }
  return piece;
}

std::string SentencePieceEncoder::describe() const {
  return "SentencePiece " + path_ + " (" + std::to_string(vocab_size_) + " pieces)";
}

std::int32_t SentencePieceEncoder::id(std::string_view piece) const {
  return model_->spm->piece_to_id(model_->handle, piece.data(), piece.size());
}

std::vector<std::string> SentencePieceEncoder::encode_pieces(std::string_view text) const {
  std::vector<std::string> pieces;
  for (const std::int32_t id : encode(text)) pieces.push_back(token(id));
  return pieces;
}

std::string SentencePieceEncoder::decode(const std::vector<std::int32_t>& ids) const {
  std::string text(ids.size() * 8 + 16, '\0');
  ErrorBuffer error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const long n = model_->spm->decode(model_->handle, ids.data(), ids.size(), text.data(), text.size(), error.text,
                                       sizeof(error.text));
    if (n < 0) throw file_error(path_, "SentencePiece cannot decode the ids: " + error.str());
    const bool fits = static_cast<std::size_t>(n) <= text.size();
    text.resize(static_cast<std::size_t>(n));
    if (fits) return text;
  }
  return text;
}

}  // namespace electra
