// Mirrors TFLite 2.9's detection_postprocess.cc step by step; where the kernel's choice of
// float vs double, sort algorithm or tie rule decides an output, the comment says so.
#include "lockstep/detect/detection_postprocess.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <numeric>
#include <vector>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

TensorData ToFloats(DType dtype, const std::vector<int>& shape, std::span<const uint8_t> bytes,
                    const std::optional<Quantization>& q, const std::string& name,
                    const std::string& source) {
  TensorData out(DType::kFloat32, shape);
  auto values = out.as<float>();
  if (dtype == DType::kFloat32) {
    if (bytes.size() != values.size_bytes())
      throw Error(source, "tensor '" + name + "'", std::to_string(values.size_bytes()) + " bytes",
                  std::to_string(bytes.size()) + " bytes");
    if (!bytes.empty()) std::memcpy(values.data(), bytes.data(), bytes.size());
    return out;
  }
  if (dtype != DType::kUInt8)
    throw Error(source, "tensor '" + name + "'", "float32 or uint8 (what the op accepts)",
                std::string(DTypeName(dtype)));
  if (!q || q->scale.size() != 1 || q->zero_point.size() != 1)
    throw Error(source, "tensor '" + name + "' quantization", "one scale and zero point",
                q ? std::to_string(q->scale.size()) + " scales" : "none");
  if (bytes.size() != values.size())
    throw Error(source, "tensor '" + name + "'", std::to_string(values.size()) + " bytes",
                std::to_string(bytes.size()) + " bytes");
  // The kernel computes (float(q) - float(zp)) * scale for boxes and anchors, and
  // float(double(scale) * (q - zp)) for scores; both are the float-rounded exact product.
  const float zp = static_cast<float>(q->zero_point[0]);
  const float scale = q->scale[0];
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = (static_cast<float>(bytes[i]) - zp) * scale;
  return out;
}

struct CornerBox {
  float ymin, xmin, ymax, xmax;
};

// Decreasing order of values[indices]; the kernel's stable sort (ties keep index order).
std::vector<int> DecreasingStableArgSort(const std::vector<float>& values) {
  std::vector<int> idx(values.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(),
                   [&](int i, int j) { return values[size_t(i)] > values[size_t(j)]; });
  return idx;
}

// The kernel's DecreasingPartialArgSort: argmax (first maximum) for one, else std::partial_sort
// over iota, whose tie order is libstdc++'s heap order (TFLite's library is built with it too).
void DecreasingPartialArgSort(const float* values, int count, int to_sort, int* indices) {
  if (to_sort == 1) {
    int best = 0;
    for (int i = 1; i < count; ++i)
      if (values[i] > values[best]) best = i;
    indices[0] = best;
    return;
  }
  std::iota(indices, indices + count, 0);
  std::partial_sort(indices, indices + to_sort, indices + count,
                    [&](int i, int j) { return values[i] > values[j]; });
}

float IntersectionOverUnion(const CornerBox& a, const CornerBox& b) {
  const float area_a = (a.ymax - a.ymin) * (a.xmax - a.xmin);
  const float area_b = (b.ymax - b.ymin) * (b.xmax - b.xmin);
  if (area_a <= 0 || area_b <= 0) return 0;
  const float ymin = std::max(a.ymin, b.ymin), xmin = std::max(a.xmin, b.xmin);
  const float ymax = std::min(a.ymax, b.ymax), xmax = std::min(a.xmax, b.xmax);
  const float inter = std::max(ymax - ymin, 0.0f) * std::max(xmax - xmin, 0.0f);
  return inter / (area_a + area_b - inter);
}

// Greedy NMS over one score per anchor: the anchors kept, best first, at most max_detections.
std::vector<int> NmsSingleClass(const std::vector<CornerBox>& boxes,
                                const std::vector<float>& scores, int max_detections,
                                const DetectionPostprocessOptions& o) {
  std::vector<float> kept_scores;
  std::vector<int> kept;
  for (size_t i = 0; i < scores.size(); ++i)
    if (scores[i] >= o.nms_score_threshold) {
      kept_scores.push_back(scores[i]);
      kept.push_back(int(i));
    }
  const std::vector<int> order = DecreasingStableArgSort(kept_scores);
  const size_t limit = std::min(kept.size(), size_t(max_detections));
  std::vector<char> active(kept.size(), 1);
  size_t active_count = kept.size();
  std::vector<int> selected;
  for (size_t i = 0; i < kept.size(); ++i) {
    if (active_count == 0 || selected.size() >= limit) break;
    if (!active[i]) continue;
    const int box_i = kept[size_t(order[i])];
    selected.push_back(box_i);
    active[i] = 0;
    --active_count;
    for (size_t j = i + 1; j < kept.size(); ++j) {
      if (!active[j]) continue;
      const int box_j = kept[size_t(order[j])];
      if (IntersectionOverUnion(boxes[size_t(box_i)], boxes[size_t(box_j)]) > o.nms_iou_threshold) {
        active[j] = 0;
        --active_count;
      }
    }
  }
  return selected;
}

