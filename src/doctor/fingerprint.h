// Internal to the doctor room: two stage tensors aligned element by element (values as doubles,
// images as HxWxC), and the fingerprint hypotheses that explain their difference. Each
// hypothesis transforms one side the suspected way and reports a Fingerprint only when the two
// then agree within its tolerance.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "lockstep/doctor/tensor_compare.h"

namespace lockstep::fingerprint {

// The two tensors after alignment: same element count, same order. Images are HxWxC (channels
// last, whatever layout either side came in); boxes Nx4; anything else flat.
struct Aligned {
  StageKind stage = StageKind::kResized;
  std::vector<double> ref, other;
  bool image = false;  // h, w, c describe both
  int h = 0, w = 0, c = 0;
  DType ref_dtype = DType::kFloat32, other_dtype = DType::kFloat32;
  bool ref_integer = false, other_integer = false;
};

// A hypothesis that held, with its quality: the share of elements that agree after the
// transformation (1 for exact hypotheses) and the largest remaining difference, for ordering.
struct Candidate {
  Fingerprint fingerprint;
  double agreement = 0;  // share of elements within tolerance after the transformation
  double residual = 0;   // max abs difference after the transformation, in the stage's units
  int rank = 0;          // tie-breaker: lower is more specific
  // The reference with this cause applied, aligned like Aligned::ref (empty when the hypothesis
  // cannot produce it): what is left after it is `other` against this, fingerprinted again.
  std::vector<double> transformed;
};

// Values of any numeric tensor as doubles; throws lockstep::Error for other dtypes.
std::vector<double> Values(const TensorData& t, const std::string& side);

// "0.0039", "128", "-1": short numbers for evidence text.
std::string Num(double v);
// "99.9%" for 0.999.
std::string Percent(double share);
// v with `digits` decimals.
std::string Fixed(double v, int digits);

// A hypothesis holds when (nearly) every element agrees after its transformation: a stray half
// step at a saturated edge may remain, a second mistake may not.
inline constexpr double kHolds = 0.999;

// The normalizations pipelines commonly use, by name ("[0,1]", "[-1,1]", "raw 0..255",
// "ImageNet mean/std", ...), and the name of any normalization ("[lo,hi]" when unnamed).
std::vector<std::pair<std::string, NormalizeSpec>> NamedNormalizations();
std::string NormalizationName(const NormalizeSpec& n);

// The hypotheses by kind of evidence they need. Each appends what held.
void ValueHypotheses(const Aligned& a, const CompareContext& context, std::vector<Candidate>& out);
void ResizeHypotheses(const Aligned& a, const CompareContext& context, std::vector<Candidate>& out);
void BoxHypotheses(const Aligned& a, const CompareContext& context, std::vector<Candidate>& out);

}  // namespace lockstep::fingerprint
