// Hypotheses about values alone: a normalization range, swapped channels, a zero-point offset,
// bytes reinterpreted between uint8 and int8, truncation instead of rounding.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>

#include "doctor/fingerprint.h"
#include "lockstep/pipeline/preprocess.h"

namespace lockstep::fingerprint {
namespace {

std::pair<double, double> DTypeRange(DType t) {
  if (auto r = QuantizedDTypeRange(t)) return {double(r->first), double(r->second)};
  return {-1e300, 1e300};
}

}  // namespace

Agreement Agree(const std::vector<double>& expected, const std::vector<double>& other, double tol) {
  Agreement g;
  if (expected.empty() || expected.size() != other.size()) return g;
  size_t ok = 0;
  double sum = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    double d = std::abs(other[i] - expected[i]);
    if (d <= tol) ++ok;
    g.max_diff = std::max(g.max_diff, d);
    sum += d;
  }
  g.share = double(ok) / double(expected.size());
  g.mean_diff = sum / double(expected.size());
  return g;
}

double SameTolerance(const Aligned& a) {
  if (a.ref_integer && a.other_integer) return 0;
  double m = 0;
  for (double v : a.ref) m = std::max(m, std::abs(v));
  return 1e-5 * std::max(1.0, m);
}

namespace {

// ---- channels -------------------------------------------------------------------------------

std::vector<double> SwapChannels(const Aligned& a, const std::vector<double>& v) {
  std::vector<double> out = v;
  for (size_t i = 0; i + 2 < v.size(); i += size_t(a.c)) std::swap(out[i], out[i + 2]);
  return out;
}

// Per channel: other[c] ≈ scale[c] * ref[perm c] + offset[c], fitted by least squares over the
// elements neither side saturates.
struct AffineFit {
  std::array<double, 4> scale{}, offset{};
  double share = 0;          // elements within tolerance
  double residual = 0;       // largest residual among those fitted
  bool informative = false;  // every channel of the reference varies
};

bool Saturated(double v, DType t, bool integer) {
  if (!integer) return false;
  auto [lo, hi] = DTypeRange(t);
  return v <= lo || v >= hi;
}

AffineFit FitAffine(const Aligned& a, bool swap, double ref_step) {
  AffineFit f;
  const int c = a.image ? a.c : 1;
  const size_t n = a.ref.size() / size_t(c);
  f.informative = true;
  size_t ok = 0, used = 0;
  for (int ch = 0; ch < c; ++ch) {
    int from = swap && c == 3 ? 2 - ch : ch;
    double sx = 0, sy = 0, sxx = 0, sxy = 0, count = 0;
    double xmin = 1e300, xmax = -1e300;
    for (size_t i = 0; i < n; ++i) {
      double x = a.ref[i * size_t(c) + size_t(from)], y = a.other[i * size_t(c) + size_t(ch)];
      if (Saturated(x, a.ref_dtype, a.ref_integer) || Saturated(y, a.other_dtype, a.other_integer))
        continue;
      sx += x, sy += y, sxx += x * x, sxy += x * y, count += 1;
      xmin = std::min(xmin, x), xmax = std::max(xmax, x);
    }
    // A channel that barely varies fits any map: no evidence.
    if (count < 0.5 * double(n) || xmax - xmin < 8 * ref_step) {
      f.informative = false;
      return f;
    }
    double var = sxx - sx * sx / count;
    double s = (sxy - sx * sy / count) / var;
    double o = (sy - s * sx) / count;
    f.scale[size_t(ch)] = s, f.offset[size_t(ch)] = o;
    // Rounding on either side leaves up to half a step of that side.
    double tol = (a.other_integer ? 0.5 : 0) +
                 (a.ref_integer ? 0.5 : 0.25) * std::abs(s) * ref_step +
                 1e-6 * std::max(1.0, std::abs(o));
    for (size_t i = 0; i < n; ++i) {
      double x = a.ref[i * size_t(c) + size_t(from)], y = a.other[i * size_t(c) + size_t(ch)];
      if (Saturated(x, a.ref_dtype, a.ref_integer) || Saturated(y, a.other_dtype, a.other_integer))
        continue;
      double r = std::abs(y - (s * x + o));
      ++used;
      if (r <= tol) ++ok;
      f.residual = std::max(f.residual, r);
    }
  }
  f.share = used ? double(ok) / double(used) : 0;
  return f;
}

// ---- normalization names --------------------------------------------------------------------

struct NamedNormalization {
  const char* name;
  std::array<double, 3> mean, std;
};
const std::vector<NamedNormalization>& KnownNormalizations() {
  static const std::vector<NamedNormalization> all = {
      {"[0,1]", {0, 0, 0}, {255, 255, 255}},
      {"[-1,1]", {127.5, 127.5, 127.5}, {127.5, 127.5, 127.5}},
      {"raw 0..255", {0, 0, 0}, {1, 1, 1}},
      {"[-128,127]", {128, 128, 128}, {1, 1, 1}},
      {"ImageNet mean/std", {123.675, 116.28, 103.53}, {58.395, 57.12, 57.375}},
  };
  return all;
}

PixelMap FromNormalize(const NormalizeSpec& n) {
  PixelMap m;
  m.known = true;
  for (size_t c = 0; c < 3; ++c) m.alpha[c] = 1 / n.std[c], m.beta[c] = -n.mean[c] / n.std[c];
  return m;
}

}  // namespace

