// RunDoctor: the static checks, then (with images) both pipelines stage by stage, detection
// agreement, COCO AP, attribution and the input-quantization what-ifs, then stage tensors from
// elsewhere.
#include "lockstep/doctor/doctor.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "doctor/attribution.h"
#include "doctor/doctor_checks.h"
#include "doctor/doctor_common.h"
#include "doctor/doctor_gate.h"
#include "doctor/stage_tensors.h"
#include "lockstep/core/error.h"
#include "lockstep/core/npy.h"
#include "lockstep/detect/output_roles.h"
#include "lockstep/image/decode.h"
#include "lockstep/model/edgetpu.h"
#include "lockstep/model/model_file.h"
#include "lockstep/pipeline/spec_model.h"
#include "lockstep/run/image_files.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;
using doctor::Agreement;
using doctor::AgreementSums;
using doctor::Ap;
using doctor::ContextFor;
using doctor::DoctorRun;
using doctor::kFingerprintedImages;
using doctor::StageAccumulator;
using doctor::StageOf;

// Where the image lands in the input, leaving aside how boxes are mapped back.
bool SamePlacement(Transform a, Transform b) {
  a.inverse_shift_x = a.inverse_shift_y = b.inverse_shift_x = b.inverse_shift_y = 0;
  return a == b;
}

// Same raw outputs, same placement, other un-mapping pads: every matched box moves by the pad
// difference divided by the gain (clamped boxes at the image edge excepted). A fingerprint when
// the deployed boxes are exactly the training ones moved so.
std::optional<Fingerprint> FloatPadShift(const ImageDetections& training,
                                         const ImageDetections& deployed,
                                         const std::string& image) {
  const Transform &ta = training.transform, &tb = deployed.transform;
  if (!SamePlacement(ta, tb) || training.detections.size() != deployed.detections.size() ||
      training.detections.empty())
    return std::nullopt;
  const double dx = (ta.inverse_shift_x - tb.inverse_shift_x) / ta.scale_x;
  const double dy = (ta.inverse_shift_y - tb.inverse_shift_y) / ta.scale_y;
  if (dx == 0 && dy == 0) return std::nullopt;
  size_t moved = 0;
  auto near = [](double a, double b) { return std::abs(a - b) <= 1e-3; };
  for (size_t k = 0; k < training.detections.size(); ++k) {
    const Box &a = training.detections[k].box, &b = deployed.detections[k].box;
    if (training.detections[k].score != deployed.detections[k].score) return std::nullopt;
    // Each coordinate moved by the shift, or held by the clamp at an image edge.
    auto ok = [&](double va, double vb, double d, double edge) {
      return near(vb, va + d) || (near(va, vb) && (near(vb, 0) || near(vb, edge)));
    };
    if (!ok(a.xmin, b.xmin, dx, training.width) || !ok(a.xmax, b.xmax, dx, training.width) ||
        !ok(a.ymin, b.ymin, dy, training.height) || !ok(a.ymax, b.ymax, dy, training.height))
      return std::nullopt;
    ++moved;
  }
  return Fingerprint{"letterbox_float_pads", "boxes shifted by the pad rounding",
                     image + ": the model outputs are identical and all " + std::to_string(moved) +
                         " boxes move by (" + std::to_string(dx).substr(0, 6) + ", " +
                         std::to_string(dy).substr(0, 6) +
                         ") source pixels: the float pads (W - w*r)/2 taken away instead of the "
                         "integer pads the letterbox applied, divided by the gain " +
                         std::to_string(ta.scale_x).substr(0, 6)};
}

std::string RectText(const Rect& r) {
  return std::to_string(r.width) + "x" + std::to_string(r.height) + " at (" + std::to_string(r.x) +
         "," + std::to_string(r.y) + ")";
}

