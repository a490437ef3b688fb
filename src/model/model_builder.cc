#include "lockstep/model/model_builder.h"

#include <flatbuffers/flexbuffers.h>

#include "lockstep/core/error.h"

namespace lockstep {

namespace {
constexpr int32_t kCustom = 32;
}

ModelBuilder::ModelBuilder() {
  model_.buffers.emplace_back();
  model_.subgraphs.emplace_back();
  model_.subgraphs[0].name = "main";
}

uint32_t ModelBuilder::AddBuffer(std::vector<uint8_t> bytes) {
  model_.buffers.push_back(std::move(bytes));
  return static_cast<uint32_t>(model_.buffers.size() - 1);
}

int32_t ModelBuilder::AddTensor(std::string name, DType dtype, std::vector<int32_t> shape,
                                std::optional<Quantization> quantization, uint32_t buffer) {
  Tensor t;
  t.name = std::move(name);
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.quantization = std::move(quantization);
  t.buffer = buffer;
  auto& tensors = model_.subgraphs[0].tensors;
  tensors.push_back(std::move(t));
  return static_cast<int32_t>(tensors.size() - 1);
}

uint32_t ModelBuilder::OpcodeIndex(int32_t code, const std::string& custom_code, int32_t version) {
  OperatorCode c{code, custom_code, version};
  auto& codes = model_.operator_codes;
  for (size_t i = 0; i < codes.size(); ++i)
    if (codes[i] == c) return static_cast<uint32_t>(i);
  codes.push_back(std::move(c));
  return static_cast<uint32_t>(codes.size() - 1);
}

void ModelBuilder::AddBuiltinOp(std::string_view op, std::vector<int32_t> inputs,
                                std::vector<int32_t> outputs, BuiltinOptions options,
                                int32_t version) {
  std::optional<int32_t> code = BuiltinOperatorCode(op);
  if (!code)
    throw Error("model builder", "op", "a TFLite builtin operator name (\"ADD\", \"CONV_2D\", ...)",
                "\"" + std::string(op) + "\"");
  AddBuiltinOp(*code, std::move(inputs), std::move(outputs), std::move(options), version);
}

void ModelBuilder::AddBuiltinOp(int32_t code, std::vector<int32_t> inputs,
                                std::vector<int32_t> outputs, BuiltinOptions options,
                                int32_t version) {
  Operator o;
  o.opcode_index = OpcodeIndex(code, "", version);
  o.inputs = std::move(inputs);
  o.outputs = std::move(outputs);
  o.builtin_options = std::move(options);
  model_.subgraphs[0].operators.push_back(std::move(o));
}

void ModelBuilder::AddCustomOp(std::string custom_code, std::vector<int32_t> inputs,
                               std::vector<int32_t> outputs, std::vector<uint8_t> options,
                               int32_t version) {
  Operator o;
  o.opcode_index = OpcodeIndex(kCustom, custom_code, version);
  o.inputs = std::move(inputs);
  o.outputs = std::move(outputs);
  o.custom_options = std::move(options);
  model_.subgraphs[0].operators.push_back(std::move(o));
}

void ModelBuilder::SetInputs(std::vector<int32_t> tensors) {
  model_.subgraphs[0].inputs = std::move(tensors);
}

void ModelBuilder::SetOutputs(std::vector<int32_t> tensors) {
  model_.subgraphs[0].outputs = std::move(tensors);
}

uint32_t ModelBuilder::AddMetadata(std::string name, std::vector<uint8_t> bytes) {
  uint32_t buffer = AddBuffer(std::move(bytes));
  model_.metadata.push_back({std::move(name), buffer});
  return buffer;
}

void ModelBuilder::AddAssociatedFile(std::string name, std::vector<uint8_t> content) {
  model_.associated_files.push_back({std::move(name), std::move(content)});
}

void ModelBuilder::SetDescription(std::string description) {
  model_.description = std::move(description);
}

std::vector<uint8_t> FlexbufferMap(const std::vector<std::pair<std::string, FlexValue>>& entries) {
  for (size_t i = 0; i < entries.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (entries[i].first == entries[j].first)
        throw Error("model builder", "custom options[\"" + entries[i].first + "\"]",
                    "each key once", "the key twice");
  flexbuffers::Builder fbb;
  size_t start = fbb.StartMap();
  for (const auto& [key, value] : entries) {
    const char* k = key.c_str();
    if (auto* b = std::get_if<bool>(&value))
      fbb.Bool(k, *b);
    else if (auto* i = std::get_if<int64_t>(&value))
      fbb.Int(k, *i);
    else if (auto* d = std::get_if<double>(&value))
      fbb.Double(k, *d);
    else
      fbb.String(k, std::get<std::string>(value));
  }
  fbb.EndMap(start);  // sorts the keys, as FlexBuffer maps require
  fbb.Finish();
  return fbb.GetBuffer();
}

}  // namespace lockstep
