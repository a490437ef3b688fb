// lockstep detect --model M [--spec S] IMAGE|DIR ... [--json FILE|-] [--coco-results FILE --coco
// ANNOTATIONS.json] [--draw DIR] [--threads N] [--score-threshold X]: detections in original-image
// pixels, as JSON Lines, as COCO results (with a checked category map) and as drawn PNGs.
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "lockstep/core/atomic_file.h"
#include "lockstep/core/error.h"
#include "lockstep/core/json_text.h"
#include "lockstep/detect/detection.h"
#include "lockstep/detect/detector.h"
#include "lockstep/eval/category_map.h"
#include "lockstep/eval/coco.h"
#include "lockstep/image/decode.h"
#include "lockstep/image/encode.h"
#include "lockstep/model/model_file.h"
#include "lockstep/pipeline/spec_model.h"
#include "lockstep/run/coco_results.h"
#include "lockstep/run/detector_pool.h"
#include "lockstep/run/image_files.h"

namespace lockstep::cli {
namespace {

namespace fs = std::filesystem;

struct Options {
  std::string model_path, spec_path, json_path, coco_results_path, coco_path, draw_dir;
  std::vector<std::string> inputs;
  std::string category_ids;
  std::optional<int64_t> category_offset;
  int threads = 1;
  std::optional<double> score_threshold;
  bool xnnpack = false;
  int64_t max_pixels = DecodeOptions{}.max_pixels;
};

// "-" is standard output.
void WriteText(const std::string& text, const std::string& path) {
  if (path == "-")
    std::cout << text << std::flush;
  else
    WriteFileAtomically(path, text);
}

nlohmann::ordered_json ImageJson(const std::string& name, const ImageDetections& r) {
  nlohmann::ordered_json dets = nlohmann::ordered_json::array();
  for (const PixelDetection& d : r.detections)
    dets.push_back({{"class_index", d.class_index},
                    {"label", d.label},
                    {"score", double(d.score)},
                    {"box", {d.box.xmin, d.box.ymin, d.box.xmax, d.box.ymax}}});
  return {{"image", name}, {"width", r.width}, {"height", r.height}, {"detections", dets}};
}

std::vector<int64_t> ParseIds(const std::string& text) {
  std::vector<int64_t> ids;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      ids.push_back(std::stoll(item, &used));
      if (item.find_first_not_of(" \t", used) != std::string::npos) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw Error("--category-ids", "[" + std::to_string(ids.size()) + "]",
                  "an integer category id (or -1 for a gap)", "'" + item + "'");
    }
  }
  return ids;
}

CategoryMap BuildCategoryMap(const Options& o, const Detector& detector, const CocoDataset& data) {
  if (!o.category_ids.empty())
    return CategoryMapFromIds(ParseIds(o.category_ids), data.categories, "--category-ids",
                              o.coco_path);
  const LabelSource& labels = detector.labels();
  if (o.category_offset) {
    if (labels.labels.empty())
      throw Error(o.model_path, "labels", "labels (to know the class count for --category-offset)",
                  "none", "give --category-ids, or labels in the spec");
    return CategoryMapByOffset(int(labels.labels.size()), *o.category_offset, labels.labels,
                               data.categories, o.coco_path);
  }
  return CategoryMapByName(labels.labels, data.categories,
                           o.model_path + " labels (" + labels.origin + ")", o.coco_path);
}

// A unique PNG name per input: the file's stem, with a counter when two inputs share it.
std::vector<std::string> DrawNames(const std::vector<fs::path>& images) {
  std::map<std::string, int> seen;
  std::vector<std::string> names;
  for (const fs::path& p : images) {
    std::string stem = p.stem().string();
    int n = seen[stem]++;
    names.push_back(n ? stem + "_" + std::to_string(n) + ".png" : stem + ".png");
  }
  return names;
}

void CheckOptions(const Options& o) {
  if (o.threads < 1) throw Error("--threads", "", "at least 1", std::to_string(o.threads));
  if (!o.coco_results_path.empty() && o.coco_path.empty())
    throw Error("--coco-results", "", "--coco ANNOTATIONS.json (for image and category ids)",
                "no --coco");
  if (!o.category_ids.empty() && o.category_offset)
    throw Error("--category-ids", "", "either --category-ids or --category-offset", "both");
}

// The model (read once), the spec (given, or derived from the model with its assumptions
// printed) and the images, checked in the order a person fixes them.
struct Inputs {
  std::shared_ptr<const ModelFile> model;
  Spec spec;
  std::vector<fs::path> images;
};

Inputs LoadInputs(const Options& o) {
  Inputs in;
  if (o.spec_path.empty()) {
    in.model = LoadModelFile(o.model_path);
    in.spec = SpecFromModel(*in.model);
    std::cerr << "No --spec: using the spec derived from the model; its assumptions:\n";
    for (const auto& p : in.spec.provenance)
      if (!p.fact) std::cerr << "  " << p.field << ": " << p.reason << "\n";
  } else {
    in.spec = ReadSpecFile(o.spec_path);
  }
  in.images = ListImageFiles({o.inputs.begin(), o.inputs.end()}, "IMAGE");
  if (!in.model) in.model = LoadModelFile(o.model_path);
  return in;
}

// The COCO side, checked before any image is processed.
struct CocoOutput {
  CocoDataset dataset;
  CategoryMap categories;
  std::vector<int64_t> image_ids;  // per input image
};

std::optional<CocoOutput> PrepareCoco(const Options& o, const Detector& detector,
                                      const std::vector<fs::path>& images) {
  if (o.coco_results_path.empty()) return std::nullopt;
  CocoOutput coco;
  coco.dataset = ReadCocoDataset(o.coco_path);
  coco.categories = BuildCategoryMap(o, detector, coco.dataset);
  std::cerr << "Categories: " << coco.categories.rule << "\n";
  coco.image_ids = CocoImageIds(coco.dataset, images, o.coco_path);
  return coco;
}

