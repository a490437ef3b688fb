// Pillow 9.4 Image.resize re-derived for 8-bit images: NEAREST is its affine scale with an
// accumulated source coordinate; BILINEAR and BICUBIC are libImaging/Resample.c's separable
// convolution (support widened by the scale when shrinking, Q22 integer weights, horizontal pass
// then vertical, each skipped when its size does not change). Images with alpha (LA, RGBA) are
// resized premultiplied, as Image.resize converts them to La/RGBa and back.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

// AVX2 kernels compiled for that target and chosen at run time (the build targets baseline x86-64).
#if defined(__x86_64__) && defined(__GNUC__)
#define LOCKSTEP_AVX2_DISPATCH 1
#include <immintrin.h>
#endif

#include "lockstep/pipeline/resize.h"

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

// One output pixel of the horizontal pass: the reference arithmetic (int32 sums, then clip), all
// channels in one sweep over the taps.
template <int Cn>
void HorizontalPixel(const uint8_t* p, const int32_t* k, int count, int cn_runtime, uint8_t* d) {
  const int cn = Cn > 0 ? Cn : cn_runtime;
  int32_t acc[4];
  for (int ch = 0; ch < cn; ++ch) acc[ch] = 1 << (kPrecisionBits - 1);
  for (int x = 0; x < count; ++x, p += cn)
    for (int ch = 0; ch < cn; ++ch) acc[ch] += p[ch] * k[x];
  for (int ch = 0; ch < cn; ++ch) d[ch] = Clip8(acc[ch]);
}

#if defined(LOCKSTEP_AVX2_DISPATCH)
// Three channels with AVX2 (chosen at run time; the same integers as HorizontalPixel<3>).
// pmaddwd multiplies 16-bit values, so each Q22 weight is split as k = hi * 2^11 + lo with lo in
// 0..2047: sum(p * k) = (sum(p * hi) << 11) + sum(p * lo) exactly, every partial sum far inside
// int32. Four taps per step: one unaligned 16-byte load holds them, broadcast to both 128-bit
// lanes; a pshufb per lane makes the 16-bit pairs (p[x][c], p[x + 1][c]) of taps (4q, 4q + 1) in
// the low lane and (4q + 2, 4q + 3) in the high lane, channels 0..2 (the fourth pair is zero).
// Weights per output pixel and quad: (hi01, hi23, lo01, lo23), zero past its taps.
struct QuadWeights {
  int quads = 0;                 // per output pixel: (ksize + 3) / 4
  std::vector<int32_t> packed;   // 4 per quad
  std::vector<uint8_t> simd_ok;  // the pixel's 16-byte loads stay inside the row
};

QuadWeights Quads(const Coefficients& c, int out_w, int in_w) {
  QuadWeights w;
  w.quads = (c.ksize + 3) / 4;
  w.packed.assign(size_t(out_w) * w.quads * 4, 0);
  w.simd_ok.assign(out_w, 0);
  auto pack = [](int32_t a, int32_t b) {
    return int32_t(uint32_t(uint16_t(a)) | uint32_t(uint16_t(b)) << 16);
  };
  for (int xx = 0; xx < out_w; ++xx) {
    const int32_t* k = &c.weights[size_t(xx) * c.ksize];
    const int n = c.count[xx];
    auto tap = [&](int x) { return x < n ? k[x] : 0; };
    for (int q = 0; 4 * q < n; ++q) {
      int32_t* d = &w.packed[(size_t(xx) * w.quads + q) * 4];
      d[0] = pack(tap(4 * q) >> 11, tap(4 * q + 1) >> 11);
      d[1] = pack(tap(4 * q + 2) >> 11, tap(4 * q + 3) >> 11);
      d[2] = pack(tap(4 * q) & 2047, tap(4 * q + 1) & 2047);
      d[3] = pack(tap(4 * q + 2) & 2047, tap(4 * q + 3) & 2047);
    }
    const int last_quad = (n + 3) / 4 - 1;
    w.simd_ok[xx] = n > 0 && 3 * (c.first[xx] + 4 * last_quad) + 16 <= 3 * in_w;
  }
  return w;
}

__attribute__((target("avx2"))) void HorizontalRow3Avx2(const uint8_t* s, const Coefficients& c,
                                                        const QuadWeights& w, int out_w,
                                                        uint8_t* d) {
  const __m256i interleave =
      _mm256_setr_epi8(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1, 6, -1, 9, -1, 7,
                       -1, 10, -1, 8, -1, 11, -1, -1, -1, -1, -1);
  const __m256i hi_of = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
  const __m256i lo_of = _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3);
  for (int xx = 0; xx < out_w; ++xx) {
    const uint8_t* p = s + size_t(c.first[xx]) * 3;
    uint8_t* o = d + size_t(xx) * 3;
    if (!w.simd_ok[size_t(xx)]) {
      HorizontalPixel<3>(p, &c.weights[size_t(xx) * c.ksize], c.count[xx], 3, o);
      continue;
    }
    const int32_t* k = &w.packed[size_t(xx) * w.quads * 4];
    __m256i sh = _mm256_setzero_si256(), sl = sh;
    for (int q = 0; 4 * q < c.count[xx]; ++q, p += 12, k += 4) {
      const __m256i px = _mm256_shuffle_epi8(
          _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
          interleave);
      const __m256i wk =
          _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(k)));
      sh = _mm256_add_epi32(sh, _mm256_madd_epi16(px, _mm256_permutevar8x32_epi32(wk, hi_of)));
      sl = _mm256_add_epi32(sl, _mm256_madd_epi16(px, _mm256_permutevar8x32_epi32(wk, lo_of)));
    }
    const __m256i acc = _mm256_add_epi32(_mm256_slli_epi32(sh, 11), sl);
    __m128i a = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    a = _mm_srai_epi32(_mm_add_epi32(a, _mm_set1_epi32(1 << (kPrecisionBits - 1))), kPrecisionBits);
    const __m128i bytes = _mm_packus_epi16(_mm_packs_epi32(a, a), _mm_setzero_si128());
    const uint32_t three = uint32_t(_mm_cvtsi128_si32(bytes));
    std::memcpy(o, &three, 3);
  }
}

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif

Image Horizontal(const Image& in, int out_w, int row0, int rows, const Coefficients& c) {
  const int cn = in.channels;
  Image out(out_w, rows, cn);
#if defined(LOCKSTEP_AVX2_DISPATCH)
  if (cn == 3 && HasAvx2()) {
    const QuadWeights quads = Quads(c, out_w, in.width);
    for (int y = 0; y < rows; ++y)
      HorizontalRow3Avx2(in.row(y + row0), c, quads, out_w, out.row(y));
    return out;
  }
#endif
  for (int y = 0; y < rows; ++y) {
    const uint8_t* s = in.row(y + row0);
    uint8_t* d = out.row(y);
    for (int xx = 0; xx < out_w; ++xx) {
      const int32_t* k = &c.weights[size_t(xx) * c.ksize];
      const uint8_t* p = s + size_t(c.first[xx]) * cn;
      uint8_t* o = d + size_t(xx) * cn;
      switch (cn) {
        case 1:
          HorizontalPixel<1>(p, k, c.count[xx], cn, o);
          break;
        case 3:
          HorizontalPixel<3>(p, k, c.count[xx], cn, o);
          break;
        default:
          HorizontalPixel<0>(p, k, c.count[xx], cn, o);
          break;
      }
    }
  }
  return out;
}

// `first_shift`: the vertical windows are relative to the rows the horizontal pass kept. Each
// output row goes to `out` when given, else to `sink`.
void Vertical(const Image& in, int out_h, const Coefficients& c, int first_shift, Image* out,
              const ResizedRowSink* sink) {
  const int width = in.width * in.channels;
  std::vector<int32_t> acc(width);
  std::vector<uint8_t> scratch(out ? 0 : width);
  for (int yy = 0; yy < out_h; ++yy) {
    const int32_t* k = &c.weights[size_t(yy) * c.ksize];
    std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
    for (int y = 0; y < c.count[yy]; ++y) {
      const uint8_t* s = in.row(c.first[yy] - first_shift + y);
      const int32_t ky = k[y];
      for (int x = 0; x < width; ++x) acc[x] += s[x] * ky;
    }
    uint8_t* d = out ? out->row(yy) : scratch.data();
    for (int x = 0; x < width; ++x) d[x] = Clip8(acc[x]);
    if (!out) (*sink)(yy, d);
  }
}

// The separable convolution; with a `sink` the vertical pass streams its rows (and an empty image
// is returned) unless there is no vertical pass.
Image Convolve(const Image& in, int w, int h, double (*filter)(double), double support,
               const ResizedRowSink* sink) {
  const bool need_h = w != in.width, need_v = h != in.height;
  const Coefficients ch = Precompute(in.width, w, filter, support);
  const Coefficients cv = Precompute(in.height, h, filter, support);
  auto vertical = [&](const Image& im, int shift) {
    Image out;
    if (sink) {
      Vertical(im, h, cv, shift, nullptr, sink);
    } else {
      out = Image(im.width, h, im.channels);
      Vertical(im, h, cv, shift, &out, nullptr);
    }
    return out;
  };
  if (need_h) {
    // Only the source rows the vertical pass will read are resized horizontally.
    const int first = cv.first[0];
    const int last = cv.first[h - 1] + cv.count[h - 1];
    Image tmp = Horizontal(in, w, first, last - first, ch);
    return need_v ? vertical(tmp, first) : tmp;
  }
  return need_v ? vertical(in, 0) : in;
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

namespace {

Image ResizePillowTo(const Image& in, int w, int h, Interpolation interpolation,
                     const ResizedRowSink* sink) {
  if (w == in.width && h == in.height) return in;
  if (interpolation == Interpolation::kNearest) return Nearest(in, w, h);
  const bool bicubic = interpolation == Interpolation::kBicubic;
  const bool alpha = in.channels == 2 || in.channels == 4;
  auto run = [&](const Image& im, const ResizedRowSink* to) {
    return bicubic ? Convolve(im, w, h, BicubicFilter, 2.0, to)
                   : Convolve(im, w, h, BilinearFilter, 1.0, to);
  };
  if (!alpha) return run(in, sink);
  Image out = run(Premultiply(in), nullptr);  // unpremultiplied as a whole, never streamed
  Unpremultiply(out);
  return out;
}

}  // namespace

Image ResizePillow(const Image& in, int w, int h, Interpolation interpolation) {
  return ResizePillowTo(in, w, h, interpolation, nullptr);
}

void ResizePillowRows(const Image& in, int w, int h, Interpolation interpolation,
                      const ResizedRowSink& sink) {
  Image whole = ResizePillowTo(in, w, h, interpolation, &sink);
  if (whole.pixels.empty()) return;  // streamed
  for (int y = 0; y < h; ++y) sink(y, whole.row(y));
}

}  // namespace lockstep
