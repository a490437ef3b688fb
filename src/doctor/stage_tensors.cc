// Stage tensors from the other pipeline: read by image, compared with the training pipeline's
// stage by stage, folded per stage, and priced by running the model on the other's input.
#include "doctor/stage_tensors.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include "doctor/doctor_gate.h"
#include "lockstep/core/error.h"
#include "lockstep/core/npy.h"
#include "lockstep/image/decode.h"
#include "lockstep/pipeline/quantize.h"

namespace lockstep::doctor {
namespace {

namespace fs = std::filesystem;

struct StageName {
  const char* name;
  StageKind kind;
};
constexpr std::array<StageName, 4> kStages = {{{"resized", StageKind::kResized},
                                               {"normalized", StageKind::kNormalized},
                                               {"quantized", StageKind::kQuantized},
                                               {"boxes", StageKind::kBoxes}}};

// The tensors one image has, by stage name.
struct ImageTensors {
  std::string image;
  std::map<std::string, fs::path> stages;
};

std::vector<fs::path> NpyFiles(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw Error(dir.string(), "--stage-tensors", "a folder of <image>.<stage>.npy files",
                fs::exists(dir, ec) ? "not a folder" : "no such folder");
  std::vector<fs::path> npys;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code entry_ec;  // an entry that cannot be followed (a link loop) is skipped
    if (it->is_regular_file(entry_ec) && it->path().extension() == ".npy")
      npys.push_back(it->path());
  }
  if (ec) throw Error(dir.string(), "--stage-tensors", "a readable folder", ec.message());
  if (npys.empty())
    throw Error(dir.string(), "--stage-tensors", "files named <image>.<stage>.npy", "no .npy file");
  return npys;
}

// The folder's files by image, images in name order, the first max_images of them.
std::vector<ImageTensors> StageTensorFiles(const DoctorInput& in) {
  const fs::path dir = *in.stage_tensors;
  if (!in.images)
    throw Error(dir.string(), "--stage-tensors",
                "--images with the images the tensors were made from", "no --images");
  std::map<std::string, ImageTensors> by_image;
  for (const fs::path& file : NpyFiles(dir)) {
    const std::string stem = file.stem().string();  // "000000000009.jpg.resized"
    const size_t dot = stem.rfind('.');
    const std::string stage = dot == std::string::npos ? "" : stem.substr(dot + 1);
    if (std::none_of(kStages.begin(), kStages.end(), [&](auto& s) { return stage == s.name; }))
      throw Error(file.string(), "file name",
                  "<image file name>.<stage>.npy with stage resized, normalized, quantized or "
                  "boxes",
                  stage.empty() ? "no stage" : "stage '" + stage + "'");
    ImageTensors& t = by_image[stem.substr(0, dot)];
    t.image = stem.substr(0, dot);
    t.stages[stage] = file;
  }
  std::vector<ImageTensors> out;
  for (auto& [name, t] : by_image) out.push_back(std::move(t));
  if (in.max_images && out.size() > in.max_images) out.resize(in.max_images);
  return out;
}

// The training pipeline's run of one image: its source, trace and detections.
struct Traced {
  Image rgb;
  int orientation = 1;  // the file's EXIF tag
  DetectTrace trace;
  ImageDetections detections;
};

Traced TraceTraining(const DoctorInput& in, Detector& train, const fs::path& npy,
                     const std::string& image_name) {
  const fs::path image = *in.images / image_name;
  std::error_code ec;
  if (!fs::is_regular_file(image, ec))
    throw Error(npy.string(), "file name", "an image " + image_name + " in " + in.images->string(),
                "no such image");
  Image source = train.DecodeFile(image);
  Traced t;
  t.detections = train.Detect(source, &t.trace);
  t.rgb = ToRgb(source);
  t.orientation = ExifOrientationOfFile(image);
  return t;
}

// The other pipeline's tensor as the model takes it: its own dtype, or the bytes as they are
// between uint8 and int8 (a device copies them so); nullopt when it cannot feed the model.
std::optional<TensorData> AsModelInput(const TensorData& other, const ModelInput& input) {
  const bool eight_bit = (other.dtype == DType::kUInt8 || other.dtype == DType::kInt8) &&
                         (input.dtype == DType::kUInt8 || input.dtype == DType::kInt8);
  if (other.dtype != input.dtype && !eight_bit) return std::nullopt;
  if (other.element_count() != size_t(input.width) * input.height * input.channels)
    return std::nullopt;
  TensorData t = other;
  t.dtype = input.dtype;
  return t;
}

// Values of an HxWxC (or 1xHxWxC) tensor as doubles, when it has that many.
std::optional<std::vector<double>> ImageValues(const TensorData& t, size_t expected) {
  if (t.element_count() != expected) return std::nullopt;
  std::vector<double> v(expected);
  switch (t.dtype) {
    case DType::kUInt8:
      for (size_t i = 0; i < expected; ++i) v[i] = t.bytes[i];
      return v;
    case DType::kFloat32:
      for (size_t i = 0; i < expected; ++i) v[i] = t.as<float>()[i];
      return v;
    default:
      return std::nullopt;
  }
}

// The training spec's normalization applied to the other pipeline's resized image, in float as
// lockstep computes it, with or without the channel swap (the trace's resized stage is in the
// model's channel order for 8-bit dialects, in RGB for float ones: `swap` is whichever
// reproduces lockstep's own normalized stage).
TensorData NormalizedFrom(const std::vector<double>& resized, int h, int w, int c,
                          const NormalizeSpec& n, bool swap) {
  TensorData out(DType::kFloat32, {h, w, c});
  std::span<float> o = out.as<float>();
  for (size_t i = 0; i < o.size(); ++i) {
    const int ch = int(i % size_t(c));
    const int from = swap && c == 3 ? 2 - ch : ch;
    o[i] = (float(resized[i - size_t(ch) + size_t(from)]) - float(n.mean[size_t(ch)])) /
           float(n.std[size_t(ch)]);
  }
  return out;
}

// What each stage of the other pipeline would be if only its earlier stages differed: the
// training spec's next step applied to the other's previous stage. Where lockstep cannot
// reproduce its own stage that way (an NCHW tensor, an unusual dtype), there is none.
class NextStep {
 public:
  NextStep(const Spec& spec, const ModelInput& input, const DetectTrace& own) : spec_(spec) {
    const TensorData* resized = StageOf(own, "resized");
    const TensorData* normalized = StageOf(own, "normalized");
    if (!resized || !normalized || resized->shape.size() != 3) return;
    h_ = resized->shape[0], w_ = resized->shape[1], c_ = resized->shape[2];
    const auto values = ImageValues(*resized, size_t(h_) * w_ * c_);
    if (!values) return;
    for (bool swap : {false, true})
      if (NormalizedFrom(*values, h_, w_, c_, spec.normalize, swap).bytes == normalized->bytes) {
        normalize_ = true, swap_ = swap;
        break;
      }
    if (input.dtype != DType::kFloat32 && spec.tensor.layout == Layout::kNhwc) {
      q_ = ResolveQuantization(spec, input);
      shape_ = own.input.shape;
      quantize_ = Quantized(*normalized).has_value() && *Quantized(*normalized) == own.input;
    }
  }

