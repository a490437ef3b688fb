#include "lockstep/run/dataset_run.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "lockstep/core/error.h"
#include "lockstep/eval/category_map.h"
#include "lockstep/image/decode.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;

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
    fs::path file = images / image.file_name;
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

// `threads` Detectors, each on its own thread, take the next image from a shared counter;
// `each(detector, i)` runs image i. `ready` sees the first Detector before any image.
void ForEachImage(const fs::path& model, const Spec& spec, size_t n,
                  const DatasetRunOptions& options, const std::function<void(Detector&)>& ready,
                  const std::function<void(Detector&, size_t)>& each) {
  DetectorOptions detector_options;
  detector_options.threads = options.interpreter_threads;
  detector_options.xnnpack = options.xnnpack;
  detector_options.score_threshold = options.score_threshold;
  detector_options.reinterpret_8bit_input = options.reinterpret_8bit_input;
  Detector first = Detector::Create(model, spec, detector_options);
  if (options.started) options.started(first.findings());
  ready(first);
  if (n == 0) return;

  std::atomic<size_t> next{0}, done{0};
  std::mutex progress_mutex;
  auto run_one = [&](Detector& detector, size_t i) {
    each(detector, i);
    size_t d = ++done;
    if (options.progress) {
      std::lock_guard<std::mutex> lock(progress_mutex);
      options.progress(d, n);
    }
  };
  // The first image on the first Detector settles the output roles when its creation could not;
  // the other Detectors then read the outputs the same way.
  run_one(first, next++);
  detector_options.roles = first.roles();

  const size_t workers =
      std::max<size_t>(1, std::min<size_t>(size_t(std::max(1, options.threads)), n));
  std::vector<Detector> detectors;
  detectors.push_back(std::move(first));
  for (size_t w = 1; w < workers; ++w)
    detectors.push_back(Detector::Create(model, spec, detector_options));

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
  {
    std::vector<std::jthread> pool;  // joined on the way out, errors included
    for (size_t w = 1; w < workers; ++w) pool.emplace_back(work, std::ref(detectors[w]));
    work(detectors[0]);
  }
  if (failure) std::rethrow_exception(failure);
}

Image Decode(const fs::path& file, const Spec& spec) {
  DecodeOptions decode;
  decode.apply_exif_orientation = spec.input.exif_orientation;
  return DecodeImageFile(file, decode);
}

}  // namespace

DatasetRun RunDataset(const fs::path& model, const Spec& spec, const EvalSet& set,
                      const DatasetRunOptions& options) {
  DatasetRun run;
  CategoryMap categories;
  const size_t n = set.files.size();
  std::vector<std::vector<CocoDetection>> per_image(n);
  std::atomic<size_t> dropped{0};
  ForEachImage(
      model, spec, n, options,
      [&](Detector& first) {
        run.findings = first.findings();
        run.labels = first.labels();
        categories = MapCategories(run.labels, set, model);
      },
      [&](Detector& detector, size_t i) {
        AppendCocoDetections(detector.Detect(Decode(set.files[i], spec)), set.dataset.images[i],
                             set.files[i], categories, per_image[i], dropped);
      });
  run.dropped = dropped;
  for (auto& v : per_image) run.detections.insert(run.detections.end(), v.begin(), v.end());
  return run;
}

std::vector<ImageDetections> DetectImages(const fs::path& model, const Spec& spec,
                                          const std::vector<fs::path>& files,
                                          const DatasetRunOptions& options, LabelSource* labels) {
  std::vector<ImageDetections> out(files.size());
  ForEachImage(
      model, spec, files.size(), options,
      [&](Detector& first) {
        if (labels) *labels = first.labels();
      },
      [&](Detector& detector, size_t i) { out[i] = detector.Detect(Decode(files[i], spec)); });
  return out;
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
