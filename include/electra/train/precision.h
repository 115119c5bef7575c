#pragma once
// The arithmetic a training run uses, shared by the pre-training and fine-tuning configs.
#include <string>

namespace electra {

// bf16: autocast on CPU or CUDA. fp16: autocast with dynamic loss scaling, CUDA only. Weights,
// optimizer state and checkpoints stay fp32 in every mode.
enum class Precision { fp32, bf16, fp16 };
Precision parse_precision(const std::string& name);
std::string to_string(Precision precision);

}  // namespace electra
