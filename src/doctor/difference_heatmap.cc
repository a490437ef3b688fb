#include "lockstep/doctor/difference_heatmap.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

// matplotlib's viridis sampled at nine evenly spaced points: its lightness rises monotonically,
// so equal steps in difference read as equal steps in colour, also in grey and for most
// colour-blind readers.
constexpr Rgb kViridis[] = {{0x44, 0x01, 0x54}, {0x47, 0x2c, 0x7a}, {0x3b, 0x51, 0x8b},
                            {0x2c, 0x71, 0x8e}, {0x21, 0x90, 0x8d}, {0x27, 0xad, 0x81},
                            {0x5c, 0xc8, 0x63}, {0xaa, 0xdc, 0x32}, {0xfd, 0xe7, 0x25}};
constexpr int kStops = sizeof kViridis / sizeof kViridis[0];

std::string SizeOf(const Image& image) {
  return std::to_string(image.width) + "x" + std::to_string(image.height) + "x" +
         std::to_string(image.channels);
}

}  // namespace

PixelDifference DiffPixels(const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height || a.channels != b.channels)
    throw Error("", "images compared pixel by pixel", "the same size, " + SizeOf(a), SizeOf(b));
  PixelDifference d;
  d.width = a.width;
  d.height = a.height;
  d.channels = a.channels;
  size_t pixels = size_t(a.width) * size_t(a.height);
  d.sum.assign(pixels, 0);
  for (size_t p = 0; p < pixels; ++p) {
    int s = 0;
    for (int c = 0; c < a.channels; ++c) {
      size_t i = p * size_t(a.channels) + size_t(c);
      s += std::abs(int(a.pixels[i]) - int(b.pixels[i]));
    }
    d.sum[p] = s;
    d.max = std::max(d.max, s);
    if (s != 0) ++d.differing;
  }
  return d;
}

Rgb PerceptualColor(double t) {
  if (!(t > 0)) return kViridis[0];  // also NaN
  if (t >= 1) return kViridis[kStops - 1];
  double x = t * (kStops - 1);
  int i = std::min(int(x), kStops - 2);
  double f = x - i;
  auto mix = [f](uint8_t lo, uint8_t hi) {
    return uint8_t(std::lround(lo + f * (double(hi) - double(lo))));
  };
  const Rgb& lo = kViridis[i];
  const Rgb& hi = kViridis[i + 1];
  return {mix(lo.r, hi.r), mix(lo.g, hi.g), mix(lo.b, hi.b)};
}

Image DifferenceHeatmap(const PixelDifference& difference, int scale_max) {
  Image out(difference.width, difference.height, 3);
  for (size_t p = 0; p < difference.sum.size(); ++p) {
    Rgb c =
        scale_max > 0 ? PerceptualColor(double(difference.sum[p]) / scale_max) : PerceptualColor(0);
    out.pixels[3 * p] = c.r;
    out.pixels[3 * p + 1] = c.g;
    out.pixels[3 * p + 2] = c.b;
  }
  return out;
}

}  // namespace lockstep
