// CompareTensors: statistics, alignment, and fingerprints. Each mistake is planted with
// lockstep's own pipeline (a changed spec field), and the test checks that the right
// fingerprint comes first and that absent mistakes are not named.
#include "lockstep/doctor/tensor_compare.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "doctor/describe_comparison.h"
#include "lockstep/core/error.h"
#include "lockstep/core/npy.h"
#include "lockstep/image/decode.h"
#include "lockstep/pipeline/geometry.h"
#include "lockstep/pipeline/preprocess.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

using ::testing::HasSubstr;

// A textured image: gradients that differ per channel (so a swap shows) and per-pixel noise (so
// interpolations differ), from a fixed LCG.
Image Generated(int w = 200, int h = 150) {
  Image img(w, h, 3);
  uint32_t state = 12345;
  auto noise = [&] {
    state = state * 1664525u + 1013904223u;
    return int(state >> 24) % 61 - 30;
  };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      int base[3] = {40 + 170 * x / w, 30 + 180 * y / h, 200 - 150 * (x + y) / (w + h)};
      for (int c = 0; c < 3; ++c)
        img.at(x, y, c) =
            uint8_t(std::clamp(base[c] + noise() + ((x / 16 + y / 16) % 2) * 20, 0, 255));
    }
  return img;
}

Spec MinusOneOne() {
  Spec s;
  s.normalize.mean = {127.5, 127.5, 127.5};
  s.normalize.std = {127.5, 127.5, 127.5};
  return s;
}

ModelInput Input(DType dtype = DType::kUInt8, int size = 96) {
  ModelInput in;
  in.width = in.height = size;
  in.channels = 3;
  in.dtype = dtype;
  if (dtype == DType::kUInt8) in.scale = 1.0 / 128, in.zero_point = 128;
  if (dtype == DType::kInt8) in.scale = 1.0 / 128, in.zero_point = 0;
  return in;
}

// The stage tensor `name` of lockstep's pipeline ("resized", "normalized", "quantized").
TensorData StageOf(const Image& img, const Spec& spec, const ModelInput& in,
                   const std::string& name) {
  Preprocessed p = Preprocess(img, spec, in, {.trace = true, .fused = false});
  for (Stage& s : p.trace)
    if (s.name == name) return std::move(s.data);
  ADD_FAILURE() << "no stage " << name;
  return {};
}

StageKind KindOf(const std::string& name) {
  if (name == "resized") return StageKind::kResized;
  if (name == "normalized") return StageKind::kNormalized;
  return StageKind::kQuantized;
}

std::vector<std::string> Codes(const TensorComparison& c) {
  std::vector<std::string> out;
  for (const Fingerprint& f : c.fingerprints) out.push_back(f.code);
  return out;
}

using testing::Describe;

// Plants one spec change and compares stage `stage` of the changed pipeline (other) with the
// reference's, with the full context.
struct Planted {
  TensorComparison comparison;
  TensorData reference, other;
};
Planted Plant(const Image& img, const Spec& ref_spec, const Spec& other_spec,
              const std::string& stage, const ModelInput& ref_in = Input(),
              const ModelInput& other_in = Input(), bool with_source = true) {
  Planted p;
  p.reference = StageOf(img, ref_spec, ref_in, stage);
  p.other = StageOf(img, other_spec, other_in, stage);
  CompareContext ctx;
  ctx.spec = &ref_spec;
  if (ref_in.scale > 0) ctx.scale = ref_in.scale, ctx.zero_point = ref_in.zero_point;
  if (with_source) ctx.source = &img;
  ctx.input_width = ref_in.width, ctx.input_height = ref_in.height;
  p.comparison = CompareTensors(p.reference, p.other, KindOf(stage), ctx);
  return p;
}

void ExpectFirst(const TensorComparison& c, const std::string& code) {
  ASSERT_FALSE(c.fingerprints.empty()) << "expected " << code << "\n" << Describe(c);
  EXPECT_EQ(c.fingerprints.front().code, code) << Describe(c);
  EXPECT_FALSE(c.equal);
}

void ExpectAbsent(const TensorComparison& c, const std::string& code) {
  std::vector<std::string> codes = Codes(c);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), code), 0) << Describe(c);
}

TensorData Floats(std::vector<int> shape, std::vector<float> values) {
  TensorData t(DType::kFloat32, std::move(shape));
  std::copy(values.begin(), values.end(), t.as<float>().begin());
  return t;
}

// ---- statistics and alignment ---------------------------------------------------------------

