// lockstep doctor --model M --train-spec A.json (--deploy-spec B.json | --stage-tensors DIR)
// [--images DIR | --coco ANNOTATIONS.json --images DIR] [--json FILE|-] [--html FILE]: is it the
// model or the pipeline? Exit 0 aligned, 1 an error-severity finding, 2 bad input.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "lockstep/core/atomic_file.h"
#include "lockstep/core/error.h"
#include "lockstep/core/json_text.h"
#include "lockstep/doctor/doctor.h"
#include "lockstep/doctor/doctor_html.h"
#include "lockstep/eval/eval_report.h"

namespace lockstep::cli {
namespace {

struct DoctorArgs {
  std::string model, train_spec, deploy_spec, images, coco, stage_tensors, json, html;
  int max_images = 0;
  int threads = 1;
  double min_agreement = GateOptions{}.min_agreement * 100;
  double max_ap_drop = GateOptions{}.max_ap_drop * 100;
  int shapley_orders = int(DoctorInput{}.shapley_orders);
  bool no_attribution = false, no_what_ifs = false;
};

}  // namespace

void AddDoctorCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<DoctorArgs>();
  CLI::App* cmd = app.add_subcommand(
      "doctor",
      "Where the deployed pipeline diverges from training: the cause named, the cost measured");
  cmd->add_option("--model", args->model, "the .tflite detector")->required();
  cmd->add_option("--train-spec", args->train_spec, "the training pipeline's spec")->required();
  cmd->add_option("--deploy-spec", args->deploy_spec,
                  "the deployed pipeline's spec (or give --stage-tensors from it)");
  cmd->add_option("--images", args->images,
                  "a folder of images: run both pipelines stage by stage (without it: static "
                  "checks only)");
  cmd->add_option("--coco", args->coco,
                  "COCO annotations of the --images: AP of each pipeline and the attribution of "
                  "the gap");
  cmd->add_option("--stage-tensors", args->stage_tensors,
                  "a folder of <image file name>.<stage>.npy tensors dumped by the OTHER "
                  "(deployed) pipeline, not training's: stage resized (HxWx3 uint8 RGB), "
                  "normalized (HxWx3 float32/float16), quantized (the model input as fed), boxes "
                  "([N,4] xmin,ymin,xmax,ymax in source pixels); compared with the training "
                  "spec's on the --images they name");
  cmd->add_option("--json", args->json, "write the report as JSON here (- for stdout)");
  cmd->add_option("--html", args->html, "write a self-contained HTML report here");
  cmd->add_option("--max-images", args->max_images, "use only the first N images (0: all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--threads", args->threads, "images run in parallel (one interpreter each)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--min-agreement", args->min_agreement,
                  "gate: a difference costing more than this (detections matched, %) is an error")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--max-ap-drop", args->max_ap_drop,
                  "gate, with --coco: an AP drop beyond this many points is an error")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_flag("--no-attribution", args->no_attribution,
                "skip the per-difference runs (each unit's own cost and its share of the AP gap: "
                "one full run each)");
  cmd->add_option("--shapley-orders", args->shapley_orders,
                  "with more than 4 differing units, fair shares are sampled from this many "
                  "random orders (each up to one run per unit)")
      ->check(CLI::Range(2, 1000))
      ->capture_default_str();
  cmd->add_flag("--no-what-ifs", args->no_what_ifs, "skip the input-quantization what-ifs");
  cmd->callback([args, &exit_code] {
    if (!args->coco.empty() && args->images.empty())
      throw Error(args->coco, "--images", "the folder holding the annotated images", "none given");
    if (args->deploy_spec.empty() && args->stage_tensors.empty())
      throw Error(args->train_spec, "--deploy-spec",
                  "the deployed pipeline: --deploy-spec, or --stage-tensors it dumped", "neither");
    DoctorInput in;
    in.model = args->model;
    in.training = ReadSpecFile(args->train_spec);
    in.training_source = args->train_spec;
    if (!args->deploy_spec.empty()) {
      in.deployed = ReadSpecFile(args->deploy_spec);
      in.deployed_source = args->deploy_spec;
    }
    in.gate.min_agreement = args->min_agreement / 100;
    in.gate.max_ap_drop = args->max_ap_drop / 100;
    if (!args->images.empty()) in.images = args->images;
    if (!args->coco.empty()) in.annotations = args->coco;
    if (!args->stage_tensors.empty()) in.stage_tensors = args->stage_tensors;
    in.max_images = size_t(args->max_images);
    in.attribution = !args->no_attribution;
    in.shapley_orders = size_t(args->shapley_orders);
    in.what_ifs = !args->no_what_ifs;
    in.run.threads = args->threads;
    const bool tty = ::isatty(2);
    in.progress = [tty](const std::string& what, size_t done, size_t total) {
      std::fprintf(stderr, "%s[%zu/%zu] %s%s", tty ? "\r" : "", done, total, what.c_str(),
                   tty ? (done == total ? "\n" : "") : "\n");
      std::fflush(stderr);
    };
    auto start = std::chrono::steady_clock::now();
    DoctorReport report = RunDoctor(in);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (report.images > 0)
      std::fprintf(stderr, "lockstep doctor: %zu image(s) in %.1f s\n", report.images, seconds);

    const bool json_to_stdout = args->json == "-";
    if (!json_to_stdout) std::cout << DoctorSummary(report);
    if (!args->json.empty()) {
      std::string text = JsonText(DoctorJson(report), 2) + "\n";
      if (json_to_stdout)
        std::cout << text;
      else
        WriteFileAtomically(args->json, text);
    }
    if (!args->html.empty()) {
      WriteDoctorHtml(args->html, report);
      std::cerr << "lockstep doctor: report in " << args->html << "\n";
    }
    exit_code = report.aligned ? 0 : 1;
  });
}

}  // namespace lockstep::cli
