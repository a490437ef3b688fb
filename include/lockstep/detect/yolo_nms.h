// Non-maximum suppression as Ultralytics runs it after a YOLO head (torchvision.ops.nms on boxes
// offset by class): best score first, a box is dropped when its IoU with a kept box of the same
// class (of any class when class-agnostic) is above the threshold, at most max_detections kept.
#pragma once

#include <vector>

#include "lockstep/detect/detection.h"

namespace lockstep {

struct YoloNmsOptions {
  double iou_threshold = 0.7;
  bool class_agnostic = false;
  int max_detections = 300;
  int max_candidates = 30000;  // only the best this many enter NMS (Ultralytics' max_nms)
};

// The kept detections, best first. Ties in score keep the candidates' order.
std::vector<Detection> YoloNms(std::vector<Detection> candidates, const YoloNmsOptions& options);

}  // namespace lockstep
