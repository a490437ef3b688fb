// Hypotheses about the pixels' tone curve: a power law (a gamma applied or undone by a camera
// stack or an augmentation) and a gain and offset equal on all channels, clipped to 0..255
// (brightness/contrast). Both are fitted on pixel values and hold only when the reference, with
// the fitted curve applied, agrees with the other within one pixel level nearly everywhere.
#include <algorithm>
#include <array>
#include <cmath>
#include <functional>

#include "doctor/fingerprint.h"

namespace lockstep::fingerprint {
namespace {

using Curve = std::function<double(double)>;  // pixel → pixel, 0..255

// The curve applied to the reference, and how well that and the plain reference agree with the
// other. Per element the tolerance is one level (the other rounded or truncated its result to 8
// bits), plus the reference's uncertainty carried through the curve, plus the other's own.
struct CurveCheck {
  std::vector<double> expected;
  PixelAgreement before, after;
};

CurveCheck Check(const Pixels& p, const Curve& curve) {
  CurveCheck k;
  k.expected.resize(p.ref.size());
  const double u = p.ref_uncertainty;
  // Reference pixels are mostly whole levels: the curve tabulated for them.
  std::array<double, 256> table;
  for (int v = 0; v < 256; ++v) table[size_t(v)] = curve(v);
  size_t ok = 0, ok_before = 0;
  double sum = 0, sum_before = 0;
  for (size_t i = 0; i < p.ref.size(); ++i) {
    double r = p.ref[i];
    bool level = r >= 0 && r <= 255 && r == std::floor(r);
    double e = level ? table[size_t(r)] : curve(r);
    double carried = u > 0 ? std::abs(curve(r + u) - curve(r - u)) / 2 : 0;
    double tol = 1 + carried + p.other_uncertainty;
    double d = std::abs(p.other[i] - e), d0 = std::abs(p.other[i] - r);
    k.expected[i] = e;
    ok += d <= tol;
    ok_before += d0 <= 1 + u + p.other_uncertainty;
    sum += d, sum_before += d0;
    k.after.max_abs = std::max(k.after.max_abs, d);
    k.before.max_abs = std::max(k.before.max_abs, d0);
  }
  double n = double(p.ref.size());
  k.after.share = double(ok) / n, k.before.share = double(ok_before) / n;
  k.after.mean_abs = sum / n, k.before.mean_abs = sum_before / n;
  return k;
}

// A cause is named only when the curve changes some level by two or more (a smaller change is
// rounding) and it explains the difference: nearly all elements agree after it, fewer before,
// and the mean difference at least halves.
bool Explains(const CurveCheck& k, const Curve& curve) {
  double largest_change = 0;
  for (int v = 0; v <= 255; ++v) largest_change = std::max(largest_change, std::abs(curve(v) - v));
  return largest_change >= 2 && k.after.share >= kHolds && k.before.share < kHolds &&
         k.after.mean_abs <= 0.5 * k.before.mean_abs;
}

std::string Measured(const CurveCheck& k) {
  return Percent(k.after.share) +
         " of elements within one pixel level (before: " + Percent(k.before.share) +
         "), mean abs difference " + Fixed(k.after.mean_abs, 3) +
         " levels (before: " + Fixed(k.before.mean_abs, 3) + "), largest " +
         Fixed(k.after.max_abs, 2);
}

double GammaCurve(double gamma, double x) {
  return 255 * std::pow(std::clamp(x, 0.0, 255.0) / 255, gamma);
}

// γ by least squares on log pixels (other = 255·(ref/255)^γ is linear through the origin in
// logs), then refined on the pixels themselves, where the 8-bit rounding is even: logs of dark
// pixels overweight their rounding.
std::optional<double> EstimateGamma(const Pixels& p) {
  double sxx = 0, sxy = 0;
  size_t n = 0;
  for (size_t i = 0; i < p.ref.size(); ++i) {
    double r = p.ref[i], o = p.other[i];
    if (r < 8 || r > 247 || o < 1 || o > 254) continue;  // rounding-dominated or clipped
    double lx = std::log(r / 255), ly = std::log(o / 255);
    sxx += lx * lx, sxy += lx * ly, ++n;
  }
  if (n < p.ref.size() / 4 || sxx <= 0) return std::nullopt;
  double g0 = sxy / sxx;
  if (!(g0 > 0.2 && g0 < 5)) return std::nullopt;
  // The squared residual of a γ: per reference level from the count, sum and sum of squares of
  // the other's values there (256 powers per γ), or over a sample where levels are fractional.
  std::array<double, 256> count{}, sum{}, squares{};
  bool levels = true;
  for (size_t i = 0; i < p.ref.size() && levels; ++i) {
    double r = p.ref[i], o = p.other[i];
    levels = r >= 0 && r <= 255 && r == std::floor(r);
    if (levels) count[size_t(r)] += 1, sum[size_t(r)] += o, squares[size_t(r)] += o * o;
  }
  const size_t stride = std::max<size_t>(1, p.ref.size() / 20000);
  auto cost = [&](double g) {
    double s = 0;
    if (levels) {
      for (size_t v = 0; v < 256; ++v) {
        double e = GammaCurve(g, double(v));
        s += count[v] * e * e - 2 * e * sum[v] + squares[v];
      }
      return s;
    }
    for (size_t i = 0; i < p.ref.size(); i += stride) {
      double d = GammaCurve(g, p.ref[i]) - p.other[i];
      s += d * d;
    }
    return s;
  };
  // Golden-section search around the log estimate.
  const double phi = (std::sqrt(5.0) - 1) / 2;
  double lo = g0 / 1.3, hi = g0 * 1.3;
  double x1 = hi - phi * (hi - lo), x2 = lo + phi * (hi - lo), f1 = cost(x1), f2 = cost(x2);
  for (int it = 0; it < 30; ++it) {
    if (f1 < f2)
      hi = x2, x2 = x1, f2 = f1, x1 = hi - phi * (hi - lo), f1 = cost(x1);
    else
      lo = x1, x1 = x2, f1 = f2, x2 = lo + phi * (hi - lo), f2 = cost(x2);
  }
  return (lo + hi) / 2;
}

void Gamma(const Aligned& a, const Pixels& p, std::vector<Candidate>& out) {
  std::optional<double> gamma = EstimateGamma(p);
  if (!gamma) return;
  double g = *gamma;
  Curve curve = [g](double x) { return GammaCurve(g, x); };
  CurveCheck k = Check(p, curve);
  if (!Explains(k, curve)) return;
  std::string value = Fixed(g, 2) + (g < 1 ? " (1/" + Fixed(1 / g, 2) + ")" : "");
  Candidate c;
  c.agreement = k.after.share;
  c.residual = k.after.max_abs;
  c.rank = 4;  // a fit within rounding
  c.fingerprint = {"gamma", "gamma ≈ " + value,
                   "the other's pixels are lockstep's through a power law, 255·(x/255)^" +
                       Fixed(g, 3) + " (γ fitted on the pixels): " + Measured(k)};
  c.transformed = ToStage(a, p, k.expected);
  out.push_back(std::move(c));
}

// ---- brightness / contrast ------------------------------------------------------------------

struct GainOffset {
  double gain = 1, offset = 0;
};

// other = gain·ref + offset, one pair for all channels, fitted by least squares where the other
// is not clipped; nullopt when the reference barely varies (any line fits it).
std::optional<GainOffset> FitGainOffset(const Pixels& p) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0, lo = 1e300, hi = -1e300;
  // Clipped values may sit a quantization step inside 0..255 (255 quantized and read back).
  const double margin = 1.5 + p.other_uncertainty;
  for (size_t i = 0; i < p.ref.size(); ++i) {
    double x = p.ref[i], y = p.other[i];
    if (y <= margin || y >= 255 - margin) continue;
    sx += x, sy += y, sxx += x * x, sxy += x * y, n += 1;
    lo = std::min(lo, x), hi = std::max(hi, x);
  }
  if (n < 0.5 * double(p.ref.size()) || hi - lo < 16) return std::nullopt;
  double var = sxx - sx * sx / n;
  if (var <= 0) return std::nullopt;
  GainOffset f;
  f.gain = (sxy - sx * sy / n) / var;
  f.offset = (sy - f.gain * sx) / n;
  if (!(f.gain > 0.1 && f.gain < 10)) return std::nullopt;
  return f;
}

// The reference's real normalization (pixel → normalized value), to tell a brightness change
// from another normalization: the resized stage has none (raw 0..255).
PixelMap RealMap(const Aligned& a, const CompareContext& ctx, const Pixels& p) {
  if (a.stage == StageKind::kResized) return PixelMap{{1, 1, 1}, {0, 0, 0}, true, false};
  if (ctx.spec) {
    PixelMap m;
    for (size_t k = 0; k < 3; ++k)
      m.alpha[k] = 1 / ctx.spec->normalize.std[k],
      m.beta[k] = -ctx.spec->normalize.mean[k] / ctx.spec->normalize.std[k];
    return m;
  }
  return p.map;
}

// Whether the fitted map is what a named normalization other than the reference's gives: the
// normalization hypothesis names those ("[0,1] vs [-1,1]").
bool IsNamedNormalization(const GainOffset& f, const PixelMap& ours, int channels) {
  for (const auto& [name, n] : NamedNormalizations()) {
    bool match = true;
    for (size_t k = 0; k < size_t(channels); ++k) {
      double alpha = 1 / n.std[k], beta = -n.mean[k] / n.std[k];
      double g = alpha / ours.alpha[k], o = (beta - ours.beta[k]) / ours.alpha[k];
      match = match && std::abs(f.gain - g) <= 0.01 * g && std::abs(f.offset - o) <= 2.55 * g;
    }
    if (match) return true;
  }
  return false;
}

void BrightnessContrast(const Aligned& a, const CompareContext& ctx, const Pixels& p,
                        std::vector<Candidate>& out) {
  std::optional<GainOffset> fit = FitGainOffset(p);
  if (!fit || IsNamedNormalization(*fit, RealMap(a, ctx, p), a.c)) return;
  GainOffset f = *fit;
  // A float pipeline leaves values past 0..255 as they are; an 8-bit one clips them.
  const bool unclipped =
      std::any_of(p.other.begin(), p.other.end(), [](double v) { return v < -1 || v > 256; });
  Curve curve = [f, unclipped](double x) {
    double v = f.gain * x + f.offset;
    return unclipped ? v : std::clamp(v, 0.0, 255.0);
  };
  CurveCheck k = Check(p, curve);
  if (!Explains(k, curve)) return;
  // Elements the gain and offset push past 0..255 and the other holds at the limit: the map was
  // applied to 8-bit pixels, which a normalization (a float map) never clips.
  size_t clipped = 0;
  for (double r : p.ref) clipped += f.gain * r + f.offset < -1 || f.gain * r + f.offset > 256;
  bool clips = double(clipped) >= 0.001 * double(p.ref.size());
  // A normalization fit holds too: at the resized stage there is no normalization to differ,
  // and a clipped map is not one; otherwise the two cannot be told apart and the (older)
  // normalization reading stands alone.
  auto is_normalization = [](const Candidate& c) {
    return c.fingerprint.code == "normalization_range";
  };
  bool normalization_holds = std::any_of(out.begin(), out.end(), [&](const Candidate& c) {
    return is_normalization(c) && c.agreement >= kHolds;
  });
  if (normalization_holds) {
    if (a.stage != StageKind::kResized && !clips) return;
    std::erase_if(out, is_normalization);
  }
  Candidate c;
  c.agreement = k.after.share;
  c.residual = k.after.max_abs;
  c.rank = 4;
  std::string map =
      Fixed(f.gain, 3) + "·x " + (f.offset < 0 ? "− " : "+ ") + Fixed(std::abs(f.offset), 1);
  c.fingerprint = {"brightness_contrast",
                   "brightness/contrast changed (gain " + Fixed(f.gain, 2) + ", offset " +
                       Fixed(f.offset, 1) + ")",
                   "the other's pixels are lockstep's through " + map + " on every channel" +
                       (unclipped ? ", not clipped (float pixels)" : ", clipped to 0..255") +
                       (clipped ? " (" + std::to_string(clipped) + " elements clipped)" : "") +
                       ": " + Measured(k)};
  c.transformed = ToStage(a, p, k.expected);
  out.push_back(std::move(c));
}

}  // namespace

