// Tensor-wide quantization of a model input, with the same arithmetic the preprocessing uses
// (QuantizeValue: the spec's rounding, saturating unless told to wrap), and its inverse as
// TFLite's DEQUANTIZE computes it. For callers that hold normalized floats or quantized
// integers of their own (another pipeline's tensors, Python arrays).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lockstep/core/tensor_data.h"
#include "lockstep/pipeline/preprocess.h"

namespace lockstep {

// `q` itself; an Error when the input is float32 (nothing to quantize).
const InputQuantization& RequireQuantized(const InputQuantization& q);

// Normalized values → a tensor of q.dtype (uint8, int8 or int16) and `shape`; an Error for a
// float32 quantization or another dtype, or when `reals` does not fill the shape.
TensorData QuantizeTensor(std::span<const double> reals, const std::vector<int>& shape,
                          const InputQuantization& q);

// real = scale * (q - zero_point) in float32, the float32 scale widened to double first (as
// TFLite's DEQUANTIZE).
std::vector<float> DequantizeValues(std::span<const int64_t> values, double scale,
                                    int64_t zero_point);

}  // namespace lockstep
