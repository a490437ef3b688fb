#include "lockstep/core/dtype.h"

#include <array>

namespace lockstep {
namespace {

struct Info {
  std::string_view name;
  size_t size;
};
constexpr std::array<Info, 17> kInfo = {{{"float32", 4},
                                         {"float16", 2},
                                         {"int32", 4},
                                         {"uint8", 1},
                                         {"int64", 8},
                                         {"string", 0},
                                         {"bool", 1},
                                         {"int16", 2},
                                         {"complex64", 8},
                                         {"int8", 1},
                                         {"float64", 8},
                                         {"complex128", 16},
                                         {"uint64", 8},
                                         {"resource", 0},
                                         {"variant", 0},
                                         {"uint32", 4},
                                         {"uint16", 2}}};

}  // namespace

bool IsKnownDType(int raw) { return raw >= 0 && raw < static_cast<int>(kInfo.size()); }

std::string_view DTypeName(DType t) {
  int i = static_cast<int>(t);
  return IsKnownDType(i) ? kInfo[i].name : "unknown";
}

size_t DTypeSize(DType t) {
  int i = static_cast<int>(t);
  return IsKnownDType(i) ? kInfo[i].size : 0;
}

std::optional<std::pair<int64_t, int64_t>> QuantizedDTypeRange(DType t) {
  switch (t) {
    case DType::kUInt8:
      return std::pair<int64_t, int64_t>{0, 255};
    case DType::kInt8:
      return std::pair<int64_t, int64_t>{-128, 127};
    case DType::kInt16:
      return std::pair<int64_t, int64_t>{-32768, 32767};
    case DType::kUInt16:
      return std::pair<int64_t, int64_t>{0, 65535};
    default:
      return std::nullopt;
  }
}

std::string ShapeText(const std::vector<int>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  s += ']';
  return s;
}

std::optional<DType> DTypeFromName(std::string_view name) {
  for (size_t i = 0; i < kInfo.size(); ++i)
    if (kInfo[i].name == name) return static_cast<DType>(i);
  return std::nullopt;
}

}  // namespace lockstep