TEST(TensorCompare, StatisticsAreHandComputed) {
  TensorData ref = Floats({4}, {1, 2, 3, 4}), other = Floats({4}, {1, 2, 5, 0});
  TensorComparison c = CompareTensors(ref, other, StageKind::kRawOutput);
  EXPECT_TRUE(c.same_shape);
  EXPECT_FALSE(c.equal);
  EXPECT_EQ(c.stats.elements, 4u);
  EXPECT_EQ(c.stats.differing, 2u);
  EXPECT_DOUBLE_EQ(c.stats.differing_share(), 0.5);
  EXPECT_DOUBLE_EQ(c.stats.max_abs_diff, 4);
  EXPECT_DOUBLE_EQ(c.stats.mean_diff, (2.0 - 4.0) / 4);
  EXPECT_DOUBLE_EQ(c.stats.mean_abs_diff, 6.0 / 4);
  EXPECT_EQ(Name(StageKind::kRawOutput), "raw_outputs");
}

TEST(TensorCompare, EqualTensorsAreEqualWithNoFingerprints) {
  Image img = Generated();
  for (const char* stage : {"resized", "normalized", "quantized"}) {
    Planted p = Plant(img, MinusOneOne(), MinusOneOne(), stage);
    EXPECT_TRUE(p.comparison.equal) << stage;
    EXPECT_TRUE(p.comparison.same_shape) << stage;
    EXPECT_EQ(p.comparison.stats.differing, 0u) << stage;
    EXPECT_EQ(p.comparison.stats.elements, 96u * 96 * 3) << stage;
    EXPECT_TRUE(p.comparison.fingerprints.empty()) << stage << "\n" << Describe(p.comparison);
    EXPECT_TRUE(p.comparison.notes.empty()) << stage;
  }
}

TEST(TensorCompare, ChwAndMissingBatchAxisAreAlignedAndSaid) {
  Image img = Generated();
  TensorData ref = StageOf(img, MinusOneOne(), Input(), "quantized");  // [1,96,96,3]
  Spec nchw = MinusOneOne();
  nchw.tensor.layout = Layout::kNchw;
  TensorData chw = StageOf(img, nchw, Input(), "quantized");  // [1,3,96,96]
  ASSERT_EQ(chw.shape, (std::vector<int>{1, 3, 96, 96}));
  TensorComparison c = CompareTensors(ref, chw, StageKind::kQuantized);
  EXPECT_TRUE(c.equal) << Describe(c);
  ASSERT_EQ(c.notes.size(), 1u);
  EXPECT_THAT(c.notes[0], HasSubstr("layout differs"));

  // The reference itself NCHW (the spec says so), the other HWC without a batch axis.
  TensorData hwc = ref;
  hwc.shape = {96, 96, 3};
  CompareContext ctx;
  ctx.spec = &nchw;
  c = CompareTensors(chw, hwc, StageKind::kQuantized, ctx);
  EXPECT_TRUE(c.equal) << Describe(c);

  c = CompareTensors(ref, hwc, StageKind::kQuantized);
  EXPECT_TRUE(c.equal);
  EXPECT_TRUE(c.notes.empty());
}

TEST(TensorCompare, DifferentDtypesAreComparedInValue) {
  Image img = Generated();
  TensorData ref = StageOf(img, MinusOneOne(), Input(), "resized");  // uint8
  TensorData other(DType::kFloat32, ref.shape);
  for (size_t i = 0; i < ref.bytes.size(); ++i) other.as<float>()[i] = float(ref.bytes[i]);
  TensorComparison c = CompareTensors(ref, other, StageKind::kResized);
  EXPECT_TRUE(c.equal) << Describe(c);
  ASSERT_EQ(c.notes.size(), 1u);
  EXPECT_THAT(c.notes[0], HasSubstr("float32"));
  EXPECT_THAT(c.notes[0], HasSubstr("uint8"));
}

TEST(TensorCompare, DifferentSizeIsNamed) {
  Image img = Generated();
  Planted p = Plant(img, MinusOneOne(), MinusOneOne(), "resized", Input(DType::kUInt8, 96),
                    Input(DType::kUInt8, 80));
  EXPECT_FALSE(p.comparison.same_shape);
  EXPECT_FALSE(p.comparison.equal);
  ExpectFirst(p.comparison, "different_size");
  EXPECT_THAT(p.comparison.fingerprints[0].evidence, HasSubstr("80x80x3"));
}

TEST(TensorCompare, UnalignableShapesAreSaidNotThrown) {
  TensorData ref = Floats({2, 3}, {1, 2, 3, 4, 5, 6}), other = Floats({3, 2}, {1, 2, 3, 4, 5, 6});
  TensorComparison c = CompareTensors(ref, other, StageKind::kRawOutput);
  EXPECT_FALSE(c.same_shape);
  EXPECT_FALSE(c.equal);
  ASSERT_EQ(c.notes.size(), 1u);
  EXPECT_THAT(c.notes[0], HasSubstr("[3,2]"));
}

