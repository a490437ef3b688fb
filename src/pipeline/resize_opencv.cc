// cv::resize (OpenCV 4.6, no IPP/OpenCL, as Debian builds it) re-derived for 8-bit images: the
// same coordinate maps in the same float/double precision, the same fixed-point coefficients and
// the same (not quite round-to-nearest) rounding, because that is what training data went through.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "lockstep/pipeline/resize.h"

namespace lockstep {
namespace {

constexpr int kCoefBits = 11;  // INTER_RESIZE_COEF_BITS
constexpr int kCoefScale = 1 << kCoefBits;

int FloorD(double v) {
  int i = static_cast<int>(v);
  return i - (i > v);
}
int FloorF(float v) {
  int i = static_cast<int>(v);
  return i - (i > v);
}
int CeilD(double v) {
  int i = static_cast<int>(v);
  return i + (i < v);
}
// cvRound: nearest, ties to even (the SSE conversion in the default rounding mode).
int RoundF(float v) { return static_cast<int>(std::nearbyint(v)); }
uint8_t SatU8(int v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); }
uint8_t SatU8(float v) { return SatU8(RoundF(v)); }
int16_t SatS16(float v) { return static_cast<int16_t>(std::clamp(RoundF(v), -32768, 32767)); }

// INTER_NEAREST: src = floor(dst * (1 / (dst_size / src_size))), clamped.
Image Nearest(const Image& in, int dw, int dh) {
  const int cn = in.channels;
  const double ifx = 1. / (static_cast<double>(dw) / in.width);
  const double ify = 1. / (static_cast<double>(dh) / in.height);
  std::vector<int> xofs(dw);
  for (int x = 0; x < dw; ++x) xofs[x] = std::min(FloorD(x * ifx), in.width - 1) * cn;
  Image out(dw, dh, cn);
  for (int y = 0; y < dh; ++y) {
    const uint8_t* s = in.row(std::min(FloorD(y * ify), in.height - 1));
    uint8_t* d = out.row(y);
    for (int x = 0; x < dw; ++x)
      for (int c = 0; c < cn; ++c) d[x * cn + c] = s[xofs[x] + c];
  }
  return out;
}

// One axis of the two-tap (linear) path: the first source index and two Q11 weights per output.
struct LinearAxis {
  std::vector<int> index;     // first tap (unclamped for rows: rows are clamped when read)
  std::vector<int16_t> coef;  // 2 per output
};

// `area_mode`: INTER_AREA when enlarging, which OpenCV emulates with a linear kernel whose
// fraction is taken from the cell edges instead of the half-pixel centers.
LinearAxis LinearMap(int src, int dst, double scale, double inv_scale, bool area_mode,
                     bool clamp_taps) {
  LinearAxis a;
  a.index.resize(dst);
  a.coef.resize(2 * size_t(dst));
  for (int d = 0; d < dst; ++d) {
    int s;
    float f;
    if (!area_mode) {
      f = static_cast<float>((d + 0.5) * scale - 0.5);
      s = FloorF(f);
      f -= static_cast<float>(s);
    } else {
      s = FloorD(d * scale);
      f = static_cast<float>((d + 1) - (s + 1) * inv_scale);
      f = f <= 0 ? 0.f : f - static_cast<float>(FloorF(f));
    }
    if (clamp_taps) {  // columns: the border taps collapse onto the edge pixel
      if (s < 0) f = 0, s = 0;
      if (s >= src - 1) f = 0, s = src - 1;
    }
    a.index[d] = s;
    a.coef[2 * d] = SatS16((1.f - f) * kCoefScale);
    a.coef[2 * d + 1] = SatS16(f * kCoefScale);
  }
  return a;
}

// The horizontal pass: exact Q11 sums s0*a0 + s1*a1, kept as (sum >> 4) in 16 bits because
// that is all the vertical pass of OpenCV's 8-bit path uses. `Cn` fixed at compile time for speed.
// This scalar loop is the reference; the SIMD loop below must give the same integers.
template <int Cn>
void HorizontalRow(const uint8_t* s, const int* ofs0, const int* ofs1, const int16_t* coef,
                   int from, int dw, int cn_runtime, int16_t* out) {
  const int cn = Cn > 0 ? Cn : cn_runtime;
  for (int dx = from; dx < dw; ++dx) {
    const int a0 = coef[2 * dx], a1 = coef[2 * dx + 1];
    const uint8_t* p0 = s + ofs0[dx];
    const uint8_t* p1 = s + ofs1[dx];
    for (int c = 0; c < cn; ++c)
      out[dx * cn + c] = static_cast<int16_t>((p0[c] * a0 + p1[c] * a1) >> 4);
  }
}

#if defined(__SSE2__)
// Three channels, two output pixels per step, for the first `n` outputs (those whose right tap is
// the next pixel and whose 8-byte load stays inside the row). One unaligned 8-byte load holds
// both taps (p1 = p0 + 3); interleaving it with itself shifted by a pixel gives the (p0, p1)
// pairs that pmaddwd multiplies by (a0, a1): the same exact integer sums as the scalar loop.
// Each pixel's four 16-bit results are stored overlapping the next pixel's (the fourth lane is
// scratch), so `out` needs one spare int16 after the row.
int HorizontalRow3Sse2(const uint8_t* s, const int* ofs0, const int32_t* coef_pair, int n,
                       int16_t* out) {
  const __m128i zero = _mm_setzero_si128();
  auto pairs = [](const uint8_t* p) {
    const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    return _mm_unpacklo_epi8(v, _mm_srli_epi64(v, 24));  // c0 d0 c1 d1 c2 d2 ..
  };
  int dx = 0;
  for (; dx + 2 <= n; dx += 2) {
    const __m128i ab = _mm_unpacklo_epi64(pairs(s + ofs0[dx]), pairs(s + ofs0[dx + 1]));
    const __m128i a = _mm_madd_epi16(_mm_unpacklo_epi8(ab, zero), _mm_set1_epi32(coef_pair[dx]));
    const __m128i b =
        _mm_madd_epi16(_mm_unpackhi_epi8(ab, zero), _mm_set1_epi32(coef_pair[dx + 1]));
    // Sums are at most 255 * 2 * 2048 >> 4, so packing to 16 bits never saturates.
    const __m128i r = _mm_packs_epi32(_mm_srai_epi32(a, 4), _mm_srai_epi32(b, 4));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 3 * dx), r);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + 3 * dx + 3), _mm_unpackhi_epi64(r, r));
  }
  return dx;
}
#endif