void PhotometricHypotheses(const Aligned& a, const CompareContext& context,
                           std::vector<Candidate>& out) {
  // An exact value hypothesis (an offset, a swap, a rounding) already explains it.
  bool explained = std::any_of(out.begin(), out.end(), [](const Candidate& c) {
    return c.agreement >= kHolds && c.fingerprint.code != "normalization_range";
  });
  if (explained) return;
  std::optional<Pixels> p = ToPixels(a, context);
  if (!p) return;
  Gamma(a, *p, out);
  BrightnessContrast(a, context, *p, out);
}

namespace {

// The source through a pixel curve, rounded to 8 bits as a camera stack or an augmentation
// stores it.
Image CurvedSource(const Image& source, const Curve& curve) {
  std::array<uint8_t, 256> lut;
  for (int v = 0; v < 256; ++v)
    lut[size_t(v)] = uint8_t(std::clamp(std::floor(curve(v) + 0.5), 0.0, 255.0));
  Image out = source;
  for (uint8_t& v : out.pixels) v = lut[v];
  return out;
}

// γ fitted on a resized stage is blurred by the resize: the fit and the usual display gammas
// near it are tried.
std::vector<double> GammasNear(double fitted) {
  std::vector<double> out = {fitted};
  for (double g : {2.2, 1.8, 2.4, 2.0, 2.5})
    for (double v : {g, 1 / g})
      if (std::abs(v / fitted - 1) < 0.2) out.push_back(v);
  return out;
}

}  // namespace

