// The Detector: set up once (engine, spec check, output roles, labels), then one image at a time.
#include "lockstep/detect/detector.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <utility>

#include "lockstep/core/error.h"
#include "lockstep/core/file_read.h"
#include "lockstep/detect/postprocess_outputs.h"
#include "lockstep/detect/ssd_raw.h"
#include "lockstep/detect/yolo_decode.h"
#include "lockstep/detect/yolo_labels.h"
#include "lockstep/model/metadata.h"
#include "lockstep/pipeline/preprocess.h"
#include "lockstep/pipeline/source_image.h"
#include "lockstep/pipeline/spec_model.h"

namespace lockstep {
namespace {

LabelSource ResolveLabels(const Spec& spec, const Model& model,
                          const std::optional<ModelMetadata>& metadata, const std::string& source) {
  if (!spec.output.labels.empty()) return {spec.output.labels, "spec output.labels"};
  if (!spec.output.label_file.empty())
    return {ReadLabelFile(spec.output.label_file), "label file " + spec.output.label_file};
  if (metadata) {
    std::vector<std::string> labels = Labels(model, *metadata, source);
    if (!labels.empty()) return {std::move(labels), "model metadata"};
  }
  return {{}, "none"};
}

// Outputs other than the image (an LSTM tracker's state) start from zeros, not from whatever the
// arena held.
void ZeroOtherInputs(Engine& engine) {
  for (size_t i = 1; i < engine.input_count(); ++i) {
    TensorView v = engine.input(i);
    std::fill(v.bytes.begin(), v.bytes.end(), uint8_t{0});
  }
}

bool ReinterpretableAs(DType data, DType tensor) {
  return (data == DType::kUInt8 && tensor == DType::kInt8) ||
         (data == DType::kInt8 && tensor == DType::kUInt8);
}

}  // namespace

std::vector<std::string> ReadLabelFile(const std::filesystem::path& path) {
  const std::string text =
      ReadFileText(path, kMaxLabelFileBytes, "a readable label file (one label per line)");
  std::vector<std::string> labels;
  std::string line;
  // An Ultralytics metadata.yaml / data.yaml: its `names:` entry.
  if (const std::string ext = path.extension().string(); ext == ".yaml" || ext == ".yml") {
    std::optional<std::vector<std::string>> names = UltralyticsYamlNames(text, path.string());
    if (!names || names->empty())
      throw Error(path.string(), "names", "the class names of an Ultralytics YAML",
                  names ? "an empty list" : "no names entry");
    return *names;
  }
  std::istringstream in(text);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    labels.push_back(line);
  }
  if (labels.empty()) throw Error(path.string(), "", "at least one label", "an empty file");
  return labels;
}

struct Detector::State {
  State(Spec sp, Engine eng, ModelInput in)
      : source(eng.info().source), spec(std::move(sp)), engine(std::move(eng)), input(in) {}
  std::string source;
  Spec spec;
  Engine engine;
  ModelInput input;
  LabelSource labels;
  std::vector<Finding> findings;
  std::optional<DetectionOutputRoles> roles;
  std::string undecided;  // why the probe did not decide the roles
  double score_threshold = 0;
  bool clamp = true;
  bool reinterpret_8bit = false;  // the other 8-bit type's bytes copied as they are
  // decoder ssd_raw: where the head's outputs are, its anchors and the op's options.
  std::optional<SsdRawOutputs> raw_outputs;
  TensorData anchors;
  DetectionPostprocessOptions raw_options;
  // decoder yolov5 / yolov8: the head's layout, units and NMS.
  std::optional<YoloDecodeOptions> yolo;

  const std::optional<ModelMetadata>& metadata() const { return engine.model_file()->metadata(); }

  // The phases of Create after the spec check, one per decoder family.
  void ReinterpretFor8BitTwin(DType data);
  void SetUpSsdRaw();
  void SetUpYolo();
  void DecideRoles();
};

// Data made for the other 8-bit twin of this model: the same real values, the zero point
// shifted by 128 (unless the spec names its own).
void Detector::State::ReinterpretFor8BitTwin(DType data) {
  reinterpret_8bit = true;
  if (!spec.tensor.zero_point)
    spec.tensor.zero_point = input.zero_point + (data == DType::kUInt8 ? 128 : -128);
}

