#include "lockstep/detect/detection.h"

#include <algorithm>
#include <string>

namespace lockstep {

Box NormalizedToSourcePixels(const Box& normalized, const Transform& t, bool clamp) {
  Box box = t.Inverse(Box{normalized.xmin * t.target_width, normalized.ymin * t.target_height,
                          normalized.xmax * t.target_width, normalized.ymax * t.target_height});
  if (clamp) {
    const double w = t.source_width, h = t.source_height;
    box.xmin = std::clamp(box.xmin, 0.0, w);
    box.xmax = std::clamp(box.xmax, 0.0, w);
    box.ymin = std::clamp(box.ymin, 0.0, h);
    box.ymax = std::clamp(box.ymax, 0.0, h);
  }
  return box;
}

std::string LabelOf(const std::vector<std::string>& labels, int class_index) {
  if (class_index >= 0 && size_t(class_index) < labels.size()) return labels[size_t(class_index)];
  return "class " + std::to_string(class_index);
}

}  // namespace lockstep
