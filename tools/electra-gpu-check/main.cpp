// electra-gpu-check: the checks of a CUDA device that no training run makes on its own
// (scripts/gpu_check.sh runs them with the pre-training, resume and fine-tuning checks).
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "../common/tool_main.h"
#include "electra/electra.h"
#include "util/device.h"

namespace {

using namespace electra;

// The model directory's logits on `device` for a fixed batch with padding and two segments.
torch::Tensor logits_on(const std::string& dir, const torch::Device& device) {
  const auto config = load_config(dir);
  torch::manual_seed(11);
  const auto ids = torch::randint(5, config.vocab_size, {4, 64}, torch::kLong);
  auto mask = torch::ones({4, 64}, torch::kLong);
  mask.narrow(1, 40, 24)[1].zero_();
  mask.narrow(1, 9, 55)[3].zero_();
  auto types = torch::zeros({4, 64}, torch::kLong);
  types.narrow(1, 32, 32).fill_(1);
  torch::NoGradGuard no_grad;
  auto run = [&](auto model) {
    model->to(device);
    model->eval();
    return model->forward(ids.to(device), mask.to(device), types.to(device)).to(torch::kCPU);
  };
  return model_kind(config) == ModelKind::generator ? run(load_generator(dir)) : run(load_discriminator(dir));
}

// fp32 outputs on the GPU against the CPU's; TF32 matrix products stay off for this (LibTorch's
// default), so the only differences are summation orders.
int parity(const std::vector<std::string>& dirs, const std::string& device_spec, double tolerance) {
  const auto device = resolve_device(device_spec, 0);
  int failed = 0;
  for (const auto& dir : dirs) {
    const auto cpu = logits_on(dir, torch::kCPU);
    const auto gpu = logits_on(dir, device);
    const double diff = (gpu - cpu).abs().max().item<double>();
    const bool ok = diff <= tolerance && std::isfinite(diff);
    std::printf("parity %-40s %s vs cpu: max |diff| %.2e (tolerance %.0e) %s\n", dir.c_str(), device.str().c_str(),
                diff, tolerance, ok ? "ok" : "FAILED");
    failed += ok ? 0 : 1;
  }
  return failed == 0 ? 0 : 1;
}

// One process, one NCCL group on the GPU: a sum over one rank must return what went in.
int all_reduce(const std::string& device_spec, int port) {
  const auto device = resolve_device(device_spec, 0);
  DistEnv env;
  env.master_port = port;
  env.group_for_one_process = true;
  auto group = Distributed::create(env, std::chrono::seconds(60), device.is_cuda());
  const std::vector<double> values{1.5, -2.0, 1e6};
  const auto sums = group->sum(values);
  group->barrier();
  const bool ok = sums == values;
  std::printf("all-reduce on a one-process group (%s): [%g, %g, %g] %s\n", device.is_cuda() ? "nccl" : "gloo", sums[0],
              sums[1], sums[2], ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Checks a CUDA device: model outputs against the CPU's, and a one-process NCCL all-reduce.",
               "electra-gpu-check"};
  app.require_subcommand(1);
  std::vector<std::string> dirs;
  std::string device = "cuda";
  double tolerance = 1e-4;
  int port = 29571;
  auto* p = app.add_subcommand("parity", "fp32 logits of model directories on the device against the CPU");
  p->add_option("--model", dirs, "Model directories (discriminator or generator)")->required();
  p->add_option("--device", device, "cuda, cuda:N (cpu: the check against itself)")->capture_default_str();
  p->add_option("--tolerance", tolerance, "Largest absolute difference allowed")->capture_default_str();
  auto* a = app.add_subcommand("all-reduce", "a sum through a process group of this one process");
  a->add_option("--device", device, "cuda or cuda:N (NCCL); cpu (Gloo)")->capture_default_str();
  a->add_option("--port", port, "TCP port of the one-process rendezvous")->capture_default_str();
  ELECTRA_PARSE(app, argc, argv);
  return electra::tools::guarded_main("electra-gpu-check", [&] {
    return p->parsed() ? parity(dirs, device, tolerance) : all_reduce(device, port);
  });
}
