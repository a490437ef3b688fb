// Internal to the doctor room: what its phases share — the loaded run, detections matched
// between two pipelines, stage comparisons folded over images, and the reference tensors.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lockstep/detect/detector.h"
#include "lockstep/doctor/doctor.h"
#include "lockstep/model/model_file.h"

namespace lockstep::doctor {

// Images whose differing tensors go through CompareTensors' fingerprints (each hypothesis
// re-runs part of a pipeline); later images only count as differing or not.
inline constexpr size_t kFingerprintedImages = 8;

// AP@[.5:.95] of an evaluation; -1 (no annotations of that kind) counts as 0.
inline double Ap(const CocoEvalResult& e) { return e.stats[0] > 0 ? e.stats[0] : 0.0; }

// What every phase of a doctor run reads: the input and the model, loaded once. `model` is what
// runs: the model given, or, for one compiled for the Edge TPU with no TPU here, its CPU twin;
// `given` is the file as given, whose facts the static checks read.
struct DoctorRun {
  const DoctorInput& in;
  std::shared_ptr<const ModelFile> model;
  ModelInput input;
  std::shared_ptr<const ModelFile> given;
};

// Detections of two pipelines matched one to one (same class, IoU >= iou_threshold, greedy by
// score) above score_threshold, summed over images.
struct AgreementSums {
  DetectionAgreement a;
  double score_delta_sum = 0, iou_sum = 0;
  size_t changed = 0;  // matched pairs whose score or box moved
  void Add(const std::vector<PixelDetection>& training, const std::vector<PixelDetection>& other,
           double iou_threshold, double score_threshold);
  DetectionAgreement Result() const;
};

DetectionAgreement Agreement(const std::vector<ImageDetections>& training,
                             const std::vector<ImageDetections>& other, const DoctorInput& in);

// One stage compared over many images: counts, statistics, and the fingerprints voted by the
// images that were examined (most votes first).
struct StageAccumulator {
  StageReport report;
  size_t fingerprinted = 0;
  std::map<std::string, size_t> votes;  // fingerprint code → images naming it first
  std::map<std::string, Fingerprint> examples;
  double mean_sum = 0, abs_sum = 0;

  void Add(const TensorComparison& c);
  void AddUnfingerprinted(bool equal);
  StageReport Finish();
};

// A stage of a trace by name ("resized", "normalized", ...); null when absent.
const TensorData* StageOf(const DetectTrace& trace, const std::string& name);

// Detections above the threshold as an [N,4] float tensor of (xmin, ymin, xmax, ymax).
TensorData BoxesTensor(const std::vector<PixelDetection>& detections, double score_threshold);

// What CompareTensors needs to test hypotheses against the training pipeline.
CompareContext ContextFor(const Spec& training, const ModelInput& input, const Image* source);

// A finding naming the first stage of `stages` that differs (none when `first` is empty).
void AddFirstDivergence(const std::vector<StageReport>& stages, const std::string& first,
                        const std::string& field_prefix, size_t images,
                        std::vector<Finding>& findings);

}  // namespace lockstep::doctor
