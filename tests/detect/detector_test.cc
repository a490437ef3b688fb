// The Detector on the real SSD MobileNet v1 COCO model: real images, boxes in original-image
// pixels checked against the COCO128 ground truth (IoU computed here), labels from every source.
#include "lockstep/detect/detector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "lockstep/core/error.h"
#include "lockstep/eval/coco.h"
#include "lockstep/image/decode.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

using lockstep::testing::ScratchDir;

const char* kSsd = testing::kCocoSsdV1;
const char* kSsdNoMetadata =
    "models/detection/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29_no_metadata.tflite";
const char* kCoco128 = "datasets/coco128/annotations/instances_train2017.json";

// The pipeline the model was trained with: stretch to 300x300, (x - 127.5) / 127.5.
Spec TrainingSpec(double threshold = 0.5) {
  Spec s;
  s.geometry.mode = GeometryMode::kStretch;
  s.normalize.mean = {127.5, 127.5, 127.5};
  s.normalize.std = {127.5, 127.5, 127.5};
  s.output.score_threshold = threshold;
  return s;
}

// Written here, not the library's Iou: the test's own oracle.
double OracleIou(const Box& a, const Box& b) {
  double iw = std::max(0.0, std::min(a.xmax, b.xmax) - std::max(a.xmin, b.xmin));
  double ih = std::max(0.0, std::min(a.ymax, b.ymax) - std::max(a.ymin, b.ymin));
  double inter = iw * ih;
  double area_a = (a.xmax - a.xmin) * (a.ymax - a.ymin),
         area_b = (b.xmax - b.xmin) * (b.ymax - b.ymin);
  return inter / (area_a + area_b - inter);
}

// The best IoU of `box` with the ground truth of category `name` in image `file`.
double BestGroundTruthIou(const CocoDataset& data, const std::string& file, const std::string& name,
                          const Box& box) {
  int64_t image_id = -1, category = -1;
  for (const CocoImage& im : data.images)
    if (im.file_name == file) image_id = im.id;
  for (const CocoCategory& c : data.categories)
    if (c.name == name) category = c.id;
  double best = 0;
  for (const CocoAnnotation& a : data.annotations)
    if (a.image_id == image_id && a.category_id == category)
      best = std::max(best, OracleIou(box, Box{a.bbox.x, a.bbox.y, a.bbox.x + a.bbox.width,
                                               a.bbox.y + a.bbox.height}));
  return best;
}

TEST(Detector, FindsKnownObjectsInCoco128WhereTheGroundTruthIs) {
  LOCKSTEP_REQUIRE_ASSETS();
  const CocoDataset data = ReadCocoDataset(LOCKSTEP_ASSET(kCoco128));
  Detector detector = Detector::Create(LOCKSTEP_ASSET(kSsd), TrainingSpec());
  ASSERT_TRUE(detector.roles().has_value());
  EXPECT_EQ(detector.roles()->rule, OutputRoleRule::kMetadataNames);
  EXPECT_EQ(detector.labels().origin, "model metadata");

  struct Case {
    const char* file;
    const char* top_label;
    int width, height;
  };
  for (const Case& c : {Case{"000000000025.jpg", "giraffe", 640, 426},
                        Case{"000000000009.jpg", "bowl", 640, 480}}) {
    SCOPED_TRACE(c.file);
    const Image image =
        DecodeImageFile(LOCKSTEP_ASSET(std::string("datasets/coco128/train2017/") + c.file));
    const ImageDetections r = detector.Detect(image);
    EXPECT_EQ(r.width, c.width);
    EXPECT_EQ(r.height, c.height);
    ASSERT_FALSE(r.detections.empty());
    const PixelDetection& top = r.detections.front();
    EXPECT_EQ(top.label, c.top_label);
    EXPECT_GE(top.score, 0.6f);
    EXPECT_GT(BestGroundTruthIou(data, c.file, c.top_label, top.box), 0.5);
    for (const PixelDetection& d : r.detections) {
      EXPECT_GE(d.score, 0.5f);
      EXPECT_GE(d.box.xmin, 0);
      EXPECT_LE(d.box.xmax, c.width);
      EXPECT_GE(d.box.ymin, 0);
      EXPECT_LE(d.box.ymax, c.height);
      EXPECT_LT(d.box.xmin, d.box.xmax);
    }
  }
}

