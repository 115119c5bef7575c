// electra-finetune: fine-tunes a pre-trained ELECTRA discriminator on one downstream task
// (GLUE, the user's own classification/regression/tagging files, SQuAD 1.1/2.0, CoNLL chunking).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "../common/cpu_setup.h"
#include "../common/launcher.h"
#include "../common/output_guard.h"
#include "../common/run_report_step.h"
#include "../common/tool_main.h"
#include "util/logger.h"
#include "electra/electra.h"

int main(int argc, char** argv) {
  std::vector<std::string> rank_args;
  if (const int nproc = electra::tools::take_nproc_option(argc, argv, rank_args); nproc > 1) {
    return electra::tools::launch_local_ranks(nproc, rank_args);
  }
  CLI::App app{
      "Fine-tunes an ELECTRA model (a discriminator from electra-pretrain or any Hugging Face ELECTRA\n"
      "directory with model.safetensors) on one task. Evaluates on dev after each epoch, keeps the best\n"
      "model in <output>/best (loadable by transformers) with its dev predictions, and writes\n"
      "<output>/metrics.jsonl. --predict FILE writes predictions for unlabelled data with the best model.\n"
      "Ctrl-C writes a checkpoint; --resume continues from it.\n"
      "Data parallel: --nproc-per-node N, torchrun --no-python, or srun (Gloo on CPU).",
      "electra-finetune"};
  std::string config_path, model_dir, data_dir, output, predict_file, precision, device;
  std::vector<std::string> overrides;
  double epochs = -1;
  int threads = -1;
  app.add_option("--config", config_path, "JSON config (configs/finetune/<task>.json)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--model", model_dir, "Model directory (config.json, model.safetensors, vocab.txt)")->required();
  app.add_option("--data", data_dir, "Folder holding the task's files (e.g. ../shared/data/glue/MRPC)");
  app.add_option("--output", output, "Output folder")->required();
  app.add_option("--predict", predict_file, "Unlabelled file to predict (same format as the task's test files)");
  app.add_option("--set", overrides, "Override a config key: section.key=value (repeatable)");
  app.add_option("--epochs", epochs, "Shortcut for --set train.epochs=N (0: evaluate/predict only)")
      ->check(electra::tools::non_negative_number());
  app.add_option("--precision", precision, "fp32, bf16 (autocast) or fp16 (autocast + loss scaling, CUDA)")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16"}));
  app.add_option("--device", device, "auto (CUDA when available), cpu, cuda or cuda:N");
  app.add_option("--threads", threads, "Intra-op threads (default: OMP_NUM_THREADS or all cores)");
  bool resume = false, overwrite = false;
  app.add_flag("--overwrite", overwrite, "Replace a run already in the output folder (otherwise refused)");
  app.add_flag("--resume", resume,
               "Continue from <output>/checkpoints (written after every epoch and on Ctrl-C) with the same config");
  electra::tools::DistributedOptions distributed_options;
  electra::tools::add_distributed_options(app, &distributed_options);
  ELECTRA_PARSE(app, argc, argv);

  return electra::tools::guarded_main("electra-finetune", [&] {
    if (epochs >= 0) overrides.push_back("train.epochs=" + std::to_string(epochs));
    if (!precision.empty()) overrides.push_back("train.precision=" + precision);
    if (threads >= 0) overrides.push_back("train.threads=" + std::to_string(threads));
    if (!device.empty()) overrides.push_back(electra::tools::string_override("train.device", device));
    overrides.push_back(electra::tools::string_override("train.output", output));
    auto config = electra::FinetuneConfig::load(config_path, overrides);
    const int used_threads = electra::tools::configure_cpu(argv, config.train.precision, config.train.threads);
    const auto distributed = electra::tools::start_distributed("finetune", distributed_options, config.train.device);
    electra::tools::RunFolder run_folder(output, {"checkpoints", "metrics.jsonl", "tensorboard", "best", "report.html"}, resume, overwrite,
                                         distributed);

    // The vocabulary is checked against the model before any data is read or any training starts.
    const auto model = electra::read_model_dir(model_dir);
    const auto& model_config = model.config;
    const auto tokenizer = electra::load_tokenizer(model_dir, model_config);
    auto log = electra::logger("finetune");
    log->info("model {}: {} layers, hidden {}, vocabulary {}; {} threads", model_dir, model_config.num_hidden_layers,
              model_config.hidden_size, tokenizer.vocab().size(), used_threads);
    // A fine-tuned directory knows its labels: evaluation or prediction needs no training file.
    if (config.task.labels.empty() && config.task.type != electra::TaskType::glue && model.task_head) {
      config.task.labels = model.task_head->labels;
    }
    const auto task = electra::make_task(config, tokenizer, data_dir, predict_file);

    electra::tools::install_stop_handlers();
    electra::Finetuner finetuner(config, model, *task, tokenizer, distributed);
    run_folder.replace_earlier_run();  // the inputs are good: only now is an earlier run replaced
    const auto result = finetuner.run(resume, &electra::tools::stop_requested);
    if (!distributed->is_main()) return result.interrupted ? 130 : 0;
    if (!result.best.values.empty()) {
      std::cout << task->name() << " dev (epoch " << result.best_epoch << "): " << result.best.summary() << "\n";
    }
    std::cout << "model: " << result.best_dir << "\n";
    if (result.train_seconds > 0) {
      std::printf("training: %lld tokens in %.1f s, %.0f tokens/s (rank 0)\n", static_cast<long long>(result.train_tokens),
                  result.train_seconds, static_cast<double>(result.train_tokens) / result.train_seconds);
    }
    if (!result.interrupted && !predict_file.empty()) {
      finetuner.write_predictions();
      std::cout << "predictions: " << output << "\n";
    }
    electra::tools::write_run_report_of("electra-finetune", output);  // also when interrupted
    if (result.interrupted) {
      std::cout << "interrupted after " << result.steps
                << " steps; the best model so far is kept; continue with the same command and --resume\n";
      return 130;
    }
    return 0;
  });
}