TEST(TensorCompare, NonNumericTensorIsAnError) {
  TensorData ref(DType::kString, {0});
  EXPECT_THROW(CompareTensors(ref, ref, StageKind::kRawOutput), Error);
  TensorData broken(DType::kFloat32, {4});
  broken.bytes.resize(3);  // fewer bytes than the shape says
  EXPECT_THROW(CompareTensors(broken, broken, StageKind::kRawOutput), Error);
}

// ---- normalization --------------------------------------------------------------------------

TEST(TensorCompare, ZeroOneVsMinusOneOne) {
  Image img = Generated();
  Spec zero_one;
  zero_one.normalize.std = {255, 255, 255};
  Planted p = Plant(img, MinusOneOne(), zero_one, "normalized");
  ExpectFirst(p.comparison, "normalization_range");
  EXPECT_EQ(p.comparison.fingerprints[0].description, "[0,1] vs [-1,1]");
  ExpectAbsent(p.comparison, "channels_swapped");
  EXPECT_NEAR(p.comparison.stats.mean_diff, p.comparison.stats.mean_diff, 0);  // finite
  // lockstep = 2·other − 1: the mean difference is (1 − mean(ref)) / 2 − ... just its sign.
  EXPECT_GT(p.comparison.stats.max_abs_diff, 0.4);

  // Without the spec the reference's range is inferred from its values.
  TensorComparison bare = CompareTensors(p.reference, p.other, StageKind::kNormalized);
  ExpectFirst(bare, "normalization_range");
  EXPECT_EQ(bare.fingerprints[0].description, "[0,1] vs [-1,1]");
  EXPECT_THAT(bare.fingerprints[0].evidence, HasSubstr("inferred"));
}

TEST(TensorCompare, RawPixelsVsNormalized) {
  Image img = Generated();
  Spec raw;  // mean 0, std 1: floats 0..255
  Planted p = Plant(img, MinusOneOne(), raw, "normalized");
  ExpectFirst(p.comparison, "normalization_range");
  EXPECT_EQ(p.comparison.fingerprints[0].description, "raw 0..255 vs [-1,1]");
}

TEST(TensorCompare, ImageNetVsZeroOne) {
  Image img = Generated();
  Spec zero_one, imagenet;
  zero_one.normalize.std = {255, 255, 255};
  imagenet.normalize.mean = {123.675, 116.28, 103.53};
  imagenet.normalize.std = {58.395, 57.12, 57.375};
  Planted p = Plant(img, zero_one, imagenet, "normalized");
  ExpectFirst(p.comparison, "normalization_range");
  EXPECT_EQ(p.comparison.fingerprints[0].description, "ImageNet mean/std vs [0,1]");
  ExpectAbsent(p.comparison, "channels_swapped");
}

TEST(TensorCompare, NormalizationSeenThroughQuantization) {
  Image img = Generated();
  Spec zero_one;
  zero_one.normalize.std = {255, 255, 255};
  Planted p = Plant(img, MinusOneOne(), zero_one, "quantized");
  ExpectFirst(p.comparison, "normalization_range");
  EXPECT_EQ(p.comparison.fingerprints[0].description, "[0,1] vs [-1,1]");
  ExpectAbsent(p.comparison, "zero_point_offset");
  ExpectAbsent(p.comparison, "truncation_vs_rounding");
}

// ---- channels -------------------------------------------------------------------------------

TEST(TensorCompare, ChannelsSwappedAtEveryStage) {
  Image img = Generated();
  Spec bgr = MinusOneOne();
  bgr.input.channel_order = ChannelOrder::kBgr;
  for (const char* stage : {"resized", "normalized", "quantized"}) {
    Planted p = Plant(img, MinusOneOne(), bgr, stage);
    ExpectFirst(p.comparison, "channels_swapped");
    ExpectAbsent(p.comparison, "normalization_range");
    ExpectAbsent(p.comparison, "interpolation");
    ExpectAbsent(p.comparison, "padded_vs_stretched");
  }
}

TEST(TensorCompare, ChannelsSwappedWithPerChannelNormalization) {
  Image img = Generated();
  Spec rgb;
  rgb.normalize.mean = {123.675, 116.28, 103.53};
  rgb.normalize.std = {58.395, 57.12, 57.375};
  Spec bgr = rgb;
  bgr.input.channel_order = ChannelOrder::kBgr;
  Planted p = Plant(img, rgb, bgr, "normalized");
  ExpectFirst(p.comparison, "channels_swapped");
  ExpectAbsent(p.comparison, "normalization_range");
}

