// The three YOLO exports in the assets (YOLOv5n uint8 in/out, YOLOv8n and YOLO11n int8 in/out)
// through the Detector, pinned against their TFLite outputs decoded by hand here: the raw output
// read byte by byte, dequantized in double, scored, then NMS by "take the best left, drop what
// overlaps it" per class, and the boxes taken back through a letterbox computed from scratch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "lockstep/detect/detector.h"
#include "lockstep/engine/engine.h"
#include "lockstep/image/decode.h"
#include "lockstep/model/model_io.h"
#include "lockstep/pipeline/preprocess.h"
#include "lockstep/pipeline/spec_model.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

struct Case {
  const char* model;
  const char* decoder;
  bool v5;
};

struct HandDetection {
  int cls;
  double score;
  double x0, y0, x1, y1;  // source pixels
};

Spec UltralyticsSpec(const std::string& decoder, double confidence, bool agnostic) {
  Spec s;
  s.geometry.mode = GeometryMode::kLetterbox;
  s.geometry.pad_value = {114, 114, 114};
  s.geometry.rounding = LetterboxRounding::kUltralytics;
  s.normalize.mean = {0, 0, 0};
  s.normalize.std = {255, 255, 255};
  s.output.decoder = decoder == "yolov5" ? Decoder::kYolov5 : Decoder::kYolov8;
  s.output.yolo.confidence = confidence;
  s.output.yolo.class_agnostic = agnostic;
  s.output.label_file =
      (testing::AssetsDir() / "models/detection/yolov8n_coco_int8_metadata.yaml").string();
  return s;
}

