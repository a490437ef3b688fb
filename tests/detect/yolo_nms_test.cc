// YOLO NMS and decoding on hand-made values: every expected number below is worked out by hand
// in the comments.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "lockstep/core/error.h"
#include "lockstep/detect/yolo_decode.h"
#include "lockstep/detect/yolo_nms.h"

namespace lockstep {
namespace {

Detection D(int cls, float score, double x0, double y0, double x1, double y1) {
  return {cls, score, Box{x0, y0, x1, y1}};
}

std::vector<float> Scores(const std::vector<Detection>& ds) {
  std::vector<float> s;
  for (auto& d : ds) s.push_back(d.score);
  return s;
}

TEST(YoloNms, IouByHand) {
  // [0,0,10,10] and [1,0,11,10]: intersection 9x10 = 90, union 100 + 100 - 90 = 110.
  EXPECT_DOUBLE_EQ(Iou({0, 0, 10, 10}, {1, 0, 11, 10}), 90.0 / 110.0);
  // [0,0,10,10] and [5,0,15,10]: 50 / 150.
  EXPECT_DOUBLE_EQ(Iou({0, 0, 10, 10}, {5, 0, 15, 10}), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(Iou({0, 0, 1, 1}, {2, 2, 3, 3}), 0.0);
  EXPECT_DOUBLE_EQ(Iou({0, 0, 0, 0}, {0, 0, 0, 0}), 0.0);  // empty union: 0, not NaN
}

// A (class 0, 0.9); B overlaps A by IoU 0.818 (class 0, 0.8); C is B's box in class 1 (0.7);
// E overlaps A by IoU 1/3 (class 0, 0.6).
std::vector<Detection> Four() {
  return {D(0, 0.8f, 1, 0, 11, 10), D(1, 0.7f, 1, 0, 11, 10), D(0, 0.9f, 0, 0, 10, 10),
          D(0, 0.6f, 5, 0, 15, 10)};
}

TEST(YoloNms, ClassAwareKeepsOverlapsOfOtherClasses) {
  YoloNmsOptions o;  // IoU 0.7, class-aware
  // A kept; B (0.818 > 0.7, same class) dropped; C (other class) kept; E (1/3) kept.
  EXPECT_EQ(Scores(YoloNms(Four(), o)), (std::vector<float>{0.9f, 0.7f, 0.6f}));
}

TEST(YoloNms, ClassAgnosticDropsOverlapsOfAnyClass) {
  YoloNmsOptions o;
  o.class_agnostic = true;
  // A kept; B and C (IoU 0.818 with A) dropped; E kept.
  EXPECT_EQ(Scores(YoloNms(Four(), o)), (std::vector<float>{0.9f, 0.6f}));
}

TEST(YoloNms, ThresholdIsStrict) {
  // IoU exactly 0.5 ([0,0,3,1] and [1,0,4,1]: 2 / 4): kept at 0.5, dropped at 0.49.
  std::vector<Detection> two = {D(0, 0.9f, 0, 0, 3, 1), D(0, 0.8f, 1, 0, 4, 1)};
  YoloNmsOptions o;
  o.iou_threshold = 0.5;
  EXPECT_EQ(YoloNms(two, o).size(), 2u);
  o.iou_threshold = 0.49;
  EXPECT_EQ(YoloNms(two, o).size(), 1u);
}

TEST(YoloNms, MaxDetectionsAndMaxCandidates) {
  YoloNmsOptions o;
  o.max_detections = 2;
  EXPECT_EQ(Scores(YoloNms(Four(), o)), (std::vector<float>{0.9f, 0.7f}));
  o.max_detections = 300;
  o.max_candidates = 2;  // only A and B enter; B falls to A
  EXPECT_EQ(Scores(YoloNms(Four(), o)), (std::vector<float>{0.9f}));
}

TEST(YoloNms, EqualScoresKeepCandidateOrder) {
  // Same score, same box, same class: the first candidate survives.
  std::vector<Detection> ds = {D(0, 0.5f, 0, 0, 1, 1), D(0, 0.5f, 0, 0, 1, 1)};
  ds[0].box.xmax = 1.0001;  // tell them apart
  auto kept = YoloNms(ds, {});
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_DOUBLE_EQ(kept[0].box.xmax, 1.0001);
}

TensorView View(DType dtype, std::vector<int> shape, std::vector<uint8_t>& bytes,
                std::optional<Quantization> q = std::nullopt) {
  return TensorView{0, "head", dtype, std::move(shape), std::move(q), bytes};
}

template <typename T>
std::vector<uint8_t> Bytes(const std::vector<T>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(T));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST(YoloDecode, V8FloatPixelsBestClassAboveConfidence) {
  // [1, 4+2, 3]: rows cx, cy, w, h, class 0, class 1; three candidates in columns.
  std::vector<float> v = {320,  100,  50,     // cx
                          320,  100,  50,     // cy
                          64,   20,   10,     // w
                          32,   20,   10,     // h
                          0.2f, 0.9f, 0.25f,  // class 0
                          0.6f, 0.1f, 0.1f};  // class 1
  auto bytes = Bytes(v);
  YoloDecodeOptions o;
  o.head = {YoloHeadKind::kV8, 3, 2, true, ""};
  o.normalized_boxes = false;
  o.input_width = o.input_height = 640;
  std::vector<Detection> c = YoloCandidates(View(DType::kFloat32, {1, 6, 3}, bytes), o, "t");
  // Candidate 0: class 1 (0.6), box 288..352 x 304..336 → /640. Candidate 1: class 0 (0.9).
  // Candidate 2: best 0.25 is not above 0.25.
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].class_index, 1);
  EXPECT_FLOAT_EQ(c[0].score, 0.6f);
  EXPECT_DOUBLE_EQ(c[0].box.xmin, 288.0 / 640);
  EXPECT_DOUBLE_EQ(c[0].box.ymax, 336.0 / 640);
  EXPECT_EQ(c[1].class_index, 0);
  // multi-label: every class score above the confidence is a candidate of its own.
  o.multi_label = true;
  o.confidence = 0.15;
  c = YoloCandidates(View(DType::kFloat32, {1, 6, 3}, bytes), o, "t");
  // 0.2 and 0.6 (cand 0), 0.9 (cand 1), 0.25 (cand 2) are above 0.15.
  EXPECT_EQ(Scores(c), (std::vector<float>{0.2f, 0.6f, 0.9f, 0.25f}));
}

TEST(YoloDecode, V5QuantizedScoresAreObjectnessTimesClass) {
  // uint8 [1, 2, 5+2], scale 1/100, zero point 10: value = (q - 10) / 100.
  std::vector<uint8_t> q = {60, 60, 30, 30, 90, 60,  20,    // obj 0.8, cls 0.5, 0.1
                            60, 60, 30, 30, 30, 110, 110};  // obj 0.2 fails obj > 0.25
  Quantization quant;
  quant.scale = {0.01f};
  quant.zero_point = {10};
  YoloDecodeOptions o;
  o.head = {YoloHeadKind::kV5, 2, 2, true, ""};
  o.input_width = o.input_height = 640;
  auto c = YoloCandidates(View(DType::kUInt8, {1, 2, 7}, q, quant), o, "t");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].class_index, 0);
  EXPECT_NEAR(c[0].score, 0.8 * 0.5, 1e-6);
  // cx 0.5, w 0.2 → 0.4 .. 0.6
  EXPECT_NEAR(c[0].box.xmin, 0.4, 1e-6);
  EXPECT_NEAR(c[0].box.xmax, 0.6, 1e-6);
  // Units: the uint8 range reaches (255 - 10) / 100 = 2.45: fractions.
  EXPECT_TRUE(DetectYoloBoxUnits(View(DType::kUInt8, {1, 2, 7}, q, quant), o.head).normalized);
}