PixelMap ReferenceMap(const Aligned& a, const CompareContext& ctx) {
  PixelMap m;
  if (a.stage == StageKind::kResized) {
    m.known = true;
    return m;
  }
  if (a.stage == StageKind::kNormalized) {
    if (ctx.spec) return FromNormalize(ctx.spec->normalize);
    double lo = *std::min_element(a.ref.begin(), a.ref.end());
    double hi = *std::max_element(a.ref.begin(), a.ref.end());
    // The tightest known range that holds the values.
    double best = 1e300;
    for (const auto& n : KnownNormalizations()) {
      PixelMap k = FromNormalize({n.mean, n.std});
      double klo = 1e300, khi = -1e300;
      for (size_t c = 0; c < 3; ++c)
        klo = std::min(klo, k.beta[c]), khi = std::max(khi, 255 * k.alpha[c] + k.beta[c]);
      double slack = 0.01 * (khi - klo);
      if (lo >= klo - slack && hi <= khi + slack && khi - klo < best) {
        best = khi - klo;
        m = k;
        m.inferred = true;
      }
    }
    return m;
  }
  if (a.stage == StageKind::kQuantized && ctx.spec && ctx.scale && *ctx.scale > 0) {
    m = FromNormalize(ctx.spec->normalize);
    for (size_t c = 0; c < 3; ++c) {
      m.alpha[c] /= *ctx.scale;
      m.beta[c] = m.beta[c] / *ctx.scale + double(ctx.zero_point.value_or(0));
    }
  }
  return m;
}