// ---- quantization ---------------------------------------------------------------------------

// Two or three mistakes in one quantized tensor: the resize and the quantize step are re-run
// together, and the reproduction is kept only when it is exact.
TEST(TensorCompare, NearestResizeAndForgottenZeroPointAreNamedTogether) {
  Image img = Generated();
  Spec other = MinusOneOne();
  other.resize = {ResizeDialect::kOpenCV, Interpolation::kNearest};
  other.tensor.zero_point = 0;
  Planted p = Plant(img, MinusOneOne(), other, "quantized");
  std::vector<std::string> codes = Codes(p.comparison);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), "interpolation"), 1) << Describe(p.comparison);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), "zero_point_offset"), 1)
      << Describe(p.comparison);
}

TEST(TensorCompare, SwapPillowAndTruncationAreNamedTogether) {
  Image img = Generated();
  Spec other = MinusOneOne();
  other.input.channel_order = ChannelOrder::kBgr;
  other.resize = {ResizeDialect::kPillow, Interpolation::kBilinear};
  other.tensor.rounding = Rounding::kTruncate;
  Planted p = Plant(img, MinusOneOne(), other, "quantized");
  std::vector<std::string> codes = Codes(p.comparison);
  for (const char* code : {"channels_swapped", "interpolation", "truncation_vs_rounding"})
    EXPECT_EQ(std::count(codes.begin(), codes.end(), code), 1) << code << Describe(p.comparison);
}


TEST(TensorCompare, ZeroPointForgotten) {
  Image img = Generated();
  Spec no_zp = MinusOneOne();
  no_zp.tensor.zero_point = 0;
  Planted p = Plant(img, MinusOneOne(), no_zp, "quantized");
  ExpectFirst(p.comparison, "zero_point_offset");
  EXPECT_THAT(p.comparison.fingerprints[0].description, HasSubstr("-128"));
  EXPECT_THAT(p.comparison.fingerprints[0].evidence, HasSubstr("saturated"));
  ExpectAbsent(p.comparison, "uint8_in_int8");
  ExpectAbsent(p.comparison, "truncation_vs_rounding");
  ExpectAbsent(p.comparison, "normalization_range");
}

TEST(TensorCompare, Uint8VsInt8QuantizationIsTheZeroPointShift) {
  Image img = Generated();
  Planted p = Plant(img, MinusOneOne(), MinusOneOne(), "quantized", Input(DType::kUInt8),
                    Input(DType::kInt8));
  ExpectFirst(p.comparison, "zero_point_offset");
  EXPECT_THAT(p.comparison.fingerprints[0].evidence, HasSubstr("uint8 and int8"));
  ASSERT_FALSE(p.comparison.notes.empty());
  EXPECT_THAT(p.comparison.notes[0], HasSubstr("int8"));
  ExpectAbsent(p.comparison, "uint8_in_int8");
}

TEST(TensorCompare, Uint8BytesInAnInt8Tensor) {
  Image img = Generated();
  // The model takes int8 (zero point 0); the other side quantized for uint8 (zero point 128)
  // and stored the bytes in an int8 tensor.
  TensorData ref = StageOf(img, MinusOneOne(), Input(DType::kInt8), "quantized");
  TensorData other = StageOf(img, MinusOneOne(), Input(DType::kUInt8), "quantized");
  other.dtype = DType::kInt8;  // the same bytes, read as int8
  CompareContext ctx;
  ctx.scale = 1.0 / 128, ctx.zero_point = 0;
  TensorComparison c = CompareTensors(ref, other, StageKind::kQuantized, ctx);
  ExpectFirst(c, "uint8_in_int8");
  EXPECT_THAT(c.fingerprints[0].evidence, HasSubstr("xor 0x80"));
  ExpectAbsent(c, "zero_point_offset");
  ExpectAbsent(c, "truncation_vs_rounding");

  // The reverse: lockstep's uint8 bytes read as int8 wrap by 256.
  TensorData u8 = StageOf(img, MinusOneOne(), Input(DType::kUInt8), "quantized");
  TensorData as_int8 = u8;
  as_int8.dtype = DType::kInt8;
  c = CompareTensors(u8, as_int8, StageKind::kQuantized);
  ExpectFirst(c, "uint8_in_int8");
  EXPECT_THAT(c.fingerprints[0].evidence, HasSubstr("256"));
}

