#include "lockstep/detect/ssd_raw.h"
#include "lockstep/detect/ssd_anchors.h"

#include <cmath>

#include "lockstep/core/error.h"
#include "lockstep/detect/detector_metadata.h"

namespace lockstep {
namespace {

std::string Describe(const TensorView& t) {
  return "'" + t.name + "' " + DescribeTensor(t.dtype, t.shape);
}

std::string DescribeAll(const std::vector<TensorView>& outputs) {
  std::string s;
  for (const TensorView& t : outputs) s += (s.empty() ? "" : ", ") + Describe(t);
  return s.empty() ? "no outputs" : s;
}

bool IsConstant(const Model& model, const Tensor& t) {
  return t.buffer != 0 && t.buffer < model.buffers.size() && !model.buffers[t.buffer].empty();
}

}  // namespace

SsdRawOutputs FindSsdRawOutputs(const std::vector<TensorView>& outputs, const std::string& source) {
  std::vector<size_t> rank3;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& s = outputs[i].shape;
    if (s.size() == 3 && s[0] == 1 && s[1] > 0 && s[2] > 0) rank3.push_back(i);
  }
  const std::string expected = "box encodings [1,N,4] and class scores [1,N,C]";
  if (rank3.size() != 2)
    throw Error(source, "outputs (decoder ssd_raw)", expected, DescribeAll(outputs),
                "a model ending in TFLite_Detection_PostProcess takes decoder tflite_postprocess");
  const auto& a = outputs[rank3[0]].shape;
  const auto& b = outputs[rank3[1]].shape;
  if (a[1] != b[1])
    throw Error(source, "outputs (decoder ssd_raw)", expected + " with the same N",
                DescribeAll(outputs));
  // The boxes are the output with 4 values per anchor; when neither or both have 4, the one
  // with fewer values than a box holds the scores (BlazeFace: 16 box values, 1 score).
  int boxes = -1;
  if ((a[2] == 4) != (b[2] == 4))
    boxes = a[2] == 4 ? 0 : 1;
  else if ((a[2] < 4) != (b[2] < 4))
    boxes = a[2] < 4 ? 1 : 0;
  if (boxes < 0)
    throw Error(source, "outputs (decoder ssd_raw)",
                expected + " told apart by their last dimension", DescribeAll(outputs),
                "the two outputs have the same shape");
  SsdRawOutputs r;
  r.boxes = rank3[size_t(boxes)];
  r.scores = rank3[size_t(1 - boxes)];
  r.anchors = outputs[r.boxes].shape[1];
  r.classes = outputs[r.scores].shape[2];
  return r;
}

TensorData ResolveSsdAnchors(const AnchorSpec& spec, const Model& model, int input_width,
                             int input_height, int count, const std::string& source) {
  TensorData anchors;
  if (spec.source == AnchorSource::kGenerator) {
    SsdAnchorOptions g = spec.generator;
    if (g.input_width == 0) g.input_width = input_width;
    if (g.input_height == 0) g.input_height = input_height;
    const int64_t generated = CountSsdAnchors(g, source);
    if (generated != count)
      throw Error(source, "$.output.anchors",
                  std::to_string(count) + " anchors (one per box of the model's output)",
                  std::to_string(generated) + " from the generator config");
    anchors = GenerateSsdAnchors(g, source);
  } else if (spec.source == AnchorSource::kMetadata) {
    std::optional<TensorData> fixed = MetadataAnchors(model, source);
    if (!fixed)
      throw Error(source, "$.output.anchors.source",
                  "a model with a " + std::string(kDetectorMetadataName) + " metadata entry",
                  "none", "set output.anchors.source to constant or generator");
    anchors = std::move(*fixed);
  } else {
    if (model.subgraphs.empty())
      throw Error(source, "$.output.anchors", "a model with a main subgraph", "none");
    const std::vector<Tensor>& tensors = model.subgraphs[0].tensors;
    int chosen = -1;
    if (!spec.tensor.empty()) {
      for (size_t i = 0; i < tensors.size() && chosen < 0; ++i)
        if (tensors[i].name == spec.tensor) chosen = int(i);
      if (chosen < 0)
        throw Error(source, "$.output.anchors.tensor", "the name of a tensor of the model",
                    "'" + spec.tensor + "'");
      const Tensor& t = tensors[size_t(chosen)];
      if (!IsConstant(model, t) || t.shape.size() != 2 || t.shape[1] != 4)
        throw Error(source, "$.output.anchors.tensor", "a constant [N,4] tensor (y, x, h, w)",
                    "'" + t.name + "' " +
                        DescribeTensor(t.dtype, {t.shape.begin(), t.shape.end()}) +
                        (IsConstant(model, t) ? "" : " without data"));
    } else {
      // The [count,4] constant; failing that, the only [K,4] one (its count is then wrong).
      std::vector<int> exact, any;
      for (size_t i = 0; i < tensors.size(); ++i) {
        const Tensor& t = tensors[i];
        if (!IsConstant(model, t) || t.shape.size() != 2 || t.shape[1] != 4) continue;
        any.push_back(int(i));
        if (t.shape[0] == count) exact.push_back(int(i));
      }
      const std::vector<int>& pool = exact.empty() ? any : exact;
      if (pool.size() != 1) {
        std::string found = pool.empty() ? "none" : std::to_string(pool.size()) + ":";
        for (int i : pool) found += " '" + tensors[size_t(i)].name + "'";
        throw Error(source, "$.output.anchors", "one constant [N,4] anchors tensor in the model",
                    found,
                    pool.empty() ? "set output.anchors.source to generator"
                                 : "name one in output.anchors.tensor");
      }
      chosen = pool[0];
    }
    anchors = PostprocessInput(model, chosen, source);
  }
  if (anchors.shape.size() != 2 || anchors.shape[0] != count)
    throw Error(source, "$.output.anchors",
                std::to_string(count) + " anchors (one per box of the model's output)",
                std::to_string(anchors.shape.empty() ? 0 : anchors.shape[0]) + " anchors");
  return anchors;
}

DetectionPostprocessOptions SsdRawPostprocessOptions(const OutputSpec& spec, int classes,
                                                     float score_threshold) {
  DetectionPostprocessOptions o;
  o.max_detections = spec.nms.max_detections;
  o.max_classes_per_detection = 1;
  o.detections_per_class = spec.nms.detections_per_class;
  o.use_regular_nms = spec.nms.use_regular_nms;
  o.nms_score_threshold = score_threshold;
  o.nms_iou_threshold = static_cast<float>(spec.nms.iou_threshold);
  o.num_classes = spec.background_class ? classes - 1 : classes;
  o.y_scale = static_cast<float>(spec.box_scales[0]);
  o.x_scale = static_cast<float>(spec.box_scales[1]);
  o.h_scale = static_cast<float>(spec.box_scales[2]);
  o.w_scale = static_cast<float>(spec.box_scales[3]);
  return o;
}

PostprocessOutputs DecodeSsdRaw(const TensorView& boxes, const TensorView& scores,
                                const TensorData& anchors,
                                const DetectionPostprocessOptions& options,
                                ScoreActivation activation, const std::string& source) {
  const TensorData box_values = PostprocessInput(boxes, source);
  TensorData score_values = PostprocessInput(scores, source);
  if (activation == ScoreActivation::kSigmoid)
    for (float& v : score_values.as<float>()) v = 1.0f / (1.0f + std::exp(-v));
  return RunDetectionPostprocess(options, box_values, score_values, anchors, source);
}

}  // namespace lockstep