namespace {

// "[0,1]", "[-1,1]", "ImageNet mean/std", or the ranges themselves; `m` maps pixels to values.
std::string RangeName(const PixelMap& m, int channels, double slack) {
  for (const auto& n : KnownNormalizations()) {
    PixelMap k = FromNormalize({n.mean, n.std});
    bool match = true;
    for (size_t c = 0; c < size_t(channels); ++c) {
      double span = 255 * std::abs(k.alpha[c]);
      match = match && std::abs(m.beta[c] - k.beta[c]) <= slack * span &&
              std::abs(255 * (m.alpha[c] - k.alpha[c])) <= slack * span;
    }
    if (match) return n.name;
  }
  std::string out;
  for (size_t c = 0; c < size_t(channels); ++c) {
    std::string r(1, '[');
    r.append(Num(m.beta[c]))
        .append(1, ',')
        .append(Num(255 * m.alpha[c] + m.beta[c]))
        .append(1, ']');
    if (c > 0 && r == out) break;  // the same for every channel
    if (c) out += " ";
    out += r;
    if (c + 1 == size_t(channels)) break;
  }
  return out;
}

// The quantized stage's value map as real numbers (dequantized).
PixelMap Dequantized(PixelMap m, const CompareContext& ctx) {
  for (size_t c = 0; c < 3; ++c) {
    m.beta[c] = (m.beta[c] - double(ctx.zero_point.value_or(0))) * *ctx.scale;
    m.alpha[c] *= *ctx.scale;
  }
  return m;
}

// One pixel level in the reference's units.
double ReferenceStep(const Aligned& a, const PixelMap& m) {
  if (a.stage == StageKind::kQuantized || a.ref_integer) return 1;
  if (m.known) return std::max({std::abs(m.alpha[0]), std::abs(m.alpha[1]), std::abs(m.alpha[2])});
  double lo = *std::min_element(a.ref.begin(), a.ref.end());
  double hi = *std::max_element(a.ref.begin(), a.ref.end());
  return std::max(hi - lo, 1e-9) / 255;
}

std::string MapText(const AffineFit& f, int channels) {
  // other = s·x + o per channel, x being lockstep's value; one term when all channels agree.
  std::string out;
  for (size_t c = 0; c < size_t(channels); ++c) {
    std::string t =
        Num(f.scale[c]) + "·x " + (f.offset[c] < 0 ? "− " : "+ ") + Num(std::abs(f.offset[c]));
    if (c > 0 && out == t) break;
    if (c) out += ", ";
    out += t;
  }
  return out;
}

// Two value maps alike to 1% of their slope (the constants of a fit through rounding).
bool SameMap(const PixelMap& x, const PixelMap& y) {
  for (size_t ch = 0; ch < 3; ++ch) {
    double unit = std::max(std::abs(y.alpha[ch]), 1e-12);
    if (std::abs(x.alpha[ch] - y.alpha[ch]) > 0.01 * unit ||
        std::abs(x.beta[ch] - y.beta[ch]) > 0.01 * unit * 255)
      return false;
  }
  return true;
}

void Normalization(const Aligned& a, const CompareContext& ctx, std::vector<Candidate>& out) {
  if (a.stage == StageKind::kRawOutput || a.stage == StageKind::kBoxes) return;
  PixelMap ref_map = ReferenceMap(a, ctx);
  double step = ReferenceStep(a, ref_map);
  int c = a.image ? a.c : 1;
  if (c > 3) return;  // RGBA tensors: normalization is named for 1 or 3 channels
  bool plain_holds = false;
  for (bool swap : {false, true}) {
    // Swapped and rescaled only when rescaling alone does not explain it (gray images).
    if (swap && (!(a.image && a.c == 3) || plain_holds)) break;
    AffineFit f = FitAffine(a, swap, step);
    if (!f.informative || f.share < kHolds) continue;
    if (!swap) plain_holds = true;
    bool identity = true;
    for (size_t ch = 0; ch < size_t(c); ++ch)
      identity =
          identity && std::abs(f.scale[ch] - 1) < 0.01 && std::abs(f.offset[ch]) < 0.5 * step;
    if (identity) continue;  // the plain swap (or equality) is another hypothesis's
    // An integer stage shifted by a constant is the zero-point hypothesis's.
    bool unit_scale = true;
    for (size_t ch = 0; ch < size_t(c); ++ch)
      unit_scale = unit_scale && std::abs(f.scale[ch] - 1) < 0.01;
    if (unit_scale && a.stage == StageKind::kQuantized) continue;
    // Quantized values carry rounding on both sides: a slope within a few percent of one is
    // rounding noise (truncation, half steps), not another range.
    bool steep = false;
    for (size_t ch = 0; ch < size_t(c); ++ch) steep = steep || std::abs(f.scale[ch] - 1) > 0.05;
    if (a.stage == StageKind::kQuantized && !steep) continue;

    Candidate cand;
    cand.agreement = f.share;
    cand.residual = f.residual;
    std::string fit = "other = " + MapText(f, c) + " of lockstep's (least squares, " +
                      Percent(f.share) + " of elements within rounding, largest residual " +
                      Num(f.residual) + ")";
    cand.rank = 4;  // a fit within rounding: after the exact transformations
    std::string ours, theirs;
    if (ref_map.known && (a.stage != StageKind::kQuantized || (ctx.scale && *ctx.scale > 0))) {
      PixelMap other_map;
      for (size_t ch = 0; ch < 3; ++ch) {
        size_t k = c == 1 ? 0 : ch, from = swap ? 2 - ch : ch;
        other_map.alpha[ch] = f.scale[k] * ref_map.alpha[from];
        other_map.beta[ch] = f.scale[k] * ref_map.beta[from] + f.offset[k];
      }
      if (swap && SameMap(other_map, ref_map)) {
        // Swapped, then each position normalized with lockstep's constants for that position:
        // the mean/std stayed in RGB order while the channels turned. One cause.
        cand.rank = 3;
        cand.fingerprint = {"channels_swapped", "channels swapped (RGB/BGR)",
                            "channels 0 and 2 exchanged; each position keeps lockstep's mean/std "
                            "for that position: " +
                                fit};
        out.push_back(cand);
        continue;
      }
      if (a.stage == StageKind::kQuantized) {
        // Fitted through rounding on both sides: a few percent of slack.
        ours = RangeName(Dequantized(ref_map, ctx), std::max(c, 1), 0.03);
        theirs = RangeName(Dequantized(other_map, ctx), std::max(c, 1), 0.03);
      } else {
        ours = RangeName(ref_map, std::max(c, 1), 0.01);
        theirs = RangeName(other_map, std::max(c, 1), 0.01);
      }
    }
    if (swap) {
      // Two causes in one map: the swap, then another normalization (each channel its own
      // mean/std, as a BGR pipeline's per-channel constants do).
      Candidate swapped = cand;
      swapped.rank = 3;
      swapped.joint = 1;
      swapped.fingerprint = {"channels_swapped", "channels swapped (RGB/BGR)",
                             "channels 0 and 2 exchanged, and each scaled: " + fit};
      out.push_back(swapped);
      cand.joint = 1;
    }
    if (!ours.empty() && ours != theirs) {
      cand.fingerprint = {"normalization_range", theirs + " vs " + ours,
                          "the other tensor is normalized to " + theirs + ", lockstep's to " +
                              ours + (ref_map.inferred ? " (inferred from its values)" : "") +
                              ": " + fit};
    } else {
      cand.fingerprint = {"normalization_range", "different normalization (mean/std)",
                          "the values are an affine map of lockstep's: " + fit};
    }
    out.push_back(cand);
  }
}

void ChannelsSwapped(const Aligned& a, std::vector<Candidate>& out) {
  if (!a.image || a.c != 3) return;
  Agreement g = Agree(SwapChannels(a, a.ref), a.other, SameTolerance(a));
  // Gray pixels agree either way: the swap must explain more than equality does.
  Agreement plain = Agree(a.ref, a.other, SameTolerance(a));
  if (g.share < kHolds || plain.share >= g.share) return;
  Candidate c;
  c.agreement = g.share;
  c.residual = g.max_diff;
  c.rank = 0;
  c.fingerprint = {"channels_swapped", "channels swapped (RGB/BGR)",
                   "with channels 0 and 2 exchanged the tensors agree at " + Percent(g.share) +
                       " of elements (" + Percent(plain.share) + " before), largest difference " +
                       Num(g.max_diff)};
  out.push_back(c);
}

// ---- integer codes --------------------------------------------------------------------------

// Whole numbers small enough to subtract and convert to int64 exactly (NaN is not).
bool Integral(const std::vector<double>& v) {
  for (double x : v)
    if (!(x == std::round(x) && std::abs(x) < 9e15)) return false;
  return true;
}

void ZeroPointOffset(const Aligned& a, const CompareContext& ctx, std::vector<Candidate>& out) {
  if (a.stage != StageKind::kQuantized || !Integral(a.ref) || !Integral(a.other)) return;
  // The most common difference among unsaturated elements is the offset to test.
  std::map<int64_t, size_t> counts;
  for (size_t i = 0; i < a.ref.size(); ++i) ++counts[int64_t(a.other[i] - a.ref[i])];
  int64_t k = 0;
  size_t best = 0;
  for (auto [d, n] : counts)
    if (d != 0 && n > best) k = d, best = n;
  if (k == 0) return;
  auto [lo, hi] = DTypeRange(a.other_dtype);
  if (!a.other_integer) lo = -1e300, hi = 1e300;
  auto [ref_lo, ref_hi] = DTypeRange(a.ref_dtype);
  // Each element's other value must be lockstep's plus k, saturated to the other's range; where
  // lockstep's own value saturated, the unsaturated value lay beyond it, so the other's may too.
  size_t saturated = 0, agree = 0;
  double worst = 0;
  for (size_t i = 0; i < a.ref.size(); ++i) {
    double e = a.ref[i] + double(k), clamped = std::clamp(e, lo, hi);
    if (clamped != e) ++saturated;
    double from = clamped, to = clamped;
    if (a.ref_integer && a.ref[i] >= ref_hi) to = hi;
    if (a.ref_integer && a.ref[i] <= ref_lo) from = lo;
    double o = a.other[i];
    if (o >= from && o <= to)
      ++agree;
    else
      worst = std::max(worst, std::min(std::abs(o - from), std::abs(o - to)));
  }
  Agreement g;
  g.share = double(agree) / double(a.ref.size());
  g.max_diff = worst;
  if (g.share < kHolds) return;
  Candidate c;
  c.agreement = g.share;
  c.residual = g.max_diff;
  c.rank = 0;
  std::string evidence = "other = lockstep " + std::string(k < 0 ? "− " : "+ ") +
                         Num(double(std::abs(k))) + " at " + Percent(g.share) + " of elements";
  if (saturated)
    evidence += " (" + std::to_string(saturated) + " saturated at the " +
                std::string(DTypeName(a.other_dtype)) + " range)";
  bool dtype_shift = std::abs(k) == 128;
  bool signedness = (a.ref_dtype == DType::kUInt8 && a.other_dtype == DType::kInt8) ||
                    (a.ref_dtype == DType::kInt8 && a.other_dtype == DType::kUInt8);
  bool is_zero_point = ctx.zero_point && std::abs(k) == std::abs(*ctx.zero_point);
  if (is_zero_point || dtype_shift || !ctx.zero_point) {
    if (dtype_shift && signedness)
      evidence += ": 128 is the shift between uint8 and int8 quantization of the same values";
    else if (is_zero_point)
      evidence += ": the input's zero point is " + Num(double(*ctx.zero_point)) +
                  (k < 0 ? ", the other side did not add it" : ", the other side added it twice");
    else if (dtype_shift)
      evidence += ": 128 is the shift between uint8 and int8 quantization of the same values";
    c.fingerprint = {"zero_point_offset", "off by the zero point (" + Num(double(k)) + ")",
                     evidence};
  } else {
    c.fingerprint = {"constant_offset", "off by a constant (" + Num(double(k)) + ")",
                     evidence + "; the input's zero point is " + Num(double(*ctx.zero_point))};
  }
  out.push_back(c);
}

void Uint8InInt8(const Aligned& a, std::vector<Candidate>& out) {
  if (!Integral(a.ref) || !Integral(a.other)) return;
  size_t wrap = 0, up = 0, down = 0, n = a.ref.size();
  for (size_t i = 0; i < n; ++i) {
    int64_t d = int64_t(a.other[i] - a.ref[i]);
    if (d == 256 || d == -256)
      ++wrap;
    else if (d == 128)
      ++up;
    else if (d == -128)
      ++down;
    else if (d != 0)
      return;  // some other difference: not a reinterpretation
  }
  Candidate c;
  c.agreement = 1;
  c.rank = 0;
  std::string types = "(other " + std::string(DTypeName(a.other_dtype)) + ", lockstep " +
                      std::string(DTypeName(a.ref_dtype)) + ")";
  if (wrap && !up && !down) {
    c.residual = 256;
    c.fingerprint = {"uint8_in_int8", "uint8 data in an int8 tensor",
                     Percent(double(wrap) / double(n)) +
                         " of elements differ by exactly 256 and the rest are equal: the same "
                         "bytes read as the other signedness " +
                         types};
  } else if (up && down && !wrap) {
    c.residual = 128;
    c.fingerprint = {"uint8_in_int8", "uint8 data in an int8 tensor",
                     "every element differs by +128 (" + std::to_string(up) + ") or −128 (" +
                         std::to_string(down) +
                         "), wrapping: the bytes are lockstep's xor 0x80, uint8 values stored "
                         "in an int8 tensor (or the reverse) " +
                         types};
  } else {
    return;
  }
  out.push_back(c);
}

// Quantized values that differ by one, always toward zero: a truncating cast (astype) where
// lockstep rounds, or the reverse. Exact when the source can be re-run with the other rounding.
// lockstep's pipeline for re-running the quantized stage: the reference's spec with the tensor
// the comparison holds (size, NHWC, dtype and the known quantization written out).
std::pair<Spec, ModelInput> RerunSetup(const Aligned& a, const CompareContext& ctx) {
  Spec spec = *ctx.spec;
  ModelInput input;
  input.width = a.w, input.height = a.h, input.channels = a.c;
  input.dtype = a.ref_dtype;
  input.scale = *ctx.scale;
  input.zero_point = ctx.zero_point.value_or(0);
  spec.tensor.width = a.w, spec.tensor.height = a.h;
  spec.tensor.layout = Layout::kNhwc;
  spec.tensor.dtype = a.ref_dtype;
  spec.tensor.scale = input.scale;
  spec.tensor.zero_point = input.zero_point;
  return {spec, input};
}

void TruncationVsRounding(const Aligned& a, const CompareContext& ctx,
                          std::vector<Candidate>& out) {
  if (a.stage != StageKind::kQuantized || !Integral(a.ref) || !Integral(a.other)) return;
  // Truncating x/scale + zp moves positive values down and negative ones up by one step at most.
  bool other_truncates = true, ref_truncates = true;
  size_t differing = 0, n = a.ref.size();
  for (size_t i = 0; i < n; ++i) {
    double d = a.other[i] - a.ref[i], r = a.ref[i], o = a.other[i];
    if (d == 0) continue;
    if (std::abs(d) != 1) return;
    ++differing;
    if (!((d == -1 && r >= 1) || (d == 1 && r <= -1))) other_truncates = false;
    if (!((d == 1 && o >= 1) || (d == -1 && o <= -1))) ref_truncates = false;
  }
  if (!differing || (!other_truncates && !ref_truncates)) return;

  Candidate c;
  c.rank = 2;
  c.residual = 1;
  c.agreement = 1;
  double share = double(differing) / double(n);
  std::string evidence =
      Percent(share) + " of elements differ, each by one step toward " +
      (other_truncates ? "zero in the other" : "zero in lockstep's") + ": " +
      (other_truncates ? "the other side truncates (astype) where lockstep rounds"
                       : "lockstep truncates where the other side rounds");
  // The exact test: re-run lockstep's pipeline with each other rounding and compare.
  bool can_rerun = ctx.spec && ctx.source && ctx.scale && *ctx.scale > 0 && a.image &&
                   (a.ref_dtype == DType::kUInt8 || a.ref_dtype == DType::kInt8);
  if (can_rerun) {
    auto [spec, input] = RerunSetup(a, ctx);
    Rounding original = spec.tensor.rounding, best_rounding = original;
    Agreement best;
    for (Rounding r : {Rounding::kTruncate, Rounding::kHalfAwayFromZero, Rounding::kHalfToEven}) {
      if (r == original) continue;
      spec.tensor.rounding = r;
      try {
        Preprocessed p = Preprocess(*ctx.source, spec, input);
        Agreement g = Agree(Values(p.tensor, "re-run"), a.other, 0);
        if (g.share > best.share) best = g, best_rounding = r;
      } catch (const Error&) {
        return;  // the reference's pipeline cannot be re-run: no exact verdict
      }
    }
    if (best.share < kHolds) return;
    c.agreement = best.share;
    c.residual = best.max_diff;
    evidence += "; lockstep's pipeline re-run with " + std::string(Name(best_rounding)) +
                " instead of " + std::string(Name(original)) + " reproduces the other at " +
                Percent(best.share) + " of elements";
    if (best_rounding != Rounding::kTruncate && original != Rounding::kTruncate) {
      c.fingerprint = {"rounding_mode", "different rounding at half steps", evidence};
      out.push_back(c);
      return;
    }
  } else {
    // Truncation moves about half of all values; a handful are rounding at exact half steps.
    if (share < 0.01) return;
    evidence += " (the pattern only: without the source image it cannot be re-run)";
  }
  c.fingerprint = {"truncation_vs_rounding", "truncation vs rounding", evidence};
  out.push_back(c);
}

// Values past the dtype's range that wrap around instead of clamping: numpy's astype without
// np.clip (Ultralytics' (x / scale + zero_point).astype(int8)). Where lockstep saturates at an end
// of the range the other holds a value far from it; elsewhere they are a step apart at most.
// Exact when lockstep's pipeline, re-run without saturation, reproduces the other.
void Wraparound(const Aligned& a, const CompareContext& ctx, std::vector<Candidate>& out) {
  if (a.stage != StageKind::kQuantized || !Integral(a.ref) || !Integral(a.other)) return;
  if (a.ref_dtype != a.other_dtype || (a.ref_dtype != DType::kUInt8 && a.ref_dtype != DType::kInt8))
    return;
  const double lo = a.ref_dtype == DType::kInt8 ? -128 : 0, hi = lo + 255;
  size_t wrapped = 0, n = a.ref.size();
  for (size_t i = 0; i < n; ++i) {
    double d = std::abs(a.other[i] - a.ref[i]);
    if (d <= 1) continue;
    if (a.ref[i] != lo && a.ref[i] != hi) return;  // a large difference away from the ends
    ++wrapped;
  }
  if (!wrapped) return;
  Candidate c;
  c.rank = 2;
  c.residual = 1;
  c.agreement = 1;
  std::string evidence = Percent(double(wrapped) / double(n)) +
                         " of elements sit at an end of the range in lockstep's tensor and far "
                         "from it in the other: values past the range wrap around (astype "
                         "without clipping) where lockstep saturates";
  bool can_rerun = ctx.spec && ctx.source && ctx.scale && *ctx.scale > 0 && a.image;
  if (can_rerun) {
    auto [spec, input] = RerunSetup(a, ctx);
    spec.tensor.saturate = false;
    Rounding original = spec.tensor.rounding, best_rounding = original;
    Agreement best;
    for (Rounding r :
         {original, Rounding::kTruncate, Rounding::kHalfAwayFromZero, Rounding::kHalfToEven}) {
      spec.tensor.rounding = r;
      try {
        Preprocessed p = Preprocess(*ctx.source, spec, input);
        Agreement g = Agree(Values(p.tensor, "re-run"), a.other, 0);
        if (g.share > best.share) best = g, best_rounding = r;
      } catch (const Error&) {
        return;
      }
    }
    if (best.share < kHolds) return;
    c.agreement = best.share;
    c.residual = best.max_diff;
    evidence += "; lockstep's pipeline re-run without saturation" +
                (best_rounding == original
                     ? std::string()
                     : " and with " + std::string(Name(best_rounding)) + " rounding") +
                " reproduces the other at " + Percent(best.share) + " of elements";
  } else {
    evidence += " (the pattern only: without the source image it cannot be re-run)";
  }
  c.fingerprint = {"wraparound", "values wrap around instead of saturating (astype)", evidence};
  out.push_back(c);
}

}  // namespace

std::vector<std::pair<std::string, NormalizeSpec>> NamedNormalizations() {
  std::vector<std::pair<std::string, NormalizeSpec>> out;
  for (const auto& n : KnownNormalizations()) out.push_back({n.name, {n.mean, n.std}});
  return out;
}

std::string NormalizationName(const NormalizeSpec& n) {
  return RangeName(FromNormalize(n), 3, 0.01);
}

void ValueHypotheses(const Aligned& a, const CompareContext& context, std::vector<Candidate>& out) {
  if (a.stage == StageKind::kBoxes) return;
  ChannelsSwapped(a, out);
  ZeroPointOffset(a, context, out);
  Uint8InInt8(a, out);
  TruncationVsRounding(a, context, out);
  Wraparound(a, context, out);
  Normalization(a, context, out);
}

}  // namespace lockstep::fingerprint
