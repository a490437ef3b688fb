// The options of TFLite's TFLite_Detection_PostProcess custom op (box decoding + NMS), decoded from
// its FlexBuffer map: what a detector's output really means.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lockstep/model/model.h"

namespace lockstep {

// Field names follow the op's FlexBuffer keys. The two with defaults are the ones the TFLite
// kernel itself treats as optional.
struct DetectionPostprocessOptions {
  int32_t max_detections = 0;
  int32_t max_classes_per_detection = 0;
  int32_t detections_per_class = 100;
  bool use_regular_nms = false;
  float nms_score_threshold = 0;
  float nms_iou_threshold = 0;
  int32_t num_classes = 0;  // without the background class
  float y_scale = 0, x_scale = 0, h_scale = 0, w_scale = 0;
  bool operator==(const DetectionPostprocessOptions&) const = default;
};

// The op as found in a model.
struct DetectionPostprocess {
  DetectionPostprocessOptions options;
  size_t subgraph = 0;
  size_t operator_index = 0;  // in that subgraph's operators
  // Tensor indices: box encodings, class predictions, anchors; boxes, classes, scores, count.
  std::vector<int32_t> inputs, outputs;
  bool operator==(const DetectionPostprocess&) const = default;
};

inline constexpr const char* kDetectionPostprocessOp = "TFLite_Detection_PostProcess";

// Verifies and decodes the op's custom options. A missing required key, a non-number value or
// a count below 1 is an Error naming the key.
DetectionPostprocessOptions ParseDetectionPostprocessOptions(std::span<const uint8_t> flexbuffer,
                                                             const std::string& source);

// The first TFLite_Detection_PostProcess op of the model, or nullopt.
std::optional<DetectionPostprocess> FindDetectionPostprocess(const Model& model,
                                                             const std::string& source);

}  // namespace lockstep
