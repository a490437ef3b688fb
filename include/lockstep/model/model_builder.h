// Builds small lockstep::Model values by hand, for tests and the demo: tensors, constant
// buffers, builtin and custom ops, metadata and associated files. Value in, Model out; write it
// with WriteModel. Indices are not checked here: WriteModel refuses a model that is inconsistent.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "lockstep/model/model.h"

namespace lockstep {

class ModelBuilder {
 public:
  ModelBuilder();  // buffers[0] is the empty sentinel buffer TFLite expects

  // A constant's bytes; returns its buffer index.
  uint32_t AddBuffer(std::vector<uint8_t> bytes);
  // Returns the tensor's index in the (single) subgraph.
  int32_t AddTensor(std::string name, DType dtype, std::vector<int32_t> shape,
                    std::optional<Quantization> quantization = std::nullopt, uint32_t buffer = 0);
  // `op` is TFLite's name ("ADD", "CONV_2D"); an unknown name is a lockstep::Error.
  void AddBuiltinOp(std::string_view op, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                    BuiltinOptions options = {}, int32_t version = 1);
  void AddBuiltinOp(int32_t code, std::vector<int32_t> inputs, std::vector<int32_t> outputs,
                    BuiltinOptions options = {}, int32_t version = 1);
  // `options` is the op's FlexBuffer map (see FlexbufferMap).
  void AddCustomOp(std::string custom_code, std::vector<int32_t> inputs,
                   std::vector<int32_t> outputs, std::vector<uint8_t> options = {},
                   int32_t version = 1);
  void SetInputs(std::vector<int32_t> tensors);
  void SetOutputs(std::vector<int32_t> tensors);
  // A Model.metadata entry whose bytes get their own buffer; returns the buffer index.
  uint32_t AddMetadata(std::string name, std::vector<uint8_t> bytes);
  void AddAssociatedFile(std::string name, std::vector<uint8_t> content);
  void SetDescription(std::string description);

  Model Build() const { return model_; }

 private:
  uint32_t OpcodeIndex(int32_t code, const std::string& custom_code, int32_t version);
  Model model_;
};

// One value of a custom op's FlexBuffer options map.
using FlexValue = std::variant<bool, int64_t, double, std::string>;
// A FlexBuffer map (what TFLite's custom ops such as TFLite_Detection_PostProcess read).
std::vector<uint8_t> FlexbufferMap(const std::vector<std::pair<std::string, FlexValue>>& entries);

// Per-tensor affine quantization: real = scale * (q - zero_point).
inline Quantization PerTensor(float scale, int64_t zero_point) {
  return Quantization{{scale}, {zero_point}, 0, {}, {}};
}

// The little-endian bytes of `values` (what a constant buffer holds).
template <typename T>
std::vector<uint8_t> ToBytes(std::span<const T> values) {
  std::vector<uint8_t> out(values.size_bytes());
  if (!out.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}
template <typename T>
std::vector<uint8_t> ToBytes(const std::vector<T>& values) {
  return ToBytes(std::span<const T>(values));
}

}  // namespace lockstep
