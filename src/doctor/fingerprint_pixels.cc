// Image stages back to pixels and forth: the photometric and codec hypotheses act on 0..255 RGB
// pixels, whichever stage (resized, normalized, quantized) shows the difference.
#include <algorithm>
#include <cmath>

#include "doctor/fingerprint.h"

namespace lockstep::fingerprint {
namespace {

// Float dialects leave fractional pixels; the 8-bit ones round every resized pixel.
bool EightBitResize(const CompareContext& ctx) {
  return !ctx.spec || (ctx.spec->resize.dialect != ResizeDialect::kTf &&
                       ctx.spec->resize.dialect != ResizeDialect::kTfLegacy);
}

// Whether the stage's channels are BGR: the model's order from the normalized stage on, and at
// the resized stage for the 8-bit dialects (the float ones trace it in the source's order).
bool StageIsBgr(const Aligned& a, const CompareContext& ctx) {
  if (!ctx.spec || a.c != 3 || ctx.spec->input.channel_order != ChannelOrder::kBgr) return false;
  return a.stage != StageKind::kResized || EightBitResize(ctx);
}

std::vector<double> Reversed(const std::vector<double>& v, int c) {
  std::vector<double> out = v;
  if (c == 3)
    for (size_t i = 0; i + 2 < v.size(); i += 3) std::swap(out[i], out[i + 2]);
  return out;
}

std::vector<double> PixelsOf(const std::vector<double>& values, const PixelMap& m, int c) {
  std::vector<double> p(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    size_t k = c == 1 ? 0 : i % 3;
    p[i] = (values[i] - m.beta[k]) / m.alpha[k];
  }
  return p;
}

bool NearIntegers(const std::vector<double>& v, double slack) {
  return std::all_of(v.begin(), v.end(),
                     [&](double x) { return std::abs(x - std::round(x)) <= slack; });
}

// A quantized value at an end of its dtype's range stands for every pixel that saturated
// there: 254 and 255 both give 255 with scale 1/128 and zero point 128. The extreme pixel is
// the likely one (highlights clip at 255, shadows at 0), and the nearest one the other way.
void SaturatedToExtremes(const std::vector<double>& values, DType dtype, const PixelMap& m, int c,
                         std::vector<double>& pixels) {
  auto range = QuantizedDTypeRange(dtype);
  if (!range) return;
  for (size_t i = 0; i < values.size(); ++i) {
    bool at_hi = values[i] >= double(range->second), at_lo = values[i] <= double(range->first);
    if (!at_hi && !at_lo) continue;
    // The map may decrease (a negative scale): the end of the values is then the other pixel end.
    bool up = m.alpha[c == 1 ? 0 : i % 3] > 0;
    pixels[i] = (at_hi == up) ? 255 : 0;
  }
}

}  // namespace

namespace {

double AlphaMin(const PixelMap& m, int c) {
  double alpha_min = 1e300;
  for (size_t k = 0; k < size_t(c); ++k) alpha_min = std::min(alpha_min, std::abs(m.alpha[k]));
  return alpha_min;
}

// Values made like the reference's (by lockstep's pipeline) as RGB pixels; `uncertainty` is set
// to what the quantization leaves unknown.
std::vector<double> LockstepPixels(const Aligned& a, const CompareContext& ctx, const PixelMap& m,
                                   const std::vector<double>& values, double& uncertainty) {
  std::vector<double> p = PixelsOf(values, m, a.c);
  bool quantized = a.stage == StageKind::kQuantized;
  double alpha_min = AlphaMin(m, a.c);
  uncertainty = 0;
  if (quantized && a.ref_integer) SaturatedToExtremes(values, a.ref_dtype, m, a.c, p);
  if (NearIntegers(p, 0.01)) {
    // Float noise of a normalization around 8-bit pixels.
    for (double& x : p) x = std::round(x);
  } else if (quantized && alpha_min >= 1 && EightBitResize(ctx)) {
    // A step per pixel level or more: each quantized value came from exactly one 8-bit pixel.
    for (double& x : p) x = std::round(x);
  } else if (quantized) {
    uncertainty = 0.5 / alpha_min;
  }
  return StageIsBgr(a, ctx) ? Reversed(p, a.c) : p;
}

// With the source and the spec the reference's pixels need no reconstruction from normalized
// or quantized values (which saturation leaves ambiguous: 254 and 255 both quantize to 255 with
// scale 1/128 and zero point 128): lockstep's resized stage, re-run once, is them. Used only
// when mapped through the stage it gives the reference's values back.
std::optional<std::vector<double>> RerunResized(const Aligned& a, const CompareContext& ctx,
                                                const PixelMap& m) {
  if (a.stage == StageKind::kResized || !ctx.source || !ctx.spec || ctx.rerun_budget <= 0)
    return std::nullopt;
  Aligned resized;
  resized.stage = StageKind::kResized;
  resized.image = true, resized.h = a.h, resized.w = a.w, resized.c = a.c;
  auto pixels = RerunStage(resized, ctx, *ctx.spec, *ctx.source);
  if (!pixels || pixels->size() != a.ref.size()) return std::nullopt;
  auto range = QuantizedDTypeRange(a.ref_dtype);
  for (size_t i = 0; i < a.ref.size(); ++i) {
    size_t k = a.c == 1 ? 0 : i % 3;
    double v = m.alpha[k] * (*pixels)[i] + m.beta[k];
    if (a.ref_integer && range)
      v = std::clamp(std::round(v), double(range->first), double(range->second));
    // Integers may differ by a step where a value sits at a half (float rounding); floats by
    // float32's noise.
    double tol = a.ref_integer ? 1 : 1e-4 * std::max(1.0, std::abs(v));
    if (std::abs(v - a.ref[i]) > tol) return std::nullopt;
  }
  return pixels;
}

}  // namespace

std::optional<Pixels> ToPixels(const Aligned& a, const CompareContext& ctx) {
  if (!a.image || (a.c != 1 && a.c != 3) || a.ref.empty()) return std::nullopt;
  Pixels p;
  p.map = ReferenceMap(a, ctx);
  if (!p.map.known) return std::nullopt;
  for (size_t k = 0; k < size_t(a.c); ++k)
    if (!(std::abs(p.map.alpha[k]) > 0)) return std::nullopt;
  if (auto exact = RerunResized(a, ctx, p.map))
    p.ref = StageIsBgr(a, ctx) ? Reversed(*exact, a.c) : std::move(*exact);
  else
    p.ref = LockstepPixels(a, ctx, p.map, a.ref, p.ref_uncertainty);
  p.other = PixelsOf(a.other, p.map, a.c);
  bool quantized = a.stage == StageKind::kQuantized;
  if (quantized && a.other_integer)
    SaturatedToExtremes(a.other, a.other_dtype, p.map, a.c, p.other);
  // The other's pixels may be fractional (a float gamma): kept as they are, with the
  // quantization's half step where there is one, or float32's noise of a normalization.
  if (quantized)
    p.other_uncertainty = 0.5 / AlphaMin(p.map, a.c);
  else if (NearIntegers(p.other, 0.01))
    for (double& x : p.other) x = std::round(x);
  else
    p.other_uncertainty = 1e-3;
  p.reversed = StageIsBgr(a, ctx);
  if (p.reversed) p.other = Reversed(p.other, a.c);
  return p;
}

std::vector<double> RerunPixels(const Aligned& a, const CompareContext& ctx, const Pixels& p,
                                const std::vector<double>& values) {
  double uncertainty = 0;
  return LockstepPixels(a, ctx, p.map, values, uncertainty);
}

std::vector<double> ToStage(const Aligned& a, const Pixels& p, const std::vector<double>& pixels) {
  std::vector<double> v = p.reversed ? Reversed(pixels, a.c) : pixels;
  double lo = -1e300, hi = 1e300;
  if (auto r = QuantizedDTypeRange(a.ref_dtype); r && a.ref_integer)
    lo = double(r->first), hi = double(r->second);
  for (size_t i = 0; i < v.size(); ++i) {
    size_t k = a.c == 1 ? 0 : i % 3;
    v[i] = p.map.alpha[k] * v[i] + p.map.beta[k];
    if (a.ref_integer) v[i] = std::clamp(std::round(v[i]), lo, hi);
  }
  return v;
}

PixelAgreement AgreePixels(const std::vector<double>& expected, const std::vector<double>& other,
                           double tolerance) {
  PixelAgreement g;
  if (expected.size() != other.size() || expected.empty()) return g;
  size_t ok = 0;
  double sum = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    double d = std::abs(other[i] - expected[i]);
    if (d <= tolerance) ++ok;
    sum += d;
    g.max_abs = std::max(g.max_abs, d);
  }
  g.share = double(ok) / double(expected.size());
  g.mean_abs = sum / double(expected.size());
  return g;
}

