// CompareTensors against independent oracles on a real COCO128 photo: stage tensors made the way
// a Python training pipeline makes them (Pillow, cv2, numpy via /usr/bin/python3, saved as .npy)
// must be fingerprinted for what they are; and the real SSD model's raw boxes, taken as they come
// out of TFLite_Detection_PostProcess, must be named for the three box mistakes at once.
#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "doctor/describe_comparison.h"
#include "lockstep/core/npy.h"
#include "lockstep/detect/detector.h"
#include "lockstep/doctor/tensor_compare.h"
#include "lockstep/image/decode.h"
#include "lockstep/pipeline/preprocess.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

using lockstep::testing::RunPythonScript;
using ::testing::HasSubstr;

const char* kImage = "datasets/coco128/train2017/000000000009.jpg";  // 640x480
const char* kSsd = testing::kCocoSsdV1;

// The SSD's training pipeline: stretch to 300x300 with OpenCV bilinear, [-1,1], uint8 input
// with scale 1/128 and zero point 128.
Spec Training() {
  Spec s;
  s.normalize.mean = {127.5, 127.5, 127.5};
  s.normalize.std = {127.5, 127.5, 127.5};
  return s;
}

ModelInput SsdInput() {
  ModelInput in;
  in.width = in.height = 300;
  in.dtype = DType::kUInt8;
  in.scale = 0.0078125;
  in.zero_point = 128;
  return in;
}

using testing::Describe;

// The Python side: what a training script dumps for one image.
const char* kPythonPipelines = R"(
import numpy as np, cv2
from PIL import Image
src = np.asarray(Image.open(path).convert('RGB'))
h, w = src.shape[:2]
# Pillow's bilinear stretch.
np.save(out + '/pillow_resized.npy', np.asarray(Image.fromarray(src).resize((300, 300), Image.BILINEAR)))
# The Ultralytics letterbox: round the size, pads round(d -+ 0.1), value 114.
r = min(300 / h, 300 / w)
nw, nh = int(round(w * r)), int(round(h * r))
im = cv2.resize(src, (nw, nh), interpolation=cv2.INTER_LINEAR)
dw, dh = (300 - nw) / 2, (300 - nh) / 2
top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
np.save(out + '/letterbox_resized.npy',
        cv2.copyMakeBorder(im, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(114, 114, 114)))
# cv2.imread is BGR.
np.save(out + '/bgr_resized.npy', cv2.resize(cv2.imread(path), (300, 300), interpolation=cv2.INTER_LINEAR)[None])
rs = cv2.resize(src, (300, 300), interpolation=cv2.INTER_LINEAR)
np.save(out + '/zero_one_normalized.npy', (rs.astype(np.float32) / np.float32(255))[None])
x = (rs.astype(np.float32) - np.float32(127.5)) / np.float32(127.5)
np.save(out + '/chw_normalized.npy', np.ascontiguousarray(np.transpose(x, (2, 0, 1)))[None])
q = x / np.float32(0.0078125)
np.save(out + '/truncated_quantized.npy', np.clip(q + 128, 0, 255).astype(np.uint8)[None])
np.save(out + '/no_zero_point_quantized.npy', np.clip(np.round(q), 0, 255).astype(np.uint8)[None])
print(w, h, top, bottom)
)";

class TensorCompareOracle : public ::testing::Test {
 protected:
  // The Python side runs once for the suite, in a folder of this process's own: ctest runs each
  // test in its own process, in parallel.
  static void SetUpTestSuite() {
    if (lockstep::testing::AssetsDir().empty()) return;
    dir_ = new std::filesystem::path(lockstep::testing::ScratchBase() /
                                     ("TensorCompareOracle." + std::to_string(::getpid())));
    std::filesystem::remove_all(*dir_);
    std::filesystem::create_directories(*dir_);
    RunPythonScript("path, out = r'" + LOCKSTEP_ASSET(kImage).string() + "', r'" + dir_->string() +
                        "'\n" + kPythonPipelines,
                    *dir_);
  }
  static void TearDownTestSuite() {
    if (dir_) std::filesystem::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    LOCKSTEP_REQUIRE_ASSETS();
    source_ = DecodeImageFile(LOCKSTEP_ASSET(kImage));
    Preprocessed p = Preprocess(source_, spec_, SsdInput(), {.trace = true, .fused = false});
    for (Stage& s : p.trace) stages_[s.name] = std::move(s.data);
  }

