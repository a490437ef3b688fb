// Hypotheses about the resized image: a different geometry (padded vs stretched, letterbox
// rounding or placement, a center crop) and a different resize dialect or interpolation. With
// the source image and lockstep's spec each alternative is re-run through lockstep's own
// preprocessing and compared; without them only the pad bands can speak.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>

#include "doctor/fingerprint.h"
#include "lockstep/image/decode.h"
#include "lockstep/pipeline/preprocess.h"

namespace lockstep::fingerprint {
namespace {

struct Score {
  double share = 0;  // elements within tolerance
  double mean_abs = 1e300, max_abs = 0;
};

// 8-bit results agree to the level; float dialects against 8-bit data to the rounding.
Score Compare(const std::vector<double>& a, const std::vector<double>& b, double tol) {
  Score s;
  if (a.size() != b.size() || a.empty()) return s;
  size_t ok = 0;
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double d = std::abs(a[i] - b[i]);
    if (d <= tol) ++ok;
    sum += d;
    s.max_abs = std::max(s.max_abs, d);
  }
  s.share = double(ok) / double(a.size());
  s.mean_abs = sum / double(a.size());
  return s;
}

// "Pillow bilinear", "OpenCV area", "tf.image.resize bilinear (antialias)".
std::string DialectName(const ResizeSpec& r) {
  std::string interp(Name(r.interpolation));
  switch (r.dialect) {
    case ResizeDialect::kOpenCV:
      return "OpenCV " + interp;
    case ResizeDialect::kPillow:
      return "Pillow " + interp;
    case ResizeDialect::kTf:
      return "tf.image.resize " + interp + (r.antialias ? " (antialias)" : "");
    case ResizeDialect::kTfLegacy:
      return std::string("tf.compat.v1 resize_bilinear") +
             (r.align_corners ? " (align_corners)" : "");
  }
  return "?";
}

std::vector<ResizeSpec> AllDialects() {
  using D = ResizeDialect;
  using I = Interpolation;
  return {{D::kOpenCV, I::kBilinear},
          {D::kOpenCV, I::kNearest},
          {D::kOpenCV, I::kArea},
          {D::kPillow, I::kBilinear},
          {D::kPillow, I::kNearest},
          {D::kPillow, I::kBicubic},
          {D::kTf, I::kBilinear},
          {D::kTf, I::kBilinear, true},
          {D::kTf, I::kArea},
          {D::kTfLegacy, I::kBilinear},
          {D::kTfLegacy, I::kBilinear, false, true}};
}

bool SameResize(const ResizeSpec& a, const ResizeSpec& b) {
  return a.dialect == b.dialect && a.interpolation == b.interpolation &&
         a.antialias == b.antialias && a.align_corners == b.align_corners;
}

bool SameGeometry(const GeometrySpec& a, const GeometrySpec& b) {
  if (a.mode != b.mode) return false;
  if (a.mode == GeometryMode::kLetterbox)
    return a.rounding == b.rounding && a.placement == b.placement && a.scale_up == b.scale_up;
  if (a.mode == GeometryMode::kPadOnly) return a.placement == b.placement;
  if (a.mode == GeometryMode::kCenterCrop) return a.crop_fraction == b.crop_fraction;
  return true;
}

std::string GeometryName(const GeometrySpec& g) {
  switch (g.mode) {
    case GeometryMode::kStretch:
      return "a stretch";
    case GeometryMode::kCenterCrop:
      return "a center crop";
    case GeometryMode::kPadOnly:
      return std::string("padded without resizing (") + std::string(Name(g.placement)) + ")";
    case GeometryMode::kLetterbox:
      return "a letterbox (" + std::string(Name(g.placement)) + ", " +
             std::string(Name(g.rounding)) + " rounding)";
  }
  return "?";
}

bool Pads(GeometryMode m) { return m == GeometryMode::kLetterbox || m == GeometryMode::kPadOnly; }

// The other geometries worth testing against the reference's.
std::vector<GeometrySpec> AlternativeGeometries(const GeometrySpec& ref) {
  std::vector<GeometrySpec> out;
  GeometrySpec g = ref;
  g.mode = GeometryMode::kStretch;
  out.push_back(g);
  for (Placement p : {Placement::kCenter, Placement::kTopLeft})
    for (LetterboxRounding r : {LetterboxRounding::kUltralytics, LetterboxRounding::kPycoral,
                                LetterboxRounding::kFloor, LetterboxRounding::kMediapipe}) {
      g = ref;
      g.mode = GeometryMode::kLetterbox;
      g.placement = p, g.rounding = r;
      out.push_back(g);
    }
  g = ref;
  g.mode = GeometryMode::kCenterCrop;
  g.crop_fraction = 1.0;
  out.push_back(g);
  for (Placement p : {Placement::kCenter, Placement::kTopLeft}) {
    g = ref;
    g.mode = GeometryMode::kPadOnly;
    g.placement = p;
    out.push_back(g);
  }
  std::erase_if(out, [&](const GeometrySpec& x) { return SameGeometry(x, ref); });
  return out;
}

// Re-runs lockstep's preprocessing with a changed spec, up to the compared stage.
class Rerun {
 public:
  Rerun(const Aligned& a, const CompareContext& ctx) : a_(a), ctx_(ctx) {}

