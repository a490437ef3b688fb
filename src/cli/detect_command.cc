// lockstep detect --model M [--spec S] IMAGE|DIR ... [--json FILE|-] [--coco-results FILE --coco
// ANNOTATIONS.json] [--draw DIR] [--threads N] [--score-threshold X]: detections in original-image
// pixels, as JSON Lines, as COCO results (with a checked category map) and as drawn PNGs.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "lockstep/core/atomic_file.h"
#include "lockstep/core/error.h"
#include "lockstep/detect/detector.h"
#include "lockstep/eval/category_map.h"
#include "lockstep/eval/coco.h"
#include "lockstep/image/decode.h"
#include "lockstep/image/draw.h"
#include "lockstep/image/encode.h"
#include "lockstep/model/model_io.h"
#include "lockstep/pipeline/spec_model.h"

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

bool IsImageName(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

// Files as given; directories contribute their image files (by extension), sorted by name.
std::vector<fs::path> CollectImages(const std::vector<std::string>& inputs) {
  std::vector<fs::path> images;
  for (const std::string& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::directory_iterator(in, ec))
        if (entry.is_regular_file() && IsImageName(entry.path())) found.push_back(entry.path());
      if (ec) throw Error(in, "", "a readable directory", ec.message());
      if (found.empty()) throw Error(in, "", "a directory with .jpg, .png or .bmp images", "none");
      std::sort(found.begin(), found.end());
      images.insert(images.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(in, ec)) {
      images.emplace_back(in);
    } else {
      throw Error(in, "IMAGE", "an image file or a directory of images", "no such file");
    }
  }
  return images;
}

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

