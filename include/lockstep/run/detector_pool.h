// Several Detectors on one loaded model, one interpreter each, taking images in parallel with the
// results in input order (so the worker count never changes a number). The first Detector checks
// the spec and decides the output roles (or, when its probe input could not, the first image
// does); the others are made after it and read the outputs the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include "lockstep/detect/detector.h"
#include "lockstep/image/decode.h"
#include "lockstep/model/model_file.h"
#include "lockstep/pipeline/spec.h"

namespace lockstep {

struct DetectorPoolOptions {
  DetectorOptions detector;  // every Detector's (threads: inside each interpreter)
  int workers = 1;           // Detectors taking images in parallel
  int64_t max_pixels = DecodeOptions{}.max_pixels;  // DetectFiles refuses larger images
};

class DetectorPool {
 public:
  // (done, total, index): image `index` finished; one call at a time, from the worker threads.
  using Progress = std::function<void(size_t done, size_t total, size_t index)>;

  // Creates the first Detector (Errors as Detector::Create); the others when a run needs them.
  static DetectorPool Create(std::shared_ptr<const ModelFile> model, const Spec& spec,
                             const DetectorPoolOptions& options = {});

  // The first Detector: its findings, labels, roles and kernels stand for the pool's.
  const Detector& first() const { return detectors_.front(); }

  // each(detector, i) for every i in [0, n), on up to `workers` threads. The first error stops
  // the others at their next image and is rethrown once every worker has stopped.
  void ForEach(size_t n, const std::function<void(Detector&, size_t)>& each,
               const Progress& progress = {});

  // Each file decoded as the spec says and detected, in the order of `files`.
  std::vector<ImageDetections> DetectFiles(const std::vector<std::filesystem::path>& files,
                                           const Progress& progress = {});

  // The Detectors the last run used.
  size_t worker_count() const { return workers_used_; }

 private:
  DetectorPool(std::shared_ptr<const ModelFile> model, const Spec& spec,
               const DetectorPoolOptions& options, Detector first);
  void AddDetectors(size_t count);

  std::shared_ptr<const ModelFile> model_;
  Spec spec_;
  DetectorPoolOptions options_;
  std::vector<Detector> detectors_;
  size_t workers_used_ = 1;
};

}  // namespace lockstep