  bool possible() const { return CanRerun(a_, ctx_); }

  std::optional<std::vector<double>> StageOf(const Spec& spec) const {
    return RerunStage(a_, ctx_, spec, *ctx_.source);
  }

  // The transform `g` gives, and the other tensor's pad value there (first pad pixel).
  Transform TransformOf(const GeometrySpec& g) const {
    return ComputeTransform(g, ctx_.source->width, ctx_.source->height, a_.w, a_.h);
  }

 private:
  const Aligned& a_;
  const CompareContext& ctx_;
};

// The other's value at the first pixel outside `content`, per channel, as the pad to test;
// `pixel` maps a stage value of channel c back to 0..255.
std::optional<std::array<int, 3>> PadOf(const Aligned& a, const Rect& content, bool reversed,
                                        const std::function<double(double, int)>& pixel) {
  for (int y = 0; y < a.h; ++y)
    for (int x = 0; x < a.w; ++x) {
      if (x >= content.x && x < content.x + content.width && y >= content.y &&
          y < content.y + content.height)
        continue;
      std::array<int, 3> pad{};
      for (int c = 0; c < std::min(a.c, 3); ++c) {
        double v = pixel(a.other[(size_t(y) * a.w + x) * size_t(a.c) + size_t(c)], c);
        if (!(v >= 0)) v = 0;  // NaN too
        pad[size_t(reversed ? std::min(a.c, 3) - 1 - c : c)] = int(std::lround(std::min(v, 255.0)));
      }
      if (a.c == 1) pad[1] = pad[2] = pad[0];
      return pad;
    }
  return std::nullopt;
}

// One pipeline to re-run: lockstep's spec with some of these changed.
struct Variant {
  GeometrySpec geometry;
  ResizeSpec resize;
  ChannelOrder order = ChannelOrder::kRgb;
  NormalizeSpec normalize;
  Transform transform;  // what the geometry gave
  Score score;
  // The quantized stage's own step, when not lockstep's: the zero point (forgotten: 0) and the
  // rounding (astype truncates, and wraps unless it saturates). Unset: lockstep's.
  std::optional<int64_t> zero_point;
  std::optional<Rounding> rounding;
  std::optional<bool> saturate;
};

std::string ContentText(const Transform& t, const std::array<int, 3>& pad, bool pads) {
  std::string s = "content " + std::to_string(t.content.width) + "x" +
                  std::to_string(t.content.height) + " at (" + std::to_string(t.content.x) + "," +
                  std::to_string(t.content.y) + ")";
  if (!pads) return s;
  s += ", pad ";
  if (pad[0] == pad[1] && pad[1] == pad[2]) return s + std::to_string(pad[0]);
  for (size_t c = 0; c < 3; ++c) s.append(c ? "," : "(").append(std::to_string(pad[c]));
  return s.append(")");
}

Fingerprint GeometryFingerprint(const GeometrySpec& ref, const Variant& t,
                                const std::string& rerun) {
  const GeometrySpec& g = t.geometry;
  std::string evidence = "the other is " + GeometryName(g) + " of the source (" +
                         ContentText(t.transform, g.pad_value, Pads(g.mode)) + "), lockstep's " +
                         GeometryName(ref) + ": " + rerun;
  if (Pads(g.mode) && !Pads(ref.mode))
    return {"padded_vs_stretched", "padded vs stretched", evidence};
  if (!Pads(g.mode) && Pads(ref.mode))
    return {"padded_vs_stretched",
            g.mode == GeometryMode::kCenterCrop ? "cropped vs padded" : "stretched vs padded",
            evidence};
  if (g.mode == GeometryMode::kLetterbox && ref.mode == GeometryMode::kLetterbox)
    return {"letterbox_placement", "different letterbox rounding / placement", evidence};
  if (g.mode == GeometryMode::kPadOnly || ref.mode == GeometryMode::kPadOnly)
    return {"letterbox_placement", "different pad placement", evidence};
  return {"different_geometry",
          g.mode == GeometryMode::kCenterCrop ? "cropped vs stretched" : "stretched vs cropped",
          evidence};
}

// Uniform bands along the edges: rows from the top/bottom and columns from the left/right whose
// every pixel equals the corner pixel.
struct Bands {
  int top = 0, bottom = 0, left = 0, right = 0;
  int vertical() const { return top + bottom; }
  int horizontal() const { return left + right; }
};

Bands BandsOf(const std::vector<double>& v, int h, int w, int c) {
  auto px = [&](int x, int y, int ch) { return v[(size_t(y) * w + x) * size_t(c) + size_t(ch)]; };
  auto row_uniform = [&](int y, int cx, int cy) {
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch)
        if (px(x, y, ch) != px(cx, cy, ch)) return false;
    return true;
  };
  auto col_uniform = [&](int x, int cx, int cy) {
    for (int y = 0; y < h; ++y)
      for (int ch = 0; ch < c; ++ch)
        if (px(x, y, ch) != px(cx, cy, ch)) return false;
    return true;
  };
  Bands b;
  while (b.top < h && row_uniform(b.top, 0, 0)) ++b.top;
  while (b.bottom < h - b.top && row_uniform(h - 1 - b.bottom, 0, h - 1)) ++b.bottom;
  while (b.left < w && col_uniform(b.left, 0, 0)) ++b.left;
  while (b.right < w - b.left && col_uniform(w - 1 - b.right, w - 1, 0)) ++b.right;
  return b;
}

