// A TFLite model as a plain value: what lockstep reads from a .tflite file and what its writer
// turns back into one. Field names follow the TFLite schema; nothing here refers to flatbuffers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lockstep/core/dtype.h"

namespace lockstep {

// real = (q - zero_point) * scale; one entry per channel along quantized_dimension when
// per-channel.
struct Quantization {
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int32_t quantized_dimension = 0;
  std::vector<float> min, max;  // calibration range, when the converter kept it

  bool per_channel() const { return scale.size() > 1; }
  bool operator==(const Quantization&) const = default;
};

struct Tensor {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int32_t> shape;
  std::vector<int32_t> shape_signature;  // -1 marks a dynamic dimension; empty when absent
  uint32_t buffer = 0;                   // index into Model::buffers; 0 is the empty buffer
  std::optional<Quantization> quantization;
  bool is_variable = false;

  bool operator==(const Tensor&) const = default;
};

// One field of a builtin op's options table, by its TFLite schema name.
using OptionValue = std::variant<bool, int64_t, double, std::string, std::vector<int32_t>>;
struct OptionField {
  std::string name;
  OptionValue value;
  bool operator==(const OptionField&) const = default;
};

// The options table of a builtin op: its type name in the BuiltinOptions union ("Conv2DOptions")
// and the fields present in the file.
struct BuiltinOptions {
  std::string type;  // empty: the op has no options
  std::vector<OptionField> fields;

  const OptionValue* find(std::string_view field) const {
    for (const auto& f : fields)
      if (f.name == field) return &f.value;
    return nullptr;
  }
  bool operator==(const BuiltinOptions&) const = default;
};

struct OperatorCode {
  int32_t builtin_code = 0;  // TFLite BuiltinOperator; 32 is CUSTOM
  std::string custom_code;   // set for custom ops ("TFLite_Detection_PostProcess")
  int32_t version = 1;

  bool operator==(const OperatorCode&) const = default;
};

struct Operator {
  uint32_t opcode_index = 0;                            // into Model::operator_codes
  std::vector<int32_t> inputs, outputs, intermediates;  // tensor indices; -1 = optional absent
  BuiltinOptions builtin_options;
  std::vector<uint8_t> custom_options;  // a FlexBuffer map for custom ops
  // Per input, whether the op writes it (RNN/LSTM state); usually empty.
  std::vector<bool> mutating_variable_inputs;

  bool operator==(const Operator&) const = default;
};

struct Subgraph {
  std::string name;
  std::vector<Tensor> tensors;
  std::vector<int32_t> inputs, outputs;
  std::vector<Operator> operators;

  bool operator==(const Subgraph&) const = default;
};

struct TensorMap {
  std::string name;
  uint32_t tensor_index = 0;
  bool operator==(const TensorMap&) const = default;
};

struct SignatureDef {
  std::string signature_key;
  std::vector<TensorMap> inputs, outputs;
  uint32_t subgraph_index = 0;
  bool operator==(const SignatureDef&) const = default;
};

// A named entry of Model.metadata: its bytes live in Model::buffers[buffer].
struct MetadataEntry {
  std::string name;  // "TFLITE_METADATA", "min_runtime_version", ...
  uint32_t buffer = 0;
  bool operator==(const MetadataEntry&) const = default;
};

// A file zipped onto the end of the model (label maps and other associated files named by the
// TFLite metadata).
struct AssociatedFile {
  std::string name;
  std::vector<uint8_t> content;  // empty when not expanded
  // A deflated entry larger than the reader's cap is listed but not expanded (a zip bomb costs
  // nothing); its declared size says what was left.
  bool expanded = true;
  uint64_t declared_size = 0;  // of an unexpanded entry
  bool operator==(const AssociatedFile&) const = default;
};

struct Model {
  uint32_t version = 3;
  std::string description;
  std::vector<OperatorCode> operator_codes;
  std::vector<Subgraph> subgraphs;
  std::vector<std::vector<uint8_t>> buffers;  // buffers[0] is empty by convention
  std::vector<MetadataEntry> metadata;
  // The deprecated list of buffer indices holding metadata (older converters; MediaPipe models).
  std::vector<int32_t> deprecated_metadata_buffer;
  std::vector<SignatureDef> signature_defs;
  // The zip that the metadata writer appends after the flatbuffer, unpacked.
  std::vector<AssociatedFile> associated_files;

  // The bytes of the metadata entry `name`, or nullptr.
  const std::vector<uint8_t>* metadata_buffer(std::string_view name) const {
    for (const auto& m : metadata)
      if (m.name == name && m.buffer < buffers.size()) return &buffers[m.buffer];
    return nullptr;
  }
  bool operator==(const Model&) const = default;
};

// The op's name: the builtin operator's TFLite name ("CONV_2D") or the custom code.
std::string OperatorName(const Model& model, const Operator& op);
// TFLite's name of a BuiltinOperator code ("CONV_2D" for 3); "BUILTIN_<n>" when unknown.
std::string BuiltinOperatorName(int32_t code);
// The inverse: the code of a BuiltinOperator name, or nullopt.
std::optional<int32_t> BuiltinOperatorCode(std::string_view name);

}  // namespace lockstep