// The raw head's outputs, anchors and decoding options, once; labels that list the background
// class too lose it, so that class indices (which count from the first real class) match.
void Detector::State::SetUpSsdRaw() {
  const SsdRawOutputs raw = FindSsdRawOutputs(engine.outputs(), source);
  const OutputSpec& out = spec.output;
  if (out.background_class && raw.classes < 2)
    throw Error(source, "$.output.background_class",
                "false for a score output with " + std::to_string(raw.classes) + " column",
                "true (no class would be left)");
  anchors = ResolveSsdAnchors(out.anchors, engine.model(), input.width, input.height, raw.anchors,
                              source);
  raw_options = SsdRawPostprocessOptions(out, raw.classes, float(score_threshold));
  raw_outputs = raw;
  if (out.background_class && labels.labels.size() == size_t(raw.classes))
    labels.labels.erase(labels.labels.begin());
}

// The head's layout from the runtime output; box units from its quantization range, or (float
// outputs) from the values a probe input gives. Either way the finding says which.
void Detector::State::SetUpYolo() {
  Engine& e = engine;
  YoloDecodeOptions o =
      YoloOptionsFor(spec.output, e.outputs()[0], input.width, input.height, source);
  if (spec.output.yolo.box_units == BoxUnits::kAuto) {
    if (e.outputs()[0].dtype == DType::kFloat32) {
      e.SetInput(0, GeneratedInput(e.input(0), 0), source);
      e.Invoke();
    }
    BoxUnitsDecision units = DetectYoloBoxUnits(e.outputs()[0], o.head);
    o.normalized_boxes = units.normalized;
    findings.push_back({"yolo_box_units", Severity::kInfo, "$.output.yolo.box_units", units.reason,
                        "auto",
                        "the decoder reads the boxes as " +
                            std::string(units.normalized ? "normalized" : "pixels"),
                        "set box_units to make it explicit"});
  }
  if (!labels.labels.empty() && labels.labels.size() != size_t(o.head.classes))
    findings.push_back({"yolo_label_count", Severity::kWarning, "$.output.labels",
                        std::to_string(o.head.classes) + " labels (the head's classes)",
                        std::to_string(labels.labels.size()) + " from " + labels.origin,
                        "class indices and names disagree", "give one label per class"});
  yolo = o;
}

// Decide the roles on a deterministic probe input, so that every Detector of this model decides
// the same. Only "the values do not tell" waits for a real image.
void Detector::State::DecideRoles() {
  engine.SetInput(0, GeneratedInput(engine.input(0), 0), source);
  engine.Invoke();
  OutputRoleDecision d =
      DecideDetectionOutputRoles(engine.model(), metadata(), engine.outputs(), source);
  roles = d.roles;
  undecided = d.undecided;
  ZeroOtherInputs(engine);
}

Detector::Detector(std::unique_ptr<State> state) : state_(std::move(state)) {}
Detector::Detector(Detector&&) noexcept = default;
Detector& Detector::operator=(Detector&&) noexcept = default;
Detector::~Detector() = default;

Detector Detector::Create(const std::filesystem::path& model, const Spec& spec,
                          const DetectorOptions& options) {
  return Create(LoadModelFile(model), spec, options);
}

Detector Detector::Create(std::shared_ptr<const ModelFile> model, const Spec& spec,
                          const DetectorOptions& options) {
  const std::string source = model->source();
  // The spec's own threshold is checked by ParseSpec; an override must meet the same bound (NaN
  // would silently keep or drop every detection).
  if (double t = options.score_threshold.value_or(0); !(t >= 0 && t <= 1)) {
    char found[32];
    std::snprintf(found, sizeof found, "%g", t);
    throw Error(source, "score_threshold", "a score in 0..1", found);
  }
  Engine engine =
      Engine::Load(std::move(model), {.threads = options.threads, .xnnpack = options.xnnpack});
  ModelInput input = ModelInputOf(engine.model(), source);
  std::vector<Finding> findings;
  for (Finding& f : CheckSpec(spec, *engine.model_file(), options.reinterpret_8bit_input)) {
    if (f.blocking) throw Error(source, f.field, f.expected, f.found, f.fix);
    findings.push_back(std::move(f));
  }
  const std::optional<ModelMetadata>& metadata = engine.model_file()->metadata();

  auto state = std::make_unique<State>(spec, std::move(engine), input);
  State& s = *state;
  s.findings = std::move(findings);
  if (options.reinterpret_8bit_input && spec.tensor.dtype &&
      ReinterpretableAs(*spec.tensor.dtype, input.dtype))
    s.ReinterpretFor8BitTwin(*spec.tensor.dtype);
  s.roles = options.roles;
  s.score_threshold = options.score_threshold.value_or(spec.output.score_threshold);
  s.clamp = options.clamp.value_or(spec.output.clamp_boxes);
  s.labels = ResolveLabels(spec, s.engine.model(), metadata, source);
  ZeroOtherInputs(s.engine);
  if (spec.output.decoder == Decoder::kSsdRaw)
    s.SetUpSsdRaw();
  else if (IsYolo(spec.output.decoder))
    s.SetUpYolo();
  else if (!s.roles)
    s.DecideRoles();
  return Detector(std::move(state));
}