void WriteEntry(PostprocessOutputs& out, size_t slot, const CornerBox& b, float cls, float score) {
  out.boxes[slot * 4 + 0] = b.ymin;
  out.boxes[slot * 4 + 1] = b.xmin;
  out.boxes[slot * 4 + 2] = b.ymax;
  out.boxes[slot * 4 + 3] = b.xmax;
  out.classes[slot] = cls;
  out.scores[slot] = score;
}

// The score tensor's layout: anchors and columns per anchor, and the column of class 0 (1 when
// there is a background column).
struct ScoreLayout {
  int num_boxes = 0, with_background = 0, label_offset = 0;
};

// The kernel's own checks on the shapes and options, in its order.
ScoreLayout CheckInputs(const DetectionPostprocessOptions& o, const TensorData& box_encodings,
                        const TensorData& class_predictions, const TensorData& anchors,
                        const std::string& source) {
  const auto& bs = box_encodings.shape;
  const auto& cs = class_predictions.shape;
  const auto& as = anchors.shape;
  if (bs.size() != 3 || bs[0] != 1 || bs[2] < 4)
    throw Error(source, "box encodings", "shape [1,N,>=4]", ShapeText(bs));
  const int num_boxes = bs[1];
  if (cs.size() != 3 || cs[0] != 1 || cs[1] != num_boxes)
    throw Error(source, "class predictions", "shape [1," + std::to_string(num_boxes) + ",C]",
                ShapeText(cs));
  if (as.size() != 2 || as[0] != num_boxes || as[1] != 4)
    throw Error(source, "anchors", "shape [" + std::to_string(num_boxes) + ",4]", ShapeText(as));
  const int with_background = cs[2];
  const int label_offset = with_background - o.num_classes;
  if (label_offset < 0 || label_offset > 1)
    throw Error(
        source, "class predictions", "num_classes or num_classes + 1 (background) columns",
        std::to_string(with_background) + " for num_classes " + std::to_string(o.num_classes));
  if (o.num_classes < 1) throw Error(source, "num_classes", ">= 1", std::to_string(o.num_classes));
  if (o.max_detections < 0 || o.max_classes_per_detection < 1)
    throw Error(
        source, "max_detections / max_classes_per_detection", ">= 0 / >= 1",
        std::to_string(o.max_detections) + " / " + std::to_string(o.max_classes_per_detection));
  if (!(o.nms_iou_threshold > 0.0f && o.nms_iou_threshold <= 1.0f))
    throw Error(source, "nms_iou_threshold", "in (0, 1]", std::to_string(o.nms_iou_threshold));
  if (o.use_regular_nms && std::min(o.detections_per_class, o.max_detections) <= 0)
    throw Error(source, "detections_per_class / max_detections", "> 0 with regular NMS",
                std::to_string(o.detections_per_class) + " / " + std::to_string(o.max_detections));
  return {num_boxes, with_background, label_offset};
}

// Decode: each coordinate in double, rounded to float, then corners in float.
std::vector<CornerBox> DecodeBoxes(const DetectionPostprocessOptions& o,
                                   const TensorData& box_encodings, const TensorData& anchors,
                                   int num_boxes, const std::string& source) {
  const auto enc = box_encodings.as<float>();
  const auto anc = anchors.as<float>();
  const size_t stride = size_t(box_encodings.shape[2]);
  std::vector<CornerBox> boxes(static_cast<size_t>(num_boxes));
  for (size_t i = 0; i < boxes.size(); ++i) {
    const double y = enc[i * stride], x = enc[i * stride + 1], h = enc[i * stride + 2],
                 w = enc[i * stride + 3];
    const double ay = anc[i * 4], ax = anc[i * 4 + 1], ah = anc[i * 4 + 2], aw = anc[i * 4 + 3];
    const float yc = static_cast<float>(y / double(o.y_scale) * ah + ay);
    const float xc = static_cast<float>(x / double(o.x_scale) * aw + ax);
    const float half_h = static_cast<float>(0.5 * std::exp(h / double(o.h_scale)) * ah);
    const float half_w = static_cast<float>(0.5 * std::exp(w / double(o.w_scale)) * aw);
    boxes[i] = {yc - half_h, xc - half_w, yc + half_h, xc + half_w};
    // The kernel refuses inverted boxes (NaN passes its check, so it passes here too).
    if (boxes[i].ymin > boxes[i].ymax || boxes[i].xmin > boxes[i].xmax)
      throw Error(source, "anchors", "boxes with ymin <= ymax and xmin <= xmax after decoding",
                  "an inverted box at anchor " + std::to_string(i),
                  "a negative anchor height or width");
  }
  return boxes;
}

