// MediaPipe Model Maker's anchors, read from the DETECTOR_METADATA entry of a real model, checked
// against the grid they must form (levels 3..6 of a 320×320 input, 3 ratios × 3 octave scales,
// anchor scale 3), then used by decoder ssd_raw on a real image.
#include "lockstep/detect/detector_metadata.h"

#include <gtest/gtest.h>

#include <cmath>

#include "lockstep/core/error.h"
#include "lockstep/detect/detector.h"
#include "lockstep/image/decode.h"
#include "lockstep/model/model_io.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

const char* kMediapipeSsd = "models/detection/mediapipe_mm_ssd_320_model_int8.tflite";

void ExpectAnchor(const TensorData& anchors, size_t i, std::array<double, 4> expected) {
  SCOPED_TRACE("anchor " + std::to_string(i));
  auto v = anchors.as<float>();
  for (size_t k = 0; k < 4; ++k) EXPECT_NEAR(v[4 * i + k], expected[k], 1e-6) << "component " << k;
}

TEST(MetadataAnchors, MediapipeModelMakerSsdHas19125GridAnchors) {
  LOCKSTEP_REQUIRE_ASSETS();
  const Model model = ReadModelFile(LOCKSTEP_ASSET(kMediapipeSsd));
  const std::optional<TensorData> anchors = MetadataAnchors(model, "mm");
  ASSERT_TRUE(anchors.has_value());
  // (40² + 20² + 10² + 5²) cells × 9 anchors.
  ASSERT_EQ(anchors->shape, (std::vector<int>{19125, 4}));
  // Level 3 (stride 8): centre 4/320; base size 3·8/320 = 0.075; ratio 0.5 (h = s·√2), 1, 2.
  const double s = 0.075, r2 = std::sqrt(2.0), octave = std::cbrt(2.0);
  ExpectAnchor(*anchors, 0, {0.0125, 0.0125, s * r2, s / r2});
  ExpectAnchor(*anchors, 1, {0.0125, 0.0125, s, s});
  ExpectAnchor(*anchors, 4, {0.0125, 0.0125, s * octave, s * octave});
  ExpectAnchor(*anchors, 9, {0.0125, 0.0375, s * r2, s / r2});  // next column
  // Level 6 (stride 64), last cell centre 288/320, base 3·64/320 = 0.6, the largest octave.
  const double big = 0.6 * octave * octave;
  ExpectAnchor(*anchors, 19124, {0.9, 0.9, big / r2, big * r2});

  // A model without the entry has none.
  EXPECT_FALSE(
      MetadataAnchors(ReadModelFile(LOCKSTEP_ASSET(testing::kCocoSsdV1)), "ssd").has_value());
}

TEST(MetadataAnchors, TruncatedOrCorruptMetadataIsAnErrorNotACrash) {
  LOCKSTEP_REQUIRE_ASSETS();
  const Model model = ReadModelFile(LOCKSTEP_ASSET(kMediapipeSsd));
  int errors = 0;
  for (size_t keep : {size_t(0), size_t(3), size_t(64), size_t(4096), size_t(460000)}) {
    Model cut = model;
    for (const MetadataEntry& m : cut.metadata)
      if (m.name == "TFLITE_METADATA" && cut.buffers[m.buffer].size() > keep)
        cut.buffers[m.buffer].resize(keep);
    try {
      MetadataAnchors(cut, "cut");
    } catch (const Error&) {
      ++errors;
    }
  }
  EXPECT_GE(errors, 4);  // every cut but possibly the empty buffer (no metadata) is refused
  Model flipped = model;
  for (const MetadataEntry& m : flipped.metadata)
    if (m.name == "TFLITE_METADATA")
      for (size_t i = 0; i < flipped.buffers[m.buffer].size(); i += 97)
        flipped.buffers[m.buffer][i] ^= 0xA5;
  try {
    MetadataAnchors(flipped, "flipped");
  } catch (const Error&) {
  }
}

TEST(MetadataAnchors, DecoderSsdRawRunsTheMediapipeModelOnARealImage) {
  LOCKSTEP_REQUIRE_ASSETS();
  Spec spec;
  spec.normalize.mean = {127.5, 127.5, 127.5};
  spec.normalize.std = {127.5, 127.5, 127.5};
  spec.output.decoder = Decoder::kSsdRaw;
  spec.output.anchors.source = AnchorSource::kMetadata;
  spec.output.box_scales = {1, 1, 1, 1};  // DETECTOR_METADATA's decoding options
  spec.output.nms.max_detections = 25;
  Detector detector = Detector::Create(LOCKSTEP_ASSET(kMediapipeSsd), spec);
  // The metadata lists background, basket, target; class 0 is the first real class.
  EXPECT_EQ(detector.labels().labels, (std::vector<std::string>{"basket", "target"}));
  const Image image = DecodeImageFile(LOCKSTEP_ASSET("images/coral/kite_and_cold.jpg"));
  const ImageDetections r = detector.Detect(image);
  ASSERT_EQ(r.detections.size(), 25u);  // threshold 0: NMS fills max_detections
  for (size_t i = 0; i < r.detections.size(); ++i) {
    const PixelDetection& d = r.detections[i];
    EXPECT_TRUE(d.label == "basket" || d.label == "target") << d.label;
    if (i > 0) {
      EXPECT_LE(d.score, r.detections[i - 1].score);
    }
    EXPECT_GE(d.box.xmin, 0);
    EXPECT_LE(d.box.xmax, r.width);
    EXPECT_LE(d.box.ymax, r.height);
  }

  // The same spec on the model with its metadata stripped says so.
  Model stripped = ReadModelFile(LOCKSTEP_ASSET(kMediapipeSsd));
  stripped.metadata.clear();
  stripped.associated_files.clear();
  const auto path = lockstep::testing::ScratchDir() / "mm_ssd_no_metadata.tflite";
  WriteModelFile(stripped, path);
  try {
    Detector::Create(path, spec);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("$.output.anchors.source: expected a model with a "
                                         "DETECTOR_METADATA metadata entry, found none"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace lockstep
