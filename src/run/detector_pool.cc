#include "lockstep/run/detector_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

namespace lockstep {

namespace fs = std::filesystem;

DetectorPool::DetectorPool(std::shared_ptr<const ModelFile> model, const Spec& spec,
                           const DetectorPoolOptions& options, Detector first)
    : model_(std::move(model)), spec_(spec), options_(options) {
  detectors_.push_back(std::move(first));
}

DetectorPool DetectorPool::Create(std::shared_ptr<const ModelFile> model, const Spec& spec,
                                  const DetectorPoolOptions& options) {
  Detector first = Detector::Create(model, spec, options.detector);
  return DetectorPool(std::move(model), spec, options, std::move(first));
}

// Up to `count` Detectors, reading the outputs in the roles the first one decided.
void DetectorPool::AddDetectors(size_t count) {
  DetectorOptions options = options_.detector;
  options.roles = first().roles();
  while (detectors_.size() < count) detectors_.push_back(Detector::Create(model_, spec_, options));
}

void DetectorPool::ForEach(size_t n, const std::function<void(Detector&, size_t)>& each,
                           const Progress& progress) {
  workers_used_ = std::min<size_t>(size_t(std::max(1, options_.workers)), std::max<size_t>(n, 1));
  if (n == 0) return;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex report;
  size_t done = 0;
  std::exception_ptr failure;
  auto work = [&](Detector& detector, size_t end) {
    for (size_t i; !failed && (i = next++) < end;) {
      try {
        each(detector, i);
        std::lock_guard lock(report);
        ++done;
        if (progress) progress(done, n, i);
      } catch (...) {
        std::lock_guard lock(report);
        if (!failure) failure = std::current_exception();
        failed = true;
      }
    }
  };
  // When the probe input left the output roles undecided, the first image decides them for all.
  if (!first().roles()) {
    work(detectors_.front(), 1);
    if (failure) std::rethrow_exception(failure);
    next = 1;  // the loop took one index past its end
  }
  AddDetectors(workers_used_);
  {
    std::vector<std::jthread> threads;  // joined on the way out
    for (size_t t = 1; t < workers_used_; ++t)
      threads.emplace_back(work, std::ref(detectors_[t]), n);
    work(detectors_.front(), n);
  }
  if (failure) std::rethrow_exception(failure);
}

std::vector<ImageDetections> DetectorPool::DetectFiles(const std::vector<fs::path>& files,
                                                       const Progress& progress) {
  std::vector<ImageDetections> found(files.size());
  ForEach(
      files.size(),
      [&](Detector& detector, size_t i) {
        found[i] = detector.DetectFile(files[i], options_.max_pixels);
      },
      progress);
  return found;
}

}  // namespace lockstep
