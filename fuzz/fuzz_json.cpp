// Every JSON document from outside goes through parse_json (configs, manifests, SQuAD, JSONL
// rows, safetensors headers, trainer states).
#include <string_view>

#include "electra/util/error.h"
#include "util/json_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto j = electra::parse_json(std::string_view(reinterpret_cast<const char*>(data), size), "input");
    (void)j.dump();
  } catch (const electra::Error&) {
  }
  return 0;
}
