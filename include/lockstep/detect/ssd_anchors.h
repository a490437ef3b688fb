// SSD anchors from a generator config: the semantics of MediaPipe's SsdAnchorsCalculator
// (mediapipe/calculators/tflite/ssd_anchors_calculator.cc, its non-multiscale path), which
// follows the TF Object Detection API's multiple_grid_anchor_generator. Raw SSD heads (no
// TFLite_Detection_PostProcess op) need these to decode their box encodings.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lockstep/core/tensor_data.h"
#include "lockstep/pipeline/spec.h"  // SsdAnchorOptions

namespace lockstep {

// More than any detector has (MediaPipe's largest configs have a few 10^4); a guard against
// configs whose grids would take minutes and gigabytes to generate.
inline constexpr int64_t kMaxSsdAnchors = int64_t(1) << 20;

// How many anchors `options` generate, computed without generating them; an Error naming
// `source` for options that cannot generate.
int64_t CountSsdAnchors(const SsdAnchorOptions& options, const std::string& source);

// float32 [N,4]: y_center, x_center, h, w, normalized to the input; the order MediaPipe emits
// (layer by layer, then row, column, anchor). What cannot generate (no layers, strides not one
// per layer, non-positive sizes, more than kMaxSsdAnchors) is an Error naming `source`.
TensorData GenerateSsdAnchors(const SsdAnchorOptions& options, const std::string& source);

}  // namespace lockstep
