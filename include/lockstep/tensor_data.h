// An owned tensor in host memory: what preprocessing produces and what the stages of a trace hold.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "lockstep/dtype.h"
#include "lockstep/error.h"

namespace lockstep {

struct TensorData {
  DType dtype = DType::kUInt8;
  std::vector<int> shape;
  std::vector<uint8_t> bytes;  // dense, C order

  TensorData() = default;
  TensorData(DType t, std::vector<int> s) : dtype(t), shape(std::move(s)) {
    bytes.resize(element_count() * DTypeSize(t));
  }
  size_t element_count() const {
    size_t n = 1;
    for (int d : shape) n *= size_t(d);
    return n;
  }
  template <typename T>
  std::span<T> as() {
    Check<T>();
    return {reinterpret_cast<T*>(bytes.data()), bytes.size() / sizeof(T)};
  }
  template <typename T>
  std::span<const T> as() const {
    Check<T>();
    return {reinterpret_cast<const T*>(bytes.data()), bytes.size() / sizeof(T)};
  }
  bool operator==(const TensorData&) const = default;

 private:
  template <typename T>
  void Check() const {
    if (sizeof(T) != DTypeSize(dtype))
      throw Error("", "tensor", "elements of " + std::to_string(sizeof(T)) + " bytes",
                  std::string(DTypeName(dtype)));
  }
};

}  // namespace lockstep
