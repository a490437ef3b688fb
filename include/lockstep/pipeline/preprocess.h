// Decoded image → the exact input tensor the model gets, stage by stage as the spec says:
// geometry → resize (dialect) → channel order → normalize → quantize → layout.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lockstep/core/tensor_data.h"
#include "lockstep/image/image.h"
#include "lockstep/pipeline/geometry.h"
#include "lockstep/pipeline/spec.h"

namespace lockstep {

// What the model's input tensor asks for (read from the model; see ModelInputOf).
struct ModelInput {
  int width = 0, height = 0, channels = 3;
  Layout layout = Layout::kNhwc;
  DType dtype = DType::kUInt8;
  double scale = 0;  // 0: not quantized
  int64_t zero_point = 0;
};

// The quantization that applies: the spec's override, else the model's.
struct InputQuantization {
  DType dtype = DType::kUInt8;
  double scale = 0;  // 0 for float32 inputs
  int64_t zero_point = 0;
  Rounding rounding = Rounding::kHalfAwayFromZero;
  bool saturate = true;  // false: out-of-range values wrap around, as numpy's astype
};
InputQuantization ResolveQuantization(const Spec& spec, const ModelInput& input);

// One stage's output, for tracing and for comparing two pipelines stage by stage.
struct Stage {
  std::string name;  // "decoded", "resized", "normalized", "quantized"
  TensorData data;   // HxWxC (uint8 or float32), or the final tensor's shape
};

struct Preprocessed {
  TensorData tensor;  // [1,H,W,C] or [1,C,H,W], the model's dtype
  Transform transform;
  std::vector<Stage> trace;  // empty unless asked for
};

struct PreprocessOptions {
  bool trace = false;
  // Use the per-value lookup table from 8-bit pixels straight to the quantized value (exact for
  // the 8-bit dialects); off computes every stage in float, the reference path.
  bool fused = true;
};

// `image` is the decoded image in RGB (or 1-channel gray); the spec's channel order says what the
// model wants.
Preprocessed Preprocess(const Image& image, const Spec& spec, const ModelInput& input,
                        const PreprocessOptions& options = {});

// The geometry and resize stages alone: the HxW image the model sees before normalization (8-bit
// dialects) — the content placed on the pad canvas.
Image PlaceResized(const Image& image, const Spec& spec, const Transform& transform);

// One float value → the input's integer, with the spec's rounding, saturating.
int64_t QuantizeValue(double real, const InputQuantization& q);

}  // namespace lockstep
