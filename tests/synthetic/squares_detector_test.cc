// The demo's detector, run in real TensorFlow Lite through lockstep's Detector: it finds the
// squares with boxes that can be checked by hand, reaches a high COCO AP with the pipeline it was
// built for, and each classic deployment mistake costs it a clear share of that AP.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "lockstep/eval/coco_eval.h"
#include "lockstep/model/model_io.h"
#include "support/test_support.h"
#include "synthetic/squares_eval.h"

namespace lockstep {
namespace {

std::filesystem::path WriteDetector() {
  const auto path = testing::ScratchDir() / "squares.tflite";
  WriteModelFile(BuildSquaresDetector(), path);
  return path;
}

TEST(SquaresDetector, IsAQuantizedDetectorEndingInThePostprocessOp) {
  const Model m = BuildSquaresDetector();
  EXPECT_TRUE(ReadModel(WriteModel(m), "squares") == m);
  const Subgraph& sg = m.subgraphs.at(0);
  ASSERT_EQ(sg.inputs.size(), 1u);
  const Tensor& in = sg.tensors.at(size_t(sg.inputs[0]));
  EXPECT_EQ(in.dtype, DType::kUInt8);
  EXPECT_EQ(in.shape, (std::vector<int32_t>{1, 64, 64, 3}));
  ASSERT_TRUE(in.quantization.has_value());
  EXPECT_FLOAT_EQ(in.quantization->scale.at(0), 1 / 127.5f);
  EXPECT_EQ(in.quantization->zero_point.at(0), 128);
  EXPECT_EQ(OperatorName(m, sg.operators.front()), "DEQUANTIZE");
  EXPECT_EQ(OperatorName(m, sg.operators.back()), "TFLite_Detection_PostProcess");
  EXPECT_EQ(sg.outputs.size(), 4u);
}

// A flat grey image (128) with one red 30x30 square at x 50..79, y 40..69 and one blue 20x20
// square at x 110..129, y 70..89: the boxes must be those, to within a pixel or two.
TEST(SquaresDetector, FindsHandPlacedSquares) {
  Image image(160, 112, 3);
  std::fill(image.pixels.begin(), image.pixels.end(), uint8_t{128});
  auto paint = [&](int x0, int y0, int side, uint8_t r, uint8_t g, uint8_t b) {
    for (int y = y0; y < y0 + side; ++y)
      for (int x = x0; x < x0 + side; ++x) {
        image.at(x, y, 0) = r;
        image.at(x, y, 1) = g;
        image.at(x, y, 2) = b;
      }
  };
  paint(50, 40, 30, 230, 30, 30);
  paint(110, 70, 20, 30, 40, 235);
  Detector detector = Detector::Create(WriteDetector(), SquaresTrainingSpec());
  const auto dets = detector.Detect(image).detections;
  for (const PixelDetection& d : dets) {
    std::printf("%s %.3f box x %.2f..%.2f y %.2f..%.2f\n", d.label.c_str(), d.score, d.box.xmin,
                d.box.xmax, d.box.ymin, d.box.ymax);
    EXPECT_GT(d.score, 0.6f);
  }
  ASSERT_EQ(dets.size(), 2u);
  const PixelDetection& red = dets[0].label == "red" ? dets[0] : dets[1];
  const PixelDetection& blue = dets[0].label == "red" ? dets[1] : dets[0];
  EXPECT_EQ(red.label, "red");
  EXPECT_EQ(red.class_index, 0);
  EXPECT_EQ(blue.label, "blue");
  EXPECT_EQ(blue.class_index, 2);
  EXPECT_NEAR(red.box.xmin, 50, 1.5);
  EXPECT_NEAR(red.box.xmax, 80, 1.5);
  EXPECT_NEAR(red.box.ymin, 40, 1.5);
  EXPECT_NEAR(red.box.ymax, 70, 1.5);
  EXPECT_NEAR(blue.box.xmin, 110, 1.5);
  EXPECT_NEAR(blue.box.xmax, 130, 1.5);
  EXPECT_NEAR(blue.box.ymin, 70, 1.5);
  EXPECT_NEAR(blue.box.ymax, 90, 1.5);
}

// The first generated image: every square found (IoU > 0.8, right class), nothing else above 0.5.
TEST(SquaresDetector, FindsTheSquaresOfAGeneratedImage) {
  SquaresOptions o;
  o.images = 1;
  const SquaresDataset s = GenerateSquares(o);
  ASSERT_GE(s.dataset.annotations.size(), 2u);
  Detector detector = Detector::Create(WriteDetector(), SquaresTrainingSpec());
  std::vector<PixelDetection> kept;
  for (const PixelDetection& d : detector.Detect(s.images[0]).detections)
    if (d.score > 0.5f) kept.push_back(d);
  ASSERT_EQ(kept.size(), s.dataset.annotations.size());
  for (const CocoAnnotation& a : s.dataset.annotations) {
    double best = 0;
    const PixelDetection* match = nullptr;
    for (const PixelDetection& d : kept) {
      const XywhBox box{d.box.xmin, d.box.ymin, d.box.xmax - d.box.xmin, d.box.ymax - d.box.ymin};
      if (double iou = BoxIou(box, a.bbox, false); iou > best) {
        best = iou;
        match = &d;
      }
    }
    ASSERT_NE(match, nullptr);
    EXPECT_GT(best, 0.8) << "annotation " << a.id;
    EXPECT_EQ(match->class_index + 1, a.category_id) << "annotation " << a.id;
  }
}

// The correct pipeline's AP, and what each classic mistake costs (figures in the demo).
TEST(SquaresDetector, CorrectSpecBeatsEveryClassicMistake) {
  const auto model = WriteDetector();
  const SquaresDataset s = GenerateSquares();
  const Spec training = SquaresTrainingSpec();
  const CocoEvalResult correct = testing::EvaluateSquares(model, training, s);
  std::printf("correct AP %.3f AP50 %.3f\n", correct.stats[0], correct.stats[1]);
  EXPECT_GT(correct.stats[0], 0.8);   // AP@[.5:.95]
  EXPECT_GT(correct.stats[1], 0.95);  // AP50
  const std::vector<PlantedMistake> mistakes = ClassicMistakes(training);
  ASSERT_EQ(mistakes.size(), 3u);
  for (const PlantedMistake& m : mistakes) {
    const CocoEvalResult e = testing::EvaluateSquares(model, m.spec, s);
    std::printf("%s AP %.3f AP50 %.3f\n", m.name.c_str(), e.stats[0], e.stats[1]);
    EXPECT_LT(e.stats[0], correct.stats[0] - 0.3) << m.name;
  }
  // [0,1] and the zero point lose squares outright (AP50 too); letterbox keeps finding them but
  // with boxes of the wrong shape (IoU about 0.7: AP50 stays, AP75 goes).
  const CocoEvalResult letterbox = testing::EvaluateSquares(model, mistakes[1].spec, s);
  EXPECT_GT(letterbox.stats[1], 0.9);
  EXPECT_LT(letterbox.stats[2], 0.1);
  for (size_t i : {size_t{0}, size_t{2}})
    EXPECT_LT(testing::EvaluateSquares(model, mistakes[i].spec, s).stats[1], 0.6)
        << mistakes[i].name;
}

TEST(SquaresDetector, EachMistakeChangesOnlyItsOwnFields) {
  const Spec t = SquaresTrainingSpec();
  const std::vector<PlantedMistake> m = ClassicMistakes(t);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].name, "normalize_0_1");
  EXPECT_EQ(m[0].spec.normalize.std, (std::array<double, 3>{255, 255, 255}));
  EXPECT_EQ(m[0].spec.geometry.mode, GeometryMode::kStretch);
  EXPECT_EQ(m[1].name, "letterbox");
  EXPECT_EQ(m[1].spec.geometry.mode, GeometryMode::kLetterbox);
  EXPECT_EQ(m[1].spec.normalize.mean, t.normalize.mean);
  EXPECT_EQ(m[2].name, "zero_point_ignored");
  EXPECT_EQ(m[2].spec.tensor.zero_point, std::optional<int64_t>(0));
  EXPECT_EQ(m[2].spec.geometry.mode, GeometryMode::kStretch);
  const Spec all = WithAllMistakes(t);
  EXPECT_EQ(all.geometry.mode, GeometryMode::kLetterbox);
  EXPECT_EQ(all.normalize.mean, (std::array<double, 3>{0, 0, 0}));
  EXPECT_EQ(all.tensor.zero_point, std::optional<int64_t>(0));
}

}  // namespace
}  // namespace lockstep
