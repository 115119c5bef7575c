#pragma once
// Where a run computes: the --device flag and train.device config key.
#include <torch/types.h>

#include <cstdint>
#include <string>

namespace electra {

// "auto": CUDA when LibTorch has it and a GPU is present, else the CPU. "cpu". "cuda": the GPU of
// this rank (LOCAL_RANK under torchrun, 0 alone). "cuda:N". Errors name the problem (no CUDA in
// this LibTorch, no GPU, index out of range).
torch::Device resolve_device(const std::string& spec, int64_t local_rank = 0);

// A generator on `device` that starts from `seed`: the CPU's own Mersenne twister, or a copy of
// the GPU's default Philox generator (the CUDA header-free way to get one).
torch::Generator seeded_generator(const torch::Device& device, uint64_t seed);

}  // namespace electra
