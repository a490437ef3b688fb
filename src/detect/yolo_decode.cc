// YOLO heads as Ultralytics reads them (its non_max_suppression: xywh → corners, best class or
// every class above conf, strict `>` thresholds; YOLOv5 multiplies class scores by objectness).
#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>

#include "lockstep/core/error.h"
#include "lockstep/detect/yolo_decode.h"

namespace lockstep {
namespace {

// The output's values as floats: a table for 8-bit tensors ((q - zp) · scale, the DEQUANTIZE
// op's arithmetic), the values themselves for float32.
class Values {
 public:
  Values(const TensorView& t, const std::string& source) : t_(t) {
    if (t.dtype == DType::kFloat32) {
      floats_ = t.as<float>();
      return;
    }
    if (t.dtype != DType::kUInt8 && t.dtype != DType::kInt8)
      throw Error(source, "output tensor '" + t.name + "'", "float32, uint8 or int8 (a YOLO head)",
                  std::string(DTypeName(t.dtype)));
    if (!t.quantization || t.quantization->scale.empty() || t.quantization->zero_point.empty())
      throw Error(source, "output tensor '" + t.name + "'.quantization",
                  "a scale and zero point for a " + std::string(DTypeName(t.dtype)) + " output",
                  "none");
    const float scale = t.quantization->scale[0];
    const int64_t zp = t.quantization->zero_point[0];
    for (int q = 0; q < 256; ++q) {
      const int64_t v = t.dtype == DType::kUInt8 ? q : q - 128;
      table_[size_t(q)] = scale * float(v - zp);
    }
    signed_ = t.dtype == DType::kInt8;
  }
  float operator[](size_t i) const {
    if (!floats_.empty()) return floats_[i];
    const uint8_t b = t_.bytes[i];
    return table_[signed_ ? size_t(uint8_t(b + 128)) : b];
  }

