// The four arrays TFLite_Detection_PostProcess outputs, as the op lays them out, and the
// detections they mean. Both the real op (through the Engine) and lockstep's own decoder
// (detection_postprocess.h) produce this value, so the two compare array to array.
#pragma once

#include <string>
#include <vector>

#include "lockstep/detect/detection.h"
#include "lockstep/engine/tensor_view.h"

namespace lockstep {

struct PostprocessOutputs {
  std::vector<float> boxes;    // M × 4: ymin, xmin, ymax, xmax, normalized to the model input
  std::vector<float> classes;  // M: 0-based class indices, as floats
  std::vector<float> scores;   // M
  float count = 0;             // how many leading entries hold detections
  bool operator==(const PostprocessOutputs&) const = default;
};

// Reads the op's four output tensors (float32, or quantized: (q - zero_point) · scale).
// Errors name `source` and the tensor when shapes disagree ([1,M,4], [1,M], [1,M], 1 element).
PostprocessOutputs ReadPostprocessOutputs(const TensorView& boxes, const TensorView& classes,
                                          const TensorView& scores, const TensorView& count,
                                          const std::string& source);

// The detections in order: the first `count` entries (clamped to [0, M]) whose score is
// >= score_threshold; y/x order turned into Box's x/y fields; class rounded to the nearest int.
std::vector<Detection> ToDetections(const PostprocessOutputs& outputs, float score_threshold);

}  // namespace lockstep
