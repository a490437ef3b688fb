// lockstep eval --model M --coco ANNOTATIONS.json --images DIR [--spec S ...] [--json FILE]
// [--report DIR] [--threads N]: the model's COCO box statistics under each pipeline spec, side by
// side, so a pipeline mismatch shows up as the accuracy it costs.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "lockstep/core/atomic_file.h"
#include "lockstep/core/error.h"
#include "lockstep/core/json_text.h"
#include "lockstep/detect/detector.h"
#include "lockstep/eval/coco.h"
#include "lockstep/eval/coco_eval.h"
#include "lockstep/eval/eval_report.h"
#include "lockstep/model/model_file.h"
#include "lockstep/pipeline/spec_model.h"
#include "lockstep/run/dataset_run.h"

namespace lockstep::cli {
namespace {

namespace fs = std::filesystem;

struct EvalArgs {
  std::string model, coco, images;
  std::vector<std::string> specs;
  std::string json, report, detections;
  int threads = 1;
  int interpreter_threads = 1;
  std::optional<double> score_threshold;
  int max_images = 0;
};

struct NamedSpec {
  std::string label;
  Spec spec;
};

// The spec files, then the model (read once); without spec files, the spec derived from it.
std::vector<NamedSpec> LoadSpecs(const EvalArgs& args, std::shared_ptr<const ModelFile>& model) {
  std::vector<NamedSpec> specs;
  for (const std::string& path : args.specs) specs.push_back({path, ReadSpecFile(path)});
  model = LoadModelFile(args.model);
  if (specs.empty()) {
    Spec derived = SpecFromModel(*model);
    std::cerr << "lockstep eval: no --spec given; using the spec derived from " << args.model
              << ". Its assumptions (confirm them with the training script):\n";
    for (const Provenance& p : derived.provenance)
      if (!p.fact) std::cerr << "  ASSUMPTION  " << p.field << ": " << p.reason << "\n";
    specs.push_back({"derived", std::move(derived)});
  }
  return specs;
}

// Runs one spec over every image, printing progress and what the spec check kept.
std::vector<CocoDetection> DetectAll(const EvalArgs& args, std::shared_ptr<const ModelFile> model,
                                     const EvalSet& set, const NamedSpec& spec, size_t spec_number,
                                     size_t spec_count) {
  DatasetRunOptions options;
  options.threads = args.threads;
  options.interpreter_threads = args.interpreter_threads;
  // Every detection the model outputs counts, unless the user asks otherwise: COCO AP is
  // computed over the whole ranking.
  options.score_threshold = args.score_threshold.value_or(0.0);
  const bool tty = ::isatty(2);
  options.started = [&](const std::vector<Finding>& findings) {
    WarnAboutFindings(findings, spec.label);
  };
  options.progress = [&](size_t done, size_t n) {
    std::fprintf(stderr, "%s[%zu/%zu] spec %zu/%zu%s", tty ? "\r" : "", done, n, spec_number,
                 spec_count, tty ? (done == n ? "\n" : "") : "\n");
    std::fflush(stderr);
  };
  DatasetRun run = RunDataset(std::move(model), spec.spec, set, options);
  if (run.dropped > 0)
    std::fprintf(stderr,
                 "lockstep eval: %zu detection(s) of placeholder classes (labels such as \"???\") "
                 "name no category and were left out\n",
                 run.dropped);
  return std::move(run.detections);
}

}  // namespace

void AddEvalCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval",
      "COCO box statistics (AP, AR) of a detector under one or more pipeline specs, side by side");
  cmd->add_option("--model", args->model, "the .tflite detector")->required();
  cmd->add_option("--coco", args->coco, "COCO instances annotations (JSON)")->required();
  cmd->add_option("--images", args->images, "the folder holding the annotated images")->required();
  cmd->add_option("--spec", args->specs,
                  "a pipeline spec (repeat to compare several); none: the spec derived from the "
                  "model, with its assumptions printed");
  cmd->add_option("--json", args->json, "write every evaluation here as JSON");
  cmd->add_option("--detections", args->detections,
                  "write the detections as a COCO results file (with several specs: one file each, "
                  "FILE's stem + \"-spec<i>\")");
  cmd->add_option("--report", args->report,
                  "write index.html with precision-recall curves and per-category AP (SVG) here");
  cmd->add_option("--threads", args->threads, "images evaluated in parallel (one interpreter each)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--interpreter-threads", args->interpreter_threads,
                  "threads inside each interpreter")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--score-threshold", args->score_threshold,
                  "drop detections below this score (default 0: every detection the model "
                  "outputs, as COCO AP expects)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-images", args->max_images,
                  "evaluate only the first N images of the annotations (0: all)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([args, &exit_code] {
    EvalSet set = LoadEvalSet(args->coco, args->images, size_t(args->max_images));
    std::shared_ptr<const ModelFile> model;
    std::vector<NamedSpec> specs = LoadSpecs(*args, model);
    auto start = std::chrono::steady_clock::now();
    std::vector<SpecEvaluation> evaluations;
    for (size_t s = 0; s < specs.size(); ++s) {
      std::vector<CocoDetection> detections =
          DetectAll(*args, model, set, specs[s], s + 1, specs.size());
      if (!args->detections.empty()) {
        fs::path file = args->detections;
        if (specs.size() > 1)
          file.replace_filename(file.stem().string() + "-spec" + std::to_string(s + 1) +
                                file.extension().string());
        WriteFileAtomically(file, CocoResultsJson(detections));
      }
      evaluations.push_back({specs[s].label, ToJson(specs[s].spec),
                             EvaluateBoxes(set.dataset, detections, {}, args->model)});
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    size_t runs = set.files.size() * specs.size();
    std::fprintf(stderr,
                 "lockstep eval: %zu images x %zu spec(s) in %.2f s (%.2f images/s, %d "
                 "thread(s))\n",
                 set.files.size(), specs.size(), seconds,
                 seconds > 0 ? double(runs) / seconds : 0.0, args->threads);

    std::cout << "COCO box statistics (%) of " << args->model << " on " << set.files.size()
              << " images of " << args->coco << "\n"
              << StatsTable(evaluations);
    if (!args->json.empty())
      WriteFileAtomically(args->json, JsonText(EvalJson(evaluations, set.dataset), 2) + "\n");
    if (!args->report.empty()) {
      WriteEvalReport(
          args->report, evaluations, set.dataset,
          args->model + " on " + std::to_string(set.files.size()) + " images of " + args->coco);
      std::cerr << "lockstep eval: report in " << (fs::path(args->report) / "index.html").string()
                << "\n";
    }
    exit_code = 0;
  });
}

}  // namespace lockstep::cli
