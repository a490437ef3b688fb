#include "lockstep/detect/detection.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "lockstep/image/draw.h"

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

Image DrawDetections(const Image& decoded, const std::vector<PixelDetection>& detections) {
  Image canvas = ToRgb(decoded);
  const int scale = std::max(1, int(std::lround(std::min(canvas.width, canvas.height) / 320.0)));
  for (auto it = detections.rbegin(); it != detections.rend(); ++it) {
    char text[160];
    std::snprintf(text, sizeof text, "%s %.2f", it->label.c_str(), double(it->score));
    DrawLabeledBox(canvas, it->box.xmin, it->box.ymin, it->box.xmax, it->box.ymax, text,
                   ClassColor(it->class_index), 2 * scale, scale);
  }
  return canvas;
}

}  // namespace lockstep
