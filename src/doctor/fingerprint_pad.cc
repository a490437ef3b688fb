// Hypothesis about a letterbox's pad value: the content placed exactly where lockstep places it,
// the pad around it filled with another constant (0 vs 114 vs 128 are all in use, FIELD-NOTES
// "pad value"). The pad region is known from the spec's geometry and the source size, so the
// hypothesis replaces lockstep's pad with the other's and asks whether everything then agrees.
#include <algorithm>
#include <cmath>

#include "doctor/fingerprint.h"
#include "lockstep/pipeline/geometry.h"

namespace lockstep::fingerprint {
namespace {

bool InsideContent(const Rect& r, int x, int y) {
  return x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
}

// A stage value of channel `c` back in pixel values (0..255); nullopt when the stage's units
// are not known (a quantized stage without its quantization).
std::optional<double> PixelOf(const Aligned& a, const CompareContext& ctx, double v, int c) {
  if (a.stage == StageKind::kResized) return v;
  if (a.stage == StageKind::kQuantized && a.ref_integer) {
    if (!ctx.scale) return std::nullopt;
    v = (v - double(ctx.zero_point.value_or(0))) * *ctx.scale;
  }
  size_t k = size_t(std::min(c, 2));
  return v * ctx.spec->normalize.std[k] + ctx.spec->normalize.mean[k];
}

// The pad values of one side in pixel values, per channel (the model's channel order: a gray
// pad reads the same either way).
std::optional<std::array<int, 3>> PadPixels(const Aligned& a, const CompareContext& ctx,
                                            const std::vector<double>& pad) {
  std::array<int, 3> out{};
  for (int c = 0; c < std::min(a.c, 3); ++c) {
    auto p = PixelOf(a, ctx, pad[size_t(c)], c);
    if (!p) return std::nullopt;
    out[size_t(c)] = int(std::lround(std::clamp(*p, -1e6, 1e6)));
  }
  if (a.c == 1) out[1] = out[2] = out[0];
  return out;
}

std::string ValuesText(const std::vector<double>& v) {
  std::string s(v.size() == 1 ? "" : "(");
  for (size_t c = 0; c < v.size(); ++c) s.append(c ? "," : "").append(Num(v[c]));
  if (v.size() != 1) s.append(")");
  return s;
}

// The pad region's share of elements that equal `pad` (per channel) within `tol`, and of the
// content's elements that equal lockstep's.
struct PadSplit {
  double pad_share = 0, content_share = 0;
  size_t pad_elements = 0;
};

PadSplit Split(const Aligned& a, const Rect& content, const std::vector<double>& pad, double tol) {
  size_t pad_ok = 0, pad_n = 0, content_ok = 0, content_n = 0;
  for (int y = 0; y < a.h; ++y)
    for (int x = 0; x < a.w; ++x)
      for (int c = 0; c < a.c; ++c) {
        size_t i = (size_t(y) * size_t(a.w) + size_t(x)) * size_t(a.c) + size_t(c);
        if (InsideContent(content, x, y)) {
          ++content_n;
          content_ok += std::abs(a.other[i] - a.ref[i]) <= tol;
        } else {
          ++pad_n;
          pad_ok += std::abs(a.other[i] - pad[size_t(c)]) <= tol;
        }
      }
  PadSplit s;
  s.pad_elements = pad_n;
  s.pad_share = pad_n ? double(pad_ok) / double(pad_n) : 0;
  s.content_share = content_n ? double(content_ok) / double(content_n) : 1;
  return s;
}

}  // namespace

std::string PadValueDescription(const std::array<int, 3>& theirs, const std::array<int, 3>& ours) {
  auto text = [](const std::array<int, 3>& p) {
    if (p[0] == p[1] && p[1] == p[2]) return std::to_string(p[0]);
    std::string s("(");
    for (size_t c = 0; c < 3; ++c) s.append(c ? "," : "").append(std::to_string(p[c]));
    return s.append(")");
  };
  return "pad value " + text(theirs) + " vs " + text(ours);
}

void PadValueHypotheses(const Aligned& a, const CompareContext& ctx, std::vector<Candidate>& out) {
  if (!a.image || a.other_hw_swapped || !ctx.spec || !ctx.source) return;
  const GeometrySpec& g = ctx.spec->geometry;
  if (g.mode != GeometryMode::kLetterbox && g.mode != GeometryMode::kPadOnly) return;
  Transform t;
  try {
    t = ComputeTransform(g, ctx.source->width, ctx.source->height, a.w, a.h);
  } catch (const Error&) {
    return;  // no placement for this size: nothing to say where the pad is
  }
  const Rect& content = t.content;
  // The first pad pixel holds each side's pad value.
  std::optional<size_t> first;
  for (int y = 0; y < a.h && !first; ++y)
    for (int x = 0; x < a.w && !first; ++x)
      if (!InsideContent(content, x, y))
        first = (size_t(y) * size_t(a.w) + size_t(x)) * size_t(a.c);
  if (!first) return;
  std::vector<double> theirs(a.other.begin() + long(*first), a.other.begin() + long(*first + a.c));
  std::vector<double> ours(a.ref.begin() + long(*first), a.ref.begin() + long(*first + a.c));
  double tol = SameTolerance(a);
  bool differs = false;
  for (size_t c = 0; c < theirs.size(); ++c)
    differs = differs || std::abs(theirs[c] - ours[c]) > tol;
  if (!differs) return;

  std::vector<double> transformed = a.ref;
  for (int y = 0; y < a.h; ++y)
    for (int x = 0; x < a.w; ++x)
      if (!InsideContent(content, x, y))
        for (int c = 0; c < a.c; ++c)
          transformed[(size_t(y) * size_t(a.w) + size_t(x)) * size_t(a.c) + size_t(c)] =
              theirs[size_t(c)];
  Agreement whole = Agree(transformed, a.other, tol);
  PadSplit split = Split(a, content, theirs, tol);
  // The pad must be the other's constant everywhere and the content lockstep's: a thin pad
  // cannot hide a different placement behind the overall share.
  if (whole.share < kHolds || split.pad_share < kHolds || split.content_share < kHolds) return;

  auto their_px = PadPixels(a, ctx, theirs), our_px = PadPixels(a, ctx, ours);
  std::string description = their_px && our_px ? PadValueDescription(*their_px, *our_px)
                                               : "pad value " + ValuesText(theirs) + " vs " +
                                                     ValuesText(ours) + " (quantized values)";
  Candidate c;
  c.agreement = whole.share;
  c.residual = whole.max_diff;
  c.rank = 0;
  c.fingerprint = {
      "pad_value", description,
      "outside lockstep's content (" + std::to_string(content.width) + "x" +
          std::to_string(content.height) + " at (" + std::to_string(content.x) + "," +
          std::to_string(content.y) + "), from the spec's geometry and the " +
          std::to_string(ctx.source->width) + "x" + std::to_string(ctx.source->height) +
          " source) the other holds " + ValuesText(theirs) + ", lockstep's " + ValuesText(ours) +
          " (stage values); with lockstep's pad replaced by the other's, " + Percent(whole.share) +
          " of elements agree (content " + Percent(split.content_share) + ", pad " +
          Percent(split.pad_share) + " of " + std::to_string(split.pad_elements) +
          "), largest difference " + Num(whole.max_diff)};
  c.transformed = std::move(transformed);
  out.push_back(std::move(c));
}

}  // namespace lockstep::fingerprint
