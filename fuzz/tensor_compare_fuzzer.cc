// The stage-tensor comparison and its fingerprints, on two tensors made from the input (any
// values, including NaN and ±inf; dtypes and layouts chosen by the first bytes): statistics or
// a lockstep::Error, never a crash and never "equal" for tensors that differ.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "lockstep/core/error.h"
#include "lockstep/doctor/tensor_compare.h"

namespace {

using lockstep::DType;
using lockstep::StageKind;
using lockstep::TensorData;

constexpr DType kDTypes[] = {DType::kUInt8, DType::kInt8, DType::kFloat32};

// `count` elements of `dtype` from `bytes` (zero-filled past their end).
TensorData Make(DType dtype, std::vector<int> shape, const uint8_t* bytes, size_t available) {
  TensorData t(dtype, std::move(shape));
  std::memcpy(t.bytes.data(), bytes, std::min(available, t.bytes.size()));
  return t;
}

// Whether two tensors of one dtype must compare equal (true), must not (false), or may either
// way (nullopt: floats within the comparison's relative tolerance of 1e-6).
std::optional<bool> MustBeEqual(const TensorData& a, const TensorData& b) {
  if (a.dtype != DType::kFloat32) return a.bytes == b.bytes;
  auto x = a.as<float>(), y = b.as<float>();
  bool exact = true;
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) return false;  // NaN never equals
    exact = exact && x[i] == y[i];
  }
  if (exact) return true;
  return std::nullopt;
}

std::vector<int> Shape(StageKind stage, int layout, int h, int w, int n) {
  switch (stage) {
    case StageKind::kRawOutput:
      return {1, n};
    case StageKind::kBoxes:
      return {n / 4, 4};
    default:
      if (layout == 1) return {1, 3, h, w};  // NCHW
      if (layout == 2) return {h, w, 3};     // no batch axis
      return {1, h, w, 3};
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  const auto stage = static_cast<StageKind>(data[0] % 5);
  const DType ref_type = kDTypes[data[1] % 3], other_type = kDTypes[(data[1] / 3) % 3];
  const int layout = data[2] % 3, w = 1 + data[3] % 8;
  data += 4, size -= 4;
  const size_t half = size / 2;
  const size_t widest = 4;
  int n = int(half / widest);
  if (stage == StageKind::kBoxes) n -= n % 4;
  const int h = n / (3 * w);
  if (n < 4 || (stage != StageKind::kRawOutput && stage != StageKind::kBoxes && h < 1)) return 0;
  if (stage != StageKind::kRawOutput && stage != StageKind::kBoxes) n = 3 * w * h;
  TensorData reference = Make(ref_type, Shape(stage, 0, h, w, n), data, half);
  TensorData other = Make(other_type, Shape(stage, layout, h, w, n), data + half, size - half);
  try {
    lockstep::TensorComparison c = lockstep::CompareTensors(reference, other, stage);
    // Same dtype and layout (boxes are matched as sets, so only NaN is certain there).
    if (ref_type == other_type && layout == 0) {
      std::optional<bool> must = MustBeEqual(reference, other);
      if (stage == StageKind::kBoxes && must != false) must.reset();
      if (must && c.equal != *must) __builtin_trap();
    }
    if (std::isnan(c.stats.max_abs_diff) || c.stats.differing > c.stats.elements) __builtin_trap();
  } catch (const lockstep::Error&) {
  }
  return 0;
}