// The model input shown as the training pipeline would read it: dequantized with the model's
// parameters, un-normalized with the training spec, in RGB. What the deployed side feeds then
// shows as the model "sees" it (swapped colours, a darker [0,1] image, ...).
Image InputAsPixels(const TensorData& tensor, const Spec& training, const ModelInput& input) {
  const int h = input.height, w = input.width, c = input.channels;
  Image out(w, h, 3);
  const bool nchw = input.layout == Layout::kNchw;
  const bool bgr = training.input.channel_order == ChannelOrder::kBgr;
  auto value = [&](size_t i) -> double {
    switch (tensor.dtype) {
      case DType::kUInt8:
        return input.scale * (double(tensor.bytes[i]) - double(input.zero_point));
      case DType::kInt8:
        return input.scale * (double(int8_t(tensor.bytes[i])) - double(input.zero_point));
      case DType::kFloat32:
        return double(tensor.as<float>()[i]);
      default:
        return 0;
    }
  };
  if (tensor.element_count() != size_t(h) * w * c) return out;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < 3; ++ch) {
        int src = c == 1 ? 0 : (bgr ? 2 - ch : ch);  // the tensor's channel holding RGB's ch
        size_t i = nchw ? (size_t(src) * h + y) * w + x : (size_t(y) * w + x) * c + src;
        int tc = c == 1 ? 0 : src;
        double pixel =
            value(i) * training.normalize.std[size_t(tc)] + training.normalize.mean[size_t(tc)];
        out.at(x, y, ch) = uint8_t(std::clamp(std::lround(pixel), 0L, 255L));
      }
  return out;
}

struct Pipelines {
  std::vector<ImageDetections> training, deployed;
  LabelSource training_labels, deployed_labels;
};

// The stages of the two pipelines compared image by image, folded into one report per stage.
class StageComparison {
 public:
  StageComparison(const DoctorInput& in, const ModelInput& input) : in_(in), input_(input) {
    traced_ = input.dtype != DType::kFloat32
                  ? std::vector<std::string>{"resized", "normalized", "quantized"}
                  : std::vector<std::string>{"resized", "normalized"};
    geometry_.report.stage = "geometry";
    raw_.report.stage = "raw_outputs";
    detections_.report.stage = "detections";
    for (const std::string& s : traced_) tensors_[s].report.stage = s;
  }

  // One image: both pipelines' detections and traces.
  void Add(const fs::path& file, const Image& rgb, const ImageDetections& training,
           const ImageDetections& deployed, const DetectTrace& tt, const DetectTrace& dt) {
    CompareContext ctx = ContextFor(in_.training, input_, &rgb);
    ctx.source_orientation = ExifOrientationOfFile(file);
    AddGeometry(file, training.transform, deployed.transform);
    AddTensors(tt, dt, ctx);
    const bool raw_equal = AddRawOutputs(tt, dt, ctx);
    AddDetections(file, training, deployed, raw_equal);
  }

  // The stage reports in data-flow order, the agreement and the first stage that diverges.
  void Finish(size_t n, DoctorReport& r);

 private:
  void AddGeometry(const fs::path& file, const Transform& ta, const Transform& tb);
  void AddTensors(const DetectTrace& tt, const DetectTrace& dt, const CompareContext& ctx);
  bool AddRawOutputs(const DetectTrace& tt, const DetectTrace& dt, const CompareContext& ctx);
  void AddDetections(const fs::path& file, const ImageDetections& training,
                     const ImageDetections& deployed, bool raw_equal);

  const DoctorInput& in_;
  const ModelInput& input_;
  std::vector<std::string> traced_;
  StageAccumulator geometry_, raw_, detections_;
  std::map<std::string, StageAccumulator> tensors_;
  AgreementSums agreement_;
};

// Geometry: where the image lands in the input.
void StageComparison::AddGeometry(const fs::path& file, const Transform& ta, const Transform& tb) {
  ++geometry_.report.images;
  if (!SamePlacement(ta, tb)) {
    ++geometry_.report.images_differing;
    double shift =
        std::max({std::abs(ta.content.x - tb.content.x), std::abs(ta.content.y - tb.content.y),
                  std::abs(ta.content.width - tb.content.width),
                  std::abs(ta.content.height - tb.content.height)}) *
        1.0;
    geometry_.report.stats.max_abs_diff = std::max(geometry_.report.stats.max_abs_diff, shift);
    if (geometry_.examples.empty()) {
      bool padded = in_.training.geometry.mode != in_.deployed->geometry.mode;
      Fingerprint f{padded ? "padded_vs_stretched" : "geometry",
                    padded ? std::string(Name(in_.training.geometry.mode)) + " vs " +
                                 std::string(Name(in_.deployed->geometry.mode))
                           : "the image lands elsewhere in the input",
                    file.filename().string() + ": content " + RectText(ta.content) + " vs " +
                        RectText(tb.content) + ", crop " + RectText(ta.crop) + " vs " +
                        RectText(tb.crop)};
      geometry_.examples.emplace(f.code, f);
      geometry_.votes[f.code] = 0;
    }
    for (auto& [code, votes] : geometry_.votes) ++votes;
    ++geometry_.fingerprinted;
  }
  geometry_.report.stats.elements += 1;
  geometry_.report.stats.differing = geometry_.report.images_differing;
}

