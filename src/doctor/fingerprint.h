// Internal to the doctor room: two stage tensors aligned element by element (values as doubles,
// images as HxWxC), and the fingerprint hypotheses that explain their difference. Each
// hypothesis transforms one side the suspected way and reports a Fingerprint only when the two
// then agree within its tolerance.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lockstep/doctor/tensor_compare.h"
#include "lockstep/image/image.h"

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
  // > 0 for the parts of one explanation that changed several things (a re-run with two fields
  // changed): together they are the causes, in rank order.
  int joint = 0;
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

// An image stage's values as a map of pixels: value = alpha * pixel + beta per channel, pixels
// in 0..255 units.
struct PixelMap {
  std::array<double, 3> alpha{1, 1, 1}, beta{0, 0, 0};
  bool known = false;
  bool inferred = false;  // guessed from the values, not read from the spec
};

// The reference's pixel → value map of this stage, from the spec (and the input quantization
// for the quantized stage), else guessed from its values for the normalized stage.
PixelMap ReferenceMap(const Aligned& a, const CompareContext& ctx);

// An image stage taken back to pixel units (0..255, HxWxC, RGB order), both sides through the
// reference's map: photometric and codec causes act on pixels, whatever stage shows them.
struct Pixels {
  std::vector<double> ref, other;
  PixelMap map;
  // How far a value may be from the pixel it stands for: half a quantization step seen in
  // pixels (0 for the resized and normalized stages, whose values are pixels exactly).
  double ref_uncertainty = 0, other_uncertainty = 0;
  bool reversed = false;  // the stage is BGR: ref and other were reversed to RGB
};
// Nullopt for non-images, more than 3 channels or a map the context cannot tell.
std::optional<Pixels> ToPixels(const Aligned& a, const CompareContext& ctx);
// Stage values of a re-run of lockstep's pipeline as pixels, exactly as `p.ref` was made.
std::vector<double> RerunPixels(const Aligned& a, const CompareContext& ctx, const Pixels& p,
                                const std::vector<double>& values);
// Pixels (RGB) back to the reference's stage values and channel order, rounded and saturated
// where the reference's values are integers: a Candidate::transformed.
std::vector<double> ToStage(const Aligned& a, const Pixels& p, const std::vector<double>& pixels);

// How well `expected` reproduces `other` (pixel units): the share within `tolerance` and the
// mean and largest absolute difference.
struct PixelAgreement {
  double share = 0, mean_abs = 0, max_abs = 0;
};
PixelAgreement AgreePixels(const std::vector<double>& expected, const std::vector<double>& other,
                           double tolerance);

// A change to the source before lockstep's preprocessing (a tone curve, a codec round trip),
// named for the fingerprint it would be.
struct SourceChange {
  Fingerprint fingerprint;  // evidence is completed with what the re-run measured
  std::function<Image(const Image&)> apply;
};
// Each change applied to the source and lockstep's stage re-run (at most `budget` re-runs); the
// one that best reproduces the other, if it holds — nearly every element within `tolerance`
// pixel levels and the mean difference at least halved — is appended.
void BestSourceChange(const Aligned& a, const CompareContext& ctx, const Pixels& p,
                      const std::vector<SourceChange>& changes, double tolerance, int budget,
                      std::vector<Candidate>& out);

// The hypotheses by kind of evidence they need. Each appends what held.
void ValueHypotheses(const Aligned& a, const CompareContext& context, std::vector<Candidate>& out);
// Returns how many re-runs of the preprocessing it spent.
int ResizeHypotheses(const Aligned& a, const CompareContext& context, std::vector<Candidate>& out);
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
// A power law (gamma) or a gain and offset (brightness/contrast) on the pixels. Sees the value
// hypotheses' candidates in `out`: it leaves named normalizations and offsets to them.
void PhotometricHypotheses(const Aligned& a, const CompareContext& context,
                           std::vector<Candidate>& out);
// A YUV round trip (wrong matrix, wrong range, chroma subsampled) and a JPEG re-encoding of the
// stage's own image; no re-runs.
void CodecHypotheses(const Aligned& a, const CompareContext& context, std::vector<Candidate>& out);
// A JPEG re-encoding of the source before lockstep's preprocessing, searched with at most
// `budget` re-runs.
void SourceCodecHypotheses(const Aligned& a, const CompareContext& context, int budget,
                           std::vector<Candidate>& out);
// A gamma or a gain and offset applied to the source before the resize (which mixes pixels, so
// the stage-side curves only approach it): fitted on the stage, tried on the source.
void SourcePhotometricHypotheses(const Aligned& a, const CompareContext& context, int budget,
                                 std::vector<Candidate>& out);
// Chroma halved on the source (a 4:2:0 or 4:2:2 camera frame) before the resize.
void SourceChromaHypotheses(const Aligned& a, const CompareContext& context, int budget,
                            std::vector<Candidate>& out);

}  // namespace lockstep::fingerprint