Image Detector::DecodeFile(const std::filesystem::path& file, int64_t max_pixels) const {
  return DecodeSourceImage(file, state_->spec, max_pixels);
}

ImageDetections Detector::DetectFile(const std::filesystem::path& file, int64_t max_pixels) {
  return Detect(DecodeFile(file, max_pixels));
}

ImageDetections Detector::Detect(const Image& decoded) { return Detect(decoded, nullptr); }

ImageDetections Detector::Detect(const Image& decoded, DetectTrace* trace) {
  State& s = *state_;
  Preprocessed p = Preprocess(decoded, s.spec, s.input, {.trace = trace != nullptr});
  if (s.reinterpret_8bit) p.tensor.dtype = s.input.dtype;  // the bytes as they are
  s.engine.SetInput(0, p.tensor, s.source);
  if (trace) {
    trace->stages = std::move(p.trace);
    trace->input = p.tensor;
  }
  return InvokeAndDecode(p.transform, decoded.width, decoded.height, trace);
}

ImageDetections Detector::DetectInput(const TensorData& input, const Transform& transform,
                                      int width, int height, const std::string& source) {
  State& s = *state_;
  const TensorView v = s.engine.input(0);
  // Another pipeline's tensor may lack the batch axis; its values and their order must match.
  if (input.dtype != v.dtype || input.bytes.size() != v.bytes.size())
    throw Error(source, "model input", DescribeTensor(v.dtype, v.shape),
                DescribeTensor(input.dtype, input.shape), "feed the tensor the model takes");
  s.engine.SetInput(0, input.bytes, source);
  return InvokeAndDecode(transform, width, height, nullptr);
}

ImageDetections Detector::InvokeAndDecode(const Transform& transform, int width, int height,
                                          DetectTrace* trace) {
  State& s = *state_;
  s.engine.Invoke();
  const std::vector<TensorView> outputs = s.engine.outputs();
  if (trace) {
    trace->outputs.clear();
    for (size_t i = 0; i < outputs.size(); ++i) trace->outputs.push_back(s.engine.CopyOutput(i));
  }
  ImageDetections result;
  result.width = width;
  result.height = height;
  result.transform = transform;
  if (s.yolo) {
    for (const Detection& d : DecodeYolo(outputs[0], *s.yolo, s.source))
      if (d.score >= s.score_threshold)
        result.detections.push_back({d.class_index, LabelOf(s.labels.labels, d.class_index),
                                     d.score,
                                     NormalizedToSourcePixels(d.box, transform, s.clamp)});
    return result;
  }
  PostprocessOutputs raw;
  if (s.raw_outputs) {
    raw = DecodeSsdRaw(outputs[s.raw_outputs->boxes], outputs[s.raw_outputs->scores], s.anchors,
                       s.raw_options, s.spec.output.score_activation, s.source);
  } else {
    if (!s.roles)
      s.roles = AssignDetectionOutputRoles(s.engine.model(), s.metadata(), outputs, s.source);
    raw = ReadPostprocessOutputs(outputs, *s.roles, s.source);
  }

  for (const Detection& d : ToDetections(raw, float(s.score_threshold))) {
    const Box box = NormalizedToSourcePixels(d.box, transform, s.clamp);
    result.detections.push_back(
        {d.class_index, LabelOf(s.labels.labels, d.class_index), d.score, box});
  }
  return result;
}

const Spec& Detector::spec() const { return state_->spec; }
const EngineInfo& Detector::engine_info() const { return state_->engine.info(); }
const LabelSource& Detector::labels() const { return state_->labels; }
const std::vector<Finding>& Detector::findings() const { return state_->findings; }
const std::optional<DetectionOutputRoles>& Detector::roles() const { return state_->roles; }
double Detector::score_threshold() const { return state_->score_threshold; }

}  // namespace lockstep
