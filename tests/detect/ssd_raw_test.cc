// decoder ssd_raw on real models: the COCO SSD with its TFLite_Detection_PostProcess op cut off
// (outputs rewired to the op's inputs) must detect exactly what the whole model detects through
// the real op in TFLite; anchors that do not fit the outputs are an Error naming both counts.
#include <gtest/gtest.h>

#include <filesystem>

#include "lockstep/core/error.h"
#include "lockstep/detect/detector.h"
#include "lockstep/detect/ssd_raw.h"
#include "lockstep/image/decode.h"
#include "lockstep/model/model_io.h"
#include "lockstep/model/postprocess_options.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

using lockstep::testing::ScratchDir;

const char* kSsd = testing::kCocoSsdV1;

Spec TrainingSpec(double threshold) {
  Spec s;
  s.normalize.mean = {127.5, 127.5, 127.5};
  s.normalize.std = {127.5, 127.5, 127.5};
  s.output.score_threshold = threshold;
  return s;
}

// The model without its postprocess op: its outputs are the op's box encodings and class
// scores (after LOGISTIC). Returns the path and the op's options.
std::pair<std::filesystem::path, DetectionPostprocessOptions> HeadOnlyModel(
    const std::filesystem::path& original) {
  Model model = ReadModelFile(original);
  const std::optional<DetectionPostprocess> op = FindDetectionPostprocess(model, original.string());
  if (!op) throw Error(original.string(), "ops", "TFLite_Detection_PostProcess", "none");
  Subgraph& g = model.subgraphs[op->subgraph];
  g.outputs = {op->inputs[0], op->inputs[1]};
  g.operators.erase(g.operators.begin() + std::ptrdiff_t(op->operator_index));
  // The metadata describes the op's four outputs; the head has two.
  model.metadata.clear();
  model.associated_files.clear();
  const std::filesystem::path path = ScratchDir() / "ssd_head_only.tflite";
  WriteModelFile(model, path);
  return {path, op->options};
}

TEST(SsdRaw, HeadOnlyModelDetectsExactlyWhatThePostprocessOpDetects) {
  LOCKSTEP_REQUIRE_ASSETS();
  const auto [head, op] = HeadOnlyModel(LOCKSTEP_ASSET(kSsd));

  Spec whole = TrainingSpec(0.3);
  whole.output.label_file = "";
  Spec raw = whole;
  raw.output.decoder = Decoder::kSsdRaw;
  raw.output.anchors.source = AnchorSource::kConstant;
  raw.output.box_scales = {op.y_scale, op.x_scale, op.h_scale, op.w_scale};
  raw.output.nms.iou_threshold = op.nms_iou_threshold;
  raw.output.nms.max_detections = op.max_detections;
  raw.output.nms.use_regular_nms = op.use_regular_nms;
  raw.output.nms.detections_per_class = op.detections_per_class;
  raw.output.background_class = true;
  EXPECT_EQ(op.num_classes, 90);
  EXPECT_EQ(op.max_detections, 10);

  Detector reference = Detector::Create(LOCKSTEP_ASSET(kSsd), whole);
  Detector decoder = Detector::Create(head, raw);
  size_t compared = 0;
  for (const char* file :
       {"000000000009.jpg", "000000000025.jpg", "000000000030.jpg", "000000000034.jpg",
        "000000000036.jpg", "000000000042.jpg", "000000000049.jpg", "000000000061.jpg"}) {
    SCOPED_TRACE(file);
    const Image image =
        DecodeImageFile(LOCKSTEP_ASSET(std::string("datasets/coco128/train2017/") + file));
    const ImageDetections want = reference.Detect(image);
    const ImageDetections got = decoder.Detect(image);
    ASSERT_EQ(got.detections.size(), want.detections.size());
    for (size_t i = 0; i < want.detections.size(); ++i) {
      const PixelDetection &w = want.detections[i], &d = got.detections[i];
      EXPECT_EQ(d.class_index, w.class_index);
      EXPECT_EQ(d.score, w.score);
      EXPECT_EQ(d.box.xmin, w.box.xmin);
      EXPECT_EQ(d.box.ymin, w.box.ymin);
      EXPECT_EQ(d.box.xmax, w.box.xmax);
      EXPECT_EQ(d.box.ymax, w.box.ymax);
    }
    compared += want.detections.size();
  }
  EXPECT_GE(compared, 40u);  // 59 detections above 0.3 in these 8 images
}

TEST(SsdRaw, AnchorsThatDoNotFitTheOutputsNameBothCounts) {
  LOCKSTEP_REQUIRE_ASSETS();
  const auto [head, op] = HeadOnlyModel(LOCKSTEP_ASSET(kSsd));
  Spec raw = TrainingSpec(0.5);
  raw.output.decoder = Decoder::kSsdRaw;
  raw.output.anchors.source = AnchorSource::kGenerator;
  SsdAnchorOptions& g = raw.output.anchors.generator;  // the face detector's 896 anchors
  g.num_layers = 4;
  g.min_scale = 0.1484375f;
  g.max_scale = 0.75f;
  g.input_width = g.input_height = 128;
  g.strides = {8, 16, 16, 16};
  g.fixed_anchor_size = true;
  try {
    Detector::Create(head, raw);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              head.string() +
                  ": $.output.anchors: expected 1917 anchors (one per box "
                  "of the model's output), found 896 from the generator config");
  }
  raw.output.anchors = {.source = AnchorSource::kConstant, .tensor = "no_such_tensor"};
  EXPECT_THROW(Detector::Create(head, raw), Error);
}

TEST(SsdRaw, LabelsListingTheBackgroundLoseIt) {
  LOCKSTEP_REQUIRE_ASSETS();
  const auto [head, op] = HeadOnlyModel(LOCKSTEP_ASSET(kSsd));
  Spec raw = TrainingSpec(0.5);
  raw.output.decoder = Decoder::kSsdRaw;
  raw.output.labels = {"background"};
  for (int i = 1; i <= op.num_classes; ++i) {
    std::string label = "c";  // (appending, not "c" + ...: GCC 12's false -Wrestrict)
    label += std::to_string(i);
    raw.output.labels.push_back(label);
  }
  Detector with_background = Detector::Create(head, raw);
  EXPECT_FALSE(with_background.roles().has_value());  // ssd_raw tells outputs by shape
  ASSERT_EQ(with_background.labels().labels.size(), 90u);
  EXPECT_EQ(with_background.labels().labels.front(), "c1");
  // Labels that already start at the first real class stay as they are.
  raw.output.labels.erase(raw.output.labels.begin());
  EXPECT_EQ(Detector::Create(head, raw).labels().labels.front(), "c1");
  // No background column: every score column is a class, labels included.
  raw.output.background_class = false;
  raw.output.labels.insert(raw.output.labels.begin(), "background");
  EXPECT_EQ(Detector::Create(head, raw).labels().labels.size(), 91u);
}

}  // namespace
}  // namespace lockstep