// Tensors: resized, normalized, quantized.
void StageComparison::AddTensors(const DetectTrace& tt, const DetectTrace& dt,
                                 const CompareContext& ctx) {
  static const std::map<std::string, StageKind> kinds = {{"resized", StageKind::kResized},
                                                         {"normalized", StageKind::kNormalized},
                                                         {"quantized", StageKind::kQuantized}};
  for (const std::string& s : traced_) {
    // The quantized stage is what the model gets (an 8-bit swap reinterprets the bytes).
    const TensorData *a = s == "quantized" ? &tt.input : StageOf(tt, s),
                     *b = s == "quantized" ? &dt.input : StageOf(dt, s);
    if (!a || !b) continue;
    StageAccumulator& acc = tensors_[s];
    bool equal = a->dtype == b->dtype && a->shape == b->shape && a->bytes == b->bytes;
    if (equal || acc.fingerprinted < kFingerprintedImages) {
      if (!equal) ++acc.fingerprinted;
      acc.Add(CompareTensors(*a, *b, kinds.at(s), ctx));
    } else {
      acc.AddUnfingerprinted(false);
    }
  }
}

// The outputs of one image folded into one comparison.
TensorComparison CompareOutputs(const DetectTrace& tt, const DetectTrace& dt,
                                const CompareContext& ctx) {
  TensorComparison all;
  all.stage = StageKind::kRawOutput;
  double mean_sum = 0, abs_sum = 0;
  for (size_t o = 0; o < std::min(tt.outputs.size(), dt.outputs.size()); ++o) {
    TensorComparison c = CompareTensors(tt.outputs[o], dt.outputs[o], StageKind::kRawOutput, ctx);
    all.equal = all.equal && c.equal;
    all.same_shape = all.same_shape && c.same_shape;
    all.stats.elements += c.stats.elements;
    all.stats.differing += c.stats.differing;
    all.stats.non_finite += c.stats.non_finite;
    all.stats.max_abs_diff = std::max(all.stats.max_abs_diff, c.stats.max_abs_diff);
    mean_sum += c.stats.mean_diff * double(c.stats.elements);
    abs_sum += c.stats.mean_abs_diff * double(c.stats.elements);
    if (all.fingerprints.empty()) all.fingerprints = c.fingerprints;
  }
  if (all.stats.elements) {
    all.stats.mean_diff = mean_sum / double(all.stats.elements);
    all.stats.mean_abs_diff = abs_sum / double(all.stats.elements);
  }
  return all;
}

// Raw outputs, all of them as one stage; whether they are equal.
bool StageComparison::AddRawOutputs(const DetectTrace& tt, const DetectTrace& dt,
                                    const CompareContext& ctx) {
  bool raw_equal = tt.outputs.size() == dt.outputs.size();
  for (size_t o = 0; raw_equal && o < tt.outputs.size(); ++o)
    raw_equal = tt.outputs[o] == dt.outputs[o];
  if (raw_equal || raw_.fingerprinted < kFingerprintedImages) {
    if (!raw_equal) ++raw_.fingerprinted;
    TensorComparison all = CompareOutputs(tt, dt, ctx);
    all.equal = all.equal && raw_equal;
    raw_.Add(all);
  } else {
    raw_.AddUnfingerprinted(false);
  }
  return raw_equal;
}

