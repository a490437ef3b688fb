// The demo's detector: a small quantized model built with ModelBuilder, weights set by
// construction, that really finds the squares of squares_dataset.h.
//
// The detector was "trained" (constructed) for stretch resize to 64x64 and [-1,1] normalization
// (mean = std = 127.5) feeding a uint8 input with scale 1/127.5 and zero point 128: a
// [0,1] normalization, a letterbox or a quantization that ignores the zero point each costs it
// real mAP, because its colour evidence has a threshold and its boxes assume the stretch aspect.
#pragma once

#include <cstdint>

#include "lockstep/model/model.h"

namespace lockstep {

// The detector's input size (square) and input quantization.
inline constexpr int kSquaresInputSize = 64;
inline constexpr float kSquaresInputScale = 1.0f / 127.5f;
inline constexpr int64_t kSquaresInputZeroPoint = 128;

// uint8 image → DEQUANTIZE → per-class colour evidence (1x1 conv, clipped) → per anchor size a
// centre-minus-surround score and the evidence's moments, which give each box's centre and size
// (separable depthwise convs) → TFLite_Detection_PostProcess. Anchors: 5 sizes on a 32x32 grid.
Model BuildSquaresDetector();

}  // namespace lockstep