void BestSourceChange(const Aligned& a, const CompareContext& ctx, const Pixels& p,
                      const std::vector<SourceChange>& changes, double tolerance, int budget,
                      std::vector<Candidate>& out) {
  if (!ctx.source || !ctx.spec || changes.empty() || budget < 2) return;
  const PixelAgreement before = AgreePixels(p.ref, p.other, tolerance);
  if (before.share >= kHolds) return;
  // The re-run must reproduce lockstep's own tensor, or it says nothing about the other.
  auto own = RerunStage(a, ctx, *ctx.spec, *ctx.source);
  if (!own || AgreePixels(*own, a.ref, 1e-3).share < 1) return;
  const SourceChange* best = nullptr;
  PixelAgreement best_score;
  std::vector<double> best_values;
  for (const SourceChange& change : changes) {
    if (--budget <= 0) break;
    auto values = RerunStage(a, ctx, *ctx.spec, change.apply(*ctx.source));
    if (!values) continue;
    PixelAgreement g = AgreePixels(RerunPixels(a, ctx, p, *values), p.other, tolerance);
    if (!best || g.mean_abs < best_score.mean_abs)
      best = &change, best_score = g, best_values = std::move(*values);
  }
  if (!best || best_score.share < kHolds || best_score.mean_abs > 0.5 * before.mean_abs) return;
  Candidate c;
  c.agreement = best_score.share;
  c.residual = best_score.max_abs;
  c.rank = 4;
  c.fingerprint = best->fingerprint;
  c.fingerprint.evidence += ": lockstep's pipeline re-run on the source so changed reproduces " +
                            Percent(best_score.share) + " of elements within " + Num(tolerance) +
                            " levels (before: " + Percent(before.share) +
                            "), mean abs difference " + Fixed(best_score.mean_abs, 3) +
                            " (before: " + Fixed(before.mean_abs, 3) + ")";
  c.transformed = std::move(best_values);
  out.push_back(std::move(c));
}

}  // namespace lockstep::fingerprint
