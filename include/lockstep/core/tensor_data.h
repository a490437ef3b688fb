// An owned tensor in host memory: what preprocessing produces and what the stages of a trace hold.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "lockstep/core/dtype.h"
#include "lockstep/core/error.h"

namespace lockstep {

struct TensorData {
  DType dtype = DType::kUInt8;
  std::vector<int> shape;
  std::vector<uint8_t> bytes;  // dense, C order

  TensorData() = default;
  TensorData(DType t, std::vector<int> s) : dtype(t), shape(std::move(s)) {
    bytes.resize(element_count() * DTypeSize(t));
  }
  size_t element_count() const;
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
    CheckElementSize(sizeof(T));
  }
  // An Error when the dtype's elements are not `element_bytes` wide.
  void CheckElementSize(size_t element_bytes) const;
};

}  // namespace lockstep