void StageComparison::AddDetections(const fs::path& file, const ImageDetections& training,
                                    const ImageDetections& deployed, bool raw_equal) {
  AgreementSums one;
  one.Add(training.detections, deployed.detections, in_.agreement_iou,
          in_.agreement_score_threshold);
  agreement_.Add(training.detections, deployed.detections, in_.agreement_iou,
                 in_.agreement_score_threshold);
  DetectionAgreement a = one.Result();
  StageReport& report = detections_.report;
  ++report.images;
  size_t unmatched = (a.training - a.matched) + (a.deployed - a.matched);
  report.stats.elements += a.training + a.deployed - a.matched;  // the union
  report.stats.differing += unmatched + one.changed;
  report.stats.max_abs_diff = std::max(report.stats.max_abs_diff, a.max_abs_score_delta);
  detections_.mean_sum += one.score_delta_sum;
  detections_.abs_sum += one.score_delta_sum;
  if (unmatched + one.changed > 0) {
    ++report.images_differing;
    if (raw_equal && report.fingerprints.empty())
      if (auto f = FloatPadShift(training, deployed, file.filename().string()))
        report.fingerprints.push_back(*f);
  }
}

void StageComparison::Finish(size_t n, DoctorReport& r) {
  geometry_.report.note = "where the image lands in the " + std::to_string(input_.width) + "x" +
                          std::to_string(input_.height) + " input, " + std::to_string(n) +
                          " images";
  r.stages.push_back(geometry_.Finish());
  for (const std::string& s : traced_) {
    StageAccumulator& acc = tensors_[s];
    acc.report.note = s + " tensor; statistics and fingerprints over the first " +
                      std::to_string(std::min(kFingerprintedImages, acc.report.images_differing)) +
                      " differing images";
    r.stages.push_back(acc.Finish());
  }
  raw_.report.note = "the model's output tensors, all together; statistics over the first " +
                     std::to_string(std::min(kFingerprintedImages, raw_.report.images_differing)) +
                     " differing images";
  r.stages.push_back(raw_.Finish());
  detections_.report.note =
      "detections with score >= " + std::to_string(in_.agreement_score_threshold).substr(0, 4) +
      " matched at IoU >= " + std::to_string(in_.agreement_iou).substr(0, 4) +
      " with the same class; max_abs_diff is the largest score delta";
  if (detections_.report.stats.elements)
    detections_.report.stats.mean_abs_diff =
        detections_.abs_sum / double(std::max<size_t>(1, agreement_.a.matched));
  detections_.report.stats.mean_diff = 0;
  r.stages.push_back(detections_.report);
  r.agreement = agreement_.Result();
  for (const StageReport& s : r.stages)
    if (!s.equal()) {
      r.first_divergence = s.stage;
      break;
    }
}

// One image kept with pictures for the report.
SampleView Sample(const DoctorInput& in, const ModelInput& input, const fs::path& file,
                  const Image& rgb, const ImageDetections& training,
                  const ImageDetections& deployed, const DetectTrace& tt, const DetectTrace& dt) {
  SampleView v;
  v.file = file;
  v.source = rgb;
  v.training_input = InputAsPixels(tt.input, in.training, input);
  v.deployed_input = InputAsPixels(dt.input, in.training, input);
  for (const auto& d : training.detections)
    if (d.score >= in.agreement_score_threshold) v.training_detections.push_back(d);
  for (const auto& d : deployed.detections)
    if (d.score >= in.agreement_score_threshold) v.deployed_detections.push_back(d);
  return v;
}

// Both pipelines image by image with traces: the stage reports, agreement and samples.
Pipelines CompareStageByStage(const DoctorRun& run, const std::vector<fs::path>& files,
                              DoctorReport& r) {
  const DoctorInput& in = run.in;
  DetectorOptions options;
  options.threads = in.run.interpreter_threads;
  options.xnnpack = in.run.xnnpack;
  options.score_threshold = in.run.score_threshold;
  Detector train = Detector::Create(run.model, in.training, options);
  options.reinterpret_8bit_input = true;
  Detector deploy = Detector::Create(run.model, *in.deployed, options);

  StageComparison stages(in, run.input);
  Pipelines p;
  p.training.resize(files.size());
  p.deployed.resize(files.size());
  const size_t n = files.size();
  for (size_t i = 0; i < n; ++i) {
    Image source = train.DecodeFile(files[i]);
    Image deployed_source =
        in.deployed->input.exif_orientation == in.training.input.exif_orientation
            ? source
            : deploy.DecodeFile(files[i]);
    DetectTrace tt, dt;
    p.training[i] = train.Detect(source, &tt);
    p.deployed[i] = deploy.Detect(deployed_source, &dt);
    const Image rgb = ToRgb(source);
    stages.Add(files[i], rgb, p.training[i], p.deployed[i], tt, dt);
    if (r.samples.size() < in.sample_images)
      r.samples.push_back(
          Sample(in, run.input, files[i], rgb, p.training[i], p.deployed[i], tt, dt));
    if (in.progress) in.progress("training and deployed", i + 1, n);
  }
  p.training_labels = train.labels();
  p.deployed_labels = deploy.labels();
  stages.Finish(n, r);
  return p;
}