// The vertical pass keeps 16-bit precision as OpenCV's 8-bit path does (its SIMD loop and its
// scalar tail agree): each shifted horizontal sum is multiplied by the Q11 weight keeping the
// high 16 bits, and the two terms are rounded by (v + 2) >> 2.
void VerticalRow(const int16_t* h0, const int16_t* h1, int b0, int b1, int width, uint8_t* d) {
  const int16_t w0 = static_cast<int16_t>(b0), w1 = static_cast<int16_t>(b1);
  int x = 0;
#if defined(__SSE2__)
  // pmulhw is exactly (h * w) >> 16; packus is the clamp to 0..255.
  const __m128i v0 = _mm_set1_epi16(w0), v1 = _mm_set1_epi16(w1), two = _mm_set1_epi16(2);
  auto eight = [&](int i) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h0 + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h1 + i));
    const __m128i v = _mm_add_epi16(_mm_mulhi_epi16(a, v0), _mm_mulhi_epi16(b, v1));
    return _mm_srai_epi16(_mm_add_epi16(v, two), 2);
  };
  for (; x + 16 <= width; x += 16)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + x), _mm_packus_epi16(eight(x), eight(x + 8)));
#endif
  for (; x < width; ++x) {
    const int v =
        static_cast<int16_t>((h0[x] * w0) >> 16) + static_cast<int16_t>((h1[x] * w1) >> 16);
    d[x] = static_cast<uint8_t>(std::clamp((v + 2) >> 2, 0, 255));
  }
}

