// Where quantization loses accuracy, tensor by tensor: the quantized model and its float shadow
// (float_shadow.h) run on the same preprocessed inputs with every tensor exposed, each quantized
// tensor dequantized and measured against the shadow's (layer_error.h); optionally also against a
// real float model, tensors paired by name.
//
// The errors accumulate along the graph (each model runs end to end on its own values), unlike
// TensorFlow's QuantizationDebugger, which feeds each float op the dequantized quantized inputs
// and so measures one layer's own error. Where the error jumps is where a layer adds to it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lockstep/core/tensor_data.h"
#include "lockstep/model/model.h"
#include "lockstep/model/model_file.h"
#include "lockstep/pipeline/spec.h"
#include "lockstep/quant/layer_error.h"

namespace lockstep {

// One tensor an op writes, in graph (op) order.
struct QuantLayer {
  int32_t tensor = -1;  // index in the quantized model
  std::string name;
  int32_t op_index = -1;
  std::string op;  // "CONV_2D"
  std::vector<int> shape;
  double scale = 0;  // the quantized tensor's (0: a float tensor)
  int64_t zero_point = 0;
  LayerError error;  // dequantized quantized tensor vs the float shadow's
  // The lowest SNR among the op's inputs that are reported layers (+inf: all exact, e.g. the
  // model input), and how far this tensor's SNR falls below it.
  double inherited_snr_db = 0;
  double snr_drop_db = 0;
  bool jump = false;  // snr_drop_db > the threshold
  // Against the real float model's tensor of the same name, when there is one.
  std::optional<LayerError> vs_float;         // quantized vs real float
  std::optional<LayerError> shadow_vs_float;  // shadow vs real float
};

struct QuantReport {
  std::string model;
  std::string spec_name;
  std::vector<std::string> inputs;  // image files (or names of the given tensors)
  std::vector<QuantLayer> layers;
  size_t dropped_ops = 0;  // QUANTIZE/DEQUANTIZE the shadow left out
  // Ops whose folded activation the shadow restored from the output range (float_shadow.h).
  std::vector<size_t> restored_activations;
  double jump_threshold_db = 6;
  std::vector<std::string> notes;  // what was not compared, and why
  // With a real float model: its path, and how many layers found a tensor of the same name,
  // shape and float type there.
  std::string float_model;
  size_t float_paired = 0;
};

struct QuantReportOptions {
  std::filesystem::path float_model;  // empty: no real float model
  double jump_threshold_db = 6;
  // After each input: (done, total, its name).
  std::function<void(size_t, size_t, const std::string&)> progress;
};

// The quantized model `model` (read from `source`) on `inputs`: per sample, one tensor per model
// input, in the quantized model's dtypes. The shadow gets their dequantized values.
QuantReport MeasureQuantError(const Model& model, const std::string& source,
                              const std::vector<std::vector<TensorData>>& inputs,
                              const std::vector<std::string>& input_names,
                              const QuantReportOptions& options = {});

// The same on images, each decoded and preprocessed with `spec` for the model's image input.
QuantReport RunQuantReport(const ModelFile& model, const Spec& spec,
                           const std::vector<std::filesystem::path>& images,
                           const QuantReportOptions& options = {});

// Indices into report.layers, lowest SNR first (ties: graph order).
std::vector<size_t> WorstLayers(const QuantReport& report);

}  // namespace lockstep
