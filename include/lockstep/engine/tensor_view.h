// A view of one input or output tensor of a loaded Engine: what it is (name, dtype, shape,
// quantization) and its bytes in the interpreter's memory. Valid while the Engine lives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "lockstep/core/dtype.h"
#include "lockstep/core/error.h"
#include "lockstep/model/model.h"

namespace lockstep {

// The dtype a C++ element type stands for; float16 has no C++ type here (use bytes).
template <typename T>
constexpr DType DTypeOf() {
  using U = std::remove_const_t<T>;
  if constexpr (std::is_same_v<U, float>)
    return DType::kFloat32;
  else if constexpr (std::is_same_v<U, double>)
    return DType::kFloat64;
  else if constexpr (std::is_same_v<U, uint8_t>)
    return DType::kUInt8;
  else if constexpr (std::is_same_v<U, int8_t>)
    return DType::kInt8;
  else if constexpr (std::is_same_v<U, int16_t>)
    return DType::kInt16;
  else if constexpr (std::is_same_v<U, uint16_t>)
    return DType::kUInt16;
  else if constexpr (std::is_same_v<U, int32_t>)
    return DType::kInt32;
  else if constexpr (std::is_same_v<U, uint32_t>)
    return DType::kUInt32;
  else if constexpr (std::is_same_v<U, int64_t>)
    return DType::kInt64;
  else if constexpr (std::is_same_v<U, uint64_t>)
    return DType::kUInt64;
  else if constexpr (std::is_same_v<U, bool>)
    return DType::kBool;
  else
    static_assert(sizeof(T) == 0, "no lockstep dtype for this C++ type");
}

struct TensorView {
  int index = -1;  // the tensor's index in the model's main subgraph
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int> shape;
  // real = scale * (q - zero_point); per-tensor from the runtime, per-channel from the model.
  // nullopt for a tensor that is not quantized.
  std::optional<Quantization> quantization;
  std::span<uint8_t> bytes;

  size_t element_count() const {
    size_t n = 1;
    for (int d : shape) n *= size_t(d);
    return n;
  }

  // The elements as T; a lockstep::Error when T is not the tensor's dtype.
  template <typename T>
  std::span<T> as() const {
    if (DTypeOf<T>() != dtype)
      throw Error("", "tensor '" + name + "'", std::string(DTypeName(DTypeOf<T>())),
                  std::string(DTypeName(dtype)));
    return {reinterpret_cast<T*>(bytes.data()), bytes.size() / sizeof(T)};
  }
};

// "uint8[1,300,300,3]"
std::string DescribeTensor(DType dtype, const std::vector<int>& shape);

}  // namespace lockstep
