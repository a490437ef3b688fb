// Hypothesis about float precision: the other tensor is lockstep's rounded to IEEE half
// precision (a float16 model input, or a pipeline that casts to np.float16 on the way). Also
// the half ↔ double conversions the comparison needs to read float16 .npy files.
#include <cmath>
#include <limits>

#include "doctor/fingerprint.h"

namespace lockstep::fingerprint {

double HalfToDouble(uint16_t bits) {
  const double sign = (bits & 0x8000u) ? -1.0 : 1.0;
  const int exponent = (bits >> 10) & 0x1f;
  const int mantissa = bits & 0x3ff;
  if (exponent == 0x1f)
    return mantissa ? std::numeric_limits<double>::quiet_NaN()
                    : sign * std::numeric_limits<double>::infinity();
  // Exponent 0: zero and the subnormals, mantissa · 2^-24 with no implicit leading one.
  if (exponent == 0) return sign * std::ldexp(double(mantissa), -24);
  return sign * std::ldexp(double(mantissa | 0x400), exponent - 25);
}

double RoundToHalf(double v) {
  if (!std::isfinite(v) || v == 0) return v;
  const double magnitude = std::abs(v);
  // Half of the last step above the largest half (65504) rounds to infinity, ties to even.
  if (magnitude >= 65520) return std::copysign(std::numeric_limits<double>::infinity(), v);
  int exponent = 0;
  std::frexp(magnitude, &exponent);  // magnitude = m · 2^exponent, m in [0.5, 1)
  // 11 significant bits; below the smallest normal (2^-14) the step stays 2^-24.
  const int step = std::max(exponent - 11, -24);
  // nearbyint under the default rounding mode: ties to even, as IEEE conversion.
  return std::copysign(std::ldexp(std::nearbyint(std::ldexp(magnitude, -step)), step), v);
}

void Float16Hypotheses(const Aligned& a, std::vector<Candidate>& out) {
  // Integer data survives half precision up to 2048 unchanged: only float data can show it.
  if (a.ref_integer || a.other_integer || a.other_hw_swapped || a.ref.empty()) return;
  std::vector<double> rounded(a.ref.size());
  size_t moved = 0;
  for (size_t i = 0; i < a.ref.size(); ++i) {
    rounded[i] = RoundToHalf(a.ref[i]);
    moved += rounded[i] != a.ref[i];
  }
  if (moved == 0) return;  // lockstep's values are already halves: nothing to tell apart
  // Exact: the other's values must be the very halves, not merely near them.
  Agreement g = Agree(rounded, a.other, 0);
  Agreement before = Agree(a.ref, a.other, 0);
  if (g.share < kHolds || before.share >= g.share) return;
  Candidate c;
  c.agreement = g.share;
  c.residual = g.max_diff;
  c.rank = 0;
  c.fingerprint = {"float16_rounding", "float16 rounding (half precision)",
                   "lockstep's values rounded to IEEE half precision (11 significant bits, ties "
                   "to even) equal the other's at " +
                       Percent(g.share) + " of elements (" + Percent(before.share) +
                       " before; rounding moves " + std::to_string(moved) + " of " +
                       std::to_string(a.ref.size()) + " values), largest difference " +
                       Num(g.max_diff)};
  c.transformed = std::move(rounded);
  out.push_back(std::move(c));
}

}  // namespace lockstep::fingerprint