// Without the source: a side with pad bands the other lacks was letterboxed.
// `why` says why nothing was re-run or what the re-runs found.
void PadBands(const Aligned& a, const std::string& why, std::vector<Candidate>& out) {
  Bands o = BandsOf(a.other, a.h, a.w, a.c), r = BandsOf(a.ref, a.h, a.w, a.c);
  // A band of two rows or more that covers all of the tensor is a flat image, not a pad.
  auto padded = [&](const Bands& b) {
    return (b.vertical() >= 2 && b.vertical() < a.h) ||
           (b.horizontal() >= 2 && b.horizontal() < a.w);
  };
  auto text = [](const Bands& b) {
    return b.vertical() >= b.horizontal() ? std::to_string(b.top) + " rows at the top, " +
                                                std::to_string(b.bottom) + " at the bottom"
                                          : std::to_string(b.left) + " columns at the left, " +
                                                std::to_string(b.right) + " at the right";
  };
  bool op = padded(o), rp = padded(r);
  if (op == rp) return;
  Candidate c;
  c.agreement = 0.5;  // a pattern, not a re-run: exact hypotheses rank first
  c.rank = 5;
  if (op)
    c.fingerprint = {"padded_vs_stretched", "padded vs stretched",
                     "the other has uniform pad bands (" + text(o) +
                         "), lockstep's has none (the pattern only: " + why + ")"};
  else
    c.fingerprint = {"padded_vs_stretched", "stretched vs padded",
                     "lockstep's has uniform pad bands (" + text(r) +
                         "), the other has none (the pattern only: " + why + ")"};
  out.push_back(c);
}

