// Pillow 9.4 Image.resize re-derived for 8-bit images: NEAREST is its affine scale with an
// accumulated source coordinate; BILINEAR and BICUBIC are libImaging/Resample.c's separable
// convolution (support widened by the scale when shrinking, Q22 integer weights, horizontal pass
// then vertical, each skipped when its size does not change). Images with alpha (LA, RGBA) are
// resized premultiplied, as Image.resize converts them to La/RGBa and back.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "lockstep/resize.h"

namespace lockstep {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

double BilinearFilter(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}
double BicubicFilter(double x) {  // Keys cubic, a = -0.5
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

struct Coefficients {
  int ksize = 0;
  std::vector<int> first, count;  // source window per output
  std::vector<int32_t> weights;   // ksize per output, Q22
};

// precompute_coeffs + normalize_coeffs_8bpc for the box [0, in_size).
Coefficients Precompute(int in_size, int out_size, double (*filter)(double), double support0) {
  const float in0 = 0.f, in1 = static_cast<float>(in_size);
  const double scale = static_cast<double>(in1 - in0) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = support0 * filterscale;
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(out_size);
  c.count.resize(out_size);
  c.weights.assign(size_t(out_size) * c.ksize, 0);
  std::vector<double> k(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = filter((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double w = ww != 0.0 ? k[x] / ww : k[x];
      c.weights[size_t(xx) * c.ksize + x] = static_cast<int32_t>(
          w < 0 ? -0.5 + w * (1 << kPrecisionBits) : 0.5 + w * (1 << kPrecisionBits));
    }
    c.first[xx] = xmin;
    c.count[xx] = std::max(xmax, 0);
  }
  return c;
}

uint8_t Clip8(int32_t v) { return static_cast<uint8_t>(std::clamp(v >> kPrecisionBits, 0, 255)); }

Image Horizontal(const Image& in, int out_w, int row0, int rows, const Coefficients& c) {
  const int cn = in.channels;
  Image out(out_w, rows, cn);
  for (int y = 0; y < rows; ++y) {
    const uint8_t* s = in.row(y + row0);
    uint8_t* d = out.row(y);
    for (int xx = 0; xx < out_w; ++xx) {
      const int32_t* k = &c.weights[size_t(xx) * c.ksize];
      const uint8_t* p = s + size_t(c.first[xx]) * cn;
      for (int ch = 0; ch < cn; ++ch) {
        int32_t acc = 1 << (kPrecisionBits - 1);
        for (int x = 0; x < c.count[xx]; ++x) acc += p[x * cn + ch] * k[x];
        d[xx * cn + ch] = Clip8(acc);
      }
    }
  }
  return out;
}

// `first_shift`: the vertical windows are relative to the rows the horizontal pass kept.
Image Vertical(const Image& in, int out_h, const Coefficients& c, int first_shift) {
  const int cn = in.channels, width = in.width * cn;
  Image out(in.width, out_h, cn);
  std::vector<int32_t> acc(width);
  for (int yy = 0; yy < out_h; ++yy) {
    const int32_t* k = &c.weights[size_t(yy) * c.ksize];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (int y = 0; y < c.count[yy]; ++y) {
      const uint8_t* s = in.row(c.first[yy] - first_shift + y);
      for (int x = 0; x < width; ++x) acc[x] += s[x] * k[y];
    }
    uint8_t* d = out.row(yy);
    for (int x = 0; x < width; ++x) d[x] = Clip8(acc[x]);
  }
  return out;
}

Image Convolve(const Image& in, int w, int h, double (*filter)(double), double support) {
  const bool need_h = w != in.width, need_v = h != in.height;
  const Coefficients ch = Precompute(in.width, w, filter, support);
  const Coefficients cv = Precompute(in.height, h, filter, support);
  if (need_h) {
    // Only the source rows the vertical pass will read are resized horizontally.
    const int first = cv.first[0];
    const int last = cv.first[h - 1] + cv.count[h - 1];
    Image tmp = Horizontal(in, w, first, last - first, ch);
    return need_v ? Vertical(tmp, h, cv, first) : tmp;
  }
  return need_v ? Vertical(in, h, cv, 0) : in;
}

// ImagingScaleAffine: the source coordinate starts at scale/2 and is advanced by adding the
// scale (accumulating its rounding), truncated toward zero.
std::vector<int> NearestMap(int in_size, int out_size) {
  const double a = static_cast<double>(in_size) / out_size;
  std::vector<int> map(out_size, -1);
  double pos = a * 0.5;
  for (int i = 0; i < out_size; ++i, pos += a) {
    const int s = pos < 0.0 ? -1 : static_cast<int>(pos);
    if (s >= 0 && s < in_size) map[i] = s;
  }
  return map;
}

Image Nearest(const Image& in, int w, int h) {
  const int cn = in.channels;
  const auto xs = NearestMap(in.width, w);
  const auto ys = NearestMap(in.height, h);
  Image out(w, h, cn);  // zero-filled: positions that fall outside stay 0, as Pillow fills them
  for (int y = 0; y < h; ++y) {
    if (ys[y] < 0) continue;
    const uint8_t* s = in.row(ys[y]);
    uint8_t* d = out.row(y);
    for (int x = 0; x < w; ++x)
      if (xs[x] >= 0)
        for (int c = 0; c < cn; ++c) d[x * cn + c] = s[xs[x] * cn + c];
  }
  return out;
}

// RGBA → RGBa: colour × alpha / 255 with Pillow's MULDIV255 rounding.
Image Premultiply(const Image& in) {
  Image out = in;
  const int cn = in.channels;
  for (size_t i = 0; i < out.pixels.size(); i += cn) {
    const unsigned alpha = in.pixels[i + cn - 1];
    for (int c = 0; c < cn - 1; ++c) {
      const unsigned t = in.pixels[i + c] * alpha + 128;
      out.pixels[i + c] = static_cast<uint8_t>(((t >> 8) + t) >> 8);
    }
  }
  return out;
}

// RGBa → RGBA: colour × 255 / alpha, integer division, clipped; alpha 0 or 255 left as is.
void Unpremultiply(Image& im) {
  const int cn = im.channels;
  for (size_t i = 0; i < im.pixels.size(); i += cn) {
    const int alpha = im.pixels[i + cn - 1];
    if (alpha == 0 || alpha == 255) continue;
    for (int c = 0; c < cn - 1; ++c)
      im.pixels[i + c] = static_cast<uint8_t>(std::min(255 * im.pixels[i + c] / alpha, 255));
  }
}

}  // namespace

Image ResizePillow(const Image& in, int w, int h, Interpolation interpolation) {
  if (w == in.width && h == in.height) return in;
  if (interpolation == Interpolation::kNearest) return Nearest(in, w, h);
  const bool bicubic = interpolation == Interpolation::kBicubic;
  auto run = [&](const Image& im) {
    return bicubic ? Convolve(im, w, h, BicubicFilter, 2.0)
                   : Convolve(im, w, h, BilinearFilter, 1.0);
  };
  const bool alpha = in.channels == 2 || in.channels == 4;
  if (!alpha) return run(in);
  Image out = run(Premultiply(in));
  Unpremultiply(out);
  return out;
}

}  // namespace lockstep
