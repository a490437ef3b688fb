// Greedy NMS in torchvision's terms; Ultralytics makes it class-aware by offsetting each class's
// boxes far apart, which is the same as comparing boxes of one class only.
#include "lockstep/detect/yolo_nms.h"

#include <algorithm>

namespace lockstep {

std::vector<Detection> YoloNms(std::vector<Detection> candidates, const YoloNmsOptions& o) {
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  if (candidates.size() > size_t(std::max(0, o.max_candidates)))
    candidates.resize(size_t(std::max(0, o.max_candidates)));
  std::vector<bool> suppressed(candidates.size(), false);
  std::vector<Detection> kept;
  for (size_t i = 0; i < candidates.size() && kept.size() < size_t(std::max(0, o.max_detections));
       ++i) {
    if (suppressed[i]) continue;
    const Detection& d = candidates[i];
    kept.push_back(d);
    for (size_t j = i + 1; j < candidates.size(); ++j)
      if (!suppressed[j] && (o.class_agnostic || candidates[j].class_index == d.class_index) &&
          Iou(d.box, candidates[j].box) > o.iou_threshold)
        suppressed[j] = true;
  }
  return kept;
}

}  // namespace lockstep