TEST(TensorCompare, TruncationVsRoundingIsReRunExactly) {
  Image img = Generated();
  Spec truncating = MinusOneOne();
  truncating.tensor.rounding = Rounding::kTruncate;
  Planted p = Plant(img, MinusOneOne(), truncating, "quantized");
  ExpectFirst(p.comparison, "truncation_vs_rounding");
  EXPECT_THAT(p.comparison.fingerprints[0].evidence, HasSubstr("re-run with truncate"));
  EXPECT_THAT(p.comparison.fingerprints[0].evidence, HasSubstr("100.0%"));
  ExpectAbsent(p.comparison, "zero_point_offset");
  ExpectAbsent(p.comparison, "normalization_range");
  EXPECT_LE(p.comparison.stats.max_abs_diff, 1);
  EXPECT_LT(p.comparison.stats.mean_diff, 0);

  // Without the source the pattern alone speaks, and says so.
  Planted bare = Plant(img, MinusOneOne(), truncating, "quantized", Input(), Input(), false);
  ExpectFirst(bare.comparison, "truncation_vs_rounding");
  EXPECT_THAT(bare.comparison.fingerprints[0].evidence, HasSubstr("pattern only"));

  // The reverse: lockstep truncates, the other rounds.
  Planted rev = Plant(img, truncating, MinusOneOne(), "quantized");
  ExpectFirst(rev.comparison, "truncation_vs_rounding");
  EXPECT_THAT(rev.comparison.fingerprints[0].evidence, HasSubstr("lockstep truncates"));
}

// ---- resize ---------------------------------------------------------------------------------

TEST(TensorCompare, InterpolationIsNamed) {
  Image img = Generated();
  struct Case {
    ResizeSpec other;
    std::string name;
  } cases[] = {
      {{ResizeDialect::kPillow, Interpolation::kBilinear}, "Pillow bilinear"},
      {{ResizeDialect::kOpenCV, Interpolation::kArea}, "OpenCV area"},
      {{ResizeDialect::kOpenCV, Interpolation::kNearest}, "OpenCV nearest"},
      {{ResizeDialect::kTf, Interpolation::kBilinear, true},
       "tf.image.resize bilinear (antialias)"},
  };
  for (const Case& k : cases) {
    Spec other = MinusOneOne();
    other.resize = k.other;
    Planted p = Plant(img, MinusOneOne(), other, "resized");
    ExpectFirst(p.comparison, "interpolation");
    EXPECT_EQ(p.comparison.fingerprints[0].description,
              "different interpolation: looks like " + k.name);
    ExpectAbsent(p.comparison, "channels_swapped");
    ExpectAbsent(p.comparison, "padded_vs_stretched");
    ExpectAbsent(p.comparison, "normalization_range");
  }
}

TEST(TensorCompare, InterpolationAndPaddingAreNamedAtLaterStages) {
  Image img = Generated();
  Spec pillow = MinusOneOne();
  pillow.resize = {ResizeDialect::kPillow, Interpolation::kBilinear};
  Spec letterbox = MinusOneOne();
  letterbox.geometry.mode = GeometryMode::kLetterbox;
  letterbox.geometry.pad_value = {114, 114, 114};
  for (const char* stage : {"normalized", "quantized"}) {
    Planted p = Plant(img, MinusOneOne(), pillow, stage);
    ExpectFirst(p.comparison, "interpolation");
    EXPECT_THAT(p.comparison.fingerprints[0].description, HasSubstr("Pillow bilinear"));
    EXPECT_EQ(p.comparison.fingerprints.size(), 1u) << Describe(p.comparison);

    p = Plant(img, MinusOneOne(), letterbox, stage);
    ExpectFirst(p.comparison, "padded_vs_stretched");
    EXPECT_THAT(p.comparison.fingerprints[0].evidence, HasSubstr("pad 114"));
    EXPECT_EQ(p.comparison.fingerprints.size(), 1u) << Describe(p.comparison);

    // Without the source there is nothing to re-run: the interpolation goes unnamed rather
    // than misnamed.
    p = Plant(img, MinusOneOne(), pillow, stage, Input(), Input(), false);
    EXPECT_FALSE(p.comparison.equal);
    EXPECT_TRUE(p.comparison.fingerprints.empty()) << stage << "\n" << Describe(p.comparison);
  }
}

TEST(TensorCompare, UnexplainedNoiseGetsNoFingerprint) {
  // Sensor-like noise on lockstep's own resized image: nothing to name, and nothing misnamed.
  Image img = Generated();
  Spec spec = MinusOneOne();
  TensorData ref = StageOf(img, spec, Input(), "resized");
  TensorData other = ref;
  uint32_t state = 7;
  for (uint8_t& b : other.bytes) {
    state = state * 1664525u + 1013904223u;
    b = uint8_t(std::clamp(int(b) + int(state >> 29) - 3, 0, 255));
  }
  CompareContext ctx;
  ctx.spec = &spec;
  ctx.source = &img;
  TensorComparison c = CompareTensors(ref, other, StageKind::kResized, ctx);
  EXPECT_FALSE(c.equal);
  EXPECT_GT(c.stats.differing_share(), 0.5);
  EXPECT_TRUE(c.fingerprints.empty()) << Describe(c);
}