  std::optional<TensorData> Normalized(const TensorData& other_resized) const {
    if (!normalize_) return std::nullopt;
    const auto v = ImageValues(other_resized, size_t(h_) * w_ * c_);
    if (!v) return std::nullopt;
    return NormalizedFrom(*v, h_, w_, c_, spec_.normalize, swap_);
  }

  std::optional<TensorData> Quantized(const TensorData& other_normalized) const {
    if (shape_.empty()) return std::nullopt;
    const auto v = ImageValues(other_normalized, size_t(h_) * w_ * c_);
    if (!v) return std::nullopt;
    return QuantizeTensor(*v, shape_, q_);
  }
  bool quantizes() const { return quantize_; }

 private:
  const Spec& spec_;
  int h_ = 0, w_ = 0, c_ = 0;
  bool normalize_ = false, swap_ = false, quantize_ = false;
  InputQuantization q_;
  std::vector<int> shape_;
};

// Boxes without classes or scores (an [N,4] .npy) as detections of one class.
std::vector<PixelDetection> ClassAgnostic(const std::vector<PixelDetection>& detections) {
  std::vector<PixelDetection> out = detections;
  for (PixelDetection& d : out) d.class_index = 0;
  return out;
}

std::vector<PixelDetection> BoxesOf(const TensorData& boxes, const fs::path& file) {
  if (boxes.shape.size() != 2 || boxes.shape[1] != 4)
    throw Error(file.string(), "shape", "[N,4] boxes (xmin, ymin, xmax, ymax) in source pixels",
                ShapeText(boxes.shape));
  std::vector<double> v(boxes.element_count());
  if (boxes.dtype != DType::kFloat32 && boxes.dtype != DType::kFloat64)
    throw Error(file.string(), "dtype", "float32 or float64 boxes",
                std::string(DTypeName(boxes.dtype)));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = boxes.dtype == DType::kFloat32 ? double(boxes.as<float>()[i]) : boxes.as<double>()[i];
  std::vector<PixelDetection> out;
  for (size_t i = 0; i + 3 < v.size(); i += 4)
    out.push_back({0, "", 1.0f, Box{v[i], v[i + 1], v[i + 2], v[i + 3]}});
  return out;
}

std::string ImagesText(const StageReport& s) {
  return std::to_string(s.images_differing) + "/" + std::to_string(s.images) + " images";
}

std::string StatsText(const StageReport& s) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "max abs diff %.4g, mean diff %.4g, %.1f%% of %zu values differ",
                s.stats.max_abs_diff, s.stats.mean_diff, 100 * s.stats.differing_share(),
                s.stats.elements);
  return buf;
}

