// lockstep bench MODEL [--runs N] [--warmup W]: invoke latency on the builtin kernels and on
// XNNPACK, with 1 and 2 threads; the median and the 10th/90th percentiles of N timed runs after W
// untimed ones, on deterministic generated input.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "lockstep/core/error.h"
#include "lockstep/engine/engine.h"

namespace lockstep::cli {
namespace {

// The value at quantile q of sorted samples (nearest rank).
double Quantile(const std::vector<double>& sorted, double q) {
  size_t rank = size_t(q * double(sorted.size() - 1) + 0.5);
  return sorted[std::min(rank, sorted.size() - 1)];
}

}  // namespace

void AddBenchCommand(CLI::App& app, int& exit_code) {
  struct Args {
    std::string model;
    int runs = 20;
    int warmup = 3;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Invoke latency: builtin kernels and XNNPACK, 1 and 2 threads (median, p10, p90)");
  cmd->add_option("MODEL", args->model, "a .tflite file")->required();
  cmd->add_option("--runs", args->runs, "timed invocations per row")->capture_default_str();
  cmd->add_option("--warmup", args->warmup, "untimed invocations first")->capture_default_str();
  cmd->callback([args, &exit_code] {
    if (args->runs < 1 || args->runs > 100000)
      throw Error(args->model, "--runs", "1 to 100000", std::to_string(args->runs));
    if (args->warmup < 0 || args->warmup > 100000)
      throw Error(args->model, "--warmup", "0 to 100000", std::to_string(args->warmup));
    std::cout << "model: " << args->model << "\n"
              << "runs: " << args->runs << " timed after " << args->warmup
              << " warm-up, generated input\n\n";
    char line[256];
    std::snprintf(line, sizeof line, "%-9s %7s %10s %9s %9s  %s\n", "kernels", "threads",
                  "median ms", "p10 ms", "p90 ms", "what ran");
    std::cout << line;
    const std::shared_ptr<const ModelFile> model = LoadModelFile(args->model);
    for (bool xnnpack : {false, true}) {
      for (int threads : {1, 2}) {
        EngineOptions options;
        options.threads = threads;
        options.xnnpack = xnnpack;
        Engine engine = Engine::Load(model, options);
        for (size_t i = 0; i < engine.input_count(); ++i)
          engine.SetInput(i, GeneratedInput(engine.input(i), i));
        for (int w = 0; w < args->warmup; ++w) engine.Invoke();
        std::vector<double> ms;
        for (int r = 0; r < args->runs; ++r) {
          auto start = std::chrono::steady_clock::now();
          engine.Invoke();
          ms.push_back(
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                  .count());
        }
        std::sort(ms.begin(), ms.end());
        const EngineInfo& info = engine.info();
        std::string what = info.KernelSummary();
        if (xnnpack && info.delegate != Delegate::kXnnpack) what = "fell back: " + what;
        std::snprintf(line, sizeof line, "%-9s %7d %10.2f %9.2f %9.2f  ",
                      xnnpack ? "xnnpack" : "builtin", threads, Quantile(ms, 0.5),
                      Quantile(ms, 0.1), Quantile(ms, 0.9));
        std::cout << line << what << "\n";
        for (const auto& note : info.notes) std::cout << "          note: " << note << "\n";
      }
    }
    exit_code = 0;
  });
}

}  // namespace lockstep::cli
