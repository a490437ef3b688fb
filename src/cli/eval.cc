// lockstep eval --model M --coco ANNOTATIONS.json --images DIR [--spec S ...] [--json FILE]
// [--report DIR] [--threads N]: the model's COCO box statistics under each pipeline spec, side by
// side, so a pipeline mismatch shows up as the accuracy it costs.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "cli/commands.h"
#include "lockstep/category_map.h"
#include "lockstep/coco.h"
#include "lockstep/coco_eval.h"
#include "lockstep/decode.h"
#include "lockstep/detector.h"
#include "lockstep/error.h"
#include "lockstep/eval_report.h"
#include "lockstep/model_io.h"
#include "lockstep/spec_model.h"

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

// The images to evaluate, each checked to exist before any inference runs.
struct EvalSet {
  CocoDataset dataset;  // restricted to the images evaluated
  std::vector<fs::path> files;
};

EvalSet LoadEvalSet(const EvalArgs& args) {
  EvalSet set;
  CocoDataset all = ReadCocoDataset(args.coco);
  std::error_code ec;
  if (!fs::is_directory(args.images, ec))
    throw Error(args.images, "--images", "a folder holding the annotated images",
                fs::exists(args.images, ec) ? "not a folder" : "no such folder");
  size_t n = all.images.size();
  if (args.max_images > 0) n = std::min(n, size_t(args.max_images));
  if (n == 0) throw Error(args.coco, "images", "at least one image", "none");
  for (size_t i = 0; i < n; ++i) {
    const CocoImage& image = all.images[i];
    fs::path file = fs::path(args.images) / image.file_name;
    if (!fs::is_regular_file(file, ec))
      throw Error(file.string(), "images[" + std::to_string(i) + "].file_name",
                  "the annotated image in " + args.images, "no such file",
                  "pass the folder holding the images the annotations name, or --max-images");
    set.dataset.images.push_back(image);
    set.files.push_back(file);
  }
  std::unordered_set<int64_t> kept;
  for (const CocoImage& image : set.dataset.images) kept.insert(image.id);
  for (const CocoAnnotation& a : all.annotations)
    if (kept.count(a.image_id)) set.dataset.annotations.push_back(a);
  set.dataset.categories = all.categories;
  return set;
}

struct NamedSpec {
  std::string label;
  Spec spec;
};

std::vector<NamedSpec> LoadSpecs(const EvalArgs& args) {
  std::vector<NamedSpec> specs;
  for (const std::string& path : args.specs) specs.push_back({path, ReadSpecFile(path)});
  if (specs.empty()) {
    Model model = ReadModelFile(args.model);
    Spec derived = SpecFromModel(model, args.model);
    std::cerr << "lockstep eval: no --spec given; using the spec derived from " << args.model
              << ". Its assumptions (confirm them with the training script):\n";
    for (const Provenance& p : derived.provenance)
      if (!p.fact) std::cerr << "  ASSUMPTION  " << p.field << ": " << p.reason << "\n";
    specs.push_back({"derived", std::move(derived)});
  }
  return specs;
}

// One image's detections as COCO results; boxes from corners to x, y, width, height.
void AppendCocoDetections(const ImageDetections& found, const CocoImage& image,
                          const fs::path& file, const CategoryMap& categories,
                          std::vector<CocoDetection>& out, std::atomic<size_t>& dropped) {
  if (found.width != image.width || found.height != image.height)
    throw Error(file.string(), "width, height",
                std::to_string(image.width) + "x" + std::to_string(image.height) +
                    " as the annotations say",
                std::to_string(found.width) + "x" + std::to_string(found.height),
                "the annotations were made on other pixels (EXIF orientation? set "
                "input.exif_orientation in the spec)");
  for (const PixelDetection& d : found.detections) {
    std::optional<int64_t> id = categories.CategoryOf(d.class_index);
    if (!id) {
      // A placeholder slot ("???", "n/a") names no category: nothing to count it against.
      if (d.class_index >= 0 && size_t(d.class_index) < categories.category_ids.size()) {
        ++dropped;
        continue;
      }
      throw Error(file.string(), "class_index",
                  "a class index below " + std::to_string(categories.category_ids.size()) +
                      " (one per label, " + categories.rule + ")",
                  std::to_string(d.class_index) + " (" + d.label + ")",
                  "the labels do not cover the model's classes; check output.labels");
    }
    out.push_back(
        {image.id, *id,
         XywhBox{d.box.xmin, d.box.ymin, d.box.xmax - d.box.xmin, d.box.ymax - d.box.ymin},
         double(d.score)});
  }
}