// One finding per stage: "normalized: 16/16 images, [0,1] vs [-1,1]". With `own` (the stage
// against the training step on the other's previous stage), the stage is judged by its own step.
Finding StageFinding(const StageReport& s, const StageReport* own) {
  const std::string where = "$stage_tensors." + s.stage;
  const std::string training = "lockstep's training " + s.stage;
  if (s.stats.non_finite)
    return {"stage_tensor_non_finite",
            Severity::kError,
            where,
            training,
            ImagesText(s) + ": " + std::to_string(s.stats.non_finite) +
                " elements NaN or infinite where lockstep's are not; " + StatsText(s),
            "the other pipeline's " + s.stage + " tensor holds NaN or infinity",
            "find where the NaN or infinity first appears in the other pipeline"};
  if (s.equal())
    return {"stage_tensor_matches",
            Severity::kInfo,
            where,
            training,
            "equal in " + std::to_string(s.images) + " images",
            "this stage of the other pipeline matches the training spec",
            ""};
  const bool judged_by_own = own && own->images == s.images;
  if (judged_by_own && own->equal())
    return {"stage_inherits",
            Severity::kInfo,
            where,
            training,
            ImagesText(s) +
                " differ, all of it inherited: the training step applied to the "
                "other's previous stage gives exactly this (" +
                StatsText(s) + ")",
            "this stage adds no cause of its own",
            ""};
  const StageReport& judged = judged_by_own ? *own : s;
  const std::string scope =
      judged_by_own ? " (its own step, given the other's previous stage)" : "";
  if (!judged.fingerprints.empty()) {
    const Fingerprint& f = judged.fingerprints.front();
    return {f.code,
            Severity::kError,
            where,
            training,
            ImagesText(judged) + scope + ": " + f.description + " (" + f.evidence + "; " +
                StatsText(judged) + ")",
            "the other pipeline's " + s.stage + " differs from training: " + f.description,
            "fix the other pipeline's " + s.stage + " stage: " + f.description};
  }
  return {"stage_tensor_differs",
          Severity::kError,
          where,
          training,
          ImagesText(judged) + scope + " differ: " + StatsText(judged),
          "the other pipeline's " + s.stage +
              " differs from training in no way lockstep "
              "recognises",
          "dump each stage and compare them in order"};
}

