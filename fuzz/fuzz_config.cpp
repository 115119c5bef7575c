// A model directory's config.json.
#include <string>

#include "electra/config/electra_config.h"
#include "electra/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto config = electra::ElectraConfig::from_json_string(std::string(reinterpret_cast<const char*>(data), size),
                                                                 "config.json");
    (void)config.to_json_string();
  } catch (const electra::Error&) {
  }
  return 0;
}
