// electra-pretrain: pre-trains an ELECTRA generator + discriminator on data written by
// electra-prepare, then exports both as Hugging Face model directories.
#include <CLI/CLI.hpp>

#include <iostream>

#include "../common/cpu_setup.h"
#include "../common/launcher.h"
#include "../common/output_guard.h"
#include "../common/run_report_step.h"
#include "../common/tool_main.h"
#include "util/logger.h"
#include "electra/data/pretraining_dataset.h"
#include "electra/electra.h"
#include "electra/tokenization/text_encoder.h"
#include "electra/train/pretrainer.h"

int main(int argc, char** argv) {
  std::vector<std::string> rank_args;
  if (const int nproc = electra::tools::take_nproc_option(argc, argv, rank_args); nproc > 1) {
    return electra::tools::launch_local_ranks(nproc, rank_args);
  }
  CLI::App app{
      "Pre-trains ELECTRA (generator + discriminator, replaced token detection) or the MLM baseline on a\n"
      "data folder written by electra-prepare. Checkpoints go to <output>/checkpoints (resume with --resume);\n"
      "Hugging Face-format models to <output>/discriminator and <output>/generator. Ctrl-C stops cleanly.\n"
      "Data parallel: torchrun --no-python --nproc-per-node N electra-pretrain ..., srun, or\n"
      "--nproc-per-node N on one machine (Gloo on CPU; RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT or SLURM_*).",
      "electra-pretrain"};
  std::string config_path;
  std::vector<std::string> overrides;
  std::string data, output, precision, device;
  int64_t steps = 0;
  double max_minutes = -1;
  int threads = -1;
  bool resume = false;
  app.add_option("--config", config_path, "JSON config (configs/pretrain/tiny|small|base|large.json)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--set", overrides, "Override a config key: section.key=value (repeatable)");
  app.add_option("--data", data, "Shortcut for --set train.data=DIR");
  app.add_option("--output", output, "Shortcut for --set train.output=DIR");
  app.add_option("--steps", steps, "Shortcut for --set train.steps=N")->check(electra::tools::positive_number());
  app.add_option("--max-minutes", max_minutes, "Stop after this much training time (checkpoint, export; 0: no limit)")
      ->check(electra::tools::non_negative_number());
  app.add_option("--precision", precision, "fp32, bf16 (autocast) or fp16 (autocast + loss scaling, CUDA)")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16"}));
  app.add_option("--device", device, "auto (CUDA when available), cpu, cuda or cuda:N");
  app.add_option("--threads", threads, "Intra-op threads (default: OMP_NUM_THREADS or all cores)");
  app.add_flag("--resume", resume, "Continue from the newest checkpoint in the output folder");
  bool overwrite = false;
  app.add_flag("--overwrite", overwrite, "Replace a run already in the output folder (otherwise refused)");
  electra::tools::DistributedOptions distributed_options;
  electra::tools::add_distributed_options(app, &distributed_options);
  ELECTRA_PARSE(app, argc, argv);

  return electra::tools::guarded_main("electra-pretrain", [&] {
    if (!data.empty()) overrides.push_back(electra::tools::string_override("train.data", data));
    if (!output.empty()) overrides.push_back(electra::tools::string_override("train.output", output));
    if (steps > 0) overrides.push_back("train.steps=" + std::to_string(steps));
    if (max_minutes >= 0) overrides.push_back("train.max_minutes=" + std::to_string(max_minutes));
    if (!precision.empty()) overrides.push_back("train.precision=" + precision);
    if (threads >= 0) overrides.push_back("train.threads=" + std::to_string(threads));
    if (!device.empty()) overrides.push_back(electra::tools::string_override("train.device", device));
    auto config = electra::PretrainConfig::load(config_path, overrides);
    if (config.train.data.empty()) throw electra::Error("no training data: set train.data or pass --data");
    if (config.train.output.empty()) throw electra::Error("no output folder: set train.output or pass --output");
    const int used_threads = electra::tools::configure_cpu(argv, config.train.precision, config.train.threads);
    const auto distributed = electra::tools::start_distributed("train", distributed_options, config.train.device);
    electra::tools::RunFolder run_folder(config.train.output,
                                         {"checkpoints", "metrics.jsonl", "tensorboard", "discriminator", "generator", "report.html"},
                                         resume, overwrite, distributed);

    const auto train = electra::PretrainingDataset::open(config.train.data, "train");
    const auto eval = electra::PretrainingDataset::open(config.train.data, "eval");
    const auto encoder = electra::open_text_encoder(train.vocab_path(), train.lowercase());
    train.require_vocabulary(*encoder);
    electra::DatasetSource train_source(train), eval_source(eval);
    electra::PretrainData inputs;
    inputs.train = &train_source;
    inputs.eval = eval.size() > 0 ? &eval_source : nullptr;
    inputs.special = {encoder->pad_id(), encoder->cls_id(), encoder->sep_id(), encoder->mask_id()};
    inputs.vocab_size = encoder->vocab_size();
    inputs.max_seq_len = train.max_seq_len();
    inputs.vocab_path = train.vocab_path();
    inputs.lowercase = train.lowercase();
    inputs.distributed = distributed;
    electra::logger("train")->info("data {}: {} train / {} eval examples, {}, {} threads", config.train.data,
                                   train.size(), eval.size(), encoder->describe(), used_threads);

    electra::tools::install_stop_handlers();
    electra::Pretrainer trainer(config, inputs);
    run_folder.replace_earlier_run();  // the inputs are good: only now is an earlier run replaced
    const auto result = trainer.run(resume, &electra::tools::stop_requested);
    if (!distributed->is_main()) return result.interrupted ? 130 : 0;
    std::cout << "steps: " << result.steps << "\n";
    if (inputs.eval) {
      std::cout << "held-out: mlm accuracy " << result.last_eval.mlm_accuracy << ", discriminator AUC "
                << result.last_eval.disc_auc << ", accuracy " << result.last_eval.disc_accuracy << "\n";
    }
    if (!result.discriminator_dir.empty()) std::cout << "discriminator: " << result.discriminator_dir << "\n";
    std::cout << "generator: " << result.generator_dir << "\n";
    electra::tools::write_run_report_of("electra-pretrain", config.train.output);  // also when interrupted
    if (result.interrupted) {
      std::cout << "interrupted; continue with: electra-pretrain --config " << config_path << " --resume"
                << (output.empty() ? "" : " --output " + output) << (data.empty() ? "" : " --data " + data) << "\n";
      return 130;
    }
    return 0;
  });
}