void Run(const Options& o, int& exit_code) {
  if (o.threads < 1) throw Error("--threads", "", "at least 1", std::to_string(o.threads));
  if (!o.coco_results_path.empty() && o.coco_path.empty())
    throw Error("--coco-results", "", "--coco ANNOTATIONS.json (for image and category ids)",
                "no --coco");
  if (!o.category_ids.empty() && o.category_offset)
    throw Error("--category-ids", "", "either --category-ids or --category-offset", "both");

  Spec spec;
  if (o.spec_path.empty()) {
    spec = SpecFromModel(ReadModelFile(o.model_path), o.model_path);
    std::cerr << "No --spec: using the spec derived from the model; its assumptions:\n";
    for (const auto& p : spec.provenance)
      if (!p.fact) std::cerr << "  " << p.field << ": " << p.reason << "\n";
  } else {
    spec = ReadSpecFile(o.spec_path);
  }
  const std::vector<fs::path> images = CollectImages(o.inputs);
  DetectorOptions dopt{.threads = 1, .xnnpack = o.xnnpack, .score_threshold = o.score_threshold};
  std::vector<Detector> detectors;
  detectors.reserve(size_t(o.threads));
  detectors.push_back(Detector::Create(o.model_path, spec, dopt));
  const Detector& first = detectors.front();
  WarnAboutFindings(first.findings(), o.spec_path.empty() ? "the derived spec" : o.spec_path);
  if (const auto& roles = first.roles())
    std::cerr << "outputs: boxes " << roles->boxes << ", classes " << roles->classes << ", scores "
              << roles->scores << ", count " << roles->count << " (decided by "
              << OutputRoleRuleName(roles->rule) << ": " << roles->reason << ")\n";

  // Check the COCO side before any image is processed.
  std::optional<CocoDataset> dataset;
  std::optional<CategoryMap> categories;
  std::vector<int64_t> image_ids;
  if (!o.coco_results_path.empty()) {
    dataset = ReadCocoDataset(o.coco_path);
    categories = BuildCategoryMap(o, first, *dataset);
    std::cerr << "Categories: " << categories->rule << "\n";
    std::map<std::string, int64_t> by_file;
    for (const CocoImage& im : dataset->images) by_file.emplace(im.file_name, im.id);
    for (const fs::path& p : images) {
      auto it = by_file.find(p.filename().string());
      if (it == by_file.end())
        throw Error(o.coco_path, "images[].file_name", "an entry for every input image",
                    "none for " + p.filename().string());
      image_ids.push_back(it->second);
    }
  }
  if (!o.draw_dir.empty()) fs::create_directories(o.draw_dir);
  const std::vector<std::string> draw_names = DrawNames(images);

  const size_t n = images.size();
  std::vector<std::optional<ImageDetections>> results(n);
  std::atomic<size_t> next{0};
  size_t end = n;  // set before workers start
  std::atomic<bool> failed{false};
  std::mutex report;
  size_t done = 0;
  std::exception_ptr error;
  auto work = [&](Detector& detector) {
    for (size_t i; !failed && (i = next++) < end;) {
      try {
        Image image = DecodeImageFile(
            images[i], {.max_pixels = o.max_pixels,
                        .apply_exif_orientation = detector.spec().input.exif_orientation});
        ImageDetections r = detector.Detect(image);
        if (!o.draw_dir.empty()) {
          Image canvas = ToRgb(image);
          const int scale =
              std::max(1, int(std::lround(std::min(canvas.width, canvas.height) / 320.0)));
          for (auto it = r.detections.rbegin(); it != r.detections.rend(); ++it) {
            char text[160];
            std::snprintf(text, sizeof text, "%s %.2f", it->label.c_str(), double(it->score));
            DrawLabeledBox(canvas, it->box.xmin, it->box.ymin, it->box.xmax, it->box.ymax, text,
                           ClassColor(it->class_index), 2 * scale, scale);
          }
          WritePngFile(canvas, fs::path(o.draw_dir) / draw_names[i]);
        }
        std::lock_guard lock(report);
        ++done;
        if (n > 1)
          std::cerr << "[" << done << "/" << n << "] " << images[i].filename().string() << " "
                    << r.detections.size() << " detections\n";
        results[i] = std::move(r);
      } catch (...) {
        std::lock_guard lock(report);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };

  const auto start = std::chrono::steady_clock::now();
  // When the probe input left the output roles undecided, the first image decides them for all.
  if (!detectors.front().roles() && n > 0) {
    end = 1;
    work(detectors.front());
    end = n;
    next = 1;  // the probe loop took one index too many
  }
  size_t worker_count = std::min<size_t>(size_t(o.threads), std::max<size_t>(n, 1));
  dopt.roles = detectors.front().roles();
  for (size_t t = 1; t < worker_count; ++t)
    detectors.push_back(Detector::Create(o.model_path, spec, dopt));
  std::vector<std::thread> threads;
  for (size_t t = 1; t < worker_count; ++t) threads.emplace_back(work, std::ref(detectors[t]));
  work(detectors[0]);
  for (std::thread& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::string lines;
  std::vector<CocoDetection> coco;
  size_t unmapped = 0;
  for (size_t i = 0; i < n; ++i) {
    const ImageDetections& r = *results[i];
    const std::string name = images[i].string();
    lines += ImageJson(name, r).dump() + "\n";
    if (o.json_path.empty()) {
      std::cout << name << ": " << r.width << "x" << r.height << ", " << r.detections.size()
                << " detections\n";
      for (const PixelDetection& d : r.detections) {
        char line[256];
        std::snprintf(line, sizeof line, "  %-16s %.3f  [%.1f, %.1f, %.1f, %.1f]\n",
                      d.label.c_str(), double(d.score), d.box.xmin, d.box.ymin, d.box.xmax,
                      d.box.ymax);
        std::cout << line;
      }
    }
    if (categories)
      for (const PixelDetection& d : r.detections) {
        std::optional<int64_t> id = categories->CategoryOf(d.class_index);
        if (!id) {
          ++unmapped;
          continue;
        }
        coco.push_back({image_ids[i],
                        *id,
                        {d.box.xmin, d.box.ymin, d.box.xmax - d.box.xmin, d.box.ymax - d.box.ymin},
                        double(d.score)});
      }
  }
  if (!o.json_path.empty()) WriteText(lines, o.json_path);
  if (categories) {
    ValidateDetections(coco, *dataset, o.coco_results_path);
    WriteText(CocoResultsJson(coco), o.coco_results_path);
    std::cerr << "COCO results: " << coco.size() << " detections written to "
              << o.coco_results_path;
    if (unmapped) std::cerr << " (" << unmapped << " of classes without a category left out)";
    std::cerr << "\n";
  }
  if (n > 1)
    std::cerr << n << " images in " << seconds << " s (" << double(n) / seconds << " images/s, "
              << worker_count << " worker" << (worker_count > 1 ? "s" : "") << ")\n";
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
