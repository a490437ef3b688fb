// lockstep demo [--out DIR]: the main job on a fresh clone with no external files. It writes a
// small quantized detector (built with lockstep's model writer), a generated annotated image set
// and the training spec; measures the training pipeline's mAP on TensorFlow Lite; then plants the
// three classic deployment mistakes one at a time, with the doctor's diagnosis and the mAP each
// costs; and ends with the doctor's HTML report of all three together.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "lockstep/core/atomic_file.h"
#include "lockstep/core/json_text.h"
#include "lockstep/doctor/doctor.h"
#include "lockstep/doctor/doctor_html.h"
#include "lockstep/eval/coco_eval.h"
#include "lockstep/eval/eval_report.h"
#include "lockstep/model/model_file.h"
#include "lockstep/model/model_io.h"
#include "lockstep/run/dataset_run.h"
#include "lockstep/synthetic/squares_dataset.h"
#include "lockstep/synthetic/squares_detector.h"
#include "lockstep/synthetic/squares_spec.h"

namespace lockstep::cli {
namespace {

namespace fs = std::filesystem;

void WriteSpec(const fs::path& path, const Spec& spec) {
  WriteFileAtomically(path, JsonText(ToJson(spec), 2) + "\n");
}

std::string Fixed(double v, int digits = 3) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

struct Scored {
  double ap = 0, ap50 = 0;
};

Scored Evaluate(const std::shared_ptr<const ModelFile>& model, const Spec& spec,
                const EvalSet& set) {
  const DatasetRun run = RunDataset(model, spec, set);
  const CocoEvalResult r = EvaluateBoxes(set.dataset, run.detections);
  return {r.stats[0], r.stats[1]};
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

// Progress of a doctor run on stderr, a line per phase.
std::function<void(const std::string&, size_t, size_t)> DoctorProgress() {
  auto last = std::make_shared<std::string>();
  return [last](const std::string& what, size_t, size_t) {
    if (what == *last) return;
    *last = what;
    std::cerr << "demo:   doctor running " << what << "\n";
  };
}

DoctorReport Diagnose(const fs::path& dir, const Spec& training, const Spec& deployed,
                      const std::string& deployed_file, bool full) {
  DoctorInput in;
  in.model = dir / "squares.tflite";
  in.training = training;
  in.deployed = deployed;
  in.training_source = "training_spec.json";
  in.deployed_source = deployed_file;
  in.images = dir / "images";
  // Annotations let the gate price a difference in AP too: letterbox keeps every square found
  // at IoU 0.5 but costs AP at the stricter thresholds.
  in.annotations = dir / "annotations.json";
  if (!full) {
    in.max_images = 8;  // enough to compare the stages and name the divergence
    in.sample_images = 0;
    in.attribution = false;
    in.what_ifs = false;
  }
  in.progress = DoctorProgress();
  return RunDoctor(in);
}

// The doctor's diagnosis in two lines: its first error (code, field, both values) and the
// first stage where the pipelines diverge with the fingerprint it recognised.
void PrintDiagnosis(const DoctorReport& r) {
  const Finding* top = nullptr;
  for (const Finding& f : r.findings)
    if (f.severity == Severity::kError) {
      top = &f;
      break;
    }
  if (top)
    std::cout << "     doctor: " << top->code << " (" << top->field << "): training "
              << top->expected << ", deployed " << top->found << "\n";
  else
    std::cout << "     doctor: no error found\n";
  for (const StageReport& s : r.stages)
    if (s.stage == r.first_divergence) {
      std::cout << "             first divergence: " << s.stage;
      if (!s.fingerprints.empty())
        std::cout << ", looks like " << s.fingerprints.front().description;
      std::cout << "\n";
    }
}

}  // namespace

void AddDemoCommand(CLI::App& app, int& exit_code) {
  auto out = std::make_shared<std::string>("lockstep-demo");
  auto* cmd = app.add_subcommand(
      "demo", "Build a small detector and images, plant the classic pipeline mistakes, diagnose");
  cmd->add_option("--out", *out, "folder for the generated files (default lockstep-demo)");
  cmd->callback([out, &exit_code] {
    const auto start = std::chrono::steady_clock::now();
    const fs::path dir = *out;
    CreateOutputFolder(dir, "--out");
    const fs::path model = dir / "squares.tflite", images = dir / "images",
                   annotations = dir / "annotations.json";
    std::cerr << "demo: writing the model, images and specs to " << dir.string() << "\n";
    WriteModelFile(BuildSquaresDetector(), model);
    const SquaresDataset squares = GenerateSquares();
    WriteSquares(squares, images, annotations);
    const Spec training = SquaresTrainingSpec();
    WriteSpec(dir / "training_spec.json", training);
    const std::vector<PlantedMistake> mistakes = ClassicMistakes(training);
    for (const PlantedMistake& m : mistakes)
      WriteSpec(dir / ("deployed_" + m.name + ".json"), m.spec);
    const Spec all = WithAllMistakes(training);
    WriteSpec(dir / "deployed_all_three.json", all);

    const EvalSet set = LoadEvalSet(annotations, images);
    std::cerr << "demo: running the training pipeline on " << set.files.size() << " images\n";
    const std::shared_ptr<const ModelFile> loaded = LoadModelFile(model);
    const Scored correct = Evaluate(loaded, training, set);

    std::cout << "lockstep demo: is it the model or the pipeline?\n\n"
              << "Made with lockstep's own model writer, no external files, in " << dir.string()
              << "/:\n"
              << "  squares.tflite      a detector of red, green and blue squares: uint8 64x64 "
                 "input\n"
              << "                      (scale 1/127.5, zero point 128), weights set by "
                 "construction,\n"
              << "                      TFLite_Detection_PostProcess at the end\n"
              << "  images/             " << squares.images.size() << " PNG images, "
              << squares.images[0].width << "x" << squares.images[0].height << ", "
              << squares.dataset.annotations.size() << " squares (annotations.json, COCO)\n"
              << "  training_spec.json  the pipeline it was trained for: stretch to 64x64, "
                 "[-1,1]\n\n"
              << "Training pipeline on TensorFlow Lite:  AP " << Fixed(correct.ap) << "   AP50 "
              << Fixed(correct.ap50) << "\n\n"
              << "Three classic deployment mistakes, one at a time (deployed_*.json):\n";
    int n = 0;
    for (const PlantedMistake& m : mistakes) {
      std::cerr << "demo: planting " << m.description << "\n";
      const Scored s = Evaluate(loaded, m.spec, set);
      const DoctorReport r =
          Diagnose(dir, training, m.spec, "deployed_" + m.name + ".json", /*full=*/false);
      std::cout << "  " << ++n << ". " << Pad(m.description, 44) << "AP " << Fixed(s.ap)
                << "  AP50 " << Fixed(s.ap50) << "  (costs " << Fixed(correct.ap - s.ap)
                << " AP)\n";
      PrintDiagnosis(r);
    }
    std::cerr << "demo: all three together\n";
    const DoctorReport report =
        Diagnose(dir, training, all, "deployed_all_three.json", /*full=*/true);
    const fs::path html = dir / "doctor_report.html";
    WriteDoctorHtml(html, report);
    size_t errors = 0;
    for (const Finding& f : report.findings) errors += f.severity == Severity::kError;
    std::cout << "\nAll three together (deployed_all_three.json): ";
    if (report.deployed_eval)  // the doctor's own COCO evaluation of the deployed pipeline
      std::cout << "AP " << Fixed(report.deployed_eval->stats[0]) << "  AP50 "
                << Fixed(report.deployed_eval->stats[1]) << "; ";
    std::cout << "the doctor finds " << errors << " errors.\n"
              << "Its report (inputs side by side, detections, findings, mAP, attribution):\n  "
              << html.string() << "\n\n"
              << "Run the doctor yourself:\n"
              << "  lockstep doctor --model " << model.string() << " \\\n"
              << "    --train-spec " << (dir / "training_spec.json").string() << " --deploy-spec "
              << (dir / "deployed_letterbox.json").string() << " \\\n"
              << "    --coco " << annotations.string() << " --images " << images.string() << "\n";
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cerr << "demo: done in " << Fixed(seconds, 1) << " s\n";
    exit_code = 0;
  });
}

}  // namespace lockstep::cli