// Everything that decides a re-run's tensor.
std::string KeyOf(const Variant& v) {
  const Transform& t = v.transform;
  std::string k;
  for (double x : {double(t.crop.x), double(t.crop.y), double(t.crop.width), double(t.crop.height),
                   double(t.content.x), double(t.content.y), double(t.content.width),
                   double(t.content.height), t.origin_x, t.origin_y})
    k.append(Num(x)).append(1, ' ');
  for (int p : v.geometry.pad_value) k.append(std::to_string(p)).append(1, ' ');
  k.append(DialectName(v.resize)).append(1, ' ').append(Name(v.order));
  k.append(" zp").append(v.zero_point ? std::to_string(*v.zero_point) : "=");
  k.append(" r").append(v.rounding ? Name(*v.rounding) : "=");
  k.append(" s").append(v.saturate ? std::to_string(int(*v.saturate)) : "=");
  for (size_t c = 0; c < 3; ++c)
    k.append(1, ' ')
        .append(Num(v.normalize.mean[c]))
        .append(1, '/')
        .append(Num(v.normalize.std[c]));
  return k;
}

// The re-runs of one comparison: what they are compared with, the budget left and each
// distinct pipeline's result (nullopt while running or when it failed).
struct Trials {
  const Aligned& a;
  const Spec& spec;
  const Rerun& rerun;
  bool quantized;
  double scale, zp;
  int budget;
  std::map<std::string, std::optional<Variant>> seen;
};

// The pad value the other tensor shows where `v`'s geometry leaves no content.
std::optional<std::array<int, 3>> PadOfVariant(const Trials& trials, const Variant& v) {
  const Aligned& a = trials.a;
  bool float_dialect =
      v.resize.dialect == ResizeDialect::kTf || v.resize.dialect == ResizeDialect::kTfLegacy;
  bool bgr = a.c == 3 && v.order == ChannelOrder::kBgr;
  // The resized trace of an 8-bit dialect is in the model's channel order, the float one in
  // the source's; later stages are in the model's.
  bool reversed = bgr && !(a.stage == StageKind::kResized && float_dialect);
  auto pixel = [&](double x, int c) {
    size_t k = size_t(std::min(c, 2));
    if (a.stage == StageKind::kResized) return x;
    if (trials.quantized) x = (x - trials.zp) * trials.scale;
    return x * v.normalize.std[k] + v.normalize.mean[k];
  };
  return PadOf(a, v.transform.content, reversed, pixel);
}

// Tolerance: one pixel level in the stage's units (8-bit data agree to the level: an
// off-by-one from a rounding step is allowed, a real interpolation difference is not on
// 99.9% of pixels); float data of a float dialect to float noise.
double ToleranceOf(const Trials& trials, const Variant& v) {
  const Aligned& a = trials.a;
  // The finer of the two normalizations' levels: a coarse variant must not widen it.
  double level = 0;
  for (size_t k = 0; k < 3; ++k)
    level = std::max(level, std::min(1 / v.normalize.std[k], 1 / trials.spec.normalize.std[k]) /
                                (trials.quantized ? trials.scale : 1));
  return a.stage == StageKind::kResized ? (a.other_integer ? 1.0 : 1e-3)
         : trials.quantized             ? std::max(1.0, level)
                                        : level + 1e-4;
}

// Re-runs `v` and scores it against the other tensor; nullopt when it does not apply, failed
// or the budget is spent.
std::optional<Variant> Evaluate(Trials& trials, Variant v) {
  if (trials.budget <= 0) return std::nullopt;
  try {
    v.transform = trials.rerun.TransformOf(v.geometry);
  } catch (const Error&) {
    return std::nullopt;
  }
  if (v.transform.content != Rect{0, 0, trials.a.w, trials.a.h})
    if (auto pad = PadOfVariant(trials, v)) v.geometry.pad_value = *pad;
  // Geometries that place the image identically (letterbox roundings that agree on this
  // size) give the same tensor: run each distinct pipeline once.
  std::string key = KeyOf(v);
  if (auto it = trials.seen.find(key); it != trials.seen.end()) {
    if (!it->second) return std::nullopt;
    Variant same = *it->second;
    same.geometry = v.geometry;
    return same;
  }
  trials.seen[key] = std::nullopt;
  Spec s = trials.spec;
  s.geometry = v.geometry, s.resize = v.resize, s.input.channel_order = v.order;
  s.normalize = v.normalize;
  if (v.rounding) s.tensor.rounding = *v.rounding;
  if (v.saturate) s.tensor.saturate = *v.saturate;
  s.tensor.zero_point = v.zero_point.value_or(int64_t(trials.zp));
  --trials.budget;
  auto values = trials.rerun.StageOf(s);
  if (!values) return std::nullopt;
  // A float dialect's resize stored as bytes was rounded on the way: compared unrounded, every
  // value is off by up to half a level and an 8-bit dialect that is merely close (Pillow's
  // bilinear against tf's antialiased one) would look closer than the right one.
  bool float_dialect =
      v.resize.dialect == ResizeDialect::kTf || v.resize.dialect == ResizeDialect::kTfLegacy;
  if (trials.a.stage == StageKind::kResized && trials.a.other_integer && float_dialect)
    for (double& x : *values) x = std::nearbyint(x);
  v.score = Compare(*values, trials.a.other, ToleranceOf(trials, v));
  trials.seen[key] = v;
  return v;
}

