// The difference heatmap: sums of |a − b| computed by hand, the colour ramp's stops and its
// rising lightness (what makes it perceptual), and a heatmap whose equal pixels are exactly the
// ramp's zero colour.
#include "lockstep/doctor/difference_heatmap.h"

#include <gtest/gtest.h>

#include <cmath>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

Image Filled(int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  Image im(w, h, 3);
  for (size_t p = 0; p < size_t(w) * h; ++p) {
    im.pixels[3 * p] = r;
    im.pixels[3 * p + 1] = g;
    im.pixels[3 * p + 2] = b;
  }
  return im;
}

TEST(DifferenceHeatmap, SumsAbsoluteDifferencesOverChannels) {
  Image a = Filled(3, 2, 100, 100, 100);
  Image b = a;
  b.at(1, 0, 0) = 130;  // +30
  b.at(1, 0, 1) = 80;   // -20
  b.at(1, 0, 2) = 110;  // +10 → 60
  b.at(2, 1, 2) = 0;    // -100 → 100
  PixelDifference d = DiffPixels(a, b);
  EXPECT_EQ(d.width, 3);
  EXPECT_EQ(d.height, 2);
  EXPECT_EQ(d.channels, 3);
  EXPECT_EQ(d.sum, (std::vector<int>{0, 60, 0, 0, 0, 100}));
  EXPECT_EQ(d.max, 100);
  EXPECT_EQ(d.differing, 2u);
  // Symmetric: |a − b| = |b − a|.
  EXPECT_EQ(DiffPixels(b, a).sum, d.sum);
}

TEST(DifferenceHeatmap, RefusesImagesOfDifferentShape) {
  EXPECT_THROW(DiffPixels(Image(3, 2, 3), Image(2, 3, 3)), Error);
  EXPECT_THROW(DiffPixels(Image(3, 2, 3), Image(3, 2, 1)), Error);
}

TEST(DifferenceHeatmap, ColourRampRunsFromViolettoYellowWithRisingLightness) {
  EXPECT_EQ(PerceptualColor(0), (Rgb{0x44, 0x01, 0x54}));
  EXPECT_EQ(PerceptualColor(0.5), (Rgb{0x21, 0x90, 0x8d}));
  EXPECT_EQ(PerceptualColor(1), (Rgb{0xfd, 0xe7, 0x25}));
  EXPECT_EQ(PerceptualColor(-3), PerceptualColor(0));
  EXPECT_EQ(PerceptualColor(7), PerceptualColor(1));
  EXPECT_EQ(PerceptualColor(std::nan("")), PerceptualColor(0));
  // 60/765 lies 0.627 of the way from stop 0 (#440154) to stop 1 (#472c7a):
  // 68 + 0.627·3 = 69.9, 1 + 0.627·43 = 28.0, 84 + 0.627·38 = 107.8.
  EXPECT_EQ(PerceptualColor(60.0 / 765), (Rgb{70, 28, 108}));
  // Relative luminance (sRGB linearised) strictly rises along the ramp.
  auto luminance = [](Rgb c) {
    auto lin = [](uint8_t v) {
      double s = v / 255.0;
      return s <= 0.04045 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
  };
  double previous = -1;
  for (int i = 0; i <= 64; ++i) {
    double y = luminance(PerceptualColor(i / 64.0));
    EXPECT_GT(y, previous) << i;
    previous = y;
  }
}

TEST(DifferenceHeatmap, EqualPixelsGetTheZeroColourAndTheLargestTheTop) {
  Image a = Filled(4, 3, 10, 20, 30);
  Image b = a;
  b.at(3, 2, 0) = 255;  // 245 + 0 + 0
  b.at(0, 1, 1) = 0;    // 20
  PixelDifference d = DiffPixels(a, b);
  Image heat = DifferenceHeatmap(d, d.max);
  ASSERT_EQ(heat.width, 4);
  ASSERT_EQ(heat.height, 3);
  ASSERT_EQ(heat.channels, 3);
  Rgb zero = PerceptualColor(0);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) {
      Rgb c{heat.at(x, y, 0), heat.at(x, y, 1), heat.at(x, y, 2)};
      if (x == 3 && y == 2) {
        EXPECT_EQ(c, PerceptualColor(1));
      } else if (x == 0 && y == 1) {
        EXPECT_EQ(c, PerceptualColor(20.0 / 245));
        EXPECT_NE(c, zero);
      } else {
        EXPECT_EQ(c, zero) << x << "," << y;
      }
    }
  // No scale: everything is the zero colour.
  Image flat = DifferenceHeatmap(d, 0);
  EXPECT_EQ(flat, DifferenceHeatmap(DiffPixels(a, a), 1));
}

}  // namespace
}  // namespace lockstep
