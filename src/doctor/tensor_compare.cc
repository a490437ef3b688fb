#include "lockstep/doctor/tensor_compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "doctor/fingerprint.h"
#include "lockstep/core/error.h"

namespace lockstep {
namespace fingerprint {

std::vector<double> Values(const TensorData& t, const std::string& side) {
  std::vector<double> v(t.element_count());
  if (t.bytes.size() != v.size() * DTypeSize(t.dtype))
    throw Error(
        side, "tensor",
        std::to_string(v.size() * DTypeSize(t.dtype)) + " bytes for shape " + ShapeText(t.shape),
        std::to_string(t.bytes.size()) + " bytes");
  auto copy = [&](auto span) {
    std::transform(span.begin(), span.end(), v.begin(), [](auto x) { return double(x); });
  };
  switch (t.dtype) {
    case DType::kFloat32:
      copy(t.as<float>());
      break;
    case DType::kFloat64:
      copy(t.as<double>());
      break;
    case DType::kFloat16:
      std::transform(t.as<uint16_t>().begin(), t.as<uint16_t>().end(), v.begin(), HalfToDouble);
      break;
    case DType::kUInt8:
      copy(t.as<uint8_t>());
      break;
    case DType::kInt8:
      copy(t.as<int8_t>());
      break;
    case DType::kInt16:
      copy(t.as<int16_t>());
      break;
    case DType::kUInt16:
      copy(t.as<uint16_t>());
      break;
    case DType::kInt32:
      copy(t.as<int32_t>());
      break;
    case DType::kUInt32:
      copy(t.as<uint32_t>());
      break;
    case DType::kInt64:
      copy(t.as<int64_t>());
      break;
    case DType::kUInt64:
      copy(t.as<uint64_t>());
      break;
    case DType::kBool:
      copy(t.as<uint8_t>());
      break;
    default:
      throw Error(side, "dtype", "a numeric tensor (float16/32/64, u/int8/16/32/64, bool)",
                  std::string(DTypeName(t.dtype)));
  }
  return v;
}

std::string Num(double v) {
  char buf[32];
  if (v == std::round(v) && std::abs(v) < 1e9)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string Percent(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", share * 100);
  return buf;
}

std::string Fixed(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace fingerprint

namespace {

using fingerprint::Aligned;
using fingerprint::Candidate;

bool IsInteger(DType t) {
  return t != DType::kFloat32 && t != DType::kFloat64 && t != DType::kFloat16;
}

bool IsImageStage(StageKind s) {
  return s == StageKind::kResized || s == StageKind::kNormalized || s == StageKind::kQuantized;
}

// Leading size-1 axes dropped while the rank exceeds `keep`.
std::vector<int> Squeeze(std::vector<int> shape, size_t keep) {
  while (shape.size() > keep && shape.front() == 1) shape.erase(shape.begin());
  return shape;
}

bool IsChannelCount(int n) { return n == 1 || n == 3 || n == 4; }

// HxWxC from CxHxW.
std::vector<double> ToHwc(const std::vector<double>& chw, int c, int h, int w) {
  std::vector<double> out(chw.size());
  for (int ch = 0; ch < c; ++ch)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        out[(size_t(y) * w + x) * c + ch] = chw[(size_t(ch) * h + y) * w + x];
  return out;
}

std::string SizeText(int h, int w, int c) {
  return std::to_string(w) + "x" + std::to_string(h) + "x" + std::to_string(c);
}

// Images: both sides to HxWxC. Returns false (with a note) when the shapes cannot be aligned.
bool AlignImages(const TensorData& reference, const TensorData& other, const CompareContext& ctx,
                 StageKind stage, Aligned& a, TensorComparison& out) {
  std::vector<int> rs = Squeeze(reference.shape, 3), os = Squeeze(other.shape, 3);
  if (rs.size() == 2) rs.push_back(1);
  if (os.size() == 2) os.push_back(1);
  if (rs.size() != 3 || os.size() != 3) {
    out.notes.push_back("shapes " + ShapeText(reference.shape) + " (lockstep) and " +
                        ShapeText(other.shape) + " (other) are not images (HWC, CHW, NHWC, NCHW)");
    return false;
  }
  // The reference's layout: only the final tensor follows the spec's layout; traces are HWC.
  bool ref_chw = false;
  if (stage == StageKind::kQuantized && ctx.spec && reference.shape.size() == 4)
    ref_chw = ctx.spec->tensor.layout == Layout::kNchw;
  else
    ref_chw = !IsChannelCount(rs[2]) && IsChannelCount(rs[0]);
  int h = ref_chw ? rs[1] : rs[0], w = ref_chw ? rs[2] : rs[1], c = ref_chw ? rs[0] : rs[2];
  if (ref_chw) a.ref = ToHwc(a.ref, c, h, w);
  a.h = h, a.w = w, a.c = c;
  a.image = true;
  if (os == std::vector<int>{h, w, c}) {
    if (ref_chw) out.notes.push_back("lockstep's tensor is CHW, the other HWC: compared as HWC");
  } else if (os == std::vector<int>{c, h, w}) {
    a.other = ToHwc(a.other, c, h, w);
    if (!ref_chw)
      out.notes.push_back(
          "layout differs: the other tensor is CHW (channels first), lockstep's "
          "HWC; compared after transposing it to HWC");
  } else if (h != w && (os == std::vector<int>{w, h, c} || os == std::vector<int>{c, w, h})) {
    // Rows and columns exchanged: a turned or transposed image, or a different input size; the
    // orientation hypotheses tell which (CompareTensors).
    if (os[0] == c && os[2] == h) a.other = ToHwc(a.other, c, w, h);
    a.other_hw_swapped = true;
    out.notes.push_back("the other tensor is " + SizeText(w, h, c) + " (WxHxC), lockstep's " +
                        SizeText(h, w, c) + ": height and width exchanged");
    return false;
  } else {
    int oh = os[0], ow = os[1], oc = os[2];
    if (!IsChannelCount(oc) && IsChannelCount(os[0])) oc = os[0], oh = os[1], ow = os[2];
    out.fingerprints.push_back({"different_size", "different size",
                                "the other tensor is " + SizeText(oh, ow, oc) +
                                    " (WxHxC), lockstep's " + SizeText(h, w, c) +
                                    ": a different input size or channel count"});
    return false;
  }
  return true;
}

DifferenceStats Statistics(const Aligned& a) {
  DifferenceStats s;
  s.elements = a.ref.size();
  double sum = 0, sum_abs = 0;
  size_t finite = 0;
  bool exact = a.ref_integer && a.other_integer;
  for (size_t i = 0; i < a.ref.size(); ++i) {
    double r = a.ref[i], o = a.other[i];
    if (!std::isfinite(r) || !std::isfinite(o)) {
      // A tolerance relative to inf would swallow any difference, and NaN compares false.
      if (r == o) continue;  // the same infinity
      ++s.differing;
      ++s.non_finite;
      s.max_abs_diff = std::numeric_limits<double>::infinity();
      continue;
    }
    double d = o - r, ad = std::abs(d);
    // Floats from two programs may differ in the last bit; that is not a divergence.
    double tol = exact ? 0 : 1e-6 * std::max({1.0, std::abs(r), std::abs(o)});
    if (ad > tol) ++s.differing;
    sum += d;
    sum_abs += ad;
    ++finite;
    s.max_abs_diff = std::max(s.max_abs_diff, ad);
  }
  if (finite) {
    s.mean_diff = sum / double(finite);
    s.mean_abs_diff = sum_abs / double(finite);
  }
  return s;
}

bool Explained(const std::vector<Candidate>& found) {
  return std::any_of(found.begin(), found.end(),
                     [](const Candidate& c) { return c.agreement >= fingerprint::kHolds; });
}

// Best first: the share explained, then the more specific hypothesis, then the closer fit.
void SortAndReport(std::vector<Candidate>& found, TensorComparison& out) {
  std::stable_sort(found.begin(), found.end(), [](const Candidate& x, const Candidate& y) {
    if (x.agreement != y.agreement) return x.agreement > y.agreement;
    if (x.rank != y.rank) return x.rank < y.rank;
    return x.residual < y.residual;
  });
  // The best explanation changed several things at once: those are the causes.
  if (out.causes.empty() && !found.empty() && found.front().joint > 0)
    for (const Candidate& c : found)
      if (c.joint == found.front().joint && c.agreement == found.front().agreement)
        out.causes.push_back(c.fingerprint);
  for (Candidate& c : found) out.fingerprints.push_back(std::move(c.fingerprint));
}

// Height and width exchanged: a turn of the tensor when one reproduces the other exactly,
// otherwise a different size.
void NameSwappedSize(const Aligned& a, const CompareContext& context, TensorComparison& out) {
  std::vector<Candidate> found;
  int budget = 0;  // a source turn keeps lockstep's shape: nothing to re-run
  fingerprint::OrientationHypotheses(a, context, budget, found);
  if (found.empty()) {
    out.fingerprints.push_back({"different_size", "different size",
                                "the other tensor is " + SizeText(a.w, a.h, a.c) +
                                    " (WxHxC), lockstep's " + SizeText(a.h, a.w, a.c) +
                                    ": a different input size or channel count"});
    return;
  }
  SortAndReport(found, out);
}

}  // namespace

std::string_view Name(StageKind kind) {
  switch (kind) {
    case StageKind::kResized:
      return "resized";
    case StageKind::kNormalized:
      return "normalized";
    case StageKind::kQuantized:
      return "quantized";
    case StageKind::kRawOutput:
      return "raw_outputs";
    case StageKind::kBoxes:
      return "boxes";
  }
  return "unknown";
}

TensorComparison CompareTensors(const TensorData& reference, const TensorData& other,
                                StageKind stage, const CompareContext& context) {
  TensorComparison out;
  out.stage = stage;
  Aligned a;
  a.stage = stage;
  a.ref = fingerprint::Values(reference, "lockstep's " + std::string(Name(stage)) + " tensor");
  a.other = fingerprint::Values(other, "the other " + std::string(Name(stage)) + " tensor");
  a.ref_dtype = reference.dtype, a.other_dtype = other.dtype;
  a.ref_integer = IsInteger(reference.dtype), a.other_integer = IsInteger(other.dtype);
  if (reference.dtype != other.dtype)
    out.notes.push_back("dtypes differ: the other tensor is " +
                        std::string(DTypeName(other.dtype)) + ", lockstep's " +
                        std::string(DTypeName(reference.dtype)) + "; compared in value");

  bool aligned = true;
  if (IsImageStage(stage)) {
    aligned = AlignImages(reference, other, context, stage, a, out);
  } else {
    size_t keep = stage == StageKind::kBoxes ? 2 : 1;
    std::vector<int> rs = Squeeze(reference.shape, keep), os = Squeeze(other.shape, keep);
    if (stage == StageKind::kBoxes && rs.size() == 2 && os.size() == 2 && rs[1] == 4 &&
        os[1] == 4 && rs[0] != os[0]) {
      // Different detection counts: the rows both have are compared, in order.
      size_t n = size_t(std::min(rs[0], os[0]));
      out.notes.push_back("the other has " + std::to_string(os[0]) + " boxes, lockstep " +
                          std::to_string(rs[0]) + ": the first " + std::to_string(n) + " compared");
      a.ref.resize(n * 4);
      a.other.resize(n * 4);
      out.same_shape = false;
    } else if (rs != os) {
      out.notes.push_back("shapes differ: the other is " + ShapeText(other.shape) +
                          ", lockstep's " + ShapeText(reference.shape));
      aligned = false;
    }
  }
  if (!aligned) {
    out.same_shape = false;
    out.equal = false;
    if (a.other_hw_swapped) NameSwappedSize(a, context, out);
    return out;
  }
  out.stats = Statistics(a);
  out.equal = out.same_shape && out.stats.differing == 0;
  if (out.stats.differing == 0) return out;
  // The hypotheses fit values; a NaN or an infinity fits none and would poison the fits.
  if (out.stats.non_finite) return out;

  std::vector<Candidate> found;
  fingerprint::ValueHypotheses(a, context, found);
  if (stage != StageKind::kBoxes) fingerprint::Float16Hypotheses(a, found);
  // Cheapest first: values alone, then pad values, tone curves and codecs on the stage's own
  // pixels, then re-runs of the preprocessing (a few milliseconds each). Once a hypothesis
  // explains every element the costlier ones are moot.
  if (IsImageStage(stage)) {
    CompareContext rest = context;
    if (!Explained(found)) fingerprint::PadValueHypotheses(a, context, found);
    // Sees the value hypotheses' fits: a normalization fit at the resized stage is a tone change.
    fingerprint::PhotometricHypotheses(a, context, found);
    if (!Explained(found)) fingerprint::CodecHypotheses(a, context, found);
    if (!Explained(found)) fingerprint::OrientationHypotheses(a, context, rest.rerun_budget, found);
    if (!Explained(found)) rest.rerun_budget -= fingerprint::ResizeHypotheses(a, rest, found);
    if (!Explained(found))
      fingerprint::SourcePhotometricHypotheses(a, context, rest.rerun_budget, found);
    if (!Explained(found))
      fingerprint::SourceChromaHypotheses(a, context, rest.rerun_budget, found);
    if (!Explained(found)) fingerprint::SourceCodecHypotheses(a, context, rest.rerun_budget, found);
  }
  if (stage == StageKind::kBoxes) fingerprint::BoxHypotheses(a, context, found);
  if (IsImageStage(stage) && !Explained(found)) {
    out.causes = fingerprint::PeelTwoCauses(a, context);
    for (const Fingerprint& f : out.causes) found.push_back({f, 1.0, 0, -1, {}});
  }
  SortAndReport(found, out);
  return out;
}

}  // namespace lockstep