 private:
  const TensorView& t_;
  std::span<float> floats_;
  std::array<float, 256> table_{};
  bool signed_ = false;
};

std::string Num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

BoxUnitsDecision DetectYoloBoxUnits(const TensorView& output, const YoloHead& head) {
  if (output.quantization && !output.quantization->scale.empty() &&
      !output.quantization->zero_point.empty() &&
      (output.dtype == DType::kInt8 || output.dtype == DType::kUInt8)) {
    const double qmax = output.dtype == DType::kUInt8 ? 255 : 127;
    const double top =
        (qmax - double(output.quantization->zero_point[0])) * double(output.quantization->scale[0]);
    if (top <= 4)
      return {true, "boxes normalized to the input: the " + std::string(DTypeName(output.dtype)) +
                        " output's quantization reaches " + Num(top) +
                        " at most, far below a pixel size"};
    return {false, "boxes in input pixels: the output's quantization reaches " + Num(top)};
  }
  // Float output: the largest box value of any candidate.
  const size_t n = size_t(head.candidates);
  const size_t row = head.kind == YoloHeadKind::kV5 ? size_t(head.classes) + 5 : 1;
  const size_t col = head.kind == YoloHeadKind::kV5 ? 1 : n;
  float top = 0;
  std::span<float> v = output.as<float>();
  if (v.size() < n * size_t(head.classes + (head.kind == YoloHeadKind::kV5 ? 5 : 4)))
    throw Error(
        "", "output tensor '" + output.name + "'",
        "the " + std::to_string(n) + " candidates of a " + std::string(Name(head.kind)) + " head",
        DescribeTensor(output.dtype, output.shape));
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < 4; ++k) top = std::max(top, std::abs(v[i * row + k * col]));
  if (top <= 2)
    return {true, "boxes normalized to the input: the largest box value is " + Num(top)};
  return {false, "boxes in input pixels: box values reach " + Num(top)};
}

YoloDecodeOptions YoloOptionsFor(const OutputSpec& spec, const TensorView& output, int input_width,
                                 int input_height, const std::string& source) {
  std::vector<int32_t> shape(output.shape.begin(), output.shape.end());
  std::optional<YoloHead> head = YoloHeadOfShape(shape, input_width, input_height);
  const std::string wanted = spec.decoder == Decoder::kYolov5
                                 ? "a YOLOv5 head [1, N, 5+C] (cx, cy, w, h, objectness, classes)"
                                 : "a YOLOv8/YOLO11 head [1, 4+C, N] (cx, cy, w, h, classes)";
  if (!head)
    throw Error(source, "$.output.decoder", wanted,
                "output '" + output.name + "' " + DescribeTensor(output.dtype, output.shape),
                "this is no raw YOLO head");
  const YoloHeadKind kind =
      spec.decoder == Decoder::kYolov5 ? YoloHeadKind::kV5 : YoloHeadKind::kV8;
  if (head->kind != kind)
    throw Error(source, "$.output.decoder", wanted,
                "decoder " + std::string(Name(spec.decoder)) + " but " + head->reason,
                "set output.decoder to " + std::string(Name(head->kind)));
  YoloDecodeOptions o;
  o.head = *head;
  o.confidence = spec.yolo.confidence;
  o.multi_label = spec.yolo.multi_label;
  o.input_width = input_width;
  o.input_height = input_height;
  o.nms.iou_threshold = YoloIouThreshold(spec);
  o.nms.class_agnostic = spec.yolo.class_agnostic;
  o.nms.max_detections = spec.yolo.max_detections;
  o.nms.max_candidates = spec.yolo.max_candidates;
  o.normalized_boxes = spec.yolo.box_units != BoxUnits::kPixels;
  return o;
}

std::vector<Detection> YoloCandidates(const TensorView& output, const YoloDecodeOptions& o,
                                      const std::string& source) {
  const YoloHead& h = o.head;
  const size_t n = size_t(h.candidates), classes = size_t(h.classes);
  const bool v5 = h.kind == YoloHeadKind::kV5;
  const size_t values = n * (classes + (v5 ? 5 : 4));
  if (output.element_count() != values || output.bytes.size() < values * DTypeSize(output.dtype))
    throw Error(source, "output tensor '" + output.name + "'",
                std::to_string(values) + " values (" + std::to_string(n) + " candidates of " +
                    std::to_string(classes) + " classes)",
                DescribeTensor(output.dtype, output.shape));
  const Values v(output, source);
  // Element k (0: cx, 1: cy, 2: w, 3: h, then scores) of candidate i.
  const size_t stride_k = v5 ? 1 : n, stride_i = v5 ? classes + 5 : 1;
  auto at = [&](size_t i, size_t k) { return v[i * stride_i + k * stride_k]; };
  const size_t first_class = v5 ? 5 : 4;
  const float conf = float(o.confidence);
  const double sx = o.normalized_boxes ? 1.0 : 1.0 / o.input_width;
  const double sy = o.normalized_boxes ? 1.0 : 1.0 / o.input_height;

  std::vector<Detection> out;
  auto emit = [&](size_t i, int c, float score) {
    const float cx = at(i, 0), cy = at(i, 1), w = at(i, 2), hh = at(i, 3);
    Box b{(cx - w / 2) * sx, (cy - hh / 2) * sy, (cx + w / 2) * sx, (cy + hh / 2) * sy};
    out.push_back({c, score, b});
  };
  for (size_t i = 0; i < n; ++i) {
    float objectness = 1;
    if (v5) {
      objectness = at(i, 4);
      if (!(objectness > conf)) continue;  // Ultralytics' first filter: xc = obj > conf
    }
    if (o.multi_label) {
      for (size_t c = 0; c < classes; ++c) {
        const float score = at(i, first_class + c) * objectness;
        if (score > conf) emit(i, int(c), score);
      }
      continue;
    }
    float best = -1;
    size_t best_class = 0;
    for (size_t c = 0; c < classes; ++c) {
      const float score = at(i, first_class + c) * objectness;
      if (score > best) best = score, best_class = c;  // the first of equal maxima, as max()
    }
    if (best > conf) emit(i, int(best_class), best);
  }
  return out;
}

std::vector<Detection> DecodeYolo(const TensorView& output, const YoloDecodeOptions& options,
                                  const std::string& source) {
  return YoloNms(YoloCandidates(output, options, source), options.nms);
}

}  // namespace lockstep