bool Better(const Variant& x, const Variant& y) {
  if ((x.score.share >= kHolds) != (y.score.share >= kHolds)) return x.score.share >= kHolds;
  return x.score.mean_abs < y.score.mean_abs;
}

bool Exact(const std::optional<Variant>& v) {
  return v && v->score.share == 1 && v->score.max_abs < 1e-6;
}

// The alternatives of each field (geometry, resize, channel order, normalization), as
// changes to a variant.
using Change = std::function<void(Variant&)>;

// The fields a re-run varies, each with its own alternatives.
enum Field : size_t {
  kGeometryField,
  kResizeField,
  kOrderField,
  kNormalizeField,
  kQuantizeField,
  kFields
};

std::vector<std::vector<Change>> AlternativesByField(const Aligned& a, const Spec& spec,
                                                     const CompareContext& ctx) {
  std::vector<std::vector<Change>> fields(kFields);
  for (const GeometrySpec& g : AlternativeGeometries(spec.geometry))
    fields[kGeometryField].push_back([g](Variant& v) { v.geometry = g; });
  for (const ResizeSpec& r : AllDialects())
    if (!SameResize(r, spec.resize))
      fields[kResizeField].push_back([r](Variant& v) { v.resize = r; });
  if (a.c == 3)
    fields[kOrderField].push_back([](Variant& v) {
      v.order = v.order == ChannelOrder::kRgb ? ChannelOrder::kBgr : ChannelOrder::kRgb;
    });
  if (a.stage != StageKind::kResized)
    for (const auto& [name, n] : NamedNormalizations())
      if (NormalizationName(n) != NormalizationName(spec.normalize))
        fields[kNormalizeField].push_back([n](Variant& v) { v.normalize = n; });
  // The quantize step itself, as the quantized integer tensor shows it.
  if (a.stage == StageKind::kQuantized && a.ref_integer) {
    if (ctx.zero_point.value_or(0) != 0)
      fields[kQuantizeField].push_back([](Variant& v) {
        v.zero_point = v.zero_point ? std::nullopt : std::optional<int64_t>(0);
      });
    if (spec.tensor.rounding != Rounding::kTruncate) {
      fields[kQuantizeField].push_back([](Variant& v) {
        v.rounding = Rounding::kTruncate;
        v.saturate = false;  // astype
      });
      fields[kQuantizeField].push_back([](Variant& v) { v.rounding = Rounding::kTruncate; });
    }
  }
  return fields;
}

// The best variant overall and the best of each field's alternatives.
struct Found {
  std::optional<Variant> best;
  std::vector<std::optional<Variant>> best_of;
};

// One change at a time first: single mistakes are the common case. Cheap and common fields
// first; stop at an exact reproduction.
Found TryEachChange(Trials& trials, const Variant& start,
                    const std::vector<std::vector<Change>>& fields) {
  Found found;
  found.best_of.resize(fields.size());
  for (size_t f : {kOrderField, kQuantizeField, kNormalizeField, kGeometryField, kResizeField})
    for (const Change& change : fields[f]) {
      if (Exact(found.best)) break;
      Variant v = start;
      change(v);
      if (auto r = Evaluate(trials, v)) {
        if (!found.best_of[f] || Better(*r, *found.best_of[f])) found.best_of[f] = r;
        if (!found.best || Better(*r, *found.best)) found.best = r;
      }
    }
  return found;
}

