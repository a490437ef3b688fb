// Element types, numbered as TFLite's TensorType so the value read from a model is the enum.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lockstep {

enum class DType : int8_t {
  kFloat32 = 0,
  kFloat16 = 1,
  kInt32 = 2,
  kUInt8 = 3,
  kInt64 = 4,
  kString = 5,
  kBool = 6,
  kInt16 = 7,
  kComplex64 = 8,
  kInt8 = 9,
  kFloat64 = 10,
  kComplex128 = 11,
  kUInt64 = 12,
  kResource = 13,
  kVariant = 14,
  kUInt32 = 15,
  kUInt16 = 16,
};

// "float32", "uint8", "int8", ... (numpy's spelling).
std::string_view DTypeName(DType t);
// The inverse of DTypeName; nullopt for an unknown name.
std::optional<DType> DTypeFromName(std::string_view name);
// Bytes per element; 0 for types without a fixed size (string, resource, variant).
size_t DTypeSize(DType t);
// The values a quantized (8- or 16-bit integer) dtype holds, [min, max]; nullopt for others.
std::optional<std::pair<int64_t, int64_t>> QuantizedDTypeRange(DType t);
// "[1,300,300,3]", the way errors and reports write shapes.
std::string ShapeText(const std::vector<int>& shape);
// True when `raw` is a TensorType value lockstep knows.
bool IsKnownDType(int raw);

}  // namespace lockstep
