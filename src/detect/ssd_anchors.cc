// MediaPipe's SsdAnchorsCalculator, arithmetic kept in its float/double mix so that anchors equal
// the calculator's bit for bit.
#include "lockstep/detect/ssd_anchors.h"

#include <cmath>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

float CalculateScale(float min_scale, float max_scale, int stride_index, int num_strides) {
  if (num_strides == 1) return (min_scale + max_scale) * 0.5f;
  // The calculator multiplies by the double 1.0, so this part is computed in double.
  return static_cast<float>(min_scale +
                            (max_scale - min_scale) * 1.0 * stride_index / (num_strides - 1.0f));
}

void CheckOptions(const SsdAnchorOptions& o, const std::string& source) {
  if (o.num_layers < 1)
    throw Error(source, "anchors.num_layers", "at least 1 layer", std::to_string(o.num_layers));
  if (o.strides.size() != size_t(o.num_layers))
    throw Error(source, "anchors.strides", std::to_string(o.num_layers) + " strides (num_layers)",
                std::to_string(o.strides.size()));
  for (int s : o.strides)
    if (s < 1) throw Error(source, "anchors.strides", "positive strides", std::to_string(s));
  if (o.input_width < 1 || o.input_height < 1)
    throw Error(source, "anchors.input_size", "a positive width and height",
                std::to_string(o.input_width) + "x" + std::to_string(o.input_height));
}

}  // namespace

int64_t CountSsdAnchors(const SsdAnchorOptions& o, const std::string& source) {
  CheckOptions(o, source);
  const int num_strides = int(o.strides.size());
  int64_t count = 0;
  int layer = 0;
  while (layer < o.num_layers) {
    int64_t per_cell = 0;
    int last_same = layer;
    while (last_same < num_strides && o.strides[size_t(last_same)] == o.strides[size_t(layer)]) {
      if (last_same == 0 && o.reduce_boxes_in_lowest_layer)
        per_cell += 3;
      else
        per_cell +=
            int64_t(o.aspect_ratios.size()) + (o.interpolated_scale_aspect_ratio > 0 ? 1 : 0);
      ++last_same;
    }
    const int64_t stride = o.strides[size_t(layer)];
    const int64_t rows = (int64_t(o.input_height) + stride - 1) / stride;
    const int64_t cols = (int64_t(o.input_width) + stride - 1) / stride;
    count += rows * cols * per_cell;
    layer = last_same;
  }
  return count;
}

TensorData GenerateSsdAnchors(const SsdAnchorOptions& o, const std::string& source) {
  // Counted before generating: a spec may ask for a grid of 10^12 cells.
  const int64_t count = CountSsdAnchors(o, source);
  if (count > kMaxSsdAnchors)
    throw Error(source, "anchors", "at most " + std::to_string(kMaxSsdAnchors) + " anchors",
                std::to_string(count) + " from these strides and input size");

  const int num_strides = int(o.strides.size());
  std::vector<float> values;  // y, x, h, w per anchor
  int layer = 0;
  while (layer < o.num_layers) {
    std::vector<float> aspect_ratios, scales;
    int last_same = layer;
    while (last_same < num_strides && o.strides[size_t(last_same)] == o.strides[size_t(layer)]) {
      const float scale = CalculateScale(o.min_scale, o.max_scale, last_same, num_strides);
      if (last_same == 0 && o.reduce_boxes_in_lowest_layer) {
        aspect_ratios.insert(aspect_ratios.end(), {1.0f, 2.0f, 0.5f});
        scales.insert(scales.end(), {0.1f, scale, scale});
      } else {
        for (float ar : o.aspect_ratios) {
          aspect_ratios.push_back(ar);
          scales.push_back(scale);
        }
        if (o.interpolated_scale_aspect_ratio > 0.0f) {
          const float next =
              last_same == num_strides - 1
                  ? 1.0f
                  : CalculateScale(o.min_scale, o.max_scale, last_same + 1, num_strides);
          scales.push_back(std::sqrt(scale * next));
          aspect_ratios.push_back(o.interpolated_scale_aspect_ratio);
        }
      }
      ++last_same;
    }
    std::vector<float> heights, widths;
    for (size_t i = 0; i < aspect_ratios.size(); ++i) {
      const float ratio_sqrt = std::sqrt(aspect_ratios[i]);
      heights.push_back(scales[i] / ratio_sqrt);
      widths.push_back(scales[i] * ratio_sqrt);
    }
    const int stride = o.strides[size_t(layer)];
    const int rows = int(std::ceil(1.0f * float(o.input_height) / float(stride)));
    const int cols = int(std::ceil(1.0f * float(o.input_width) / float(stride)));
    for (int y = 0; y < rows; ++y)
      for (int x = 0; x < cols; ++x)
        for (size_t a = 0; a < heights.size(); ++a) {
          values.push_back((float(y) + o.anchor_offset_y) * 1.0f / float(rows));
          values.push_back((float(x) + o.anchor_offset_x) * 1.0f / float(cols));
          values.push_back(o.fixed_anchor_size ? 1.0f : heights[a]);
          values.push_back(o.fixed_anchor_size ? 1.0f : widths[a]);
        }
    layer = last_same;
  }
  TensorData anchors(DType::kFloat32, {int(values.size() / 4), 4});
  auto out = anchors.as<float>();
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  return anchors;
}

}  // namespace lockstep