  TensorComparison Compare(const std::string& stage, const std::string& npy, StageKind kind) {
    CompareContext ctx;
    ctx.spec = &spec_;
    ctx.scale = 0.0078125, ctx.zero_point = 128;
    ctx.source = &source_;
    ctx.input_width = ctx.input_height = 300;
    TensorComparison c = CompareTensors(stages_.at(stage), ReadNpyFile(*dir_ / npy), kind, ctx);
    std::printf("%s vs lockstep %s:\n%s", npy.c_str(), stage.c_str(), Describe(c).c_str());
    return c;
  }

  static std::filesystem::path* dir_;
  Spec spec_ = Training();
  Image source_;
  std::map<std::string, TensorData> stages_;
};

std::filesystem::path* TensorCompareOracle::dir_ = nullptr;

TEST_F(TensorCompareOracle, PillowResizeLooksLikePillowBilinear) {
  TensorComparison c = Compare("resized", "pillow_resized.npy", StageKind::kResized);
  ASSERT_FALSE(c.fingerprints.empty()) << Describe(c);
  EXPECT_EQ(c.fingerprints[0].code, "interpolation");
  EXPECT_EQ(c.fingerprints[0].description, "different interpolation: looks like Pillow bilinear");
  EXPECT_THAT(c.fingerprints[0].evidence, HasSubstr("100.0%"));
  EXPECT_EQ(c.fingerprints.size(), 1u) << Describe(c);
  EXPECT_GT(c.stats.differing_share(), 0.2);  // a real difference, not a rounding one
}

TEST_F(TensorCompareOracle, Cv2LetterboxIsPaddedVsStretched) {
  TensorComparison c = Compare("resized", "letterbox_resized.npy", StageKind::kResized);
  ASSERT_FALSE(c.fingerprints.empty()) << Describe(c);
  EXPECT_EQ(c.fingerprints[0].code, "padded_vs_stretched");
  // 640x480 → 300x225, pads 37 above and 38 below.
  EXPECT_THAT(c.fingerprints[0].evidence, HasSubstr("content 300x225 at (0,37), pad 114"));
  EXPECT_EQ(c.fingerprints.size(), 1u) << Describe(c);
}

TEST_F(TensorCompareOracle, Cv2ImreadIsChannelsSwapped) {
  TensorComparison c = Compare("resized", "bgr_resized.npy", StageKind::kResized);
  ASSERT_FALSE(c.fingerprints.empty()) << Describe(c);
  EXPECT_EQ(c.fingerprints[0].code, "channels_swapped");
  EXPECT_EQ(c.fingerprints.size(), 1u) << Describe(c);
}

TEST_F(TensorCompareOracle, NumpyZeroOneIsNamed) {
  TensorComparison c = Compare("normalized", "zero_one_normalized.npy", StageKind::kNormalized);
  ASSERT_FALSE(c.fingerprints.empty()) << Describe(c);
  EXPECT_EQ(c.fingerprints[0].code, "normalization_range");
  EXPECT_EQ(c.fingerprints[0].description, "[0,1] vs [-1,1]");
  EXPECT_EQ(c.fingerprints.size(), 1u) << Describe(c);
}