DatasetRunOptions RunOptions(const DoctorInput& in, const std::string& what) {
  DatasetRunOptions o = in.run;
  o.reinterpret_8bit_input = true;
  o.score_threshold = in.run.score_threshold;
  if (in.progress) o.progress = [&in, what](size_t done, size_t n) { in.progress(what, done, n); };
  return o;
}

// NaN or ±inf where the other side has something else: never aligned, whatever the
// fingerprints say (they cannot explain a NaN).
void NonFiniteFindings(DoctorReport& r) {
  for (const StageReport& s : r.stages) {
    if (s.stats.non_finite == 0) continue;
    r.findings.push_back(
        {"non_finite_values", Severity::kError, "$stages." + s.stage,
         "the same values in both pipelines",
         std::to_string(s.stats.non_finite) + " elements NaN or infinite on one side only",
         "the " + s.stage + " stage produces NaN or infinity in one pipeline",
         "find where the NaN or infinity first appears (dump each stage)"});
  }
}

// ---- the phases of RunDoctor ------------------------------------------------------------------

// The specs against each other and the model, no image needed. Returns what stops the deployed
// side from running, if anything.
std::optional<Finding> CheckWithoutImages(const DoctorRun& run, DoctorReport& r) {
  const DoctorInput& in = run.in;
  const ModelFile& file = *run.given;
  // Without a deployed spec the training spec stands on both sides: its own checks only.
  const Spec& deployed = in.deployed ? *in.deployed : in.training;
  for (SpecDifference& d : DiffSpecs(in.training, deployed))
    if (!doctor::DifferenceFindings(d, in.training, deployed, run.input).empty())
      r.differences.push_back(std::move(d));
  r.findings = doctor::StaticFindings(file.model(), r.model, in.training, deployed, r.differences);
  // The training side is the reference: it must run on the model as it is.
  for (const Finding& f : CheckSpec(in.training, file))
    if (f.blocking)
      throw Error(in.training_source, f.field, f.expected + " (the model's)", f.found, f.fix);
  // The deployed side runs with its bytes copied as they are (uint8 data in an int8 input).
  const std::optional<Finding> blocked =
      doctor::Blocking(CheckSpec(deployed, file, /*reinterpret_8bit_input=*/true));
  // How the outputs are read: a fact of the model (and its metadata), said once.
  std::optional<Detector> probe;
  try {
    probe = Detector::Create(run.model, in.training, {.threads = in.run.interpreter_threads});
  } catch (const Error& e) {
    if (!ReadEdgeTpuFacts(file.model()).compiled) throw;
    r.findings.push_back({"edgetpu_not_runnable", Severity::kInfo, "--model", "a runnable model",
                          e.what(), "static checks only: no image can run here",
                          "put the CPU twin (the same name without _edgetpu) beside it, or run "
                          "on a board with an Edge TPU"});
    return blocked;
  }
  if (run.model != run.given)
    r.findings.push_back(
        {"edgetpu_cpu_twin", Severity::kInfo, "--model", run.given->source(), run.model->source(),
         "no Edge TPU runs here, so the pipelines run on the CPU twin (the .tflite given to "
         "edgetpu_compiler): the same quantized graph, computed by TFLite's CPU kernels",
         "run the doctor on the board to measure the Edge TPU itself"});
  if (const auto& roles = probe->roles())
    r.findings.push_back(
        {"output_roles", Severity::kInfo, "model outputs",
         roles->reason,  // names its rule first
         "boxes " + std::to_string(roles->boxes) + ", classes " + std::to_string(roles->classes) +
             ", scores " + std::to_string(roles->scores) + ", count " +
             std::to_string(roles->count),
         "outputs read in another order give boxes from scores (the libcoral and Task Library "
         "heuristics differ)",
         "read the outputs by these roles"});
  return blocked;
}

struct DoctorImages {
  std::optional<EvalSet> set;
  std::vector<fs::path> files;
};