TEST(TensorCompare, PaddedVsStretched) {
  Image img = Generated();
  Spec letterbox = MinusOneOne();
  letterbox.geometry.mode = GeometryMode::kLetterbox;
  letterbox.geometry.pad_value = {114, 114, 114};
  Planted p = Plant(img, MinusOneOne(), letterbox, "resized");
  ExpectFirst(p.comparison, "padded_vs_stretched");
  EXPECT_EQ(p.comparison.fingerprints[0].description, "padded vs stretched");
  EXPECT_THAT(p.comparison.fingerprints[0].evidence, HasSubstr("pad 114"));
  EXPECT_THAT(p.comparison.fingerprints[0].evidence, HasSubstr("content 96x72 at (0,12)"));
  ExpectAbsent(p.comparison, "interpolation");
  ExpectAbsent(p.comparison, "channels_swapped");

  Planted reverse = Plant(img, letterbox, MinusOneOne(), "resized");
  ExpectFirst(reverse.comparison, "padded_vs_stretched");
  EXPECT_EQ(reverse.comparison.fingerprints[0].description, "stretched vs padded");

  // Without the source, the pad bands alone.
  Planted bare = Plant(img, MinusOneOne(), letterbox, "resized", Input(), Input(), false);
  ExpectFirst(bare.comparison, "padded_vs_stretched");
  EXPECT_THAT(bare.comparison.fingerprints[0].evidence,
              HasSubstr("12 rows at the top, 12 at the bottom"));
  EXPECT_THAT(bare.comparison.fingerprints[0].evidence, HasSubstr("pattern only"));
}

TEST(TensorCompare, PaddedAndResizedWithAnotherDialect) {
  Image img = Generated();
  Spec other = MinusOneOne();
  other.geometry.mode = GeometryMode::kLetterbox;
  other.geometry.pad_value = {0, 0, 0};
  other.resize = {ResizeDialect::kPillow, Interpolation::kBilinear};
  Planted p = Plant(img, MinusOneOne(), other, "resized");
  std::vector<std::string> codes = Codes(p.comparison);
  ASSERT_EQ(codes.size(), 2u) << Describe(p.comparison);
  EXPECT_EQ(codes[0], "padded_vs_stretched");
  EXPECT_EQ(codes[1], "interpolation");
  EXPECT_THAT(p.comparison.fingerprints[1].description, HasSubstr("Pillow bilinear"));
}

TEST(TensorCompare, LetterboxPlacement) {
  Image img = Generated();
  Spec center = MinusOneOne();
  center.geometry.mode = GeometryMode::kLetterbox;
  center.geometry.pad_value = {114, 114, 114};
  Spec top_left = center;
  top_left.geometry.placement = Placement::kTopLeft;
  top_left.geometry.pad_value = {0, 0, 0};
  Planted p = Plant(img, center, top_left, "resized");
  ExpectFirst(p.comparison, "letterbox_placement");
  EXPECT_THAT(p.comparison.fingerprints[0].evidence, HasSubstr("top_left"));
  ExpectAbsent(p.comparison, "padded_vs_stretched");
}

TEST(TensorCompare, GrayInputInterpolation) {
  Image img = Generated();
  ModelInput gray = Input();
  gray.channels = 1;
  Spec pillow = MinusOneOne();
  pillow.resize = {ResizeDialect::kPillow, Interpolation::kBicubic};
  Planted p = Plant(img, MinusOneOne(), pillow, "resized", gray, gray);
  EXPECT_EQ(p.reference.shape, (std::vector<int>{96, 96, 1}));
  ExpectFirst(p.comparison, "interpolation");
  EXPECT_THAT(p.comparison.fingerprints[0].description, HasSubstr("Pillow bicubic"));
  ExpectAbsent(p.comparison, "channels_swapped");
}

TEST(TensorCompare, FloatDialectReferenceAgainstAnEightBitOther) {
  // lockstep resizes with tf.image.resize (floats); the other side used OpenCV (bytes).
  Image img = Generated();
  Spec tf = MinusOneOne();
  tf.resize = {ResizeDialect::kTf, Interpolation::kArea};
  Planted p = Plant(img, tf, MinusOneOne(), "resized");
  ASSERT_EQ(p.reference.dtype, DType::kFloat32);
  ExpectFirst(p.comparison, "interpolation");
  EXPECT_EQ(p.comparison.fingerprints[0].description,
            "different interpolation: looks like OpenCV bilinear");
}

