// Decoding a raw YOLO head (Ultralytics TFLite exports carry no NMS): every candidate's box and
// class scores read from the output (dequantized when quantized), scored as Ultralytics scores
// them (YOLOv5: objectness × class; YOLOv8/YOLO11: the class score), thresholded, then NMS.
// Boxes come out normalized to the model input, as every lockstep decoder gives them.
#pragma once

#include <string>
#include <vector>

#include "lockstep/detect/detection.h"
#include "lockstep/detect/yolo_nms.h"
#include "lockstep/engine/tensor_view.h"
#include "lockstep/model/yolo_head.h"
#include "lockstep/pipeline/spec.h"

namespace lockstep {

struct YoloDecodeOptions {
  YoloHead head;
  double confidence = 0.25;      // a candidate's score must be above it (Ultralytics' conf > thres)
  bool multi_label = false;      // one candidate per class above confidence, not only the best
  bool normalized_boxes = true;  // false: boxes in input pixels
  int input_width = 0, input_height = 0;
  YoloNmsOptions nms;
};

// Which units the head's boxes are in, and why: a quantized output whose range cannot reach
// beyond a few units holds fractions of the input; otherwise the values decide (coordinates
// above 2 are pixels).
struct BoxUnitsDecision {
  bool normalized = true;
  std::string reason;
};
BoxUnitsDecision DetectYoloBoxUnits(const TensorView& output, const YoloHead& head);

// The spec's decoder for the runtime output: its head must be the one the spec names. Errors
// name `source`, the field and both sides.
YoloDecodeOptions YoloOptionsFor(const OutputSpec& spec, const TensorView& output, int input_width,
                                 int input_height, const std::string& source);

// The candidates above confidence, in candidate order (before NMS).
std::vector<Detection> YoloCandidates(const TensorView& output, const YoloDecodeOptions& options,
                                      const std::string& source);

// Candidates, then NMS: the detections, best first.
std::vector<Detection> DecodeYolo(const TensorView& output, const YoloDecodeOptions& options,
                                  const std::string& source);

}  // namespace lockstep
