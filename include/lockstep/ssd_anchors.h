// SSD anchors from a generator config: the semantics of MediaPipe's SsdAnchorsCalculator
// (mediapipe/calculators/tflite/ssd_anchors_calculator.cc, its non-multiscale path), which
// follows the TF Object Detection API's multiple_grid_anchor_generator. Raw SSD heads (no
// TFLite_Detection_PostProcess op) need these to decode their box encodings.
#pragma once

#include <string>
#include <vector>

#include "lockstep/tensor_data.h"

namespace lockstep {

// Field names and defaults follow SsdAnchorsCalculatorOptions.
struct SsdAnchorOptions {
  int num_layers = 0;
  float min_scale = 0, max_scale = 0;
  int input_width = 0, input_height = 0;
  std::vector<int> strides;  // one per layer; consecutive equal strides share one feature map
  std::vector<float> aspect_ratios = {1.0f};
  float interpolated_scale_aspect_ratio = 1.0f;  // <= 0: no interpolated anchor
  bool reduce_boxes_in_lowest_layer = false;
  float anchor_offset_x = 0.5f, anchor_offset_y = 0.5f;
  bool fixed_anchor_size = false;  // every anchor 1×1 (BlazeFace)
  bool operator==(const SsdAnchorOptions&) const = default;
};

// float32 [N,4]: y_center, x_center, h, w, normalized to the input; the order MediaPipe emits
// (layer by layer, then row, column, anchor). What cannot generate (no layers, strides not one
// per layer, non-positive sizes) is an Error naming `source`.
TensorData GenerateSsdAnchors(const SsdAnchorOptions& options, const std::string& source);

}  // namespace lockstep
