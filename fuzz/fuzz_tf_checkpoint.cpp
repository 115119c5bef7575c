// A TensorFlow checkpoint's two files, one of them from the input: the .index (first byte even)
// beside a valid data file, or the data file (first byte odd) beside a valid index; the rest of
// the input is the file. A checkpoint is two files with fixed names, so it cannot live in one
// memfd: both cases get a folder under TMPDIR, filled once from a real checkpoint
// (tests/fixtures/tf/electra_tiny, or the folder ELECTRA_FUZZ_TF_CHECKPOINT names).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "electra/util/error.h"
#include "io/tf_checkpoint.h"

namespace {

namespace fs = std::filesystem;

const char* const kIndex = "model.ckpt.index";
const char* const kData = "model.ckpt.data-00000-of-00001";
fs::path root;  // <tmp>/electra-fuzz-tf-<pid>/{index,data}/: which file the input replaces

void write_file(const fs::path& path, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* env = std::getenv("ELECTRA_FUZZ_TF_CHECKPOINT");
  const fs::path fixture = env ? env : ELECTRA_FUZZ_DEFAULT_TF_CHECKPOINT;
  root = fs::temp_directory_path() / ("electra-fuzz-tf-" + std::to_string(::getpid()));
  fs::create_directories(root / "index");
  fs::create_directories(root / "data");
  fs::copy_file(fixture / kData, root / "index" / kData, fs::copy_options::overwrite_existing);
  fs::copy_file(fixture / kIndex, root / "data" / kIndex, fs::copy_options::overwrite_existing);
  std::atexit([] {
    std::error_code ignored;
    fs::remove_all(root, ignored);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool index = data[0] % 2 == 0;
  const fs::path dir = root / (index ? "index" : "data");
  write_file(dir / (index ? kIndex : kData), data + 1, size - 1);
  try {
    electra::TfCheckpoint checkpoint((dir / "model.ckpt").string());
    // One by one: a variable that cannot be loaded (the string-typed object graph every TF2
    // checkpoint holds, a damaged tensor) must not keep the others from being read.
    for (const auto& variable : checkpoint.variables()) {
      try {
        (void)checkpoint.load(variable.name).sum();
      } catch (const electra::Error&) {
      }
    }
  } catch (const electra::Error&) {
  }
  return 0;
}
