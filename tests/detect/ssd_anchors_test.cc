// The SSD anchor generator against anchors computed by hand from SsdAnchorsCalculator's rules,
// and the anchor count of MediaPipe's face detector config.
#include "lockstep/detect/ssd_anchors.h"

#include <gtest/gtest.h>

#include <cmath>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

// Anchor i as {y, x, h, w}.
std::array<float, 4> At(const TensorData& anchors, size_t i) {
  auto v = anchors.as<float>();
  return {v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]};
}

void ExpectAnchor(const TensorData& anchors, size_t i, std::array<double, 4> expected) {
  SCOPED_TRACE("anchor " + std::to_string(i));
  const auto a = At(anchors, i);
  for (size_t k = 0; k < 4; ++k) EXPECT_NEAR(a[k], expected[k], 1e-6) << "component " << k;
}

TEST(SsdAnchors, TwoLayersOnA32PixelInputMatchHandComputedAnchors) {
  // Layer 0: stride 8 → 4×4 cells, scale 0.2 (min), next scale 0.6; layer 1: stride 16 → 2×2
  // cells, scale 0.6 (max), next 1.0. Per cell: ratio 1, ratio 2, then the interpolated
  // sqrt(scale·next) at ratio 1.
  SsdAnchorOptions o;
  o.num_layers = 2;
  o.min_scale = 0.2f;
  o.max_scale = 0.6f;
  o.input_width = o.input_height = 32;
  o.strides = {8, 16};
  o.aspect_ratios = {1.0f, 2.0f};
  const TensorData a = GenerateSsdAnchors(o, "tiny");
  ASSERT_EQ(a.shape, (std::vector<int>{4 * 4 * 3 + 2 * 2 * 3, 4}));
  const double r2 = std::sqrt(2.0);
  ExpectAnchor(a, 0, {0.125, 0.125, 0.2, 0.2});
  ExpectAnchor(a, 1, {0.125, 0.125, 0.2 / r2, 0.2 * r2});
  ExpectAnchor(a, 2, {0.125, 0.125, std::sqrt(0.2 * 0.6), std::sqrt(0.2 * 0.6)});
  ExpectAnchor(a, 3, {0.125, 0.375, 0.2, 0.2});   // next column
  ExpectAnchor(a, 12, {0.375, 0.125, 0.2, 0.2});  // next row
  ExpectAnchor(a, 47, {0.875, 0.875, std::sqrt(0.12), std::sqrt(0.12)});
  ExpectAnchor(a, 48, {0.25, 0.25, 0.6, 0.6});  // layer 1
  ExpectAnchor(a, 49, {0.25, 0.25, 0.6 / r2, 0.6 * r2});
  ExpectAnchor(a, 59, {0.75, 0.75, std::sqrt(0.6), std::sqrt(0.6)});

  // The lowest layer reduced to three fixed boxes: (0.1, ratio 1), (scale, 2), (scale, 0.5).
  o.reduce_boxes_in_lowest_layer = true;
  o.interpolated_scale_aspect_ratio = 0;
  o.anchor_offset_x = 0;
  const TensorData r = GenerateSsdAnchors(o, "tiny");
  ASSERT_EQ(r.shape[0], 4 * 4 * 3 + 2 * 2 * 2);
  ExpectAnchor(r, 0, {0.125, 0.0, 0.1, 0.1});
  ExpectAnchor(r, 1, {0.125, 0.0, 0.2 / r2, 0.2 * r2});
  ExpectAnchor(r, 2, {0.125, 0.0, 0.2 * r2, 0.2 / r2});
  ExpectAnchor(r, 48, {0.25, 0.0, 0.6, 0.6});
}

TEST(SsdAnchors, MediapipeShortRangeFaceDetectorHas896UnitAnchors) {
  SsdAnchorOptions o;
  o.num_layers = 4;
  o.min_scale = 0.1484375f;
  o.max_scale = 0.75f;
  o.input_width = o.input_height = 128;
  o.strides = {8, 16, 16, 16};
  o.aspect_ratios = {1.0f};
  o.fixed_anchor_size = true;
  const TensorData a = GenerateSsdAnchors(o, "face");
  // 16×16 cells × 2 anchors, then the three stride-16 layers merged: 8×8 cells × 6 anchors.
  ASSERT_EQ(a.shape, (std::vector<int>{896, 4}));
  ExpectAnchor(a, 0, {0.5 / 16, 0.5 / 16, 1, 1});
  ExpectAnchor(a, 1, {0.5 / 16, 0.5 / 16, 1, 1});
  ExpectAnchor(a, 2, {0.5 / 16, 1.5 / 16, 1, 1});
  ExpectAnchor(a, 511, {15.5 / 16, 15.5 / 16, 1, 1});
  ExpectAnchor(a, 512, {0.5 / 8, 0.5 / 8, 1, 1});
  ExpectAnchor(a, 518, {0.5 / 8, 1.5 / 8, 1, 1});
  ExpectAnchor(a, 895, {7.5 / 8, 7.5 / 8, 1, 1});
}

TEST(SsdAnchors, RefusesConfigsThatCannotGenerate) {
  SsdAnchorOptions o;
  o.num_layers = 2;
  o.min_scale = 0.2f;
  o.max_scale = 0.9f;
  o.input_width = o.input_height = 64;
  o.strides = {8};
  try {
    GenerateSsdAnchors(o, "cfg");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cfg: anchors.strides: expected 2 strides (num_layers), found 1");
  }
  o.strides = {8, 0};
  EXPECT_THROW(GenerateSsdAnchors(o, "cfg"), Error);
  o.strides = {8, 16};
  o.input_width = 0;
  EXPECT_THROW(GenerateSsdAnchors(o, "cfg"), Error);
}

// Issue 13 #3: a grid of 10^12 cells is refused from its count, before any anchor exists.
TEST(SsdAnchors, CountsBeforeGeneratingAndRefusesHugeGrids) {
  SsdAnchorOptions o;
  o.num_layers = 2;
  o.min_scale = 0.2f;
  o.max_scale = 0.6f;
  o.input_width = o.input_height = 32;
  o.strides = {8, 16};
  o.aspect_ratios = {1.0f, 2.0f};
  EXPECT_EQ(CountSsdAnchors(o, "cfg"), GenerateSsdAnchors(o, "cfg").shape[0]);
  o.reduce_boxes_in_lowest_layer = true;
  o.interpolated_scale_aspect_ratio = 0;
  EXPECT_EQ(CountSsdAnchors(o, "cfg"), GenerateSsdAnchors(o, "cfg").shape[0]);

  o.num_layers = 1;
  o.strides = {1};
  o.input_width = o.input_height = 1000000;
  EXPECT_EQ(CountSsdAnchors(o, "cfg"), int64_t(1000000) * 1000000 * 3);
  try {
    GenerateSsdAnchors(o, "cfg");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cfg: anchors: expected at most 1048576 anchors, found 3000000000000 from these "
              "strides and input size");
  }
}

}  // namespace
}  // namespace lockstep
