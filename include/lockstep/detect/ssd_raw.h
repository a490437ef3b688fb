// Decoding a raw SSD head (box encodings + class scores, no TFLite_Detection_PostProcess op) the
// way that op would: the spec's output section names the anchors, the box scales, the NMS and
// the score activation; lockstep's reproduction of the op does the rest.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "lockstep/core/tensor_data.h"
#include "lockstep/detect/detection_postprocess.h"
#include "lockstep/detect/postprocess_outputs.h"
#include "lockstep/engine/tensor_view.h"
#include "lockstep/model/model.h"
#include "lockstep/pipeline/spec.h"

namespace lockstep {

// Which outputs hold what, told by shape: boxes [1,N,4] (or [1,N,>4] with keypoints after the
// box), scores [1,N,C]. Errors name `source` and list the outputs when they do not tell.
struct SsdRawOutputs {
  size_t boxes = 0, scores = 0;  // output indices
  int anchors = 0;               // N
  int classes = 0;               // C, the score columns (with the background, if any)
};
SsdRawOutputs FindSsdRawOutputs(const std::vector<TensorView>& outputs, const std::string& source);

// The anchors as float32 [N,4] (y, x, h, w): the model's constant (named, or the one [K,4]
// constant), MediaPipe's DETECTOR_METADATA fixed anchors, or the generator's, whose input size
// defaults to the model's (input_width/height). An anchor count other than `count` is an Error
// naming both.
TensorData ResolveSsdAnchors(const AnchorSpec& spec, const Model& model, int input_width,
                             int input_height, int count, const std::string& source);

// The op's options the spec means, for `classes` score columns.
DetectionPostprocessOptions SsdRawPostprocessOptions(const OutputSpec& spec, int classes,
                                                     float score_threshold);

// The outputs dequantized as the op would see them, the activation applied to the scores, then
// the op's decoding and NMS.
PostprocessOutputs DecodeSsdRaw(const TensorView& boxes, const TensorView& scores,
                                const TensorData& anchors,
                                const DetectionPostprocessOptions& options,
                                ScoreActivation activation, const std::string& source);

}  // namespace lockstep
