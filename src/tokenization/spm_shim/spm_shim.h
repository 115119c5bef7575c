#pragma once
// Internal: the C interface of libelectra_spm_shim, a small library over SentencePiece's C++
// API. electra_text never links SentencePiece: Debian's libsentencepiece carries its own
// protobuf (3.14) and exports its symbols, which clash with the protobuf LibTorch links. The
// shim is opened with dlmopen(LM_ID_NEWLM) instead, in a link namespace of its own (with its
// own libc, libstdc++ and protobuf), so only plain C data crosses this interface:
//   - no C++ object, exception or std:: type;
//   - no memory allocated on one side and freed on the other (each namespace has its own
//     malloc): results are copied into buffers owned by the caller; a model handle is freed
//     by electra_spm_free.
// Every function that can fail writes a NUL-terminated message into `error` (capacity
// `error_capacity`, truncated when longer).
#include <stddef.h>
#include <stdint.h>

#define ELECTRA_SPM_SHIM_ABI_VERSION 1

#ifdef __cplusplus
extern "C" {
#endif

// Hands the trainer its next sentence: returns 1 and sets *data/*size (valid until the next
// call), 0 when there are no more, -1 on an error (training then stops with a failure).
typedef int (*electra_spm_next_sentence_fn)(void* context, const char** data, size_t* size);

int electra_spm_abi_version(void);

// Trains a model with SentencePiece's options as `count` key/value pairs (the names of
// spm_train's flags, without "--"). Sentences come from `next` when it is not null, else from
// the "input" option. Returns 0 on success.
int electra_spm_train(const char* const* keys, const char* const* values, size_t count,
                      electra_spm_next_sentence_fn next, void* context, char* error,
                      size_t error_capacity);

// Loads a .model file; returns a handle, or null with the reason in `error`.
void* electra_spm_load(const char* path, char* error, size_t error_capacity);
void electra_spm_free(void* model);

int electra_spm_piece_size(const void* model);
// Id of the model's unknown piece.
int electra_spm_unk_id(const void* model);
// Id of a piece, -1 when the model has no such piece.
int electra_spm_piece_to_id(const void* model, const char* piece, size_t size);
// Copies piece `id` (not NUL-terminated) into buffer[0..capacity) and returns its length in
// bytes, which may exceed capacity (call again with a larger buffer); -1 for an id out of range.
long electra_spm_id_to_piece(const void* model, int id, char* buffer, size_t capacity);

// Encodes `text` into ids[0..capacity) and returns the number of ids, which may exceed capacity
// (call again with a larger buffer); -1 on an error. Safe to call from several threads at once.
long electra_spm_encode(const void* model, const char* text, size_t size, int32_t* ids,
                        size_t capacity, char* error, size_t error_capacity);
// Decodes ids into buffer[0..capacity) (not NUL-terminated) and returns the length in bytes,
// which may exceed capacity; -1 on an error.
long electra_spm_decode(const void* model, const int32_t* ids, size_t count, char* buffer,
                        size_t capacity, char* error, size_t error_capacity);

#ifdef __cplusplus
}  // extern "C"
#endif