TEST(TensorCompare, FloatNoiseIsNotADifference) {
  TensorData ref = Floats({1, 2, 2, 1}, {0.5f, -0.25f, 1.0f, 0.125f});
  TensorData other = ref;
  other.as<float>()[0] = std::nextafter(0.5f, 1.0f);  // one ulp
  TensorComparison c = CompareTensors(ref, other, StageKind::kNormalized);
  EXPECT_TRUE(c.equal);
  EXPECT_EQ(c.stats.differing, 0u);
  EXPECT_GT(c.stats.max_abs_diff, 0);
}

TEST(TensorCompare, SeveralMistakesAtOnceAreEachNamed) {
  // The evidence case: a deployed spec with [0,1], BGR and a letterbox together.
  Image img = Generated();
  Spec deployed;
  deployed.normalize.std = {255, 255, 255};
  deployed.input.channel_order = ChannelOrder::kBgr;
  deployed.geometry.mode = GeometryMode::kLetterbox;
  deployed.geometry.pad_value = {114, 114, 114};
  Planted resized = Plant(img, MinusOneOne(), deployed, "resized");
  EXPECT_EQ(Codes(resized.comparison),
            (std::vector<std::string>{"padded_vs_stretched", "channels_swapped"}))
      << Describe(resized.comparison);
  for (const char* stage : {"normalized", "quantized"}) {
    Planted p = Plant(img, MinusOneOne(), deployed, stage);
    EXPECT_EQ(Codes(p.comparison),
              (std::vector<std::string>{"padded_vs_stretched", "channels_swapped",
                                        "normalization_range"}))
        << stage << "\n"
        << Describe(p.comparison);
    if (p.comparison.fingerprints.size() == 3) {
      EXPECT_EQ(p.comparison.fingerprints[2].description, "[0,1] vs [-1,1]");
    }
  }
  // With no re-runs allowed only what the values alone show is said.
  Planted p = Plant(img, MinusOneOne(), deployed, "normalized");
  CompareContext ctx;
  ctx.spec = &deployed;
  ctx.source = &img;
  ctx.rerun_budget = 0;
  TensorComparison none = CompareTensors(p.reference, p.other, StageKind::kNormalized, ctx);
  ExpectAbsent(none, "channels_swapped");
  ExpectAbsent(none, "normalization_range");
}

TEST(TensorCompare, LetterboxRounding) {
  // 201x150 into 96x96: r = 96/201, the height 71.64 rounds to 72 (Ultralytics) or truncates
  // to 71 (pycoral).
  Image img = Generated(201, 150);
  Spec ultralytics = MinusOneOne();
  ultralytics.geometry.mode = GeometryMode::kLetterbox;
  Spec pycoral = ultralytics;
  pycoral.geometry.rounding = LetterboxRounding::kPycoral;
  Planted p = Plant(img, ultralytics, pycoral, "resized");
  ExpectFirst(p.comparison, "letterbox_placement");
  EXPECT_THAT(p.comparison.fingerprints[0].evidence, HasSubstr("pycoral rounding"));
  EXPECT_THAT(p.comparison.fingerprints[0].evidence, HasSubstr("content 96x71"));
  ExpectAbsent(p.comparison, "padded_vs_stretched");
}

// ---- boxes ----------------------------------------------------------------------------------

struct BoxCase {
  Image source = Generated(200, 150);
  Spec spec = [] {
    Spec s = MinusOneOne();
    s.geometry.mode = GeometryMode::kLetterbox;
    return s;
  }();
  std::vector<Box> boxes = {{10.5, 20.25, 80, 140}, {120, 5, 190, 60}, {33, 70, 150.75, 101}};
  TensorData Tensor(const std::function<Box(const Box&)>& f) const {
    TensorData t(DType::kFloat32, {int(boxes.size()), 4});
    for (size_t i = 0; i < boxes.size(); ++i) {
      Box b = f(boxes[i]);
      float v[4] = {float(b.xmin), float(b.ymin), float(b.xmax), float(b.ymax)};
      std::copy(v, v + 4, t.as<float>().begin() + long(4 * i));
    }
    return t;
  }
  TensorComparison Compare(const std::function<Box(const Box&)>& f, bool with_source = true) const {
    CompareContext ctx;
    ctx.spec = &spec;
    ctx.source = with_source ? &source : nullptr;
    ctx.input_width = ctx.input_height = 96;
    return CompareTensors(Tensor([](const Box& b) { return b; }), Tensor(f), StageKind::kBoxes,
                          ctx);
  }
  Transform transform() const { return ComputeTransform(spec.geometry, 200, 150, 96, 96); }
};