// The causes in data-flow order: the first divergence's, then each later stage's own.
std::vector<NamedCause> CausesOf(const DoctorReport& r) {
  std::vector<NamedCause> out;
  bool diverged = false;
  for (const StageReport& s : r.external_stages) {
    if (s.equal()) continue;
    const StageReport* own = nullptr;
    for (const StageReport& o : r.external_own)
      if (o.stage == s.stage && o.images == s.images) own = &o;
    if (diverged && (!own || own->equal())) continue;  // inherited, or cannot tell
    const StageReport& judged = diverged ? *own : s;
    diverged = true;
    // Two causes in this stage's tensors when its first fingerprint is the first of them.
    if (!judged.causes.empty() && !judged.fingerprints.empty() &&
        judged.fingerprints.front().code == judged.causes.front().code) {
      for (const Fingerprint& f : judged.causes)
        out.push_back({s.stage, f, judged.images, judged.images_differing});
      continue;
    }
    NamedCause c{
        s.stage, {"unknown", "not recognised", ""}, judged.images, judged.images_differing};
    if (!judged.fingerprints.empty()) c.fingerprint = judged.fingerprints.front();
    out.push_back(std::move(c));
  }
  return out;
}

// What the stage tensors cost: the model run on the other's input, and the other's boxes, each
// against the training pipeline's detections.
struct Measurement {
  AgreementSums input, boxes;
  size_t input_images = 0, boxes_images = 0;
};

// Each stage folded over the images twice: against the training pipeline's stage, and against
// the training step applied to the other's previous stage (its own cause, with what it
// inherited taken away).
struct StageFolds {
  std::map<std::string, StageAccumulator> vs_training, own;
};

void Fold(StageAccumulator& acc, const TensorData& reference, const TensorData& other,
          StageKind kind, CompareContext ctx, const fs::path& file, DoctorReport* r) {
  if (acc.fingerprinted >= kFingerprintedImages) ctx.rerun_budget = 0;
  TensorComparison c = CompareTensors(reference, other, kind, ctx);
  if (!c.equal) ++acc.fingerprinted;
  acc.Add(c);
  if (r) r->external.push_back({file, std::move(c)});
}

// The training pipeline's tensor of a stage, for one image.
const TensorData& TrainingStage(const DoctorRun& run, const Traced& t, const StageName& stage,
                                const fs::path& file) {
  const TensorData* data =
      stage.kind == StageKind::kQuantized ? &t.trace.input : StageOf(t.trace, stage.name);
  if (!data)
    throw Error(file.string(), "stage", "a stage the training pipeline has",
                std::string(stage.name) + " (the model input is " +
                    std::string(DTypeName(run.input.dtype)) + ")");
  return *data;
}

// The stages of one image compared, the measurement taken.
void CompareImage(const DoctorRun& run, Detector& train, const ImageTensors& files, const Traced& t,
                  StageFolds& folds, Measurement& m, DoctorReport& r) {
  const DoctorInput& in = run.in;
  const std::string input_stage = run.input.dtype == DType::kFloat32 ? "normalized" : "quantized";
  std::map<std::string, TensorData> other;
  for (const auto& [stage, file] : files.stages) other[stage] = ReadNpyFile(file);
  const NextStep next(in.training, run.input, t.trace);
  CompareContext ctx = ContextFor(in.training, run.input, &t.rgb);
  ctx.source_orientation = t.orientation;
  CompareContext values_only = ctx;  // the reference is no longer lockstep's own resize
  values_only.source = nullptr;
  std::optional<ImageDetections> found;  // the model on the other's input
  for (const StageName& stage : kStages) {
    auto it = other.find(stage.name);
    if (it == other.end()) continue;
    const fs::path& file = files.stages.at(stage.name);
    const TensorData& theirs = it->second;
    if (stage.kind == StageKind::kBoxes) {
      const std::vector<PixelDetection> boxes = BoxesOf(theirs, file);
      m.boxes.Add(ClassAgnostic(t.detections.detections), boxes, in.agreement_iou,
                  in.agreement_score_threshold);
      ++m.boxes_images;
      Fold(folds.vs_training[stage.name],
           BoxesTensor(t.detections.detections, in.agreement_score_threshold), theirs, stage.kind,
           ctx, file, &r);
      if (found)
        Fold(folds.own[stage.name], BoxesTensor(found->detections, in.agreement_score_threshold),
             theirs, stage.kind, ctx, file, nullptr);
      continue;
    }
    Fold(folds.vs_training[stage.name], TrainingStage(run, t, stage, file), theirs, stage.kind, ctx,
         file, &r);
    std::optional<TensorData> step;
    if (stage.kind == StageKind::kNormalized && other.count("resized"))
      step = next.Normalized(other.at("resized"));
    if (stage.kind == StageKind::kQuantized && next.quantizes()) {
      if (other.count("normalized"))
        step = next.Quantized(other.at("normalized"));
      else if (other.count("resized"))
        if (auto n = next.Normalized(other.at("resized"))) step = next.Quantized(*n);
    }
    if (step) Fold(folds.own[stage.name], *step, theirs, stage.kind, values_only, file, nullptr);
    if (stage.name == input_stage)
      if (std::optional<TensorData> fed = AsModelInput(theirs, run.input)) {
        found = train.DetectInput(*fed, t.detections.transform, t.detections.width,
                                  t.detections.height, file.string());
        m.input.Add(t.detections.detections, found->detections, in.agreement_iou,
                    in.agreement_score_threshold);
        ++m.input_images;
      }
  }
}

