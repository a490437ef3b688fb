// The tf and tf_legacy dialects (float results) against values computed by hand from TensorFlow's
// documented formulas, and against the expected tensors of TensorFlow's own image_ops tests.
#include <gtest/gtest.h>

#include <vector>

#include "lockstep/core/error.h"
#include "lockstep/pipeline/resize.h"

namespace lockstep {
namespace {

Image Gray(int w, int h, std::vector<uint8_t> values) {
  Image im(w, h, 1);
  im.pixels = std::move(values);
  return im;
}

ResizeSpec Tf(Interpolation i, bool antialias = false) {
  ResizeSpec s;
  s.dialect = ResizeDialect::kTf;
  s.interpolation = i;
  s.antialias = antialias;
  return s;
}

ResizeSpec Legacy(bool align_corners) {
  ResizeSpec s;
  s.dialect = ResizeDialect::kTfLegacy;
  s.align_corners = align_corners;
  return s;
}

void ExpectValues(const ImageF& got, int w, int h, const std::vector<float>& want) {
  ASSERT_EQ(got.width, w);
  ASSERT_EQ(got.height, h);
  ASSERT_EQ(got.pixels.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.pixels[i], want[i], 1e-4) << "at " << i;
}

const Image kRamp4 = Gray(4, 1, {0, 30, 60, 90});
const Image kPair = Gray(2, 1, {10, 50});
const Image kThree = Gray(3, 1, {0, 30, 90});

TEST(TfResize, BilinearHalfPixelShrink4To3) {
  // src = (i + 0.5) * 4/3 - 0.5 = 1/6, 3/2, 17/6 → 0 + 30/6, 30 + 15, 60 + 25.
  ExpectValues(ResizeF(kRamp4, 3, 1, Tf(Interpolation::kBilinear)), 3, 1, {5, 45, 85});
}

TEST(TfResize, BilinearHalfPixelEnlarge2To5ClampsAtTheEdges) {
  // src = (i + 0.5) * 0.4 - 0.5 = -0.3 (clamped), 0.1, 0.5, 0.9, 1.3 (clamped).
  ExpectValues(ResizeF(kPair, 5, 1, Tf(Interpolation::kBilinear)), 5, 1, {10, 14, 30, 46, 50});
}

TEST(TfResize, BilinearHalfPixel3To1TakesTheMiddlePixel) {
  ExpectValues(ResizeF(kThree, 1, 1, Tf(Interpolation::kBilinear)), 1, 1, {30});
}

TEST(TfResize, AntialiasTriangleWidensTheKernelWhenShrinking) {
  // 3 → 1: kernel radius 3 around 1.5; weights 1 - |s - 1|/3 = 2/3, 1, 2/3 → (0*2 + 30*3 +
  // 90*2) / 7.
  ExpectValues(ResizeF(kThree, 1, 1, Tf(Interpolation::kBilinear, true)), 1, 1, {270.f / 7});
  // 4 → 3: radius 4/3; x=0 samples 2/3: weights 0.875, 0.375 → 0.7, 0.3 → 9; x=1 samples 2:
  // equal weights on 30, 60 → 45; x=2 mirrors x=0 → 0.3*60 + 0.7*90 = 81.
  ExpectValues(ResizeF(kRamp4, 3, 1, Tf(Interpolation::kBilinear, true)), 3, 1, {9, 45, 81});
}

TEST(TfResize, AntialiasHasNoEffectWhenEnlarging) {
  const ImageF plain = ResizeF(kPair, 5, 1, Tf(Interpolation::kBilinear));
  ExpectValues(ResizeF(kPair, 5, 1, Tf(Interpolation::kBilinear, true)), 5, 1, plain.pixels);
}

TEST(TfResize, AreaAveragesFractionalCells) {
  // 4 → 3, cells of 4/3: (0 + 30/3) * 3/4, (30*2/3 + 60*2/3) * 3/4, (60/3 + 90) * 3/4.
  ExpectValues(ResizeF(kRamp4, 3, 1, Tf(Interpolation::kArea)), 3, 1, {7.5f, 45, 82.5f});
  // 2 → 5, cells of 0.4: the cell [0.8, 1.2) straddles both pixels half and half.
  ExpectValues(ResizeF(kPair, 5, 1, Tf(Interpolation::kArea)), 5, 1, {10, 10, 30, 50, 50});
  // TensorFlow ignores antialias for area (it always averages): same numbers.
  ExpectValues(ResizeF(kRamp4, 3, 1, Tf(Interpolation::kArea, true)), 3, 1, {7.5f, 45, 82.5f});
}

// image_ops_test.py, testResizeUp (3x2 → 6x4), v1 methods with align_corners=False.
const Image kTfTestImage = Gray(2, 3, {64, 32, 32, 64, 50, 100});

TEST(TfLegacyResize, MatchesTensorFlowsOwnTestVectors) {
  ExpectValues(ResizeF(kTfTestImage, 4, 6, Legacy(false)), 4, 6,
               {64, 48,    32, 32, 48, 48, 48,  48,  32, 48, 64,  64,
                41, 61.5f, 82, 82, 50, 75, 100, 100, 50, 75, 100, 100});
  // testResizeUpAlignCornersTrue: 3x2 → 5x4.
  ExpectValues(
      ResizeF(Gray(2, 3, {6, 3, 3, 6, 6, 9}), 4, 5, Legacy(true)), 4, 5,
      {6, 5, 4, 3, 4.5f, 4.5f, 4.5f, 4.5f, 3, 4, 5, 6, 4.5f, 5.5f, 6.5f, 7.5f, 6, 7, 8, 9});
}

TEST(TfResize, AreaMatchesTensorFlowsOwnTestVector) {
  // resize_area has no half-pixel variant: tf.image.resize(area) = v1 AREA, align_corners=False.
  ExpectValues(ResizeF(kTfTestImage, 4, 6, Tf(Interpolation::kArea)), 4, 6,
               {64, 64, 32, 32, 64, 64, 32,  32,  32, 32, 64,  64,
                32, 32, 64, 64, 50, 50, 100, 100, 50, 50, 100, 100});
}

TEST(TfLegacyResize, SourceIsDestinationTimesInOverOut) {
  // src = i * 4/3 = 0, 4/3, 8/3.
  ExpectValues(ResizeF(kRamp4, 3, 1, Legacy(false)), 3, 1, {0, 40, 80});
  // align_corners: src = i * 3/2 = 0, 1.5, 3 — the corners land on the corners.
  ExpectValues(ResizeF(kRamp4, 3, 1, Legacy(true)), 3, 1, {0, 45, 90});
  ExpectValues(ResizeF(kPair, 5, 1, Legacy(true)), 5, 1, {10, 20, 30, 40, 50});
  // One output: align_corners falls back to in/out, so src = 0.
  ExpectValues(ResizeF(kThree, 1, 1, Legacy(true)), 1, 1, {0});
  ExpectValues(ResizeF(kPair, 5, 1, Legacy(false)), 5, 1, {10, 26, 42, 50, 50});
}

TEST(TfResize, ChannelsAreIndependent) {
  Image rgb(2, 1, 3);
  rgb.pixels = {10, 0, 200, 50, 100, 0};
  ExpectValues(ResizeF(rgb, 5, 1, Tf(Interpolation::kBilinear)), 5, 1,
               {10, 0, 200, 14, 10, 180, 30, 50, 100, 46, 90, 20, 50, 100, 0});
}

TEST(TfResize, RejectsWhatTensorFlowDoesNotHave) {
  EXPECT_THROW(ResizeF(kPair, 2, 2, Tf(Interpolation::kBicubic)), Error);
  EXPECT_THROW(ResizeF(kPair, 2, 2, Tf(Interpolation::kNearest)), Error);
  ResizeSpec s = Legacy(false);
  s.antialias = true;
  EXPECT_THROW(ResizeF(kPair, 2, 2, s), Error);
  ResizeSpec a = Tf(Interpolation::kBilinear);
  a.align_corners = true;
  EXPECT_THROW(ResizeF(kPair, 2, 2, a), Error);
}

}  // namespace
}  // namespace lockstep
