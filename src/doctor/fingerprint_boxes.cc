// Hypotheses about detection boxes ([N,4]; lockstep's are xmin, ymin, xmax, ymax in source
// pixels): boxes left in model-input coordinates (not un-letterboxed), normalized to [0,1]
// instead of pixels, (y,x) instead of (x,y) order, mapped back as if the letterboxed input had
// been stretched, or scaled with the image's width and height exchanged — alone or together,
// each tested by mapping lockstep's boxes the suspected way. Real code clips boxes to the image
// and a few boxes may differ for reasons of their own: a frame holds when 90% of the boxes
// agree, as they are or clamped.
#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

#include "doctor/fingerprint.h"
#include "lockstep/pipeline/geometry.h"

namespace lockstep::fingerprint {
namespace {

using BoxMap = std::function<Box(const Box&)>;

struct Frame {
  std::string name;  // what the other's coordinates would be
  BoxMap map;        // lockstep's box → that frame
  double tolerance;  // one source pixel in that frame
  bool normalized, model_input;
  // The extent boxes are clamped to in that frame (real code clips boxes to the image).
  double bound_w = 0, bound_h = 0;
  // A mapping mistake of its own (code and description); empty for the frames above, which
  // the flags name.
  std::string code = {}, description = {};
};

// Share of boxes that must agree for a frame to hold: real detections include a few boxes the
// other side treats differently (a clipped sliver, a box at the border), a second mistake
// moves most of them.
constexpr double kBoxesHold = 0.9;

Box Yx(const Box& b) { return {b.ymin, b.xmin, b.ymax, b.xmax}; }

// Lockstep's box i, in (y,x) order when `yx`.
Box RefBox(const Aligned& a, size_t i, bool yx) {
  Box b{a.ref[4 * i], a.ref[4 * i + 1], a.ref[4 * i + 2], a.ref[4 * i + 3]};
  return yx ? Yx(b) : b;
}

// The model-input frames (pixels and [0,1]), and the source pixels a letterboxed box reaches
// when it is mapped back as if the input had been stretched, when the spec's geometry gives a
// transform for the source and input sizes.
void AddModelInputFrames(const CompareContext& ctx, std::vector<Frame>& frames) {
  int iw = ctx.input_width ? ctx.input_width : ctx.spec ? ctx.spec->tensor.width : 0;
  int ih = ctx.input_height ? ctx.input_height : ctx.spec ? ctx.spec->tensor.height : 0;
  if (!ctx.spec || iw <= 0 || ih <= 0) return;
  try {
    Transform t =
        ComputeTransform(ctx.spec->geometry, ctx.source->width, ctx.source->height, iw, ih);
    auto forward = [t](const Box& b) {
      Point p = t.Forward({b.xmin, b.ymin}), q = t.Forward({b.xmax, b.ymax});
      return Box{p.x, p.y, q.x, q.y};
    };
    double px = std::max(t.scale_x, t.scale_y);  // one source pixel in input pixels
    frames.push_back({"model-input pixels (" + std::to_string(iw) + "x" + std::to_string(ih) + ")",
                      forward, std::max(1.0, px), false, true, double(iw), double(ih)});
    frames.push_back({"[0,1] of the model input",
                      [forward, iw, ih](const Box& b) {
                        Box f = forward(b);
                        return Box{f.xmin / iw, f.ymin / ih, f.xmax / iw, f.ymax / ih};
                      },
                      std::max(1.0, px) / std::max(iw, ih), true, true, 1, 1});
    if (t.content == Rect{0, 0, iw, ih}) return;  // no pad: a stretch maps back the same
    double sx = double(ctx.source->width) / iw, sy = double(ctx.source->height) / ih;
    frames.push_back({"source pixels mapped back as if stretched (x·" + Fixed(sx, 3) + ", y·" +
                          Fixed(sy, 3) + " from the letterboxed input)",
                      [forward, sx, sy](const Box& b) {
                        Box f = forward(b);
                        return Box{f.xmin * sx, f.ymin * sy, f.xmax * sx, f.ymax * sy};
                      },
                      1.0, false, false, double(ctx.source->width), double(ctx.source->height),
                      "boxes_stretched_after_letterbox",
                      "boxes mapped back as if stretched after a letterbox"});
  } catch (const Error&) {
    // No transform for this geometry and size: the model-input frames are not testable.
  }
}

// The frames the other's boxes may be in, simplest first.
std::vector<Frame> CandidateFrames(const CompareContext& ctx) {
  std::vector<Frame> frames;
  // One pixel of tolerance: the other side may round or clamp its boxes.
  frames.push_back({"source pixels", [](const Box& b) { return b; }, 1.0, false, false});
  if (!ctx.source) return frames;
  double w = ctx.source->width, h = ctx.source->height;
  frames.push_back({"[0,1] of the source",
                    [w, h](const Box& b) {
                      return Box{b.xmin / w, b.ymin / h, b.xmax / w, b.ymax / h};
                    },
                    1.0 / std::max(w, h), true, false, 1, 1});
  // [0,1] boxes scaled back with the sizes exchanged: x·H, y·W.
  if (w != h)
    frames.push_back({"source pixels scaled by the exchanged sizes (x/" + Num(w) + "·" + Num(h) +
                          ", y/" + Num(h) + "·" + Num(w) + ")",
                      [w, h](const Box& b) {
                        return Box{b.xmin / w * h, b.ymin / h * w, b.xmax / w * h, b.ymax / h * w};
                      },
                      1.0, false, false, w, h, "box_scales_swapped",
                      "box x/y scales swapped (x·H, y·W)"});
  AddModelInputFrames(ctx, frames);
  return frames;
}

// How many of lockstep's boxes, mapped into `f`, agree with the other's within its tolerance,
// as they are or clamped to the frame; the largest difference among those that agree.
struct FrameFit {
  size_t agree = 0;
  double worst = 0;
  std::vector<double> mapped;  // lockstep's boxes in the frame, as the other's rows
};

FrameFit Fit(const Aligned& a, const Frame& f, bool yx) {
  const size_t n = a.ref.size() / 4;
  FrameFit fit;
  fit.mapped.reserve(4 * n);
  for (size_t i = 0; i < n; ++i) {
    Box e = f.map(RefBox(a, i, false));
    Box clamped = e;
    if (f.bound_w > 0) {
      clamped.xmin = std::clamp(e.xmin, 0.0, f.bound_w);
      clamped.xmax = std::clamp(e.xmax, 0.0, f.bound_w);
      clamped.ymin = std::clamp(e.ymin, 0.0, f.bound_h);
      clamped.ymax = std::clamp(e.ymax, 0.0, f.bound_h);
    }
    if (yx) e = Yx(e), clamped = Yx(clamped);
    double row_worst[2] = {0, 0};
    int k = 0;
    for (const Box& b : {e, clamped}) {
      const double ev[4] = {b.xmin, b.ymin, b.xmax, b.ymax};
      for (size_t j = 0; j < 4; ++j)
        row_worst[k] = std::max(row_worst[k], std::abs(a.other[4 * i + j] - ev[j]));
      ++k;
    }
    const Box& kept = row_worst[1] < row_worst[0] ? clamped : e;
    fit.mapped.insert(fit.mapped.end(), {kept.xmin, kept.ymin, kept.xmax, kept.ymax});
    double d = std::min(row_worst[0], row_worst[1]);
    if (d <= f.tolerance) {
      ++fit.agree;
      fit.worst = std::max(fit.worst, d);
    }
  }
  return fit;
}

// One candidate per part of the frame that holds, most consequential first.
void ReportFrame(const Frame& f, bool yx, size_t n, const FrameFit& fit, bool letterbox,
                 std::vector<Candidate>& out) {
  Candidate c;
  c.agreement = double(fit.agree) / double(n);
  c.residual = fit.worst;
  c.transformed = fit.mapped;
  std::string how = "mapping lockstep's boxes to " + f.name + (yx ? " in (y,x) order" : "") +
                    " reproduces " + std::to_string(fit.agree) + " of the other's " +
                    std::to_string(n) + " boxes (as they are or clamped to the image) to " +
                    Fixed(fit.worst, 4) + " (tolerance " + Fixed(f.tolerance, 4) + ")";
  c.rank = 0;
  if (!f.code.empty()) {
    c.fingerprint = {f.code, f.description, how};
    out.push_back(c);
    ++c.rank;
  }
  if (f.model_input) {
    c.fingerprint = {"boxes_not_unletterboxed",
                     letterbox ? "boxes not un-letterboxed" : "boxes not scaled back to the source",
                     "the other's boxes are in model-input coordinates: " + how};
    out.push_back(c);
    ++c.rank;
  }
  if (f.normalized) {
    c.fingerprint = {"normalized_vs_pixel_boxes", "normalized vs pixel boxes",
                     "the other's boxes are in [0,1], lockstep's in pixels: " + how};
    out.push_back(c);
    ++c.rank;
  }
  if (yx) {
    c.fingerprint = {"yx_vs_xy_order", "(y,x) vs (x,y) order",
                     "the other's boxes are ymin,xmin,ymax,xmax, lockstep's "
                     "xmin,ymin,xmax,ymax: " +
                         how};
    out.push_back(c);
  }
}

// A per-axis scale from the other's boxes (inside [0,1]) to lockstep's, and how far apart they
// are under it.
struct InferredScale {
  double sx = 0, sy = 0, worst = 0;
};

// The mean ratio per axis; nullopt when the other's boxes are not inside [0,1], a ratio has no
// sample, or the scale is no image size (pixels, not already [0,1]) or leaves a box more than
// a pixel off.
std::optional<InferredScale> InferScale(const Aligned& a, bool yx) {
  const size_t n = a.ref.size() / 4;
  bool inside = true;
  double sx = 0, sy = 0, cx = 0, cy = 0;
  for (size_t i = 0; i < n; ++i) {
    Box r = RefBox(a, i, yx);
    const double rv[4] = {r.xmin, r.ymin, r.xmax, r.ymax};
    for (size_t k = 0; k < 4; ++k) {
      double o = a.other[4 * i + k];
      inside = inside && o >= -0.01 && o <= 1.01;
      if (std::abs(o) > 1e-3) {
        (k % 2 == 0 ? sx : sy) += rv[k] / o;
        (k % 2 == 0 ? cx : cy) += 1;
      }
    }
  }
  if (!inside || !cx || !cy) return std::nullopt;
  sx /= cx, sy /= cy;
  bool ok = sx > 1.5 && sy > 1.5;
  double worst = 0;
  for (size_t i = 0; i < n && ok; ++i) {
    Box r = RefBox(a, i, yx);
    const double rv[4] = {r.xmin, r.ymin, r.xmax, r.ymax};
    for (size_t k = 0; k < 4; ++k) {
      double d = std::abs(a.other[4 * i + k] * (k % 2 == 0 ? sx : sy) - rv[k]);
      worst = std::max(worst, d);
      ok = ok && d <= 1.0;
    }
  }
  if (!ok) return std::nullopt;
  return InferredScale{sx, sy, worst};
}

void ReportInferredScale(const InferredScale& s, bool yx, std::vector<Candidate>& out) {
  Candidate c;
  c.agreement = 1;
  c.residual = s.worst;
  std::string how = "scaled by " + Fixed(s.sx, 1) + " x " + Fixed(s.sy, 1) +
                    " (the image size, inferred: no source image given) they agree to " +
                    Fixed(s.worst, 3) + " pixels";
  c.fingerprint = {"normalized_vs_pixel_boxes", "normalized vs pixel boxes",
                   "the other's boxes are in [0,1], lockstep's in pixels: " + how};
  out.push_back(c);
  if (yx) {
    c.rank = 1;
    c.fingerprint = {"yx_vs_xy_order", "(y,x) vs (x,y) order",
                     "the other's boxes are ymin,xmin,ymax,xmax: " + how};
    out.push_back(c);
  }
}

}  // namespace

void BoxHypotheses(const Aligned& a, const CompareContext& ctx, std::vector<Candidate>& out) {
  const size_t n = a.ref.size() / 4;
  if (n == 0 || a.ref.size() != a.other.size()) return;
  bool letterbox = ctx.spec && (ctx.spec->geometry.mode == GeometryMode::kLetterbox ||
                                ctx.spec->geometry.mode == GeometryMode::kPadOnly);
  const std::vector<Frame> frames = CandidateFrames(ctx);
  // A mapping holds when it explains at least kBoxesHold of the boxes and more than equality
  // does (a few outliers must not make a frame that is the identity here look like a cause).
  const size_t plain = Fit(a, frames.front(), false).agree;
  const size_t needed = size_t(std::ceil(kBoxesHold * double(n) - 1e-9));
  std::optional<std::pair<size_t, bool>> best;  // frame index, yx
  FrameFit best_fit;
  for (size_t i = 0; i < frames.size(); ++i)
    for (bool yx : {false, true}) {
      if (i == 0 && !yx) continue;  // identity: not a hypothesis
      FrameFit fit = Fit(a, frames[i], yx);
      if (fit.agree < needed || fit.agree <= plain) continue;
      // Simplest first: a later frame must explain more boxes to win.
      if (!best || fit.agree > best_fit.agree) best = {i, yx}, best_fit = std::move(fit);
    }
  if (best) {
    ReportFrame(frames[best->first], best->second, n, best_fit, letterbox, out);
    return;
  }

  // Without the source size: a consistent per-axis scale with the other inside [0,1].
  if (ctx.source) return;
  for (bool yx : {false, true}) {
    if (auto scale = InferScale(a, yx)) {
      ReportInferredScale(*scale, yx, out);
      return;
    }
  }
}

}  // namespace lockstep::fingerprint
