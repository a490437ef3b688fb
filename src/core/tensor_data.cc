#include "lockstep/core/tensor_data.h"

#include <string>

namespace lockstep {

size_t TensorData::element_count() const {
  size_t n = 1;
  for (int d : shape) n *= size_t(d);
  return n;
}

void TensorData::CheckElementSize(size_t element_bytes) const {
  if (element_bytes != DTypeSize(dtype))
    throw Error("", "tensor", "elements of " + std::to_string(element_bytes) + " bytes",
                std::string(DTypeName(dtype)));
}

}  // namespace lockstep
