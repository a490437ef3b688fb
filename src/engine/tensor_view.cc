#include "lockstep/engine/tensor_view.h"

namespace lockstep {

std::string DescribeTensor(DType dtype, const std::vector<int>& shape) {
  return std::string(DTypeName(dtype)) + ShapeText(shape);
}

}  // namespace lockstep
