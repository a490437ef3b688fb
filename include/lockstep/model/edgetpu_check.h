// `lockstep edgetpu-check`: what the Edge TPU compiler will do to a CPU model, predicted from its
// documented requirements (8-bit tensors, static shapes, at most 3 dimensions > 1, the supported-op
// table, one partition), and what it did to an already compiled *_edgetpu.tflite.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lockstep/core/dtype.h"
#include "lockstep/model/edgetpu.h"
#include "lockstep/model/model.h"

namespace lockstep {

// One op of the first subgraph and where it is predicted to run.
struct EdgeTpuOpPlacement {
  size_t index = 0;  // in the first subgraph, execution order
  std::string op;
  bool tpu = false;
  // "mapped", or the rule that keeps it on the CPU: "op not supported", "tensor 't' is float32",
  // "tensor 't' has 4 dimensions > 1", "after the partition point", ...
  std::string reason;
  bool operator==(const EdgeTpuOpPlacement&) const = default;
};

struct EdgeTpuPrediction {
  std::vector<EdgeTpuOpPlacement> ops;  // every op of the first subgraph, in order
  std::optional<size_t> partition_at;   // index of the first op refused; none: all mapped
  size_t tpu_ops() const;
  std::vector<std::string> cpu_op_names() const;  // in graph order
  bool operator==(const EdgeTpuPrediction&) const = default;
};

struct EdgeTpuIoTensor {
  int32_t index = 0;
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int32_t> shape;
  bool dynamic = false;  // a -1 in shape_signature
  bool operator==(const EdgeTpuIoTensor&) const = default;
};

struct EdgeTpuCheck {
  std::string model;
  EdgeTpuFacts facts;           // compiled?, segments, the compiler's CPU ops
  EdgeTpuPrediction predicted;  // for a CPU model; empty for a compiled one
  std::vector<EdgeTpuIoTensor> inputs, outputs;
  std::vector<std::string> warnings;  // int8 I/O, float I/O, dynamic shapes
  bool operator==(const EdgeTpuCheck&) const = default;
};

// Walks the first subgraph in execution order. An op maps when it is in the supported table with
// its constraints met and all its tensors are 8-bit (int32 only for constants such as biases),
// static and at most 3 dimensions > 1. The compiler cuts the graph once: the first op refused and
// every op after it stay on the CPU. Custom ops never map.
EdgeTpuPrediction PredictEdgeTpu(const Model& model);

EdgeTpuCheck CheckEdgeTpu(const Model& model, const std::string& source);

// {model, compiled, predicted: {tpu_ops, cpu_ops: [{index, op, reason}], partition_at},
//  edgetpu: {segments: [{operator_index, inputs, outputs}], cpu_ops}, io: {inputs, outputs},
//  warnings}
nlohmann::json ToJson(const EdgeTpuCheck& check);

// One screen: counts, the partition point with its reason, the CPU ops counted by kind.
std::string ToText(const EdgeTpuCheck& check);

}  // namespace lockstep