DoctorImages ImagesOf(const DoctorInput& in) {
  DoctorImages images;
  if (in.annotations) {
    images.set = LoadEvalSet(*in.annotations, *in.images, in.max_images);
    images.files = images.set->files;
  } else {
    images.files = ListImageFolder(*in.images, "--images", in.max_images);
  }
  return images;
}

// A spec's AP over the evaluation set.
double ApOf(const DoctorRun& run, const EvalSet& set, const std::vector<ImageDetections>& found,
            const LabelSource& labels, const std::string& source) {
  return Ap(
      EvaluateBoxes(set.dataset, ToCocoDetections(found, set, labels, run.in.model), {}, source));
}

// A spec over the images, as a dataset run (progress named by `what`).
std::vector<ImageDetections> RunSpec(const DoctorRun& run, const Spec& spec,
                                     const std::vector<fs::path>& files, const std::string& what,
                                     LabelSource& labels) {
  return DetectImages(run.model, spec, files, RunOptions(run.in, what), &labels);
}

// Both pipelines' COCO statistics, and the gap as a finding.
void EvaluateBoth(const DoctorRun& run, const EvalSet& set, const Pipelines& p, DoctorReport& r) {
  const DoctorInput& in = run.in;
  r.training_eval =
      EvaluateBoxes(set.dataset, ToCocoDetections(p.training, set, p.training_labels, in.model), {},
                    in.training_source);
  r.deployed_eval =
      EvaluateBoxes(set.dataset, ToCocoDetections(p.deployed, set, p.deployed_labels, in.model), {},
                    in.deployed_source);
  const double training_ap = Ap(*r.training_eval), deployed_ap = Ap(*r.deployed_eval);
  if (training_ap - deployed_ap > 0.0005)
    r.findings.push_back({"ap_gap", Severity::kInfo, "stats.AP",
                          std::to_string(training_ap * 100).substr(0, 5) + " AP",
                          std::to_string(deployed_ap * 100).substr(0, 5) + " AP",
                          "the deployed pipeline loses " +
                              std::to_string((training_ap - deployed_ap) * 100).substr(0, 5) +
                              " AP points on " + std::to_string(set.files.size()) + " images",
                          "see the attribution for which difference costs what"});
}

// Attribution: each differing unit switched back to training alone, then (few units) every
// subset, for Shapley shares that add up to the whole gap.
void Attribute(const DoctorRun& run, const DoctorImages& images, DoctorReport& r) {
  const DoctorInput& in = run.in;
  const double training_ap = Ap(*r.training_eval), deployed_ap = Ap(*r.deployed_eval);
  const double gap = training_ap - deployed_ap;
  const size_t n = r.differences.size();
  std::map<uint32_t, double> ap_of = {{0u, deployed_ap}, {(1u << n) - 1, training_ap}};
  auto ap_with = [&](uint32_t mask) {
    if (auto it = ap_of.find(mask); it != ap_of.end()) return it->second;
    std::vector<std::string> units;
    for (size_t i = 0; i < n; ++i)
      if (mask & (1u << i)) units.push_back(r.differences[i].unit);
    std::string what;
    for (const std::string& u : units) what += (what.empty() ? "" : "+") + u;
    Spec switched = WithTrainingUnits(*in.deployed, in.training, units);
    LabelSource labels;
    auto found = RunSpec(run, switched, images.files, "attribution " + what, labels);
    return ap_of[mask] =
               ApOf(run, *images.set, found, labels, "deployed with " + what + " from training");
  };
  for (size_t i = 0; i < n; ++i) {
    AttributionEntry e;
    e.difference = r.differences[i];
    e.ap_switched = ap_with(1u << i);
    e.ap_recovered = e.ap_switched - deployed_ap;
    e.share = std::abs(gap) > 1e-9 ? e.ap_recovered / gap : 0;
    r.attribution.push_back(std::move(e));
  }
  if (n > 1 && std::abs(gap) > 1e-9) {
    if (n <= kMaxShapleyUnits) {
      const std::vector<double> v = doctor::ExactShapley(n, ap_with);
      for (size_t i = 0; i < n; ++i) r.attribution[i].shapley_share = v[i] / gap;
    } else {
      // 2^n runs are too many: random orders (and their reverses), each n runs at most.
      r.shapley_seed = 20261206;
      const doctor::ShapleyEstimate e =
          doctor::SampleShapley(n, in.shapley_orders, r.shapley_seed, ap_with);
      r.shapley_orders = e.orders;
      for (size_t i = 0; i < n; ++i) {
        r.attribution[i].shapley_share = e.value[i] / gap;
        r.attribution[i].shapley_half_width = e.half_width[i] / std::abs(gap);
      }
    }
  } else if (n == 1) {
    r.attribution[0].shapley_share = r.attribution[0].share;
  }
  std::stable_sort(r.attribution.begin(), r.attribution.end(),
                   [](const AttributionEntry& a, const AttributionEntry& b) {
                     return a.shapley_share.value_or(a.share) > b.shapley_share.value_or(b.share);
                   });
}

