// A prepared data folder's files: one shard (first byte 0) or manifest.json (otherwise).
#include "data/manifest.h"
#include "data/shard.h"
#include "electra/util/error.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  electra::fuzz::InputFile input(data + 1, size - 1);
  if (!input.ok()) return 0;
  try {
    if (data[0] == 0) {
      electra::ShardReader shard(input.path(), /*verify_checksum=*/true);
      std::vector<std::int32_t> ids;
      for (std::size_t i = 0; i < shard.size(); ++i) {
        shard.read(i, ids);
        (void)shard.len_a(i);
      }
    } else {
      (void)electra::detail::read_manifest(input.path());
    }
  } catch (const electra::Error&) {
  }
  return 0;
}
