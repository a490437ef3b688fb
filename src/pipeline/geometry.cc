#include "lockstep/pipeline/geometry.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

// Python 3's round(): ties to even, as Ultralytics computes its letterbox with it.
int PyRound(double v) { return static_cast<int>(std::nearbyint(v)); }

// Splits `pad` pixels into (before, after) by the spec's placement and rounding.
std::pair<int, int> SplitPad(int pad, const GeometrySpec& g) {
  if (g.placement == Placement::kTopLeft) return {0, pad};
  double half = pad / 2.0;
  if (g.rounding == LetterboxRounding::kUltralytics) {
    // top = round(dh - 0.1), bottom = round(dh + 0.1): the odd pixel goes after.
    return {PyRound(half - 0.1), PyRound(half + 0.1)};
  }
  int before = pad / 2;
  return {before, pad - before};
}

std::string Size(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

}  // namespace

Point Transform::Forward(Point p) const {
  return {(p.x - crop.x) * scale_x + origin_x, (p.y - crop.y) * scale_y + origin_y};
}

Point Transform::Inverse(Point p) const {
  return {(p.x - origin_x - inverse_shift_x) / scale_x + crop.x,
          (p.y - origin_y - inverse_shift_y) / scale_y + crop.y};
}

Box Transform::Inverse(const Box& b) const {
  Point a = Inverse(Point{b.xmin, b.ymin}), c = Inverse(Point{b.xmax, b.ymax});
  return {a.x, a.y, c.x, c.y};
}

Transform ComputeTransform(const GeometrySpec& g, int sw, int sh, int tw, int th) {
  if (sw <= 0 || sh <= 0 || tw <= 0 || th <= 0)
    throw Error("", "geometry", "positive image and input sizes",
                "image " + Size(sw, sh) + ", input " + Size(tw, th));
  Transform t;
  t.source_width = sw, t.source_height = sh, t.target_width = tw, t.target_height = th;
  t.crop = {0, 0, sw, sh};
  switch (g.mode) {
    case GeometryMode::kStretch:
      t.content = {0, 0, tw, th};
      t.scale_x = double(tw) / sw, t.scale_y = double(th) / sh;
      break;
    case GeometryMode::kLetterbox: {
      double r = std::min(double(tw) / sw, double(th) / sh);
      if (!g.scale_up) r = std::min(r, 1.0);
      int nw = 0, nh = 0;
      switch (g.rounding) {
        case LetterboxRounding::kUltralytics:
          nw = PyRound(sw * r), nh = PyRound(sh * r);
          break;
        case LetterboxRounding::kPycoral:
          nw = static_cast<int>(sw * r), nh = static_cast<int>(sh * r);
          break;
        case LetterboxRounding::kFloor:
          nw = static_cast<int>(std::floor(sw * r)), nh = static_cast<int>(std::floor(sh * r));
          break;
        case LetterboxRounding::kMediapipe:
          nw = static_cast<int>(std::lround(sw * r)), nh = static_cast<int>(std::lround(sh * r));
          break;
      }
      nw = std::clamp(nw, 1, tw), nh = std::clamp(nh, 1, th);
      auto [left, right] = SplitPad(tw - nw, g);
      auto [top, bottom] = SplitPad(th - nh, g);
      (void)right, (void)bottom;
      t.content = {left, top, nw, nh};
      t.scale_x = t.scale_y = r;
      if (g.inverse_pads == InversePads::kFloat && g.placement == Placement::kCenter) {
        t.inverse_shift_x = (tw - sw * r) / 2 - left;
        t.inverse_shift_y = (th - sh * r) / 2 - top;
      }
      if (g.rounding == LetterboxRounding::kMediapipe && g.placement == Placement::kCenter) {
        t.origin_x = (tw - sw * r) / 2, t.origin_y = (th - sh * r) / 2;
        t.inverse_shift_x = t.inverse_shift_y = 0;  // its pads are the float ones already
        t.content.x = static_cast<int>(std::lround(t.origin_x));
        t.content.y = static_cast<int>(std::lround(t.origin_y));
        return t;
      }
      break;
    }
    case GeometryMode::kCenterCrop: {
      // The largest centered crop with the input's aspect ratio, shrunk by crop_fraction.
      double aspect = double(tw) / th;
      double cw = sw, ch = sh;
      if (double(sw) / sh > aspect)
        cw = sh * aspect;
      else
        ch = sw / aspect;
      int icw = std::clamp(PyRound(cw * g.crop_fraction), 1, sw);
      int ich = std::clamp(PyRound(ch * g.crop_fraction), 1, sh);
      t.crop = {(sw - icw) / 2, (sh - ich) / 2, icw, ich};
      t.content = {0, 0, tw, th};
      t.scale_x = double(tw) / icw, t.scale_y = double(th) / ich;
      break;
    }
    case GeometryMode::kPadOnly: {
      if (sw > tw || sh > th)
        throw Error("", "geometry.mode",
                    "an image no larger than the input " + Size(tw, th) + " for pad_only",
                    Size(sw, sh), "use letterbox or stretch for larger images");
      GeometrySpec centered = g;
      centered.rounding = LetterboxRounding::kFloor;
      int left = SplitPad(tw - sw, centered).first, top = SplitPad(th - sh, centered).first;
      t.content = {left, top, sw, sh};
      break;
    }
  }
  t.origin_x = t.content.x, t.origin_y = t.content.y;
  return t;
}

double Iou(const Box& a, const Box& b) {
  const double iw = std::max(0.0, std::min(a.xmax, b.xmax) - std::max(a.xmin, b.xmin));
  const double ih = std::max(0.0, std::min(a.ymax, b.ymax) - std::max(a.ymin, b.ymin));
  const double inter = iw * ih;
  const double uni =
      (a.xmax - a.xmin) * (a.ymax - a.ymin) + (b.xmax - b.xmin) * (b.ymax - b.ymin) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

}  // namespace lockstep