// The checked class index → category id map, by label name (a mismatch is an Error, never a
// silent 0 AP).
CategoryMap MapCategories(const LabelSource& labels, const EvalSet& set, const EvalArgs& args) {
  if (labels.labels.empty())
    throw Error(args.model, "labels",
                "class labels to map class indices to the categories of " + args.coco,
                "none in the spec or the model's metadata",
                "give output.labels or output.label_file in the spec");
  return CategoryMapByName(labels.labels, set.dataset.categories, labels.origin, args.coco);
}

// Runs one spec over every image with `threads` Detectors, each on its own thread, taking the
// next image from a shared counter. Detections keep image order, so the result does not depend on
// the thread count.
std::vector<CocoDetection> DetectAll(const EvalArgs& args, const EvalSet& set,
                                     const NamedSpec& spec, size_t spec_number, size_t spec_count) {
  DetectorOptions options;
  options.threads = args.interpreter_threads;
  // Every detection the model outputs counts, unless the user asks otherwise: COCO AP is
  // computed over the whole ranking.
  options.score_threshold = args.score_threshold.value_or(0.0);
  Detector first = Detector::Create(args.model, spec.spec, options);
  WarnAboutFindings(first.findings(), spec.label);
  CategoryMap categories = MapCategories(first.labels(), set, args);

  const size_t n = set.files.size();
  std::vector<std::vector<CocoDetection>> per_image(n);
  std::atomic<size_t> next{0}, done{0}, dropped{0};
  std::mutex progress_mutex;
  const bool tty = ::isatty(2);
  auto report = [&] {
    size_t d = ++done;
    std::lock_guard<std::mutex> lock(progress_mutex);
    std::fprintf(stderr, "%s[%zu/%zu] spec %zu/%zu%s", tty ? "\r" : "", d, n, spec_number,
                 spec_count, tty ? (d == n ? "\n" : "") : "\n");
    std::fflush(stderr);
  };
  auto run_one = [&](Detector& detector, size_t i) {
    DecodeOptions decode;
    decode.apply_exif_orientation = spec.spec.input.exif_orientation;
    Image decoded = DecodeImageFile(set.files[i], decode);
    AppendCocoDetections(detector.Detect(decoded), set.dataset.images[i], set.files[i], categories,
                         per_image[i], dropped);
    report();
  };

  // The first image on the first Detector settles the output roles when its creation could not;
  // the other Detectors then read the outputs the same way.
  run_one(first, next++);
  options.roles = first.roles();

  const size_t workers = std::max<size_t>(1, std::min<size_t>(size_t(args.threads), n));
  std::vector<Detector> detectors;
  detectors.push_back(std::move(first));
  for (size_t w = 1; w < workers; ++w)
    detectors.push_back(Detector::Create(args.model, spec.spec, options));

  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto work = [&](Detector& detector) {
    for (size_t i = next++; i < n; i = next++) {
      try {
        run_one(detector, i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next = n;  // the others stop at their next image
        return;
      }
    }
  };
  std::vector<std::jthread> pool;  // joined on the way out, errors included
  for (size_t w = 1; w < workers; ++w) pool.emplace_back(work, std::ref(detectors[w]));
  work(detectors[0]);
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
  if (dropped > 0)
    std::fprintf(stderr,
                 "lockstep eval: %zu detection(s) of placeholder classes (labels such as \"???\") "
                 "name no category and were left out\n",
                 size_t(dropped));

  std::vector<CocoDetection> all;
  for (auto& v : per_image) all.insert(all.end(), v.begin(), v.end());
  return all;
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
    EvalSet set = LoadEvalSet(*args);
    std::vector<NamedSpec> specs = LoadSpecs(*args);
    auto start = std::chrono::steady_clock::now();
    std::vector<SpecEvaluation> evaluations;
    for (size_t s = 0; s < specs.size(); ++s) {
      std::vector<CocoDetection> detections = DetectAll(*args, set, specs[s], s + 1, specs.size());
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
      WriteFileAtomically(args->json, EvalJson(evaluations, set.dataset).dump(2) + "\n");
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
