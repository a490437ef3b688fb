// `lockstep inspect`: every fact about a model that decides how it must be fed and read, gathered
// into one value, and printed as JSON (for tools) or as one screen of text (for people).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lockstep/core/dtype.h"
#include "lockstep/model/edgetpu.h"
#include "lockstep/model/metadata.h"
#include "lockstep/model/model.h"
#include "lockstep/model/postprocess_options.h"
#include "lockstep/model/yolo_head.h"

namespace lockstep {

struct TensorReport {
  int32_t index = 0;  // in the first subgraph's tensors
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int32_t> shape;
  std::optional<Quantization> quantization;  // absent for float tensors
  bool operator==(const TensorReport&) const = default;
};

struct OperatorReport {
  std::string op;                        // "CONV_2D", "TFLite_Detection_PostProcess", ...
  std::vector<int32_t> inputs, outputs;  // tensor indices in the first subgraph; -1 = absent
  bool operator==(const OperatorReport&) const = default;
};

struct ModelReport {
  std::string source;
  size_t subgraphs = 0;
  std::vector<TensorReport> inputs, outputs;              // of the first subgraph, in its order
  std::vector<OperatorReport> operators;                  // of the first subgraph, in graph order
  std::vector<std::pair<std::string, size_t>> op_counts;  // most frequent first
  // Constant tensors with quantization, and those among them quantized per channel.
  size_t quantized_weights = 0;
  size_t per_channel_weights = 0;
  std::optional<ModelMetadata> metadata;
  std::vector<std::string> labels;            // from the metadata's label file; empty without one
  std::vector<std::string> associated_files;  // names in the zip appended to the model
  std::vector<std::string> unexpanded_files;  // those over the expansion cap, with their sizes
  EdgeTpuFacts edgetpu;
  std::optional<DetectionPostprocess> postprocess;
  std::optional<YoloHead> yolo_head;  // a raw YOLO head (Ultralytics export without NMS)
  bool operator==(const ModelReport&) const = default;
};

ModelReport Inspect(const Model& model, const std::string& source);

// Keys: source, subgraphs, inputs, outputs (each {index, name, dtype, shape, quantization: null |
// {scale, zero_point, quantized_dimension}}), operator_count, op_counts, operators ({op, inputs,
// outputs} with tensor indices), quantized_weights, per_channel_weights (count),
// per_channel (bool), metadata (null | {name, description, version, author, license,
// normalization: null | {mean, std}, inputs, outputs, associated_files, labels, label_count}),
// associated_files, unexpanded_files (name and declared size of each entry over the expansion
// cap), edgetpu {compiled, custom_ops, cpu_ops, segments}, postprocess (null | the
// op's options by their TFLite keys, plus operator_index, inputs, outputs), yolo_head (null |
// {decoder, candidates, classes, grid_matches_input, reason}).
nlohmann::json ToJson(const ModelReport& report);

// At most about 40 lines whatever the model's size: ops are counted by kind, long tensor lists
// and label lists are cut.
std::string ToText(const ModelReport& report);

}  // namespace lockstep
