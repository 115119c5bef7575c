// libelectra_spm_shim: SentencePiece behind a C interface (see spm_shim.h for why).
// Nothing here may let a C++ exception escape: every entry point catches everything.
#include "spm_shim.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

void set_error(char* error, size_t capacity, const std::string& message) {
  if (error == nullptr || capacity == 0) return;
  const size_t n = std::min(message.size(), capacity - 1);
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

// Pulls sentences from the caller's callback; SentencePiece reads it as
// `for (; !done(); Next()) value();`, so the first sentence is fetched up front.
class CallbackIterator : public sentencepiece::SentenceIterator {
 public:
  CallbackIterator(electra_spm_next_sentence_fn next, void* context) : next_(next), context_(context) {
    fetch();
  }
  bool done() const override { return done_; }
  void Next() override { fetch(); }
  const std::string& value() const override { return value_; }
  sentencepiece::util::Status status() const override {
    if (!failed_) return sentencepiece::util::Status();
    return sentencepiece::util::Status(sentencepiece::util::StatusCode::kInternal,
                                       "reading the training sentences failed");
  }

 private:
  void fetch() {
    if (done_) return;
    const char* data = nullptr;
    size_t size = 0;
    const int got = next_(context_, &data, &size);
    if (got == 1) {
      value_.assign(data, size);
      return;
    }
    done_ = true;
    failed_ = got < 0;
    value_.clear();
  }

  electra_spm_next_sentence_fn next_;
  void* context_;
  std::string value_;
  bool done_ = false;
  bool failed_ = false;
};

const sentencepiece::SentencePieceProcessor* processor(const void* model) {
  return static_cast<const sentencepiece::SentencePieceProcessor*>(model);
}

}  // namespace

extern "C" {

int electra_spm_abi_version(void) { return ELECTRA_SPM_SHIM_ABI_VERSION; }

int electra_spm_train(const char* const* keys, const char* const* values, size_t count,
                      electra_spm_next_sentence_fn next, void* context, char* error,
                      size_t error_capacity) {
  try {
    std::unordered_map<std::string, std::string> kwargs;
    for (size_t i = 0; i < count; ++i) {
      if (std::strcmp(keys[i], "random_seed") == 0) {
        // Not a flag of this SentencePiece version: its generator seed is process-wide.
        sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned>(std::strtoul(values[i], nullptr, 10)));
        continue;
      }
      kwargs[keys[i]] = values[i];
    }
    sentencepiece::util::Status status;
    if (next != nullptr) {
      CallbackIterator sentences(next, context);
      status = sentencepiece::SentencePieceTrainer::Train(kwargs, &sentences);
      if (status.ok()) status = sentences.status();
    } else {
      status = sentencepiece::SentencePieceTrainer::Train(kwargs);
    }
    if (!status.ok()) {
      set_error(error, error_capacity, status.ToString());
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    set_error(error, error_capacity, e.what());
  } catch (...) {
    set_error(error, error_capacity, "unknown error in SentencePiece training");
  }
  return 1;
}

void* electra_spm_load(const char* path, char* error, size_t error_capacity) {
  try {
    auto model = std::make_unique<sentencepiece::SentencePieceProcessor>();
    const auto status = model->Load(path);
    if (!status.ok()) {
      set_error(error, error_capacity, status.ToString());
      return nullptr;
    }
    return model.release();
  } catch (const std::exception& e) {
    set_error(error, error_capacity, e.what());
  } catch (...) {
    set_error(error, error_capacity, "unknown error loading the SentencePiece model");
  }
  return nullptr;
}

void electra_spm_free(void* model) { delete static_cast<sentencepiece::SentencePieceProcessor*>(model); }

int electra_spm_piece_size(const void* model) { return processor(model)->GetPieceSize(); }

int electra_spm_unk_id(const void* model) { return processor(model)->unk_id(); }

int electra_spm_piece_to_id(const void* model, const char* piece, size_t size) {
  try {
    const auto* sp = processor(model);
    const int id = sp->PieceToId(std::string(piece, size));
    // PieceToId answers the unknown id for a missing piece: check it really is that piece.
    if (id < 0 || id >= sp->GetPieceSize() || sp->IdToPiece(id) != std::string(piece, size)) return -1;
    return id;
  } catch (...) {
    return -1;
  }
}

long electra_spm_id_to_piece(const void* model, int id, char* buffer, size_t capacity) {
  try {
    const auto* sp = processor(model);
    if (id < 0 || id >= sp->GetPieceSize()) return -1;
    const std::string& piece = sp->IdToPiece(id);
    if (capacity > 0) std::memcpy(buffer, piece.data(), std::min(piece.size(), capacity));
    return static_cast<long>(piece.size());
  } catch (...) {
    return -1;
  }
}

long electra_spm_encode(const void* model, const char* text, size_t size, int32_t* ids,
                        size_t capacity, char* error, size_t error_capacity) {
  try {
    std::vector<int> out;
    const auto status = processor(model)->Encode(std::string(text, size), &out);
    if (!status.ok()) {
      set_error(error, error_capacity, status.ToString());
      return -1;
    }
    const size_t n = std::min(out.size(), capacity);
    for (size_t i = 0; i < n; ++i) ids[i] = static_cast<int32_t>(out[i]);
    return static_cast<long>(out.size());
  } catch (const std::exception& e) {
    set_error(error, error_capacity, e.what());
  } catch (...) {
    set_error(error, error_capacity, "unknown error in SentencePiece encoding");
  }
  return -1;
}

long electra_spm_decode(const void* model, const int32_t* ids, size_t count, char* buffer,
                        size_t capacity, char* error, size_t error_capacity) {
  try {
    const auto* sp = processor(model);
    std::vector<int> in(ids, ids + count);
    for (const int id : in) {
      if (id < 0 || id >= sp->GetPieceSize()) {
        set_error(error, error_capacity, "id " + std::to_string(id) + " is out of range");
        return -1;
      }
    }
    std::string text;
    const auto status = sp->Decode(in, &text);
    if (!status.ok()) {
      set_error(error, error_capacity, status.ToString());
      return -1;
    }
    if (capacity > 0) std::memcpy(buffer, text.data(), std::min(text.size(), capacity));
    return static_cast<long>(text.size());
  } catch (const std::exception& e) {
    set_error(error, error_capacity, e.what());
  } catch (...) {
    set_error(error, error_capacity, "unknown error in SentencePiece decoding");
  }
  return -1;
}

}  // extern "C"
