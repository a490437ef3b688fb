// The doctor: is it the model or the pipeline? Given a model, the training pipeline's spec and the
// deployed one, it checks the two against each other and against the model without images, then
// (with images) runs both pipelines stage by stage, names the first stage that diverges and why,
// measures what the divergence costs in detections and COCO AP, and attributes the AP gap to
// each differing field. Stage tensors dumped by another pipeline (.npy) are explained the same way.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lockstep/core/finding.h"
#include "lockstep/detect/detector.h"
#include "lockstep/doctor/spec_diff.h"
#include "lockstep/doctor/tensor_compare.h"
#include "lockstep/eval/coco_eval.h"
#include "lockstep/image/image.h"
#include "lockstep/pipeline/spec.h"
#include "lockstep/run/dataset_run.h"

namespace lockstep {

// When a difference is an error: what it measurably costs on the images given. Without images
// the static severities stand and the verdict says so.
struct GateOptions {
  double min_agreement = 0.95;  // detections matched (IoU >= agreement_iou) / the larger count
  double max_ap_drop = 0.005;   // AP@[.5:.95] lost, as a fraction (0.005: half a point)
};

struct DoctorInput {
  std::filesystem::path model;
  Spec training;
  // The deployed pipeline's spec; without it, stage tensors from the deployed pipeline are
  // explained against the training spec alone.
  std::optional<Spec> deployed;
  std::string training_source = "training spec", deployed_source = "deployed spec";
  // Empirical checks run when images are given: a folder, or a folder with COCO annotations.
  std::optional<std::filesystem::path> images;
  std::optional<std::filesystem::path> annotations;
  size_t max_images = 0;  // 0: all
  // Stage tensors from the other (deployed) pipeline: <image file name>.<stage>.npy with stage
  // resized, normalized, quantized or boxes, compared with the training spec's.
  std::optional<std::filesystem::path> stage_tensors;
  size_t sample_images = 3;   // images kept with pictures for the report
  bool attribution = true;    // one extra evaluation per differing unit (needs annotations)
  size_t shapley_orders = 8;  // orders sampled when more than kMaxShapleyUnits units differ
  bool what_ifs = true;       // input-quantization what-ifs (needs a quantized input)
  double agreement_iou = 0.5;
  double agreement_score_threshold = 0.3;  // detections compared above this score
  GateOptions gate;
  DatasetRunOptions run;
  // (what is running, done, total): "training", "deployed", "attribution normalize", ...
  std::function<void(const std::string&, size_t, size_t)> progress;
};

// One stage of the two pipelines compared over the images.
struct StageReport {
  std::string stage;  // "geometry", "resized", "normalized", "quantized", "raw_outputs",
                      // "detections"
  size_t images = 0;
  size_t images_differing = 0;
  DifferenceStats stats;  // over all images
  std::vector<Fingerprint> fingerprints;
  std::string note;  // what was compared ("transform of 128 images", "output 0 of 4", ...)
  // Several causes in one tensor, undone in turn (an example image's). Last, so that aggregate
  // initializers of the fields above keep their meaning.
  std::vector<Fingerprint> causes;
  bool equal() const { return images_differing == 0; }
};

// Detections of the two pipelines matched one to one (IoU ≥ agreement_iou, same class, greedy
// by score), above agreement_score_threshold.
struct DetectionAgreement {
  size_t training = 0, deployed = 0, matched = 0;
  double mean_abs_score_delta = 0, max_abs_score_delta = 0;  // over matched pairs
  double mean_iou = 0;                                       // over matched pairs
};

// The share of detections two pipelines agree on: matched / the larger count (1 when both have
// none), so lost and spurious detections both count.
double AgreementShare(const DetectionAgreement& a);

// What the deployed side measurably costs, and so the verdict's basis.
struct GateDecision {
  bool measured = false;  // false: no image ran; severities are the static catalogue's
  size_t images = 0;
  DetectionAgreement agreement;
  double agreement_share = 1;
  std::optional<double> ap_drop;  // training AP - deployed AP (fraction), with annotations
  bool costly = false;            // below min_agreement or above max_ap_drop
  std::string reason;             // "detections agree 66.1% (39 of 59), gate 95%"
};

// One differing unit alone: the training pipeline with just that unit taken from the deployed
// spec (the reverse ablation), against the training pipeline.
struct UnitCost {
  SpecDifference difference;
  DetectionAgreement agreement;
  double agreement_share = 1;
  std::optional<double> ap_drop;
  bool costly = false;
};

// How much of the AP gap one differing unit explains: the deployed spec with that unit switched
// back to the training value.
struct AttributionEntry {
  SpecDifference difference;
  double ap_switched = 0;   // AP@[.5:.95] of the deployed spec with this unit fixed
  double ap_recovered = 0;  // ap_switched - deployed AP
  double share = 0;         // ap_recovered / (training AP - deployed AP)
  // The unit's Shapley share of the gap: its recovery averaged over every order of switching the
  // units back, so the shares add up to 1 even when the mistakes interact (one AP evaluation per
  // subset of units: computed for up to kMaxShapleyUnits differing units).
  std::optional<double> shapley_share;
  // Sampled Shapley (more than kMaxShapleyUnits units): the 95% interval's half width, as a share.
  std::optional<double> shapley_half_width;
};
// Up to this many differing units the Shapley shares are exact (2^n evaluations); beyond, they
// are sampled from DoctorInput::shapley_orders random orders.
inline constexpr size_t kMaxShapleyUnits = 4;

// One line of the fix list that leads the report: "fix channel_order first: +4.8 AP (fair share
// 48% of the gap)". `gain` ranks the list: AP points as a fraction (fair share or alone), or for
// the reverse ablation the AP (or share of detections) the unit alone costs training.
struct FixStep {
  std::string unit;
  std::optional<double> gain;
  std::string basis;  // "fair share", "sampled fair share", "alone", "reverse ablation"
  std::string text;   // what comes after "fix <unit>: "
};

// A planted input-quantization mistake and its cost against the training pipeline.
struct WhatIf {
  // "astype_truncation", "uint8_in_int8" (or "int8_in_uint8"), "zero_point_ignored"
  std::string code;
  std::string description;
  DetectionAgreement agreement;
  std::optional<double> ap;  // with annotations
  std::optional<double> ap_cost;
};

// A cause the doctor named and the stage whose own step introduces it.
struct NamedCause {
  std::string stage;
  Fingerprint fingerprint;
  size_t images = 0, images_differing = 0;
};

// One image kept with pictures: the two model inputs as RGB images (the quantized tensor shown
// as pixels) and each pipeline's detections in source pixels.
struct SampleView {
  std::filesystem::path file;
  Image source;
  Image training_input, deployed_input;
  std::vector<PixelDetection> training_detections, deployed_detections;
};

// A stage tensor from elsewhere, compared with lockstep's training-side tensor of the same stage.
struct ExternalComparison {
  std::filesystem::path file;
  TensorComparison comparison;
};

struct DoctorReport {
  std::string model;
  // The model the images ran on when it is not `model`: an Edge TPU model's CPU twin.
  std::string model_run;
  std::string training_source, deployed_source;
  // Error-severity findings make the pipelines misaligned (exit 1). For the doctor, a finding's
  // `expected` is the training side's value (or the model's) and `found` the deployed side's.
  bool aligned = true;
  std::vector<Finding> findings;
  std::vector<SpecDifference> differences;
  std::vector<StageReport> stages;  // empty without images
  std::string first_divergence;     // the first stage that differs; empty when none does
  std::optional<DetectionAgreement> agreement;
  size_t images = 0;
  std::optional<CocoEvalResult> training_eval, deployed_eval;
  GateOptions gate_options;                   // as given
  std::optional<GateDecision> gate;           // with images or stage tensors
  std::vector<UnitCost> unit_costs;           // with images and more than one differing unit
  std::vector<AttributionEntry> attribution;  // largest share first
  size_t shapley_orders = 0;  // sampled Shapley: the orders evaluated (0: exact, or none)
  uint32_t shapley_seed = 0;
  std::vector<FixStep> fixes;  // the differing units, the one to fix first first
  std::vector<WhatIf> what_ifs;
  std::vector<ExternalComparison> external;
  std::vector<StageReport> external_stages;  // the stage tensors folded per stage, in order
  // Each stage against the training step applied to the other's previous stage: its own cause,
  // what it inherited taken away (stages with no previous one, or no step lockstep can redo,
  // are absent).
  std::vector<StageReport> external_own;
  std::string external_first_divergence;
  // The causes named, in the order of the data flow (the first divergence first), unknown ones
  // as code "unknown".
  std::vector<NamedCause> causes;
  std::vector<SampleView> samples;
};

// Errors (lockstep::Error) for bad input: an unreadable model, spec or image folder, a stage
// tensor that is not a .npy. Everything the doctor finds is a Finding, never an Error.
DoctorReport RunDoctor(const DoctorInput& input);

// {"aligned", "findings": [{"code", "severity", "field", "training", "deployed", "consequence",
//  "fix"}], "stages": [...], "stats": {...}, ...}
nlohmann::ordered_json DoctorJson(const DoctorReport& report);

// A terminal summary that fits a screen (about 40 lines).
std::string DoctorSummary(const DoctorReport& report);

}  // namespace lockstep
