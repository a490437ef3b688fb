// Internal to the doctor room: two stage tensors aligned element by element (values as doubles,
// images as HxWxC), and the fingerprint hypotheses that explain their difference. Each
// hypothesis transforms one side the suspected way and reports a Fingerprint only when the two
// then agree within its tolerance.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
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
  // Images whose other side is w×h×c where lockstep's is h×w×c (a non-square tensor with rows
  // and columns exchanged): `other` then holds that w-row image; only the orientation
  // hypotheses can speak.
  bool other_hw_swapped = false;
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

// IEEE 754 binary16: the bits of a half as a double (subnormals, ±inf and NaN included), and a
// double rounded to the nearest half (ties to even, overflow to ±inf), as numpy's astype.
double HalfToDouble(uint16_t bits);
double RoundToHalf(double v);

// How well `other` agrees with `expected` element by element: the share within `tol`, the
// largest gap and the mean gap.
struct Agreement {
  double share = 0, max_diff = 0, mean_diff = 0;
};
Agreement Agree(const std::vector<double>& expected, const std::vector<double>& other, double tol);
// The tolerance for "the same value" on both sides: exact for integers, float noise else.
double SameTolerance(const Aligned& a);

// Lockstep's preprocessing re-run on `source` with `spec`, up to the compared stage, at the
// aligned size (HxWxC values); nullopt when it does not apply. CanRerun: false when the stage
// cannot be re-run (a quantized stage without its quantization).
bool CanRerun(const Aligned& a, const CompareContext& ctx);
std::optional<std::vector<double>> RerunStage(const Aligned& a, const CompareContext& ctx,
                                              Spec spec, const Image& source);

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
// Image orientation: mirrored, rotated or transposed after the resize, or an EXIF orientation
// applied to the source before it (re-runs count against `rerun_budget`, which is lowered by
// what they used).
void OrientationHypotheses(const Aligned& a, const CompareContext& context, int& rerun_budget,
                           std::vector<Candidate>& out);
// "pad value 114 vs 0": the other's pad (pixel values, per channel) vs lockstep's.
std::string PadValueDescription(const std::array<int, 3>& theirs, const std::array<int, 3>& ours);
// A letterbox's pad filled with another constant, the placement the same.
void PadValueHypotheses(const Aligned& a, const CompareContext& context,
                        std::vector<Candidate>& out);
// Two causes in one tensor: an exact move of values (swapped channels, a mirror, a half turn)
// undone, then one more hypothesis that holds; both in order with their shares, else empty.
std::vector<Fingerprint> PeelTwoCauses(const Aligned& a, const CompareContext& context);

// Float values rounded to half precision.
void Float16Hypotheses(const Aligned& a, std::vector<Candidate>& out);

}  // namespace lockstep::fingerprint