// A classic input-quantization mistake planted in the training pipeline.
struct WhatIfPlan {
  std::string code, description;
  Spec spec;
};

std::vector<WhatIfPlan> WhatIfPlans(const Spec& training, const ModelInput& input) {
  std::vector<WhatIfPlan> plans;
  if (training.tensor.rounding != Rounding::kTruncate) {
    Spec s = training;
    s.tensor.rounding = Rounding::kTruncate;
    s.tensor.saturate = false;  // astype neither rounds nor clips
    plans.push_back({"astype_truncation",
                     "the input quantized by truncation without clipping (astype, as "
                     "Ultralytics) instead of rounding",
                     s});
  }
  if (input.dtype == DType::kInt8 || input.dtype == DType::kUInt8) {
    Spec s = training;
    bool to_int8 = input.dtype == DType::kInt8;
    s.tensor.dtype = to_int8 ? DType::kUInt8 : DType::kInt8;
    s.tensor.zero_point.reset();
    s.tensor.scale.reset();
    plans.push_back({to_int8 ? "uint8_in_int8" : "int8_in_uint8",
                     to_int8 ? "uint8 data (quantized for a uint8 twin) copied into the int8 "
                               "input: off by 128"
                             : "int8 data (quantized for an int8 twin) copied into the uint8 "
                               "input: off by 128",
                     s});
  }
  const int64_t zp = ResolveQuantization(training, input).zero_point;
  if (zp != 0) {
    Spec s = training;
    s.tensor.scale = ResolveQuantization(training, input).scale;
    s.tensor.zero_point = 0;
    plans.push_back({"zero_point_ignored",
                     "the input quantized without the zero point (q = round(x / scale))", s});
  }
  return plans;
}

// What-ifs: each planted mistake's agreement with training and (with annotations) its AP cost.
void WhatIfs(const DoctorRun& run, const DoctorImages& images, const Pipelines& p,
             DoctorReport& r) {
  const double training_ap = r.training_eval ? Ap(*r.training_eval) : 0;
  for (WhatIfPlan& plan : WhatIfPlans(run.in.training, run.input)) {
    WhatIf w;
    w.code = plan.code;
    w.description = plan.description;
    LabelSource labels;
    auto found = RunSpec(run, plan.spec, images.files, "what-if " + plan.code, labels);
    w.agreement = Agreement(p.training, found, run.in);
    if (images.set) {
      w.ap = ApOf(run, *images.set, found, labels, "what-if " + plan.code);
      w.ap_cost = training_ap - *w.ap;
    }
    r.what_ifs.push_back(std::move(w));
  }
}

// Each differing unit alone (the training spec with just that unit from the deployed one):
// what it costs by itself, for the gate to grade its findings.
void MeasureUnitCosts(const DoctorRun& run, const DoctorImages& images, const Pipelines& p,
                      DoctorReport& r) {
  const DoctorInput& in = run.in;
  const double training_ap = r.training_eval ? Ap(*r.training_eval) : 0;
  for (const SpecDifference& d : r.differences) {
    std::vector<std::string> others;
    for (const SpecDifference& o : r.differences)
      if (o.unit != d.unit) others.push_back(o.unit);
    const Spec broken = WithTrainingUnits(*in.deployed, in.training, others);
    LabelSource labels;
    auto found = RunSpec(run, broken, images.files, "cost of " + d.unit + " alone", labels);
    UnitCost c;
    c.difference = d;
    c.agreement = Agreement(p.training, found, in);
    c.agreement_share = AgreementShare(c.agreement);
    if (images.set)
      c.ap_drop = training_ap - ApOf(run, *images.set, found, labels,
                                     "training with " + d.unit + " from the deployed spec");
    c.costly =
        doctor::DecideGate(in.gate, c.agreement, c.ap_drop, images.files.size(), d.unit).costly;
    r.unit_costs.push_back(std::move(c));
  }
}