// Per class NMS (at most min(detections_per_class, max_detections) picks each); each class's
// picks are merged with the running list by score and the list cut to max_detections. On
// equal scores the later class's picks come first: what TFLite 2.9's op does, found and
// checked against it on tied scores (tests/detect), not what a stable merge would give.
void RegularNms(const DetectionPostprocessOptions& o, const std::vector<CornerBox>& boxes,
                std::span<const float> scores, const ScoreLayout& layout, PostprocessOutputs& out) {
  const int num_boxes = layout.num_boxes, with_background = layout.with_background,
            label_offset = layout.label_offset;
  const size_t row = size_t(with_background);
  const int max_det = o.max_detections;
  const int per_class = std::min(o.detections_per_class, max_det);
  struct Pick {
    int flat;  // anchor · columns + column
    float score;
  };
  std::vector<Pick> best;
  std::vector<float> class_scores(static_cast<size_t>(num_boxes));
  for (int c = 0; c < o.num_classes; ++c) {
    for (size_t r = 0; r < size_t(num_boxes); ++r)
      class_scores[r] = scores[r * row + size_t(c + label_offset)];
    const std::vector<int> selected = NmsSingleClass(boxes, class_scores, per_class, o);
    if (selected.empty()) continue;
    std::vector<Pick> picks;
    for (int s : selected)
      picks.push_back({s * with_background + c + label_offset, class_scores[size_t(s)]});
    std::vector<Pick> merged;
    std::merge(picks.begin(), picks.end(), best.begin(), best.end(), std::back_inserter(merged),
               [](const Pick& a, const Pick& b) { return a.score > b.score; });
    best = std::move(merged);
    if (best.size() > size_t(max_det)) best.resize(size_t(max_det));
  }
  for (size_t k = 0; k < best.size(); ++k) {
    const int anchor = best[k].flat / with_background;
    const int cls = best[k].flat - anchor * with_background - label_offset;
    WriteEntry(out, k, boxes[size_t(anchor)], float(cls), best[k].score);
  }
  out.count = float(best.size());
}

// Fast NMS: each anchor's top classes, NMS once on its best class score.
void FastNms(const DetectionPostprocessOptions& o, const std::vector<CornerBox>& boxes,
             std::span<const float> scores, const ScoreLayout& layout, PostprocessOutputs& out) {
  const int num_boxes = layout.num_boxes, label_offset = layout.label_offset;
  const size_t row = size_t(layout.with_background);
  const int per_anchor = std::min(o.max_classes_per_detection, o.num_classes);
  std::vector<float> max_scores(static_cast<size_t>(num_boxes));
  std::vector<int> top_classes(static_cast<size_t>(num_boxes) * static_cast<size_t>(o.num_classes));
  for (size_t r = 0; r < size_t(num_boxes); ++r) {
    const float* s = scores.data() + r * row + size_t(label_offset);
    int* idx = top_classes.data() + r * size_t(o.num_classes);
    DecreasingPartialArgSort(s, o.num_classes, per_anchor, idx);
    max_scores[r] = s[idx[0]];
  }
  const std::vector<int> selected = NmsSingleClass(boxes, max_scores, o.max_detections, o);
  size_t n = 0;
  for (int a : selected) {
    const float* s = scores.data() + size_t(a) * row + size_t(label_offset);
    const int* idx = top_classes.data() + size_t(a) * size_t(o.num_classes);
    for (int c = 0; c < per_anchor; ++c)
      WriteEntry(out, size_t(o.max_classes_per_detection) * n + size_t(c), boxes[size_t(a)],
                 float(idx[c]), s[idx[c]]);
    ++n;
  }
  out.count = float(n);
}

}  // namespace

TensorData PostprocessInput(const TensorView& tensor, const std::string& source) {
  return ToFloats(tensor.dtype, tensor.shape, tensor.bytes, tensor.quantization, tensor.name,
                  source);
}

TensorData PostprocessInput(const Model& model, int tensor_index, const std::string& source) {
  if (model.subgraphs.empty() || tensor_index < 0 ||
      size_t(tensor_index) >= model.subgraphs[0].tensors.size())
    throw Error(source, "anchors tensor", "a tensor of the main subgraph",
                "index " + std::to_string(tensor_index));
  const Tensor& t = model.subgraphs[0].tensors[size_t(tensor_index)];
  if (t.buffer == 0 || t.buffer >= model.buffers.size() || model.buffers[t.buffer].empty())
    throw Error(source, "tensor '" + t.name + "'", "constant data (anchors)", "no buffer contents");
  std::vector<int> shape(t.shape.begin(), t.shape.end());
  return ToFloats(t.dtype, shape, model.buffers[t.buffer], t.quantization, t.name, source);
}

PostprocessOutputs RunDetectionPostprocess(const DetectionPostprocessOptions& o,
                                           const TensorData& box_encodings,
                                           const TensorData& class_predictions,
                                           const TensorData& anchors, const std::string& source) {
  const ScoreLayout layout = CheckInputs(o, box_encodings, class_predictions, anchors, source);
  const std::vector<CornerBox> boxes =
      DecodeBoxes(o, box_encodings, anchors, layout.num_boxes, source);
  const int m = o.max_detections * o.max_classes_per_detection;
  PostprocessOutputs out;
  out.boxes.assign(size_t(m) * 4, 0.0f);
  out.classes.assign(size_t(m), 0.0f);
  out.scores.assign(size_t(m), 0.0f);
  if (o.use_regular_nms)
    RegularNms(o, boxes, class_predictions.as<float>(), layout, out);
  else
    FastNms(o, boxes, class_predictions.as<float>(), layout, out);
  return out;
}

}  // namespace lockstep
