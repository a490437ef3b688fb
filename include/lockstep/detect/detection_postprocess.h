// lockstep's own TFLite_Detection_PostProcess: SSD box decoding against anchors, score
// thresholding and fast or regular NMS, in the arithmetic of TFLite 2.9's kernel
// (tensorflow/lite/kernels/detection_postprocess.cc) so that its outputs equal the op's.
// Used to decode raw SSD heads and to check a model's own op.
#pragma once

#include <string>

#include "lockstep/core/tensor_data.h"
#include "lockstep/detect/postprocess_outputs.h"
#include "lockstep/engine/tensor_view.h"
#include "lockstep/model/model.h"
#include "lockstep/model/postprocess_options.h"

namespace lockstep {

// An input of the op as the kernel sees it: float32 values, uint8 ones dequantized the kernel's
// way. Other dtypes are an Error (TFLite 2.9's kernel refuses them too).
TensorData PostprocessInput(const TensorView& tensor, const std::string& source);
// The same for a constant tensor of the model (the anchors).
TensorData PostprocessInput(const Model& model, int tensor_index, const std::string& source);

// box_encodings [1,N,≥4] (y,x,h,w), class_predictions [1,N,C or C+1], anchors [N,4] (y,x,h,w),
// all float32 (see PostprocessInput). Returns the op's outputs with M = max_detections ·
// max_classes_per_detection; entries the op leaves unwritten are 0. What the kernel refuses
// (bad shapes, IoU threshold outside (0,1], inverted boxes) is an Error naming `source`.
PostprocessOutputs RunDetectionPostprocess(const DetectionPostprocessOptions& options,
                                           const TensorData& box_encodings,
                                           const TensorData& class_predictions,
                                           const TensorData& anchors, const std::string& source);

}  // namespace lockstep
