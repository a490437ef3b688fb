#include "lockstep/pipeline/quantize.h"

#include <string>

#include "lockstep/core/error.h"

namespace lockstep {

const InputQuantization& RequireQuantized(const InputQuantization& q) {
  if (q.dtype == DType::kFloat32)
    throw Error("", "model input", "a quantized input (uint8, int8 or int16)", "float32");
  return q;
}

TensorData QuantizeTensor(std::span<const double> reals, const std::vector<int>& shape,
                          const InputQuantization& q) {
  RequireQuantized(q);
  if (q.dtype != DType::kUInt8 && q.dtype != DType::kInt8 && q.dtype != DType::kInt16)
    throw Error("", "model input", "uint8, int8 or int16", std::string(DTypeName(q.dtype)));
  TensorData out(q.dtype, shape);
  if (reals.size() != out.element_count())
    throw Error("", "values", std::to_string(out.element_count()) + " values (the shape's)",
                std::to_string(reals.size()));
  for (size_t i = 0; i < reals.size(); ++i) {
    const int64_t x = QuantizeValue(reals[i], q);
    if (q.dtype == DType::kUInt8)
      out.as<uint8_t>()[i] = uint8_t(x);
    else if (q.dtype == DType::kInt8)
      out.as<int8_t>()[i] = int8_t(x);
    else
      out.as<int16_t>()[i] = int16_t(x);
  }
  return out;
}

std::vector<float> DequantizeValues(std::span<const int64_t> values, double scale,
                                    int64_t zero_point) {
  const double s = double(float(scale));
  std::vector<float> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = float(s * double(values[i] - zero_point));
  return out;
}

}  // namespace lockstep