TEST(Detector, SameImageTwiceGivesTheSameDetections) {
  LOCKSTEP_REQUIRE_ASSETS();
  Detector detector = Detector::Create(LOCKSTEP_ASSET(kSsd), TrainingSpec(0.3));
  const Image image = DecodeImageFile(LOCKSTEP_ASSET("images/tflite_support/cats_and_dogs.jpg"));
  const ImageDetections a = detector.Detect(image), b = detector.Detect(image);
  ASSERT_EQ(a.detections.size(), b.detections.size());
  for (size_t i = 0; i < a.detections.size(); ++i) {
    EXPECT_EQ(a.detections[i].score, b.detections[i].score);
    EXPECT_EQ(a.detections[i].box.xmin, b.detections[i].box.xmin);
  }
}

TEST(Detector, LetterboxedSpecMapsBoxesBackToTheImage) {
  LOCKSTEP_REQUIRE_ASSETS();
  Spec spec = TrainingSpec();
  spec.geometry.mode = GeometryMode::kLetterbox;
  spec.geometry.pad_value = {114, 114, 114};
  Detector detector = Detector::Create(LOCKSTEP_ASSET(kSsd), spec);
  const Image image =
      DecodeImageFile(LOCKSTEP_ASSET("datasets/coco128/train2017/000000000025.jpg"));
  const ImageDetections r = detector.Detect(image);
  // 640x426 into 300x300: r = 300/640, height 199.69 → 200, 50 rows of pad above and below.
  EXPECT_EQ(r.transform.content, (Rect{0, 50, 300, 200}));
  ASSERT_FALSE(r.detections.empty());
  EXPECT_EQ(r.detections.front().label, "giraffe");
  const CocoDataset data = ReadCocoDataset(LOCKSTEP_ASSET(kCoco128));
  EXPECT_GT(BestGroundTruthIou(data, "000000000025.jpg", "giraffe", r.detections.front().box), 0.5);
}

TEST(NormalizedToSourcePixels, LetterboxByHand) {
  // 600x300 into 300x300, letterboxed: scale 0.5, content 300x150 at y = 75.
  GeometrySpec g;
  g.mode = GeometryMode::kLetterbox;
  const Transform t = ComputeTransform(g, 600, 300, 300, 300);
  ASSERT_EQ(t.content, (Rect{0, 75, 300, 150}));
  // (0.25, 0.25)-(0.75, 0.75) of the input = pixels (75, 75)-(225, 225); minus the pad, / 0.5.
  Box b = NormalizedToSourcePixels(Box{0.25, 0.25, 0.75, 0.75}, t, false);
  EXPECT_DOUBLE_EQ(b.xmin, 150);
  EXPECT_DOUBLE_EQ(b.ymin, 0);
  EXPECT_DOUBLE_EQ(b.xmax, 450);
  EXPECT_DOUBLE_EQ(b.ymax, 300);
  // A box reaching into the pad: y 0.1 → pixel 30 → (30 - 75) / 0.5 = -90, clamped to 0.
  b = NormalizedToSourcePixels(Box{-0.1, 0.1, 1.2, 0.5}, t, false);
  EXPECT_DOUBLE_EQ(b.ymin, -90);
  EXPECT_DOUBLE_EQ(b.xmin, -60);
  EXPECT_DOUBLE_EQ(b.xmax, 720);
  EXPECT_DOUBLE_EQ(b.ymax, 150);
  b = NormalizedToSourcePixels(Box{-0.1, 0.1, 1.2, 0.5}, t, true);
  EXPECT_DOUBLE_EQ(b.ymin, 0);
  EXPECT_DOUBLE_EQ(b.xmin, 0);
  EXPECT_DOUBLE_EQ(b.xmax, 600);
  EXPECT_DOUBLE_EQ(b.ymax, 150);
}

TEST(NormalizedToSourcePixels, StretchByHand) {
  const Transform t = ComputeTransform({}, 640, 480, 300, 300);
  const Box b = NormalizedToSourcePixels(Box{0.5, 0.25, 1, 0.75}, t, true);
  EXPECT_NEAR(b.xmin, 320, 1e-9);
  EXPECT_NEAR(b.ymin, 120, 1e-9);
  EXPECT_NEAR(b.xmax, 640, 1e-9);
  EXPECT_NEAR(b.ymax, 360, 1e-9);
}

