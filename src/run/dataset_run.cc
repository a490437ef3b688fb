#include "lockstep/run/dataset_run.h"

#include <algorithm>
#include <atomic>
#include <unordered_set>

#include "lockstep/core/error.h"
#include "lockstep/core/utf8.h"
#include "lockstep/eval/category_map.h"
#include "lockstep/run/coco_results.h"
#include "lockstep/run/detector_pool.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;

// One image's detections as COCO results. A placeholder slot ("???", "n/a") names no category:
// nothing to count it against, so it is dropped; a class beyond the labels is an Error.
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
  for (const PixelDetection& d : found.detections)
    if (!categories.CategoryOf(d.class_index) &&
        (d.class_index < 0 || size_t(d.class_index) >= categories.category_ids.size()))
      throw Error(file.string(), "class_index",
                  "a class index below " + std::to_string(categories.category_ids.size()) +
                      " (one per label, " + categories.rule + ")",
                  std::to_string(d.class_index) + " (" + d.label + ")",
                  "the labels do not cover the model's classes; check output.labels");
  size_t unmapped = 0;
  std::vector<CocoDetection> results = ToCocoResults(found, image.id, categories, &unmapped);
  out.insert(out.end(), results.begin(), results.end());
  dropped += unmapped;
}

// The checked class index → category id map, by label name (a mismatch is an Error, never a
// silent 0 AP).
CategoryMap MapCategories(const LabelSource& labels, const EvalSet& set, const fs::path& model) {
  if (labels.labels.empty())
    throw Error(model.string(), "labels",
                "class labels to map class indices to the categories of " + set.source,
                "none in the spec or the model's metadata",
                "give output.labels or output.label_file in the spec");
  return CategoryMapByName(labels.labels, set.dataset.categories, labels.origin, set.source);
}

}  // namespace

EvalSet LoadEvalSet(const fs::path& annotations, const fs::path& images, size_t max_images) {
  EvalSet set;
  set.source = annotations.string();
  CocoDataset all = ReadCocoDataset(annotations);
  std::error_code ec;
  if (!fs::is_directory(images, ec))
    throw Error(images.string(), "--images", "a folder holding the annotated images",
                fs::exists(images, ec) ? "not a folder" : "no such folder");
  size_t n = all.images.size();
  if (max_images > 0) n = std::min(n, max_images);
  if (n == 0) throw Error(annotations.string(), "images", "at least one image", "none");
  for (size_t i = 0; i < n; ++i) {
    const CocoImage& image = all.images[i];
    // A name from the annotations file must not lead out of --images.
    fs::path name(image.file_name);
    bool escapes =
        name.empty() || name.has_root_path() ||
        std::any_of(name.begin(), name.end(), [](const fs::path& p) { return p == ".."; });
    if (escapes)
      throw Error(annotations.string(), "images[" + std::to_string(i) + "].file_name",
                  "a file name relative to --images, without \"..\"", Quoted(image.file_name, 60));
    fs::path file = images / name;
    if (!fs::is_regular_file(file, ec))
      throw Error(file.string(), "images[" + std::to_string(i) + "].file_name",
                  "the annotated image in " + images.string(), "no such file",
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

namespace {

DetectorPool PoolFor(std::shared_ptr<const ModelFile> model, const Spec& spec,
                     const DatasetRunOptions& options) {
  DetectorPoolOptions pool;
  pool.detector.threads = options.interpreter_threads;
  pool.detector.xnnpack = options.xnnpack;
  pool.detector.score_threshold = options.score_threshold;
  pool.detector.reinterpret_8bit_input = options.reinterpret_8bit_input;
  pool.workers = options.threads;
  DetectorPool detectors = DetectorPool::Create(std::move(model), spec, pool);
  if (options.started) options.started(detectors.first().findings());
  return detectors;
}

DetectorPool::Progress ProgressOf(const DatasetRunOptions& options) {
  if (!options.progress) return {};
  return [&options](size_t done, size_t total, size_t) { options.progress(done, total); };
}

}  // namespace

DatasetRun RunDataset(std::shared_ptr<const ModelFile> model, const Spec& spec, const EvalSet& set,
                      const DatasetRunOptions& options) {
  const fs::path source = model->source();
  DetectorPool pool = PoolFor(std::move(model), spec, options);
  DatasetRun run;
  run.findings = pool.first().findings();
  run.labels = pool.first().labels();
  const CategoryMap categories = MapCategories(run.labels, set, source);
  std::vector<std::vector<CocoDetection>> per_image(set.files.size());
  std::atomic<size_t> dropped{0};
  pool.ForEach(
      set.files.size(),
      [&](Detector& detector, size_t i) {
        AppendCocoDetections(detector.DetectFile(set.files[i]), set.dataset.images[i], set.files[i],
                             categories, per_image[i], dropped);
      },
      ProgressOf(options));
  run.dropped = dropped;
  for (auto& v : per_image) run.detections.insert(run.detections.end(), v.begin(), v.end());
  return run;
}

DatasetRun RunDataset(const fs::path& model, const Spec& spec, const EvalSet& set,
                      const DatasetRunOptions& options) {
  return RunDataset(LoadModelFile(model), spec, set, options);
}

std::vector<ImageDetections> DetectImages(std::shared_ptr<const ModelFile> model, const Spec& spec,
                                          const std::vector<fs::path>& files,
                                          const DatasetRunOptions& options, LabelSource* labels) {
  DetectorPool pool = PoolFor(std::move(model), spec, options);
  if (labels) *labels = pool.first().labels();
  return pool.DetectFiles(files, ProgressOf(options));
}

std::vector<CocoDetection> ToCocoDetections(const std::vector<ImageDetections>& found,
                                            const EvalSet& set, const LabelSource& labels,
                                            const fs::path& model, size_t* dropped) {
  if (found.size() != set.files.size())
    throw Error(set.source, "images", std::to_string(set.files.size()) + " images' detections",
                std::to_string(found.size()));
  CategoryMap categories = MapCategories(labels, set, model);
  std::vector<CocoDetection> out;
  std::atomic<size_t> left_out{0};
  for (size_t i = 0; i < found.size(); ++i)
    AppendCocoDetections(found[i], set.dataset.images[i], set.files[i], categories, out, left_out);
  if (dropped) *dropped = left_out;
  return out;
}

}  // namespace lockstep