// Several mistakes at once: descend field by field on the mean difference while each step
// helps, until the variant reproduces the other or the budget ends.
Variant DescendFieldByField(Trials& trials, Variant current,
                            const std::vector<std::vector<Change>>& fields) {
  for (int pass = 0; pass < 3 && current.score.share < kHolds && trials.budget > 0; ++pass) {
    bool moved = false;
    for (size_t f = 0; f < fields.size() && current.score.share < kHolds; ++f) {
      std::optional<Variant> step;
      for (const Change& change : fields[f]) {
        Variant v = current;
        change(v);
        auto r = Evaluate(trials, v);
        if (r && Better(*r, step ? *step : current)) step = r;
      }
      if (step && step->score.mean_abs < 0.98 * current.score.mean_abs) {
        current = *step;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return current;
}

// "X, Y and Z".
std::string JoinedList(const std::vector<std::string>& parts) {
  std::string joined;
  for (size_t i = 0; i < parts.size(); ++i)
    joined += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
  return joined;
}

// A variant that reproduces the other: one candidate per field it changed.
// What one field's best change does alone, for a combination's part: "alone it takes the mean
// difference from 81.9 to 4.0 (95% of what the joint re-run removes)". Empty for one part.
std::string AloneText(const Found& found, size_t field, const Variant& self, const Variant& best,
                      size_t parts) {
  if (parts < 2 || field >= found.best_of.size() || !found.best_of[field]) return "";
  const double removed = self.score.mean_abs - best.score.mean_abs;
  if (removed <= 0) return "";
  const double alone = self.score.mean_abs - found.best_of[field]->score.mean_abs;
  return "; alone this change takes the mean difference from " + Fixed(self.score.mean_abs, 2) +
         " to " + Fixed(found.best_of[field]->score.mean_abs, 2) + " (" +
         Percent(std::clamp(alone / removed, 0.0, 1.0)) + " of what the joint re-run removes)";
}

void ReportReproduction(const Spec& spec, const Found& found, const Variant& self,
                        double trials_zero_point, std::vector<Candidate>& out) {
  const Variant& best = *found.best;
  bool geometry_changed = !SameGeometry(best.geometry, spec.geometry);
  // Two pad geometries that place the content identically differ in the pad alone (another
  // letterbox rounding that agrees on this size is no evidence of a rounding difference).
  bool same_placement = Pads(best.geometry.mode) && Pads(spec.geometry.mode) &&
                        best.transform.content == self.transform.content &&
                        best.transform.crop == self.transform.crop;
  if (same_placement) geometry_changed = false;
  bool pad_changed = same_placement && best.geometry.pad_value != spec.geometry.pad_value;
  bool resize_changed = !SameResize(best.resize, spec.resize);
  bool order_changed = best.order != spec.input.channel_order;
  bool normalize_changed = NormalizationName(best.normalize) != NormalizationName(spec.normalize);
  bool zero_point_changed = best.zero_point.has_value();
  bool rounding_changed = best.rounding.has_value();
  std::string measure = Percent(best.score.share) + " of elements within one level (mean abs " +
                        "difference " + Fixed(best.score.mean_abs, 4) +
                        "; with lockstep's own settings " + Percent(self.score.share) + ", " +
                        Fixed(self.score.mean_abs, 4) + ")";
  std::vector<std::string> parts;
  if (geometry_changed) parts.push_back(GeometryName(best.geometry));
  if (pad_changed) parts.push_back("the other's pad value");
  if (order_changed) parts.push_back(std::string(Name(best.order)) + " channel order");
  if (normalize_changed) parts.push_back(NormalizationName(best.normalize) + " normalization");
  if (resize_changed) parts.push_back(DialectName(best.resize));
  if (zero_point_changed) parts.push_back("zero point " + std::to_string(*best.zero_point));
  if (rounding_changed)
    parts.push_back(best.saturate == false ? "astype (truncation, wrapping)" : "truncation");
  std::string rerun_text =
      "lockstep's pipeline re-run with " + JoinedList(parts) + " reproduces it at " + measure;
  auto alone = [&](size_t field) { return AloneText(found, field, self, best, parts.size()); };
  Candidate c;
  c.agreement = best.score.share;
  c.residual = best.score.max_abs;
  c.joint = parts.size() > 1 ? 1 : 0;
  // A combination's parts in the order of the data flow.
  c.rank = 1;
  if (geometry_changed) {
    c.fingerprint = GeometryFingerprint(spec.geometry, best, rerun_text + alone(kGeometryField));
    out.push_back(c);
    ++c.rank;
  }
  if (pad_changed) {
    c.fingerprint = {"pad_value",
                     PadValueDescription(best.geometry.pad_value, spec.geometry.pad_value),
                     "the content is placed as lockstep places it (" +
                         ContentText(best.transform, best.geometry.pad_value, true) +
                         "), only the pad differs: " + rerun_text + alone(kGeometryField)};
    out.push_back(c);
    ++c.rank;
  }
  if (order_changed) {
    c.fingerprint = {"channels_swapped", "channels swapped (RGB/BGR)",
                     "the other is " + std::string(Name(best.order)) + ", lockstep's " +
                         std::string(Name(spec.input.channel_order)) + ": " + rerun_text +
                         alone(kOrderField)};
    out.push_back(c);
    ++c.rank;
  }
  if (normalize_changed) {
    std::string theirs = NormalizationName(best.normalize),
                ours = NormalizationName(spec.normalize);
    c.fingerprint = {"normalization_range", theirs + " vs " + ours,
                     "the other is normalized to " + theirs + ", lockstep's to " + ours + ": " +
                         rerun_text + alone(kNormalizeField)};
    out.push_back(c);
    ++c.rank;
  }
  if (resize_changed) {
    c.fingerprint = {"interpolation",
                     "different interpolation: looks like " + DialectName(best.resize),
                     "lockstep's resize is " + DialectName(spec.resize) + "; " + rerun_text +
                         alone(kResizeField)};
    out.push_back(c);
    ++c.rank;
  }
  if (zero_point_changed) {
    c.fingerprint = {
        "zero_point_offset",
        "off by the zero point (quantized with " + std::to_string(*best.zero_point) + ")",
        "the other quantizes with zero point " + std::to_string(*best.zero_point) +
            ", the model's is " + Num(trials_zero_point) + ": " + rerun_text +
            alone(kQuantizeField)};
    out.push_back(c);
    ++c.rank;
  }
  if (rounding_changed) {
    c.fingerprint = {"truncation_vs_rounding", "truncation vs rounding",
                     "the other truncates (" +
                         std::string(best.saturate == false ? "astype: no clipping" : "clipped") +
                         "), lockstep rounds " + std::string(Name(spec.tensor.rounding)) + ": " +
                         rerun_text + alone(kQuantizeField)};
    out.push_back(c);
    ++c.rank;
  }
}

// Nothing reproduces it: name the closest dialect only when it alone is much closer than
// lockstep's own settings, as a likeness rather than a verdict. False when none is.
bool ReportClosestDialect(const Found& found, const Variant& self, std::vector<Candidate>& out) {
  const auto& resize_only = found.best_of[1];
  bool much_closer =
      resize_only && resize_only->score.mean_abs < 0.5 * self.score.mean_abs &&
      (!found.best_of[0] || resize_only->score.mean_abs <= found.best_of[0]->score.mean_abs);
  if (!much_closer) return false;
  Candidate c;
  c.agreement = resize_only->score.share * 0.5;
  c.residual = resize_only->score.max_abs;
  c.rank = 6;
  c.fingerprint = {"interpolation",
                   "different interpolation: closest to " + DialectName(resize_only->resize),
                   "no re-run reproduces it; " + DialectName(resize_only->resize) +
                       " comes closest: " + Percent(resize_only->score.share) +
                       " of elements within one level, mean abs difference " +
                       Fixed(resize_only->score.mean_abs, 4) + " (lockstep's own settings " +
                       Fixed(self.score.mean_abs, 4) + ")"};
  out.push_back(c);
  return true;
}

}  // namespace

bool CanRerun(const Aligned& a, const CompareContext& ctx) {
  return a.stage != StageKind::kQuantized || !a.ref_integer || (ctx.scale && *ctx.scale > 0);
}

std::optional<std::vector<double>> RerunStage(const Aligned& a, const CompareContext& ctx,
                                              Spec spec, const Image& source) {
  if (!CanRerun(a, ctx)) return std::nullopt;
  ModelInput input;
  input.width = a.w, input.height = a.h, input.channels = a.c;
  input.dtype = DType::kFloat32;
  spec.tensor.width = a.w, spec.tensor.height = a.h;
  spec.tensor.layout = Layout::kNhwc;
  spec.tensor.dtype = DType::kFloat32;
  // A zero point the caller set is the other's (a hypothesis); the model's otherwise.
  const std::optional<int64_t> other_zero_point = spec.tensor.zero_point;
  spec.tensor.scale.reset(), spec.tensor.zero_point.reset();
  if (a.stage == StageKind::kQuantized && a.ref_integer) {
    spec.tensor.dtype = input.dtype = a.ref_dtype;
    spec.tensor.scale = input.scale = *ctx.scale;
    input.zero_point = ctx.zero_point.value_or(0);
    spec.tensor.zero_point = other_zero_point.value_or(input.zero_point);
  }
  std::string name(Name(a.stage));
  try {
    Preprocessed p = Preprocess(source, spec, input, {.trace = true, .fused = false});
    for (const Stage& s : p.trace)
      if (s.name == name) return Values(s.data, "re-run");
  } catch (const Error&) {
    // An alternative that does not apply (pad_only with a larger image, ...).
  }
  return std::nullopt;
}

int ResizeHypotheses(const Aligned& a, const CompareContext& ctx, std::vector<Candidate>& out) {
  if (!a.image || a.c > 3) return 0;
  if (!ctx.source || !ctx.spec || ctx.rerun_budget <= 0) {
    PadBands(a, "without the source image and spec nothing can be re-run", out);
    return 0;
  }
  Rerun rerun(a, ctx);
  const Spec& spec = *ctx.spec;
  // The re-run must reproduce lockstep's own tensor, or it says nothing about the other.
  auto own = rerun.possible() ? rerun.StageOf(spec) : std::nullopt;
  if (!own || Compare(*own, a.ref, 1e-3).share < 1) {
    PadBands(a, "lockstep's pipeline re-run on the source does not reproduce its own tensor", out);
    return own ? 1 : 0;
  }
  Trials trials{a,
                spec,
                rerun,
                a.stage == StageKind::kQuantized && a.ref_integer,
                ctx.scale.value_or(1),
                double(ctx.zero_point.value_or(0)),
                ctx.rerun_budget - 1,
                {}};
  Variant start{spec.geometry, spec.resize, spec.input.channel_order, spec.normalize, {}, {}};
  auto spent = [&] { return ctx.rerun_budget - trials.budget; };
  std::optional<Variant> self = Evaluate(trials, start);
  if (!self) return spent();

  const std::vector<std::vector<Change>> fields = AlternativesByField(a, spec, ctx);
  Found found = TryEachChange(trials, start, fields);
  if (!found.best || found.best->score.share < kHolds) {
    // From the best single change: the first cause undone, what is left is searched.
    Variant current = DescendFieldByField(trials, found.best ? *found.best : *self, fields);
    if (!found.best || Better(current, *found.best)) found.best = current;
  }
  // Within one level is not exact: a truncating quantize sits inside that tolerance. Try the
  // quantize alternatives on top, and keep one only when it makes the reproduction exact.
  if (found.best->score.share >= kHolds && !Exact(found.best))
    for (const Change& change : fields[kQuantizeField]) {
      Variant v = *found.best;
      change(v);
      if (auto r = Evaluate(trials, v); Exact(r)) {
        found.best = r;
        break;
      }
    }
  if (found.best->score.share >= kHolds) {
    ReportReproduction(spec, found, *self, trials.zp, out);
    return spent();
  }
  if (!ReportClosestDialect(found, *self, out))
    PadBands(a, "no re-run of lockstep's pipeline reproduces the other", out);
  return spent();
}

}  // namespace lockstep::fingerprint