// The linear resize row by row: each output row goes to `out` when given, else to `sink`.
void Linear(const Image& in, int dw, int dh, double scale_x, double scale_y, double inv_x,
            double inv_y, bool area_mode, Image* out, const ResizedRowSink* sink) {
  const int cn = in.channels, sw = in.width, sh = in.height;
  const LinearAxis ax = LinearMap(sw, dw, scale_x, inv_x, area_mode, true);
  const LinearAxis ay = LinearMap(sh, dh, scale_y, inv_y, area_mode, false);
  std::vector<int> ofs0(dw), ofs1(dw);  // byte offsets of the two taps (the edge tap repeated)
  for (int dx = 0; dx < dw; ++dx) {
    ofs0[dx] = ax.index[dx] * cn;
    ofs1[dx] = ax.index[dx] + 1 < sw ? ofs0[dx] + cn : ofs0[dx];
  }
#if defined(__SSE2__)
  // The outputs the SIMD loop may take: the taps are ascending, so only a right-edge suffix has
  // a repeated tap or a load that would run past the row.
  int simd = 0;
  std::vector<int32_t> coef_pair(dw);
  for (int dx = 0; dx < dw; ++dx)
    coef_pair[dx] = int32_t(uint32_t(uint16_t(ax.coef[2 * dx])) |
                            uint32_t(uint16_t(ax.coef[2 * dx + 1])) << 16);
  if (cn == 3)
    while (simd < dw && ofs1[simd] == ofs0[simd] + 3 && ofs0[simd] + 8 <= sw * 3) ++simd;
#endif
  auto horizontal = [&](int sy, int16_t* row) {
    const uint8_t* s = in.row(sy);
    const int* o0 = ofs0.data();
    const int* o1 = ofs1.data();
    const int16_t* a = ax.coef.data();
    switch (cn) {
      case 1:
        return HorizontalRow<1>(s, o0, o1, a, 0, dw, cn, row);
      case 3: {
        int from = 0;
#if defined(__SSE2__)
        from = HorizontalRow3Sse2(s, o0, coef_pair.data(), simd, row);
#endif
        return HorizontalRow<3>(s, o0, o1, a, from, dw, cn, row);
      }
      case 4:
        return HorizontalRow<4>(s, o0, o1, a, 0, dw, cn, row);
      default:
        return HorizontalRow<0>(s, o0, o1, a, 0, dw, cn, row);
    }
  };
  const int width = dw * cn;
  // The horizontal results of the two source rows in use, reused while the rows stay the same
  // (one spare element for the SIMD loop's overlapping stores).
  std::vector<int16_t> rows[2] = {std::vector<int16_t>(width + 1), std::vector<int16_t>(width + 1)};
  std::vector<uint8_t> scratch(out ? 0 : width);
  int row_of[2] = {-1, -1};
  for (int dy = 0; dy < dh; ++dy) {
    // Rows are clamped when read; the weights stay as computed (OpenCV does the same).
    const int want[2] = {std::clamp(ay.index[dy], 0, sh - 1),
                         std::clamp(ay.index[dy] + 1, 0, sh - 1)};
    if (row_of[0] != want[0] && row_of[1] == want[0]) {  // moving down: reuse the lower row
      std::swap(rows[0], rows[1]);
      std::swap(row_of[0], row_of[1]);
    }
    for (int k = 0; k < 2; ++k) {
      if (row_of[k] == want[k]) continue;
      horizontal(want[k], rows[k].data());
      row_of[k] = want[k];
    }
    uint8_t* d = out ? out->row(dy) : scratch.data();
    VerticalRow(rows[0].data(), rows[1].data(), ay.coef[2 * dy], ay.coef[2 * dy + 1], width, d);
    if (!out) (*sink)(dy, d);
  }
}

// INTER_AREA with integer factors: plain box sums. 2x2 on 1, 3 or 4 channels rounds half up
// ((sum + 2) >> 2); every other factor multiplies by float(1/area) and rounds half to even.
Image AreaFast(const Image& in, int dw, int dh, int ix, int iy) {
  const int cn = in.channels, sw = in.width, sh = in.height;
  const bool two_by_two = ix == 2 && iy == 2 && cn != 2;
  const float scale = 1.f / static_cast<float>(ix * iy);
  const int full_w = (sw / ix) * cn;
  Image out(dw, dh, cn);
  for (int dy = 0; dy < dh; ++dy) {
    uint8_t* d = out.row(dy);
    const int sy0 = dy * iy;
    if (sy0 >= sh) {
      std::fill(d, d + dw * cn, uint8_t{0});
      continue;
    }
    const int w = sy0 + iy <= sh ? full_w : 0;
    int dx = 0;
    for (; dx < w; ++dx) {
      const int sx0 = (dx / cn) * ix * cn + dx % cn;
      int sum = 0;
      for (int y = 0; y < iy; ++y) {
        const uint8_t* s = in.row(sy0 + y) + sx0;
        for (int x = 0; x < ix; ++x) sum += s[x * cn];
      }
      d[dx] = two_by_two ? static_cast<uint8_t>((sum + 2) >> 2)
                         : SatU8(static_cast<float>(sum) * scale);
    }
    for (; dx < dw * cn; ++dx) {  // cells cut by the image edge: mean of what is inside
      const int sx0 = (dx / cn) * ix * cn + dx % cn;
      int sum = 0, count = 0;
      for (int y = 0; y < iy && sy0 + y < sh; ++y)
        for (int x = 0; x < ix * cn && sx0 + x < sw * cn; x += cn, ++count)
          sum += in.row(sy0 + y)[sx0 + x];
      d[dx] = count ? SatU8(static_cast<float>(sum) / static_cast<float>(count)) : 0;
    }
  }
  return out;
}

struct AreaTap {
  int dst, src;
  float weight;
};

