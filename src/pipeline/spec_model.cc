#include "lockstep/pipeline/spec_model.h"

#include <cmath>
#include <functional>
#include <sstream>

#include "lockstep/core/error.h"
#include "lockstep/model/metadata.h"
#include "lockstep/model/postprocess_options.h"
#include "lockstep/model/yolo_head.h"

namespace lockstep {
namespace {

std::string Num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string Range(double lo, double hi) {
  std::ostringstream s;
  s << "[" << lo << ", " << hi << "]";
  return s.str();
}

bool Near(double a, double b, double tol) { return std::abs(a - b) <= tol; }

// The float range pixels 0..255 take after normalization, per channel 0.
std::pair<double, double> NormalizedRange(const NormalizeSpec& n) {
  return {(0 - n.mean[0]) / n.std[0], (255 - n.mean[0]) / n.std[0]};
}

// The usual normalization whose range [lo, hi] is: [-1,1] → mean 127.5 std 127.5, [0,1] → /255,
// [0,255] → identity; otherwise the linear map of 0..255 onto [lo, hi].
NormalizeSpec NormalizationForRange(double lo, double hi, std::string& reason) {
  double span = hi - lo;
  NormalizeSpec n;
  auto set = [&n](double mean, double std) {
    n.mean = {mean, mean, mean};
    n.std = {std, std, std};
  };
  if (Near(lo, -1, 0.02) && Near(hi, 1, 0.02)) {
    set(127.5, 127.5);
    reason = "the input quantization covers " + Range(lo, hi) + ", i.e. [-1,1]";
  } else if (Near(lo, 0, 0.01) && Near(hi, 1, 0.02)) {
    set(0, 255);
    reason = "the input quantization covers " + Range(lo, hi) + ", i.e. [0,1]";
  } else if (Near(lo, 0, 0.5) && Near(hi, 255, 3)) {
    set(0, 1);
    reason = "the input quantization covers " + Range(lo, hi) + ", i.e. raw pixels";
  } else {
    set(-lo * 255 / span, 255 / span);
    reason = "the input quantization covers " + Range(lo, hi) +
             ", which is no usual normalization (a calibration range?): confirm with the "
             "training script";
  }
  return n;
}

// A raw YOLO head: Ultralytics' pipeline (letterbox to the input, pad 114, its rounding, cv2
// bilinear, RGB / 255) and its decoder with Ultralytics' defaults. The head is a fact of the
// model when its candidate count matches the input's grids; the pipeline is Ultralytics' habit.
void DeriveYolo(Spec& spec, const YoloHead& head, bool has_normalization, bool ultralytics_names,
                const std::function<void(std::string, bool, std::string)>& add_mark) {
  // A YOLO field replaces what the generic derivation said of it.
  auto mark = [&](const std::string& field, bool fact, std::string reason) {
    std::erase_if(spec.provenance, [&](const Provenance& p) { return p.field == field; });
    add_mark(field, fact, std::move(reason));
  };
  spec.geometry.mode = GeometryMode::kLetterbox;
  spec.geometry.placement = Placement::kCenter;
  spec.geometry.pad_value = {114, 114, 114};
  spec.geometry.rounding = LetterboxRounding::kUltralytics;
  spec.geometry.scale_up = true;
  mark("$.geometry", false,
       "YOLO head: Ultralytics' letterbox assumed (centered, pad 114, its rounding, auto off as "
       "for a fixed-size export)");
  spec.resize.dialect = ResizeDialect::kOpenCV;
  spec.resize.interpolation = Interpolation::kBilinear;
  mark("$.resize", false, "YOLO head: cv2.resize INTER_LINEAR assumed, as Ultralytics' LetterBox");
  if (!has_normalization) {
    spec.normalize.mean = {0, 0, 0};
    spec.normalize.std = {255, 255, 255};
    mark("$.normalize", false,
         "YOLO head: Ultralytics feeds RGB / 255 in [0,1] whatever range the input quantization "
         "was calibrated on");
  }
  spec.output.decoder = head.kind == YoloHeadKind::kV5 ? Decoder::kYolov5 : Decoder::kYolov8;
  mark("$.output.decoder", head.grid_matches_input, head.reason);
  spec.output.score_threshold = 0;
  mark("$.output.yolo", false,
       "Ultralytics' defaults: confidence 0.25, IoU " +
           std::string(head.kind == YoloHeadKind::kV5 ? "0.45 (YOLOv5)" : "0.7 (YOLOv8/YOLO11)") +
           ", class-aware NMS, 300 detections; box units told at load time from the output");
  if (ultralytics_names)
    mark("$.output.labels", true, "the class names of the Ultralytics metadata in the model");
  else
    mark("$.output.labels", false,
         "no labels in the model: give output.label_file (e.g. the export's metadata.yaml names, "
         "one per line)");
}

}  // namespace

ModelInput ModelInputOf(const Model& model, const std::string& source) {
  if (model.subgraphs.empty() || model.subgraphs[0].inputs.empty())
    throw Error(source, "subgraphs[0].inputs", "an image input", "no inputs");
  const Subgraph& g = model.subgraphs[0];
  int32_t index = g.inputs[0];
  if (index < 0 || size_t(index) >= g.tensors.size())
    throw Error(source, "subgraphs[0].inputs[0]", "a tensor index", std::to_string(index));
  const Tensor& t = g.tensors[size_t(index)];
  const auto& s = t.shape;
  ModelInput in;
  auto image_like = [](int c) { return c == 1 || c == 3; };
  if (s.size() == 4 && s[0] == 1 && image_like(s[3])) {
    in.height = s[1], in.width = s[2], in.channels = s[3];
  } else if (s.size() == 4 && s[0] == 1 && image_like(s[1]) && s[3] > 4) {
    in.layout = Layout::kNchw;
    in.channels = s[1], in.height = s[2], in.width = s[3];
  } else {
    throw Error(source, "input tensor '" + t.name + "'",
                "an image tensor [1,H,W,C] or [1,C,H,W] with C of 1 or 3", ShapeText(s),
                "this is not an image model");
  }
  if (in.width <= 0 || in.height <= 0)
    throw Error(source, "input tensor '" + t.name + "'", "a fixed height and width", ShapeText(s));
  in.dtype = t.dtype;
  if (t.dtype != DType::kUInt8 && t.dtype != DType::kInt8 && t.dtype != DType::kFloat32 &&
      t.dtype != DType::kInt16)
    throw Error(source, "input tensor '" + t.name + "'", "uint8, int8, int16 or float32",
                std::string(DTypeName(t.dtype)));
  if (t.dtype != DType::kFloat32) {
    if (!t.quantization || t.quantization->scale.empty() || t.quantization->zero_point.empty())
      throw Error(source, "input tensor '" + t.name + "'.quantization",
                  "a scale and zero point for a " + std::string(DTypeName(t.dtype)) + " input",
                  "none");
    in.scale = t.quantization->scale[0];
    in.zero_point = t.quantization->zero_point[0];
  }
  return in;
}

std::optional<std::pair<double, double>> QuantizedRange(const ModelInput& in) {
  if (in.dtype == DType::kFloat32 || in.scale <= 0) return std::nullopt;
  auto q = QuantizedDTypeRange(in.dtype);
  if (!q) return std::nullopt;
  return std::pair{double(q->first - in.zero_point) * in.scale,
                   double(q->second - in.zero_point) * in.scale};
}

namespace {

// The spec the model implies, its input and metadata read by the caller.
Spec DeriveSpec(const Model& model, const ModelInput& in, const std::optional<ModelMetadata>& meta,
                const std::string& source) {
  const TensorMetadata* input_meta = meta && !meta->inputs.empty() ? &meta->inputs[0] : nullptr;
  Spec spec;
  spec.name = "derived from " + source;
  auto mark = [&spec](std::string field, bool fact, std::string reason) {
    spec.provenance.push_back({std::move(field), fact, std::move(reason)});
  };
  spec.tensor.width = in.width;
  spec.tensor.height = in.height;
  spec.tensor.layout = in.layout;
  spec.tensor.dtype = in.dtype;
  mark("$.tensor", true,
       "input " + std::to_string(in.width) + "x" + std::to_string(in.height) + "x" +
           std::to_string(in.channels) + " " + std::string(DTypeName(in.dtype)) +
           (in.dtype == DType::kFloat32
                ? ""
                : ", quantization scale " + Num(in.scale) + " zero point " +
                      std::to_string(in.zero_point) + " (taken from the model at run time)"));
  mark("$.tensor.rounding", false,
       "half away from zero, as TFLite's QUANTIZE op; pycoral and Ultralytics truncate");

  if (input_meta && input_meta->normalization && !input_meta->normalization->mean.empty() &&
      !input_meta->normalization->std.empty()) {
    const Normalization& n = *input_meta->normalization;
    for (size_t c = 0; c < 3; ++c) {
      spec.normalize.mean[c] = n.mean[std::min(c, n.mean.size() - 1)];
      spec.normalize.std[c] = n.std[std::min(c, n.std.size() - 1)];
    }
    mark("$.normalize", true, "NormalizationOptions in the model's metadata");
  } else if (auto range = QuantizedRange(in)) {
    std::string reason;
    spec.normalize = NormalizationForRange(range->first, range->second, reason);
    mark("$.normalize", false, "no NormalizationOptions in the metadata; " + reason);
  } else {
    spec.normalize.mean = {127.5, 127.5, 127.5};
    spec.normalize.std = {127.5, 127.5, 127.5};
    mark("$.normalize", false,
         "a float input without NormalizationOptions: [-1,1] assumed; the training script "
         "decides");
  }

  if (input_meta && input_meta->image && input_meta->image->color_space == "RGB")
    mark("$.input.channel_order", true, "ImageProperties color_space RGB in the metadata");
  else
    mark("$.input.channel_order", false, "RGB assumed (PIL and TF pipelines)");
  mark("$.geometry", false,
       "stretch assumed, as the TF Object Detection API and the Task Library resize; YOLO "
       "exports letterbox");
  mark("$.resize", false, "OpenCV bilinear assumed; name the library training resized with");

  const bool has_normalization =
      input_meta && input_meta->normalization && !input_meta->normalization->mean.empty();
  if (std::optional<YoloHead> head = YoloHeadOf(model);
      head && !FindDetectionPostprocess(model, source)) {
    std::vector<std::string> labels;
    if (meta) labels = Labels(model, *meta, source);
    DeriveYolo(spec, *head, has_normalization, !labels.empty(), mark);
    return spec;
  }
  if (FindDetectionPostprocess(model, source)) {
    spec.output.decoder = Decoder::kTflitePostprocess;
    mark("$.output.decoder", true, "the model ends in TFLite_Detection_PostProcess");
  } else {
    spec.output.decoder = Decoder::kSsdRaw;
    mark("$.output.decoder", false, "no TFLite_Detection_PostProcess op: raw SSD outputs assumed");
  }
  spec.output.score_threshold = 0.5;
  if (meta)
    for (const auto& o : meta->outputs)
      if (o.score_threshold) {
        spec.output.score_threshold = *o.score_threshold;
        mark("$.output.score_threshold", true, "ScoreThresholdingOptions in the metadata");
      }
  if (spec.provenance.back().field != "$.output.score_threshold")
    mark("$.output.score_threshold", false, "0.5 for display; eval uses every detection");
  return spec;
}

using AddFinding =
    std::function<Finding&(std::string code, Severity sev, std::string field, std::string expected,
                           std::string found, std::string consequence, std::string fix)>;

// Size, layout, dtype and quantization of the tensor the spec makes.
void CheckInputTensor(const Spec& spec, const ModelInput& in, bool reinterpret_8bit_input,
                      const AddFinding& add) {
  if ((spec.tensor.width && spec.tensor.width != in.width) ||
      (spec.tensor.height && spec.tensor.height != in.height))
    add("input_size_mismatch", Severity::kError, "$.tensor.width/height",
        std::to_string(in.width) + "x" + std::to_string(in.height),
        std::to_string(spec.tensor.width) + "x" + std::to_string(spec.tensor.height),
        "the tensor would not fit the model's input", "use the model's input size")
        .blocking = true;
  if (spec.tensor.layout != in.layout)
    add("layout_mismatch", Severity::kError, "$.tensor.layout", std::string(Name(in.layout)),
        std::string(Name(spec.tensor.layout)), "pixels would be fed in the wrong memory order",
        "set the layout to " + std::string(Name(in.layout)))
        .blocking = true;
  if (spec.tensor.dtype && *spec.tensor.dtype != in.dtype) {
    bool shift = (in.dtype == DType::kInt8 && *spec.tensor.dtype == DType::kUInt8) ||
                 (in.dtype == DType::kUInt8 && *spec.tensor.dtype == DType::kInt8);
    // 8-bit twins can still run with the bytes copied as they are, as a device does.
    add("input_dtype_mismatch", Severity::kError, "$.tensor.dtype",
        std::string(DTypeName(in.dtype)), std::string(DTypeName(*spec.tensor.dtype)),
        shift ? "uint8 and int8 inputs differ by a zero-point shift of 128: every value would be "
                "off by 128 steps"
              : "the model cannot take this element type",
        "quantize to " + std::string(DTypeName(in.dtype)) + " with the model's zero point")
        .blocking = !(shift && reinterpret_8bit_input);
  }
  if (in.dtype == DType::kFloat32) return;
  if (spec.tensor.zero_point && *spec.tensor.zero_point != in.zero_point)
    add("input_zero_point_mismatch", Severity::kError, "$.tensor.zero_point",
        std::to_string(in.zero_point), std::to_string(*spec.tensor.zero_point),
        "every input value is shifted by " +
            std::to_string(*spec.tensor.zero_point - in.zero_point) + " quantization steps",
        "leave zero_point out to use the model's");
  if (spec.tensor.scale && !Near(*spec.tensor.scale, in.scale, in.scale * 1e-4))
    add("input_scale_mismatch", Severity::kError, "$.tensor.scale", Num(in.scale),
        Num(*spec.tensor.scale), "input values are scaled wrongly",
        "leave scale out to use the model's");
}

// The spec's normalization against the metadata's, else against the input quantization's range.
void CheckNormalization(const Spec& spec, const ModelInput& in,
                        const std::optional<ModelMetadata>& meta, const AddFinding& add) {
  auto [lo, hi] = NormalizedRange(spec.normalize);
  if (meta && !meta->inputs.empty() && meta->inputs[0].normalization) {
    const Normalization& n = *meta->inputs[0].normalization;
    for (size_t c = 0; c < 3 && !n.mean.empty() && !n.std.empty(); ++c) {
      double m = n.mean[std::min(c, n.mean.size() - 1)], s = n.std[std::min(c, n.std.size() - 1)];
      if (!Near(m, spec.normalize.mean[c], 1e-3) || !Near(s, spec.normalize.std[c], 1e-3)) {
        add("normalization_vs_metadata", Severity::kError, "$.normalize",
            "mean " + Num(m) + " std " + Num(s) + " (metadata)",
            "mean " + Num(spec.normalize.mean[c]) + " std " + Num(spec.normalize.std[c]),
            "pixels reach the model in " + Range(lo, hi) + " instead of " +
                Range((0 - m) / s, (255 - m) / s),
            "use the metadata's NormalizationOptions");
        break;
      }
    }
  } else if (auto range = QuantizedRange(in)) {
    double span = range->second - range->first;
    if (!Near(lo, range->first, 0.05 * span) || !Near(hi, range->second, 0.05 * span))
      add("normalization_vs_quantization", Severity::kWarning, "$.normalize",
          Range(range->first, range->second) + " (the input quantization's range)", Range(lo, hi),
          "the model was calibrated on another input range: values are shifted or clipped",
          "normalize to the range the model was quantized for");
  }
}

// The decoder against the model's head: TFLite_Detection_PostProcess, a YOLO head or raw SSD.
void CheckDecoder(const Spec& spec, const Model& model, const std::string& source,
                  const AddFinding& add) {
  bool has_postprocess = FindDetectionPostprocess(model, source).has_value();
  std::optional<YoloHead> head = has_postprocess ? std::nullopt : YoloHeadOf(model);
  if (spec.output.decoder == Decoder::kTflitePostprocess && !has_postprocess)
    add("decoder_without_postprocess", Severity::kError, "$.output.decoder",
        head ? std::string(Name(head->kind)) + " (" + head->reason + ")"
             : "ssd_raw (the model has no TFLite_Detection_PostProcess)",
        "tflite_postprocess",
        head ? "the output is a raw YOLO head" : "the outputs are raw box encodings and scores",
        "decode the raw outputs")
        .blocking = true;
  if (IsYolo(spec.output.decoder) && (!head || Name(head->kind) != Name(spec.output.decoder)))
    add("yolo_decoder_mismatch", Severity::kError, "$.output.decoder",
        head              ? std::string(Name(head->kind)) + " (" + head->reason + ")"
        : has_postprocess ? "tflite_postprocess (the model ends in TFLite_Detection_PostProcess)"
                          : "no YOLO head: one output [1, N, 5+C] (yolov5) or [1, 4+C, N] "
                            "(yolov8)",
        std::string(Name(spec.output.decoder)), "the output would be read in the wrong layout",
        head ? "set output.decoder to " + std::string(Name(head->kind)) : "use another decoder")
        .blocking = true;
  if (spec.output.decoder == Decoder::kSsdRaw && head)
    add("yolo_decoder_mismatch", Severity::kError, "$.output.decoder",
        std::string(Name(head->kind)) + " (" + head->reason + ")", "ssd_raw",
        "a YOLO head has no anchors to decode against",
        "set output.decoder to " + std::string(Name(head->kind)))
        .blocking = true;
}

// Ultralytics' auto letterbox (a tensor size per image) against a fixed-size input.
void CheckLetterboxAuto(const Spec& spec, const Model& model, const ModelInput& in,
                        const AddFinding& add) {
  if (spec.geometry.mode != GeometryMode::kLetterbox || spec.geometry.auto_stride <= 0) return;
  const Subgraph& g = model.subgraphs[0];
  const Tensor& t = g.tensors[size_t(g.inputs[0])];
  bool dynamic = false;
  for (int32_t d : t.shape_signature) dynamic |= d < 0;
  add("letterbox_auto_static_input", Severity::kError, "$.geometry.auto_stride",
      dynamic ? "0: lockstep feeds dynamic-shape inputs at their stored size only"
              : "0 (the model's input is a fixed " + std::to_string(in.width) + "x" +
                    std::to_string(in.height) + ": every tensor must have that size)",
      std::to_string(spec.geometry.auto_stride),
      "Ultralytics' auto letterbox pads only to a multiple of the stride, so the tensor size "
      "would follow each image",
      "set auto_stride to 0 (Ultralytics turns auto off for fixed-size exports)")
      .blocking = true;
}

std::vector<Finding> Check(const Spec& spec, const Model& model, const ModelInput& in,
                           const std::optional<ModelMetadata>& meta, const std::string& source,
                           bool reinterpret_8bit_input) {
  std::vector<Finding> out;
  AddFinding add = [&out](std::string code, Severity sev, std::string field, std::string expected,
                          std::string found, std::string consequence, std::string fix) -> Finding& {
    return out.emplace_back(Finding{std::move(code), sev, std::move(field), std::move(expected),
                                    std::move(found), std::move(consequence), std::move(fix)});
  };
  CheckInputTensor(spec, in, reinterpret_8bit_input, add);
  CheckNormalization(spec, in, meta, add);
  CheckDecoder(spec, model, source, add);
  CheckLetterboxAuto(spec, model, in, add);
  return out;
}

}  // namespace

Spec SpecFromModel(const ModelFile& model) {
  ModelInput in = ModelInputOf(model.model(), model.source());
  return DeriveSpec(model.model(), in, model.metadata(), model.source());
}

Spec SpecFromModel(const Model& model, const std::string& source) {
  ModelInput in = ModelInputOf(model, source);
  return DeriveSpec(model, in, ReadMetadata(model, source), source);
}

std::vector<Finding> CheckSpec(const Spec& spec, const ModelFile& model,
                               bool reinterpret_8bit_input) {
  ModelInput in = ModelInputOf(model.model(), model.source());
  return Check(spec, model.model(), in, model.metadata(), model.source(), reinterpret_8bit_input);
}

std::vector<Finding> CheckSpec(const Spec& spec, const Model& model, const std::string& source,
                               bool reinterpret_8bit_input) {
  ModelInput in = ModelInputOf(model, source);
  return Check(spec, model, in, ReadMetadata(model, source), source, reinterpret_8bit_input);
}

}  // namespace lockstep