TEST_F(TensorCompareOracle, TorchStyleChwIsEqualInValue) {
  TensorComparison c = Compare("normalized", "chw_normalized.npy", StageKind::kNormalized);
  EXPECT_TRUE(c.equal) << Describe(c) << c.stats.max_abs_diff;
  ASSERT_EQ(c.notes.size(), 1u);
  EXPECT_THAT(c.notes[0], HasSubstr("CHW"));
}

TEST_F(TensorCompareOracle, AstypeIsTruncation) {
  TensorComparison c = Compare("quantized", "truncated_quantized.npy", StageKind::kQuantized);
  ASSERT_FALSE(c.fingerprints.empty()) << Describe(c);
  EXPECT_EQ(c.fingerprints[0].code, "truncation_vs_rounding");
  EXPECT_THAT(c.fingerprints[0].evidence, HasSubstr("re-run with truncate"));
  EXPECT_EQ(c.fingerprints.size(), 1u) << Describe(c);
}

TEST_F(TensorCompareOracle, ForgottenZeroPoint) {
  TensorComparison c = Compare("quantized", "no_zero_point_quantized.npy", StageKind::kQuantized);
  ASSERT_FALSE(c.fingerprints.empty()) << Describe(c);
  EXPECT_EQ(c.fingerprints[0].code, "zero_point_offset");
  EXPECT_EQ(c.fingerprints.size(), 1u) << Describe(c);
}

// The real model's raw box output (normalized ymin, xmin, ymax, xmax of the letterboxed input)
// against lockstep's boxes in source pixels: all three box mistakes at once.
TEST(TensorCompareRealModel, RawSsdBoxesNameAllThreeBoxMistakes) {
  LOCKSTEP_REQUIRE_ASSETS();
  Spec spec = Training();
  spec.geometry.mode = GeometryMode::kLetterbox;
  spec.geometry.pad_value = {128, 128, 128};
  DetectorOptions options;
  options.clamp = false;
  options.score_threshold = 0.0;
  Detector detector = Detector::Create(LOCKSTEP_ASSET(kSsd), spec, options);
  Image source = DecodeImageFile(LOCKSTEP_ASSET(kImage));
  DetectTrace trace;
  ImageDetections found = detector.Detect(source, &trace);
  ASSERT_FALSE(found.detections.empty());
  ASSERT_FALSE(trace.outputs.empty());
  const TensorData& raw = trace.outputs[0];  // [1,10,4] boxes
  ASSERT_EQ(raw.shape.back(), 4);
  int n = int(found.detections.size());
  ASSERT_LE(n, raw.shape[1]);
  TensorData ours(DType::kFloat32, {n, 4}), theirs(DType::kFloat32, {n, 4});
  for (int i = 0; i < n; ++i) {
    const Box& b = found.detections[size_t(i)].box;
    float v[4] = {float(b.xmin), float(b.ymin), float(b.xmax), float(b.ymax)};
    std::copy(v, v + 4, ours.as<float>().begin() + 4 * i);
    std::copy_n(raw.as<float>().begin() + 4 * i, 4, theirs.as<float>().begin() + 4 * i);
  }
  CompareContext ctx;
  ctx.spec = &spec;
  ctx.source = &source;
  ctx.input_width = ctx.input_height = 300;
  TensorComparison c = CompareTensors(ours, theirs, StageKind::kBoxes, ctx);
  std::vector<std::string> codes;
  for (const Fingerprint& f : c.fingerprints) codes.push_back(f.code);
  EXPECT_EQ(codes, (std::vector<std::string>{"boxes_not_unletterboxed", "normalized_vs_pixel_boxes",
                                             "yx_vs_xy_order"}))
      << Describe(c);
  if (!c.fingerprints.empty()) {
    EXPECT_THAT(c.fingerprints[0].description, HasSubstr("un-letterboxed"));
  }

  // The same boxes as lockstep gives them: equal.
  EXPECT_TRUE(CompareTensors(ours, ours, StageKind::kBoxes, ctx).equal);
}

}  // namespace
}  // namespace lockstep