double Overlap(const HandDetection& a, const HandDetection& b) {
  double w = std::min(a.x1, b.x1) - std::max(a.x0, b.x0);
  double h = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  if (w <= 0 || h <= 0) return 0;
  double inter = w * h;
  return inter / ((a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter);
}

// The reference: raw output bytes → detections in source pixels.
std::vector<HandDetection> HandDecode(const TensorData& out, double scale, int64_t zero_point,
                                      bool v5, double confidence, double iou, bool agnostic,
                                      int image_w, int image_h) {
  auto value = [&](size_t flat) {
    int q = out.dtype == DType::kInt8 ? int(int8_t(out.bytes[flat])) : int(out.bytes[flat]);
    return (q - double(zero_point)) * scale;
  };
  const int rows = out.shape[1], cols = out.shape[2];
  const int n = v5 ? rows : cols, classes = v5 ? cols - 5 : rows - 4;
  auto get = [&](int i, int k) {
    return v5 ? value(size_t(i) * cols + k) : value(size_t(k) * cols + i);
  };
  // Letterbox 640: r, Python-rounded size (ties to even), pads round(d - 0.1).
  const double r = std::min(640.0 / image_w, 640.0 / image_h);
  const double nw = std::nearbyint(image_w * r), nh = std::nearbyint(image_h * r);
  const double left = std::nearbyint((640 - nw) / 2 - 0.1);
  const double top = std::nearbyint((640 - nh) / 2 - 0.1);
  auto to_x = [&](double v) { return std::clamp((v * 640 - left) / r, 0.0, double(image_w)); };
  auto to_y = [&](double v) { return std::clamp((v * 640 - top) / r, 0.0, double(image_h)); };

  std::vector<HandDetection> pool;
  std::vector<double> pool_box;  // in model fractions, for NMS
  for (int i = 0; i < n; ++i) {
    double obj = v5 ? get(i, 4) : 1.0;
    if (v5 && !(obj > confidence)) continue;
    int best = 0;
    double best_score = -1;
    for (int c = 0; c < classes; ++c) {
      double s = get(i, (v5 ? 5 : 4) + c) * obj;
      if (s > best_score) best_score = s, best = c;
    }
    if (!(best_score > confidence)) continue;
    double cx = get(i, 0), cy = get(i, 1), w = get(i, 2), h = get(i, 3);
    pool.push_back({best, best_score, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2});
  }
  std::vector<HandDetection> kept;
  std::vector<bool> gone(pool.size(), false);
  while (true) {
    int pick = -1;
    for (size_t i = 0; i < pool.size(); ++i)
      if (!gone[i] && (pick < 0 || pool[i].score > pool[size_t(pick)].score)) pick = int(i);
    if (pick < 0) break;
    gone[size_t(pick)] = true;
    const HandDetection p = pool[size_t(pick)];
    kept.push_back(p);
    for (size_t i = 0; i < pool.size(); ++i)
      if (!gone[i] && (agnostic || pool[i].cls == p.cls) && Overlap(pool[i], p) > iou)
        gone[i] = true;
  }
  for (auto& d : kept) d = {d.cls, d.score, to_x(d.x0), to_y(d.y0), to_x(d.x1), to_y(d.y1)};
  return kept;
}

class YoloModels : public ::testing::TestWithParam<Case> {};

TEST_P(YoloModels, DetectorMatchesTheOutputDecodedByHand) {
  LOCKSTEP_REQUIRE_ASSETS();
  const Case& c = GetParam();
  const auto model = testing::AssetsDir() / "models/detection" / c.model;
  const Spec per_class = UltralyticsSpec(c.decoder, 0.1, false);
  const Spec agnostic_spec = UltralyticsSpec(c.decoder, 0.1, true);
  Detector detectors[2] = {Detector::Create(model, per_class),
                           Detector::Create(model, agnostic_spec)};
  Engine engine = Engine::Load(model);
  const ModelInput input = ModelInputOf(engine.model(), model.string());
  // 650 is 640x427: its vertical pads are 106 and 107, so a float pad would show.
  for (const char* name : {"000000000064.jpg", "000000000086.jpg", "000000000650.jpg"}) {
    const Image image = DecodeImageFile(testing::AssetsDir() / "datasets/coco128/train2017" / name);
    engine.SetInput(0, Preprocess(image, per_class, input).tensor);
    engine.Invoke();
    const TensorView view = engine.output(0);
    TensorData out(view.dtype, view.shape);
    std::copy(view.bytes.begin(), view.bytes.end(), out.bytes.begin());
    for (bool agnostic : {false, true}) {
      SCOPED_TRACE(std::string(c.model) + " " + name + (agnostic ? " agnostic" : " per class"));
      const ImageDetections got = detectors[agnostic].Detect(image);
      const std::vector<HandDetection> want =
          HandDecode(out, view.quantization->scale[0], view.quantization->zero_point[0], c.v5, 0.1,
                     c.v5 ? 0.45 : 0.7, agnostic, image.width, image.height);
      ASSERT_EQ(got.detections.size(), want.size());
      ASSERT_GE(want.size(), 2u);
      for (size_t i = 0; i < want.size(); ++i) {
        const PixelDetection& d = got.detections[i];
        EXPECT_EQ(d.class_index, want[i].cls) << i;
        EXPECT_NEAR(d.score, want[i].score, 1e-5) << i;
        EXPECT_NEAR(d.box.xmin, want[i].x0, 0.01) << i;
        EXPECT_NEAR(d.box.ymin, want[i].y0, 0.01) << i;
        EXPECT_NEAR(d.box.xmax, want[i].x1, 0.01) << i;
        EXPECT_NEAR(d.box.ymax, want[i].y1, 0.01) << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Assets, YoloModels,
                         ::testing::Values(Case{"yolov5n_coco_int8.tflite", "yolov5", true},
                                           Case{"yolov8n_coco_int8.tflite", "yolov8", false},
                                           Case{"yolo11n_coco_int8.tflite", "yolov8", false}),
                         [](const auto& param_info) {
                           return std::string(param_info.param.decoder) +
                                  (param_info.index == 2 ? "_yolo11" : "");
                         });

// What each model finds in COCO128 000000000064 (a clock above a street) with Ultralytics'
// defaults, as the asset manifest records it from an independent run.
TEST(YoloModels, TopDetectionsOfTheClockImage) {
  LOCKSTEP_REQUIRE_ASSETS();
  struct Expect {
    const char* model;
    const char* decoder;
    std::vector<std::pair<std::string, double>> top;
  };
  for (const Expect& e :
       {Expect{"yolov5n_coco_int8.tflite", "yolov5", {{"clock", 0.90}, {"car", 0.53}}},
        Expect{"yolov8n_coco_int8.tflite", "yolov8", {{"clock", 0.79}, {"car", 0.45}}},
        Expect{"yolo11n_coco_int8.tflite",
               "yolov8",
               {{"clock", 0.73}, {"car", 0.67}, {"stop sign", 0.58}}}}) {
    SCOPED_TRACE(e.model);
    Detector d = Detector::Create(testing::AssetsDir() / "models/detection" / e.model,
                                  UltralyticsSpec(e.decoder, 0.25, false));
    const ImageDetections got = d.Detect(
        DecodeImageFile(testing::AssetsDir() / "datasets/coco128/train2017/000000000064.jpg"));
    ASSERT_GE(got.detections.size(), e.top.size());
    for (size_t i = 0; i < e.top.size(); ++i) {
      EXPECT_EQ(got.detections[i].label, e.top[i].first);
      EXPECT_NEAR(got.detections[i].score, e.top[i].second, 0.006);
    }
    // The clock hangs in the upper left of the 480x640 photo.
    EXPECT_LT(got.detections[0].box.xmax, 280);
    EXPECT_LT(got.detections[0].box.ymax, 210);
  }
}

}  // namespace
}  // namespace lockstep