// The fractional-area table: each output cell [d*scale, (d+1)*scale) split over source pixels,
// weights relative to the cell width (cut at the image edge).
std::vector<AreaTap> AreaTable(int src, int dst, double scale) {
  std::vector<AreaTap> tab;
  for (int d = 0; d < dst; ++d) {
    const double f1 = d * scale, f2 = f1 + scale;
    const double cell = std::min(scale, src - f1);
    int s2 = std::min(FloorD(f2), src - 1);
    int s1 = std::min(CeilD(f1), s2);
    if (s1 - f1 > 1e-3) tab.push_back({d, s1 - 1, static_cast<float>((s1 - f1) / cell)});
    for (int s = s1; s < s2; ++s) tab.push_back({d, s, static_cast<float>(1.0 / cell)});
    if (f2 - s2 > 1e-3)
      tab.push_back({d, s2, static_cast<float>(std::min(std::min(f2 - s2, 1.), cell) / cell)});
  }
  return tab;
}

// The general INTER_AREA shrink, accumulated in float in OpenCV's order: each source row is
// reduced horizontally, then added into its output row with the row weight.
Image AreaGeneral(const Image& in, int dw, int dh, double scale_x, double scale_y) {
  const int cn = in.channels;
  const auto xtab = AreaTable(in.width, dw, scale_x);
  const auto ytab = AreaTable(in.height, dh, scale_y);
  const int width = dw * cn;
  std::vector<float> buf(width), sum(width, 0.f);
  Image out(dw, dh, cn);
  auto flush = [&](int dy) {
    uint8_t* d = out.row(dy);
    for (int x = 0; x < width; ++x) d[x] = SatU8(sum[x]);
  };
  int prev_dy = ytab.empty() ? 0 : ytab[0].dst;
  for (const auto& yt : ytab) {
    const uint8_t* s = in.row(yt.src);
    std::fill(buf.begin(), buf.end(), 0.f);
    for (const auto& xt : xtab)
      for (int c = 0; c < cn; ++c)
        buf[xt.dst * cn + c] += static_cast<float>(s[xt.src * cn + c]) * xt.weight;
    if (yt.dst != prev_dy) {
      flush(prev_dy);
      for (int x = 0; x < width; ++x) sum[x] = yt.weight * buf[x];
      prev_dy = yt.dst;
    } else {
      for (int x = 0; x < width; ++x) sum[x] += yt.weight * buf[x];
    }
  }
  flush(prev_dy);
  return out;
}

}  // namespace

namespace {

// Both entry points: the linear path streams rows; the others build the image.
Image ResizeOpenCVTo(const Image& in, int dw, int dh, Interpolation interpolation,
                     const ResizedRowSink* sink) {
  if (dw == in.width && dh == in.height) return in;
  if (interpolation == Interpolation::kNearest) return Nearest(in, dw, dh);
  const double inv_x = static_cast<double>(dw) / in.width;
  const double inv_y = static_cast<double>(dh) / in.height;
  const double scale_x = 1. / inv_x, scale_y = 1. / inv_y;
  const int ix = static_cast<int>(std::clamp(std::nearbyint(scale_x), -2147483648.0, 2147483647.0));
  const int iy = static_cast<int>(std::clamp(std::nearbyint(scale_y), -2147483648.0, 2147483647.0));
  const bool area_fast = std::abs(scale_x - ix) < 2.220446049250313e-16 &&
                         std::abs(scale_y - iy) < 2.220446049250313e-16;
  // OpenCV switches an exact 2x shrink from INTER_LINEAR to the (equal-valued) box filter.
  if (interpolation == Interpolation::kBilinear && area_fast && ix == 2 && iy == 2)
    interpolation = Interpolation::kArea;
  const bool area = interpolation == Interpolation::kArea;
  if (area && scale_x >= 1 && scale_y >= 1) {
    return area_fast ? AreaFast(in, dw, dh, ix, iy) : AreaGeneral(in, dw, dh, scale_x, scale_y);
  }
  if (sink) {
    Linear(in, dw, dh, scale_x, scale_y, inv_x, inv_y, area, nullptr, sink);
    return {};
  }
  Image out(dw, dh, in.channels);
  Linear(in, dw, dh, scale_x, scale_y, inv_x, inv_y, area, &out, nullptr);
  return out;
}

}  // namespace

Image ResizeOpenCV(const Image& in, int dw, int dh, Interpolation interpolation) {
  return ResizeOpenCVTo(in, dw, dh, interpolation, nullptr);
}

void ResizeOpenCVRows(const Image& in, int dw, int dh, Interpolation interpolation,
                      const ResizedRowSink& sink) {
  Image whole = ResizeOpenCVTo(in, dw, dh, interpolation, &sink);
  if (whole.pixels.empty()) return;  // streamed
  for (int y = 0; y < dh; ++y) sink(y, whole.row(y));
}

}  // namespace lockstep
