#include "lockstep/pipeline/geometry.h"

#include <gtest/gtest.h>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

GeometrySpec Letterbox(LetterboxRounding rounding, Placement placement = Placement::kCenter) {
  GeometrySpec g;
  g.mode = GeometryMode::kLetterbox;
  g.rounding = rounding;
  g.placement = placement;
  return g;
}

TEST(Geometry, StretchScalesEachAxis) {
  Transform t = ComputeTransform({}, 640, 480, 300, 300);
  EXPECT_EQ(t.content, (Rect{0, 0, 300, 300}));
  EXPECT_DOUBLE_EQ(t.scale_x, 300.0 / 640);
  EXPECT_DOUBLE_EQ(t.scale_y, 300.0 / 480);
  Point p = t.Inverse(Point{150, 300});
  EXPECT_DOUBLE_EQ(p.x, 320);
  EXPECT_DOUBLE_EQ(p.y, 480);
}

TEST(Geometry, UltralyticsLetterboxRoundsHalfToEvenAndPutsTheOddPixelAfter) {
  // 426x640 into 320x320: r = 0.5, width 213, pad 107 = 53 (round(53.5-0.1)) + 54.
  Transform t = ComputeTransform(Letterbox(LetterboxRounding::kUltralytics), 426, 640, 320, 320);
  EXPECT_EQ(t.content, (Rect{53, 0, 213, 320}));
  EXPECT_DOUBLE_EQ(t.scale_x, 0.5);
  // 425 * 0.5 = 212.5 rounds to 212 as Python's round does (half-away would give 213).
  t = ComputeTransform(Letterbox(LetterboxRounding::kUltralytics), 425, 640, 320, 320);
  EXPECT_EQ(t.content, (Rect{54, 0, 212, 320}));
  // 640x480 into 640x640: 80 rows above and below.
  t = ComputeTransform(Letterbox(LetterboxRounding::kUltralytics), 640, 480, 640, 640);
  EXPECT_EQ(t.content, (Rect{0, 80, 640, 480}));
}

TEST(Geometry, LetterboxInverseUsesTheIntegerPadAndTheRatio) {
  Transform t = ComputeTransform(Letterbox(LetterboxRounding::kUltralytics), 426, 640, 320, 320);
  Box b = t.Inverse(Box{53, 0, 266, 320});
  EXPECT_DOUBLE_EQ(b.xmin, 0);
  EXPECT_DOUBLE_EQ(b.xmax, 426);
  EXPECT_DOUBLE_EQ(b.ymax, 640);
  Point f = t.Forward(Point{100, 100});
  EXPECT_DOUBLE_EQ(f.x, 103);
  EXPECT_DOUBLE_EQ(f.y, 50);
  Point back = t.Inverse(f);
  EXPECT_DOUBLE_EQ(back.x, 100);
  EXPECT_DOUBLE_EQ(back.y, 100);
}

TEST(Geometry, PycoralTruncatesTheSizeAndPlacesTopLeft) {
  Transform t = ComputeTransform(Letterbox(LetterboxRounding::kPycoral, Placement::kTopLeft), 425,
                                 640, 320, 320);
  EXPECT_EQ(t.content, (Rect{0, 0, 212, 320}));
  t = ComputeTransform(Letterbox(LetterboxRounding::kPycoral, Placement::kTopLeft), 1352, 900, 300,
                       300);
  // scale = 300/1352 = 0.22189; 900 * scale = 199.70 → 199.
  EXPECT_EQ(t.content, (Rect{0, 0, 300, 199}));
}

TEST(Geometry, MediapipeLetterboxInvertsWithTheExactFractionalPad) {
  // 426x640 into 320x320: r = 0.5, content 213 wide, pad 53.5 on each side. MediaPipe removes
  // the letterbox as x' = (x/W - left)/(1 - left - right) with left = right = 53.5/320.
  Transform t = ComputeTransform(Letterbox(LetterboxRounding::kMediapipe), 426, 640, 320, 320);
  EXPECT_EQ(t.content, (Rect{54, 0, 213, 320}));  // pixels placed at the nearest integer
  EXPECT_DOUBLE_EQ(t.origin_x, 53.5);
  const double left = 53.5 / 320, right = 53.5 / 320;
  for (double x : {53.5, 100.0, 266.5}) {
    double mediapipe = (x / 320 - left) / (1 - left - right) * 426;
    EXPECT_NEAR(t.Inverse(Point{x, 0}).x, mediapipe, 1e-9);
  }
}

TEST(Geometry, LetterboxWithoutScaleUpKeepsSmallImagesAtTheirSize) {
  GeometrySpec g = Letterbox(LetterboxRounding::kUltralytics);
  g.scale_up = false;
  Transform t = ComputeTransform(g, 100, 50, 320, 320);
  EXPECT_EQ(t.content, (Rect{110, 135, 100, 50}));
}

TEST(Geometry, CenterCropTakesTheLargestCenteredSquareShrunkByTheFraction) {
  GeometrySpec g;
  g.mode = GeometryMode::kCenterCrop;
  Transform t = ComputeTransform(g, 640, 480, 224, 224);
  EXPECT_EQ(t.crop, (Rect{80, 0, 480, 480}));
  EXPECT_EQ(t.content, (Rect{0, 0, 224, 224}));
  g.crop_fraction = 0.875;
  t = ComputeTransform(g, 640, 480, 224, 224);
  EXPECT_EQ(t.crop, (Rect{110, 30, 420, 420}));
  Point p = t.Inverse(Point{0, 224});
  EXPECT_DOUBLE_EQ(p.x, 110);
  EXPECT_DOUBLE_EQ(p.y, 450);
}

TEST(Geometry, PadOnlyCentersWithoutResizingAndRefusesLargerImages) {
  GeometrySpec g;
  g.mode = GeometryMode::kPadOnly;
  Transform t = ComputeTransform(g, 201, 100, 320, 320);
  EXPECT_EQ(t.content, (Rect{59, 110, 201, 100}));
  EXPECT_DOUBLE_EQ(t.Inverse(Point{59, 110}).x, 0);
  g.placement = Placement::kTopLeft;
  EXPECT_EQ(ComputeTransform(g, 201, 100, 320, 320).content, (Rect{0, 0, 201, 100}));
  try {
    ComputeTransform(g, 400, 100, 320, 320);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "geometry.mode: expected an image no larger than the input 320x320 for "
                 "pad_only, found 400x100; use letterbox or stretch for larger images");
  }
}

}  // namespace
}  // namespace lockstep