TEST(YoloDecode, BoxUnitsFromFloatValues) {
  std::vector<float> v(6 * 3, 0.5f);
  auto bytes = Bytes(v);
  YoloHead head{YoloHeadKind::kV8, 3, 2, true, ""};
  EXPECT_TRUE(DetectYoloBoxUnits(View(DType::kFloat32, {1, 6, 3}, bytes), head).normalized);
  v[2] = 317;  // cx of candidate 2
  bytes = Bytes(v);
  BoxUnitsDecision d = DetectYoloBoxUnits(View(DType::kFloat32, {1, 6, 3}, bytes), head);
  EXPECT_FALSE(d.normalized);
  EXPECT_NE(d.reason.find("317"), std::string::npos);
}

TEST(YoloDecode, SpecDecoderMustFitTheHead) {
  std::vector<uint8_t> bytes(84 * 8400);
  OutputSpec spec;
  spec.decoder = Decoder::kYolov5;
  try {
    YoloOptionsFor(spec, View(DType::kInt8, {1, 84, 8400}, bytes), 640, 640, "m.tflite");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "$.output.decoder");
    EXPECT_NE(std::string(e.what()).find("set output.decoder to yolov8"), std::string::npos);
  }
  spec.decoder = Decoder::kYolov8;
  EXPECT_THROW(YoloOptionsFor(spec, View(DType::kInt8, {1, 10, 4}, bytes), 640, 640, "m.tflite"),
               Error);
  const YoloDecodeOptions o =
      YoloOptionsFor(spec, View(DType::kInt8, {1, 84, 8400}, bytes), 640, 640, "m.tflite");
  EXPECT_EQ(o.head.classes, 80);
  EXPECT_DOUBLE_EQ(o.nms.iou_threshold, 0.7);  // Ultralytics' v8 default
  EXPECT_EQ(o.nms.max_detections, 300);
}

TEST(YoloHeadShape, GridsAndProportions) {
  auto v5 = YoloHeadOfShape({1, 25200, 85}, 640, 640);
  ASSERT_TRUE(v5);
  EXPECT_EQ(v5->kind, YoloHeadKind::kV5);
  EXPECT_EQ(v5->classes, 80);
  EXPECT_TRUE(v5->grid_matches_input);
  auto v8 = YoloHeadOfShape({1, 84, 8400}, 640, 640);
  ASSERT_TRUE(v8);
  EXPECT_EQ(v8->kind, YoloHeadKind::kV8);
  EXPECT_EQ(v8->candidates, 8400);
  // 320x320: 40² + 20² + 10² = 2100 cells; 8400 candidates fit only by proportion.
  auto odd = YoloHeadOfShape({1, 84, 8400}, 320, 320);
  ASSERT_TRUE(odd);
  EXPECT_FALSE(odd->grid_matches_input);
  EXPECT_TRUE(YoloHeadOfShape({1, 6, 2100}, 320, 320)->grid_matches_input);  // one class
  EXPECT_FALSE(YoloHeadOfShape({1, 10, 4}, 320, 320));
  EXPECT_FALSE(YoloHeadOfShape({1, 84}, 640, 640));
}

}  // namespace
}  // namespace lockstep
