#include "util/device.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/cuda.h>

#include <mutex>

#include "electra/util/error.h"

namespace electra {

torch::Device resolve_device(const std::string& spec, int64_t local_rank) {
  const bool has_cuda = torch::cuda::is_available();
  if (spec.empty() || spec == "auto") {
    return has_cuda ? resolve_device("cuda", local_rank) : torch::Device(torch::kCPU);
  }
  if (spec == "cpu") return torch::Device(torch::kCPU);
  if (spec.rfind("cuda", 0) != 0) throw Error("unknown device \"" + spec + "\" (expected auto, cpu, cuda or cuda:N)");
  if (!torch::hasCUDA()) {
    throw Error("device \"" + spec + "\": this LibTorch was built without CUDA (use --device cpu, or build against a "
                "CUDA LibTorch: scripts/build_with_torch_wheel.sh)");
  }
  const auto count = static_cast<int64_t>(torch::cuda::device_count());
  if (count == 0) throw Error("device \"" + spec + "\": no CUDA GPU is visible (CUDA_VISIBLE_DEVICES?)");
  int64_t index = local_rank;
  if (spec != "cuda") {
    const auto digits = spec.substr(spec.find(':') + 1);
    if (spec.size() < 6 || spec[4] != ':' || digits.find_first_not_of("0123456789") != std::string::npos) {
      throw Error("unknown device \"" + spec + "\" (expected cuda or cuda:N)");
    }
    index = std::stoll(digits);
  }
  if (index >= count) {
    throw Error("device \"" + spec + "\" (index " + std::to_string(index) + "): only " + std::to_string(count) +
                " GPU(s) visible");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

torch::Generator seeded_generator(const torch::Device& device, uint64_t seed) {
  if (device.is_cpu()) return at::make_generator<at::CPUGeneratorImpl>(seed);
  auto generator = at::globalContext().defaultGenerator(device).clone();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_current_seed(seed);
  return generator;
}

}  // namespace electra