// The findings each differing unit stands for, as CheckWithoutImages made them.
std::vector<std::vector<Finding>> UnitFindings(const DoctorRun& run, const DoctorReport& r) {
  std::vector<std::vector<Finding>> out;
  for (const SpecDifference& d : r.differences)
    out.push_back(doctor::DifferenceFindings(d, run.in.training, *run.in.deployed, run.input));
  return out;
}

// With images: both pipelines stage by stage, then what the difference costs and why.
void CheckWithImages(const DoctorRun& run, DoctorReport& r) {
  const DoctorInput& in = run.in;
  const DoctorImages images = ImagesOf(in);
  r.images = images.files.size();
  const Pipelines p = CompareStageByStage(run, images.files, r);
  doctor::AddFirstDivergence(r.stages, r.first_divergence, "stages.", images.files.size(),
                             r.findings);
  std::optional<double> ap_drop;
  if (images.set) {
    EvaluateBoth(run, *images.set, p, r);
    ap_drop = Ap(*r.training_eval) - Ap(*r.deployed_eval);
  }
  r.gate = doctor::DecideGate(in.gate, *r.agreement, ap_drop, r.images, "the deployed pipeline");
  if (in.attribution && r.differences.size() > 1) MeasureUnitCosts(run, images, p, r);
  doctor::RegradeByCost(UnitFindings(run, r), r);
  if (images.set && in.attribution && !r.differences.empty()) Attribute(run, images, r);
  if (in.what_ifs && run.input.dtype != DType::kFloat32) WhatIfs(run, images, p, r);
  r.fixes = doctor::RankFixes(r);
}

// The model the pipelines run on. One compiled for the Edge TPU runs only where libedgetpu and a
// TPU are; elsewhere its CPU twin (edgetpu_compiler's input, the same name without _edgetpu)
// runs instead when it sits beside it. Without a twin the compiled model stays: the static checks
// need no runtime, and running images gives its own clear error.
std::shared_ptr<const ModelFile> RunnableModel(std::shared_ptr<const ModelFile> model,
                                               const DoctorInput& in) {
  if (!ReadEdgeTpuFacts(model->model()).compiled) return model;
  try {
    Detector::Create(model, in.training, {.threads = in.run.interpreter_threads});
    return model;
  } catch (const Error&) {
    // Without a twin, static checks still run; images cannot.
    const std::optional<fs::path> twin = CpuTwinPath(model->source());
    std::error_code ec;
    if (!twin || !fs::is_regular_file(*twin, ec)) return model;
    return LoadModelFile(*twin);
  }
}

}  // namespace

DoctorReport RunDoctor(const DoctorInput& in) {
  if (!in.deployed && !in.stage_tensors)
    throw Error(in.model.string(), "doctor input",
                "a deployed spec, or stage tensors from the deployed pipeline",
                "neither was given");
  DoctorReport r;
  r.model = in.model.string();
  r.training_source = in.training_source;
  r.gate_options = in.gate;
  r.deployed_source =
      in.deployed ? in.deployed_source : "stage tensors in " + in.stage_tensors->string();
  std::shared_ptr<const ModelFile> model = LoadModelFile(in.model);
  const DoctorRun run{in, RunnableModel(model, in), ModelInputOf(model->model(), model->source()),
                      model};
  if (run.model != run.given) r.model_run = run.model->source();

  const std::optional<Finding> blocked = CheckWithoutImages(run, r);
  if (in.images && in.deployed && blocked)
    r.findings.push_back({"empirical_skipped", Severity::kInfo, "--images", "",
                          "the deployed spec cannot feed the model (" + blocked->code + ")",
                          "no image was run: the deployed pipeline cannot run on this model",
                          "fix the error findings first"});
  else if (in.images && in.deployed)
    CheckWithImages(run, r);
  if (in.stage_tensors) doctor::ExplainStageTensors(run, r);
  NonFiniteFindings(r);
  r.aligned = !HasErrors(r.findings);
  return r;
}

}  // namespace lockstep
