#include "lockstep/detect/postprocess_outputs.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

std::vector<float> Floats(const TensorView& t, const std::string& source) {
  std::vector<float> out(t.element_count());
  if (t.dtype == DType::kFloat32) {
    if (t.bytes.size() != out.size() * 4)
      throw Error(source, "output '" + t.name + "'", std::to_string(out.size() * 4) + " bytes",
                  std::to_string(t.bytes.size()) + " bytes");
    if (!out.empty()) std::memcpy(out.data(), t.bytes.data(), t.bytes.size());
    return out;
  }
  if ((t.dtype != DType::kUInt8 && t.dtype != DType::kInt8) || !t.quantization ||
      t.quantization->scale.size() != 1 || t.quantization->zero_point.size() != 1)
    throw Error(source, "output '" + t.name + "'",
                "float32, or uint8/int8 with one scale and zero point",
                std::string(DTypeName(t.dtype)));
  if (t.bytes.size() != out.size())
    throw Error(source, "output '" + t.name + "'", std::to_string(out.size()) + " bytes",
                std::to_string(t.bytes.size()) + " bytes");
  const float scale = t.quantization->scale[0];
  const auto zp = t.quantization->zero_point[0];
  for (size_t i = 0; i < out.size(); ++i) {
    const int q = t.dtype == DType::kUInt8 ? int(t.bytes[i]) : int(static_cast<int8_t>(t.bytes[i]));
    out[i] = static_cast<float>(q - zp) * scale;
  }
  return out;
}

}  // namespace

PostprocessOutputs ReadPostprocessOutputs(const TensorView& boxes, const TensorView& classes,
                                          const TensorView& scores, const TensorView& count,
                                          const std::string& source) {
  PostprocessOutputs out;
  out.boxes = Floats(boxes, source);
  out.classes = Floats(classes, source);
  out.scores = Floats(scores, source);
  const std::vector<float> n = Floats(count, source);
  const size_t m = out.scores.size();
  if (boxes.shape.empty() || boxes.shape.back() != 4 || out.boxes.size() != m * 4)
    throw Error(source, "boxes output '" + boxes.name + "'",
                "shape [1," + std::to_string(m) + ",4]", ShapeText(boxes.shape));
  if (out.classes.size() != m)
    throw Error(source, "classes output '" + classes.name + "'",
                std::to_string(m) + " elements (as scores)", ShapeText(classes.shape));
  if (n.size() != 1)
    throw Error(source, "count output '" + count.name + "'", "1 element", ShapeText(count.shape));
  out.count = n[0];
  return out;
}

std::vector<Detection> ToDetections(const PostprocessOutputs& outputs, float score_threshold) {
  const size_t m = outputs.scores.size();
  // NaN or a negative count means none; a count beyond M is clamped (a misread output).
  const float c = outputs.count;
  const size_t n = c >= 1 ? std::min(m, size_t(std::min(c, float(m)))) : 0;
  std::vector<Detection> out;
  for (size_t i = 0; i < n; ++i) {
    if (!(outputs.scores[i] >= score_threshold)) continue;
    const float* b = &outputs.boxes[i * 4];
    Detection d;
    d.class_index = int(std::lround(outputs.classes[i]));
    d.score = outputs.scores[i];
    d.box = Box{b[1], b[0], b[3], b[2]};  // ymin,xmin,ymax,xmax → xmin,ymin,xmax,ymax
    out.push_back(d);
  }
  return out;
}

}  // namespace lockstep
