// The float "shadow" of a quantized model: the same graph with dequantized weights and biases,
// float activations and QUANTIZE/DEQUANTIZE taken out, written with lockstep's model writer. Run
// beside the quantized model on the same input, it shows what quantization costs at every tensor
// without the float model the quantized one was made from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lockstep/model/model.h"

namespace lockstep {

struct FloatShadow {
  // Same tensor indices as the quantized model; quantized tensors are float32 without
  // quantization, constants hold their dequantized values.
  Model model;
  // alias[t]: the shadow tensor that holds the float value of the quantized model's tensor t. It
  // is t itself unless t's producer was a QUANTIZE or DEQUANTIZE the shadow dropped (then it is
  // that op's input, followed through chains of them).
  std::vector<int32_t> alias;
  // How many QUANTIZE and DEQUANTIZE ops were dropped.
  size_t dropped_ops = 0;
  // Ops whose activation the converter folded into the output's quantization range (fused
  // activation NONE, range [0, 6] or [0, x] or [-1, 1]): the shadow states it (RELU6, RELU,
  // RELU_N1_TO_1), as the float model had it. Without it the shadow's values would grow without
  // the clamp the quantized kernel applies, and every later layer would look broken.
  std::vector<size_t> restored_activations;
};

// Builds the shadow of the first subgraph of `quantized` (a model with one subgraph). Op options
// are kept; op versions become 1 (the float kernels). Metadata, signatures and associated files
// are left out. An op whose float form would not mean the same (or that lockstep has not checked)
// is a lockstep::Error naming `source`, the op and its index. Custom ops are kept as they are
// (TFLite_Detection_PostProcess takes float inputs), their inputs becoming float.
FloatShadow BuildFloatShadow(const Model& quantized, const std::string& source);

// A copy of `model` whose outputs are its own outputs followed by every tensor an op of the first
// subgraph writes (in op order, each once), so TFLite keeps all of them readable after Invoke
// instead of reusing their memory. Ops listed in `skip_ops` (indices) do not add their outputs.
Model ExposeAllTensors(const Model& model, const std::vector<size_t>& skip_ops = {});

// real = scale * (q - zero_point) for every element of a constant or activation tensor's bytes,
// per channel along quantization.quantized_dimension when per-channel. `dtype` is uint8, int8,
// int16 or int32; anything else is a lockstep::Error naming `what`.
std::vector<float> Dequantize(const std::vector<uint8_t>& bytes, DType dtype,
                              const std::vector<int32_t>& shape, const Quantization& quantization,
                              const std::string& what);

}  // namespace lockstep