TEST(Detector, LabelsComeFromSpecThenFileThenMetadataElseClassN) {
  LOCKSTEP_REQUIRE_ASSETS();
  const Image image =
      DecodeImageFile(LOCKSTEP_ASSET("datasets/coco128/train2017/000000000025.jpg"));
  {
    Detector d = Detector::Create(LOCKSTEP_ASSET(kSsdNoMetadata), TrainingSpec());
    EXPECT_EQ(d.labels().origin, "none");
    const ImageDetections r = d.Detect(image);
    ASSERT_FALSE(r.detections.empty());
    EXPECT_EQ(r.detections.front().class_index, 24);  // giraffe in the 90-slot COCO map
    EXPECT_EQ(r.detections.front().label, "class 24");
  }
  {
    Spec spec = TrainingSpec();
    spec.output.label_file = LOCKSTEP_ASSET("labels/coco_labels.txt").string();
    Detector d = Detector::Create(LOCKSTEP_ASSET(kSsdNoMetadata), spec);
    EXPECT_EQ(d.labels().labels.size(), 90u);
    EXPECT_EQ(d.labels().labels[11], "n/a");
    EXPECT_EQ(d.Detect(image).detections.front().label, "giraffe");
  }
  {
    Spec spec = TrainingSpec();
    spec.output.labels = {"a", "b"};
    Detector d = Detector::Create(LOCKSTEP_ASSET(kSsd), spec);
    EXPECT_EQ(d.labels().origin, "spec output.labels");
    EXPECT_EQ(d.Detect(image).detections.front().label, "class 24");  // beyond the 2 labels
  }
}

TEST(Detector, ScoreThresholdOverrideAndNoClamp) {
  LOCKSTEP_REQUIRE_ASSETS();
  const Image image =
      DecodeImageFile(LOCKSTEP_ASSET("datasets/coco128/train2017/000000000009.jpg"));
  Detector strict =
      Detector::Create(LOCKSTEP_ASSET(kSsd), TrainingSpec(0.0), {.score_threshold = 0.65});
  Detector all = Detector::Create(LOCKSTEP_ASSET(kSsd), TrainingSpec(0.0));
  const ImageDetections s = strict.Detect(image), a = all.Detect(image);
  EXPECT_EQ(a.detections.size(), 10u);  // max_detections of the model's op
  ASSERT_LT(s.detections.size(), a.detections.size());
  for (const PixelDetection& d : s.detections) EXPECT_GE(d.score, 0.65f);
  // Unclamped, boxes the model let run past the image edge stay there; clamped, they stop at it.
  Detector raw = Detector::Create(LOCKSTEP_ASSET(kSsd), TrainingSpec(0.0), {.clamp = false});
  const ImageDetections u = raw.Detect(image);
  ASSERT_EQ(u.detections.size(), a.detections.size());
  int outside = 0;
  for (size_t i = 0; i < u.detections.size(); ++i) {
    const Box &ub = u.detections[i].box, &cb = a.detections[i].box;
    if (ub.xmin < 0 || ub.ymin < 0 || ub.xmax > 640 || ub.ymax > 480) ++outside;
    EXPECT_DOUBLE_EQ(cb.xmin, std::clamp(ub.xmin, 0.0, 640.0));
    EXPECT_DOUBLE_EQ(cb.ymax, std::clamp(ub.ymax, 0.0, 480.0));
  }
  EXPECT_GT(outside, 0);
}

TEST(Detector, RefusesWhatItCannotRun) {
  LOCKSTEP_REQUIRE_ASSETS();
  // ssd_raw on a model whose outputs are the postprocess op's four arrays.
  Spec raw = TrainingSpec();
  raw.output.decoder = Decoder::kSsdRaw;
  try {
    Detector::Create(LOCKSTEP_ASSET(kSsd), raw);
    FAIL() << "ssd_raw accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "outputs (decoder ssd_raw): expected box encodings [1,N,4] and class scores "
                  "[1,N,C], found 'TFLite_Detection_PostProcess' float32[1,10,4]"),
              std::string::npos)
        << e.what();
  }
  // The Coral SSD head takes 12 feature maps, not an image.
  EXPECT_THROW(
      Detector::Create(LOCKSTEP_ASSET("models/detection/"
                                      "ssd_mobilenet_v1_coco_quant_postprocess_head_layers.tflite"),
                       TrainingSpec()),
      Error);
  EXPECT_THROW(Detector::Create(ScratchDir() / "missing.tflite", TrainingSpec()), Error);
}

TEST(ReadLabelFile, DropsCarriageReturnsAndNamesAMissingFile) {
  const auto dir = ScratchDir();
  std::ofstream(dir / "l.txt") << "person\r\nbicycle\r\n";
  EXPECT_EQ(ReadLabelFile(dir / "l.txt"), (std::vector<std::string>{"person", "bicycle"}));
  EXPECT_THROW(ReadLabelFile(dir / "none.txt"), Error);
  EXPECT_EQ(LabelOf({"a"}, 0), "a");
  EXPECT_EQ(LabelOf({"a"}, 3), "class 3");
}

}  // namespace
}  // namespace lockstep
