// What the Edge TPU compiler did to a model: which part runs on the TPU (inside
// `edgetpu-custom-op`) and which ops it left on the CPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "lockstep/model/model.h"

namespace lockstep {

inline constexpr const char* kEdgeTpuCustomOp = "edgetpu-custom-op";

// One edgetpu-custom-op: the tensors crossing the CPU/TPU boundary.
struct EdgeTpuSegment {
  size_t operator_index = 0;             // in the first subgraph
  std::vector<int32_t> inputs, outputs;  // tensor indices
  bool operator==(const EdgeTpuSegment&) const = default;
};

struct EdgeTpuFacts {
  bool compiled = false;                 // the model holds at least one edgetpu-custom-op
  std::vector<EdgeTpuSegment> segments;  // the edgetpu-custom-ops, in graph order
  // For a compiled model, the names of the other ops of the first subgraph in graph order: what
  // the compiler could not map and left to the CPU. Empty for a model that was never compiled
  // (it runs wholly on the CPU; see its operators).
  std::vector<std::string> cpu_ops;
  bool operator==(const EdgeTpuFacts&) const = default;
};

EdgeTpuFacts ReadEdgeTpuFacts(const Model& model);

// The CPU model edgetpu_compiler was given, by its naming habit (x_edgetpu.tflite was compiled
// from x.tflite, beside it). nullopt when the name does not end in _edgetpu; the path is returned
// whether or not the file exists.
std::optional<std::filesystem::path> CpuTwinPath(const std::filesystem::path& compiled);

}  // namespace lockstep