// Every image through the pool: detections in input order, PNGs drawn on request, a progress
// line per image when there are several.
std::vector<ImageDetections> DetectAll(const Options& o, DetectorPool& pool,
                                       const std::vector<fs::path>& images) {
  if (!o.draw_dir.empty()) CreateOutputFolder(o.draw_dir, "--draw");
  const std::vector<std::string> draw_names = DrawNames(images);
  const size_t n = images.size();
  std::vector<ImageDetections> results(n);
  pool.ForEach(
      n,
      [&](Detector& detector, size_t i) {
        Image image = detector.DecodeFile(images[i], o.max_pixels);
        results[i] = detector.Detect(image);
        if (!o.draw_dir.empty())
          WritePngFile(DrawDetections(image, results[i].detections),
                       fs::path(o.draw_dir) / draw_names[i]);
      },
      [&](size_t done, size_t total, size_t i) {
        if (total > 1)
          std::cerr << "[" << done << "/" << total << "] " << images[i].filename().string() << " "
                    << results[i].detections.size() << " detections\n";
      });
  return results;
}

void PrintDetections(const std::string& name, const ImageDetections& r) {
  std::cout << name << ": " << r.width << "x" << r.height << ", " << r.detections.size()
            << " detections\n";
  for (const PixelDetection& d : r.detections) {
    char line[256];
    std::snprintf(line, sizeof line, "  %-16s %.3f  [%.1f, %.1f, %.1f, %.1f]\n", d.label.c_str(),
                  double(d.score), d.box.xmin, d.box.ymin, d.box.xmax, d.box.ymax);
    std::cout << line;
  }
}

void WriteCocoResults(const Options& o, const CocoOutput& coco,
                      const std::vector<ImageDetections>& results) {
  std::vector<CocoDetection> all;
  size_t unmapped = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    std::vector<CocoDetection> one =
        ToCocoResults(results[i], coco.image_ids[i], coco.categories, &unmapped);
    all.insert(all.end(), one.begin(), one.end());
  }
  ValidateDetections(all, coco.dataset, o.coco_results_path);
  WriteText(CocoResultsJson(all), o.coco_results_path);
  std::cerr << "COCO results: " << all.size() << " detections written to " << o.coco_results_path;
  if (unmapped) std::cerr << " (" << unmapped << " of classes without a category left out)";
  std::cerr << "\n";
}

void Run(const Options& o, int& exit_code) {
  CheckOptions(o);
  const Inputs in = LoadInputs(o);
  DetectorPool pool = DetectorPool::Create(
      in.model, in.spec,
      {.detector = {.threads = 1, .xnnpack = o.xnnpack, .score_threshold = o.score_threshold},
       .workers = o.threads,
       .max_pixels = o.max_pixels});
  const Detector& first = pool.first();
  WarnAboutFindings(first.findings(), o.spec_path.empty() ? "the derived spec" : o.spec_path);
  if (const auto& roles = first.roles())
    std::cerr << "outputs: boxes " << roles->boxes << ", classes " << roles->classes << ", scores "
              << roles->scores << ", count " << roles->count << " (decided by "
              << OutputRoleRuleName(roles->rule) << ": " << roles->reason << ")\n";
  const std::optional<CocoOutput> coco = PrepareCoco(o, first, in.images);

  const auto start = std::chrono::steady_clock::now();
  const std::vector<ImageDetections> results = DetectAll(o, pool, in.images);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::string lines;
  for (size_t i = 0; i < results.size(); ++i) {
    lines += JsonText(ImageJson(in.images[i].string(), results[i])) + "\n";
    if (o.json_path.empty()) PrintDetections(in.images[i].string(), results[i]);
  }
  if (!o.json_path.empty()) WriteText(lines, o.json_path);
  if (coco) WriteCocoResults(o, *coco, results);
  const size_t n = results.size(), workers = pool.worker_count();
  if (n > 1)
    std::cerr << n << " images in " << seconds << " s (" << double(n) / seconds << " images/s, "
              << workers << " worker" << (workers > 1 ? "s" : "") << ")\n";
  exit_code = 0;
}

}  // namespace

void AddDetectCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "detect",
      "Detect objects in images: boxes in original-image pixels, JSON, COCO results, PNGs");
  static Options o;
  cmd->add_option("--model", o.model_path, "the .tflite detector")->required();
  cmd->add_option("--spec", o.spec_path, "the pipeline spec (default: derived from the model)");
  cmd->add_option("IMAGES", o.inputs, "image files or directories of images")->required();
  cmd->add_option("--json", o.json_path, "JSON Lines, one object per image ('-': stdout)");
  cmd->add_option("--coco-results", o.coco_results_path, "COCO results JSON (needs --coco)");
  cmd->add_option("--coco", o.coco_path, "COCO annotations: image ids and categories");
  cmd->add_option("--category-ids", o.category_ids,
                  "explicit category id per class index, comma-separated (-1: a gap)");
  cmd->add_option("--category-offset", o.category_offset, "category id = class index + N");
  cmd->add_option("--draw", o.draw_dir, "write PNGs with labelled boxes here");
  cmd->add_option("--threads", o.threads, "worker threads, one interpreter each");
  cmd->add_option("--score-threshold", o.score_threshold, "overrides the spec's threshold");
  cmd->add_flag("--xnnpack", o.xnnpack, "ask for the XNNPACK delegate");
  cmd->add_option("--max-pixels", o.max_pixels, "refuse larger images (decompression bombs)");
  cmd->callback([&exit_code] { Run(o, exit_code); });
}

}  // namespace lockstep::cli