// The gate's decision: the lower of the two measurements taken, unmeasured when none was.
GateDecision DecideStageGate(const GateOptions& gate, const Measurement& m,
                             GateDecision& input_cost, GateDecision& boxes_cost) {
  input_cost = DecideGate(gate, m.input.Result(), std::nullopt, m.input_images,
                          "the other pipeline's model input, run on the model");
  boxes_cost = DecideGate(gate, m.boxes.Result(), std::nullopt, m.boxes_images,
                          "the other pipeline's boxes (class-agnostic)");
  if (input_cost.measured && boxes_cost.measured)
    return input_cost.agreement_share <= boxes_cost.agreement_share ? input_cost : boxes_cost;
  return input_cost.measured ? input_cost : boxes_cost;
}

}  // namespace

void ExplainStageTensors(const DoctorRun& run, DoctorReport& r) {
  const DoctorInput& in = run.in;
  const std::vector<ImageTensors> images = StageTensorFiles(in);
  DetectorOptions options;
  options.threads = in.run.interpreter_threads;
  options.score_threshold = in.run.score_threshold;
  Detector train = Detector::Create(run.model, in.training, options);

  StageFolds folds;
  Measurement m;
  for (size_t i = 0; i < images.size(); ++i) {
    const Traced t = TraceTraining(in, train, images[i].stages.begin()->second, images[i].image);
    CompareImage(run, train, images[i], t, folds, m, r);
    if (in.progress) in.progress("stage tensors", i + 1, images.size());
  }
  for (const StageName& stage : kStages) {
    for (auto* fold : {&folds.vs_training, &folds.own}) {
      auto it = fold->find(stage.name);
      if (it == fold->end()) continue;
      const bool own = fold == &folds.own;
      it->second.report.stage = stage.name;
      it->second.report.note =
          own ? "the other's " + std::string(stage.name) +
                    " against the training step applied to the other's previous stage"
              : "the other pipeline's " + std::string(stage.name) +
                    " tensors against the training spec's";
      (own ? r.external_own : r.external_stages).push_back(it->second.Finish());
    }
    if (r.external_first_divergence.empty() && !r.external_stages.empty() &&
        r.external_stages.back().stage == stage.name && !r.external_stages.back().equal())
      r.external_first_divergence = stage.name;
  }
  r.causes = CausesOf(r);

  GateDecision input_cost, boxes_cost;
  const GateDecision gate = DecideStageGate(in.gate, m, input_cost, boxes_cost);
  for (const StageReport& s : r.external_stages) {
    const StageReport* own = nullptr;
    for (const StageReport& o : r.external_own)
      if (o.stage == s.stage) own = &o;
    Finding f = StageFinding(s, own);
    const GateDecision& cost = s.stage == "boxes" || !input_cost.measured ? boxes_cost : input_cost;
    RegradeStageFinding(cost.measured ? cost : gate, f);
    r.findings.push_back(std::move(f));
  }
  AddFirstDivergence(r.external_stages, r.external_first_divergence, "stage_tensors.",
                     images.size(), r.findings);
  if (gate.measured)
    r.findings.push_back(
        MeasuredCostFinding(gate, HasErrors(r.findings), "fix the first diverging stage"));
  if (!r.gate || gate.measured) r.gate = gate;
  r.images = std::max(r.images, images.size());
}

}  // namespace lockstep::doctor