void SourcePhotometricHypotheses(const Aligned& a, const CompareContext& ctx, int budget,
                                 std::vector<Candidate>& out) {
  if (!ctx.source || ctx.source->channels == 4) return;
  std::optional<Pixels> p = ToPixels(a, ctx);
  if (!p) return;
  std::vector<SourceChange> changes;
  if (std::optional<double> fitted = EstimateGamma(*p))
    for (double g : GammasNear(*fitted)) {
      std::string value = Fixed(g, 2) + (g < 1 ? " (1/" + Fixed(1 / g, 2) + ")" : "");
      Curve curve = [g](double x) { return GammaCurve(g, x); };
      changes.push_back({{"gamma", "gamma ≈ " + value + " on the source",
                          "the source through 255·(x/255)^" + Fixed(g, 3) + " before the resize"},
                         [curve](const Image& s) { return CurvedSource(s, curve); }});
    }
  if (std::optional<GainOffset> f = FitGainOffset(*p);
      f && !IsNamedNormalization(*f, RealMap(a, ctx, *p), a.c)) {
    Curve curve = [f = *f](double x) { return f.gain * x + f.offset; };
    changes.push_back({{"brightness_contrast",
                        "brightness/contrast changed on the source (gain " + Fixed(f->gain, 2) +
                            ", offset " + Fixed(f->offset, 1) + ")",
                        "the source through " + Fixed(f->gain, 3) + "·x + " + Fixed(f->offset, 1) +
                            ", clipped to 0..255, before the resize"},
                       [curve](const Image& s) { return CurvedSource(s, curve); }});
  }
  BestSourceChange(a, ctx, *p, changes, 1 + 2 * p->ref_uncertainty + p->other_uncertainty, budget,
                   out);
}

}  // namespace lockstep::fingerprint