TEST(TensorCompare, BoxesEqual) {
  BoxCase k;
  TensorComparison c = k.Compare([](const Box& b) { return b; });
  EXPECT_TRUE(c.equal);
  EXPECT_TRUE(c.fingerprints.empty());
}

TEST(TensorCompare, BoxesNotUnletterboxed) {
  BoxCase k;
  Transform t = k.transform();
  ASSERT_EQ(t.content.y, 12);  // 200x150 → 96x72 at y 12
  TensorComparison c = k.Compare([&](const Box& b) {
    Point p = t.Forward({b.xmin, b.ymin}), q = t.Forward({b.xmax, b.ymax});
    return Box{p.x, p.y, q.x, q.y};
  });
  ExpectFirst(c, "boxes_not_unletterboxed");
  EXPECT_EQ(c.fingerprints.size(), 1u) << Describe(c);
  // Hand check of one mapped box: x · 0.48, y · 0.48 + 12.
  EXPECT_NEAR(c.stats.max_abs_diff, 190 - 190 * 0.48, 1e-3);
}

TEST(TensorCompare, NormalizedBoxes) {
  BoxCase k;
  auto normalized = [](const Box& b) {
    return Box{b.xmin / 200, b.ymin / 150, b.xmax / 200, b.ymax / 150};
  };
  TensorComparison c = k.Compare(normalized);
  ExpectFirst(c, "normalized_vs_pixel_boxes");
  EXPECT_EQ(c.fingerprints.size(), 1u) << Describe(c);
  // Without the source the image size is inferred from the ratios.
  c = k.Compare(normalized, false);
  ExpectFirst(c, "normalized_vs_pixel_boxes");
  EXPECT_THAT(c.fingerprints[0].evidence, HasSubstr("200.0 x 150.0"));
}

TEST(TensorCompare, YxOrder) {
  BoxCase k;
  TensorComparison c = k.Compare([](const Box& b) { return Box{b.ymin, b.xmin, b.ymax, b.xmax}; });
  ExpectFirst(c, "yx_vs_xy_order");
  EXPECT_EQ(c.fingerprints.size(), 1u) << Describe(c);
}

TEST(TensorCompare, NormalizedYxBoxesNameBoth) {
  BoxCase k;
  TensorComparison c = k.Compare([](const Box& b) {
    return Box{b.ymin / 150, b.xmin / 200, b.ymax / 150, b.xmax / 200};
  });
  EXPECT_EQ(Codes(c), (std::vector<std::string>{"normalized_vs_pixel_boxes", "yx_vs_xy_order"}))
      << Describe(c);
}

TEST(TensorCompare, StretchedBoxesNotScaledBack) {
  BoxCase k;
  k.spec.geometry.mode = GeometryMode::kStretch;
  TensorComparison c = k.Compare([](const Box& b) {
    return Box{b.xmin * 0.48, b.ymin * 0.64, b.xmax * 0.48, b.ymax * 0.64};
  });
  ExpectFirst(c, "boxes_not_unletterboxed");
  EXPECT_EQ(c.fingerprints[0].description, "boxes not scaled back to the source");
}

TEST(TensorCompare, DifferentBoxCountsCompareTheCommonRows) {
  BoxCase k;
  TensorData ours = k.Tensor([](const Box& b) { return b; });
  BoxCase fewer;
  fewer.boxes.pop_back();
  TensorData theirs = fewer.Tensor([](const Box& b) {
    return Box{b.ymin, b.xmin, b.ymax, b.xmax};
  });
  TensorComparison c = CompareTensors(ours, theirs, StageKind::kBoxes);
  EXPECT_FALSE(c.same_shape);
  EXPECT_FALSE(c.equal);
  EXPECT_EQ(c.stats.elements, 8u);
  ASSERT_EQ(c.notes.size(), 1u);
  EXPECT_THAT(c.notes[0], HasSubstr("the first 2 compared"));
  ExpectFirst(c, "yx_vs_xy_order");
}

TEST(TensorCompare, UnrelatedBoxesAreNotExplained) {
  BoxCase k;
  TensorComparison c = k.Compare([](const Box& b) {
    return Box{b.xmin + 7, b.ymin, b.xmax, b.ymax - 3};
  });
  EXPECT_FALSE(c.equal);
  EXPECT_TRUE(c.fingerprints.empty()) << Describe(c);
}

}  // namespace
}  // namespace lockstep
