#include "lockstep/pipeline/preprocess.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "lockstep/core/npy.h"
#include "lockstep/engine/engine.h"
#include "lockstep/image/decode.h"
#include "lockstep/model/model_builder.h"
#include "lockstep/model/model_io.h"
#include "support/test_support.h"

namespace lockstep {
namespace {
namespace fs = std::filesystem;

InputQuantization Q(DType t, double scale, int64_t zp, Rounding r) { return {t, scale, zp, r}; }

TEST(Quantize, RoundsAsTheSpecSaysAndSaturates) {
  const double step = 0.0078125;  // 1/128, zero point 128: the [-1,1) uint8 input
  auto q = [&](double x, Rounding r) { return QuantizeValue(x, Q(DType::kUInt8, step, 128, r)); };
  // Half a step above 0: TFLite rounds away (129), numpy to even (128), astype truncates (128).
  EXPECT_EQ(q(step / 2, Rounding::kHalfAwayFromZero), 129);
  EXPECT_EQ(q(step / 2, Rounding::kHalfToEven), 128);
  EXPECT_EQ(q(step / 2, Rounding::kTruncate), 128);
  EXPECT_EQ(q(-step / 2, Rounding::kHalfAwayFromZero), 127);
  EXPECT_EQ(q(-step / 2, Rounding::kHalfToEven), 128);
  EXPECT_EQ(q(1.5 * step, Rounding::kHalfToEven), 130);
  EXPECT_EQ(q(2.0, Rounding::kHalfAwayFromZero), 255);
  EXPECT_EQ(q(-2.0, Rounding::kHalfAwayFromZero), 0);
  // int8 with zero point -128: pixel/255 in [0,1] becomes q = pixel - 128.
  auto i8 = Q(DType::kInt8, 1 / 255.0, -128, Rounding::kHalfAwayFromZero);
  EXPECT_EQ(QuantizeValue(1.0, i8), 127);
  EXPECT_EQ(QuantizeValue(0.0, i8), -128);
  // Truncation happens after adding the zero point: trunc(-0.4 - 128 + ...) toward zero.
  auto t8 = Q(DType::kInt8, 1.0, -128, Rounding::kTruncate);
  EXPECT_EQ(QuantizeValue(0.6, t8), -127);  // trunc(-127.4) = -127, not trunc(0.6) - 128
}

// Issue 13 #2: a tiny scale puts x / scale far past int64; saturation must still hold.
TEST(Quantize, SaturatesFarBeyondTheIntegerRange) {
  for (double scale : {1e-10, 1e-20, 1e-38}) {
    auto u8 = Q(DType::kUInt8, scale, 0, Rounding::kHalfAwayFromZero);
    EXPECT_EQ(QuantizeValue(0.75, u8), 255) << scale;
    EXPECT_EQ(QuantizeValue(-0.75, u8), 0) << scale;
    auto i8 = Q(DType::kInt8, scale, 0, Rounding::kHalfToEven);
    EXPECT_EQ(QuantizeValue(0.75, i8), 127) << scale;
    EXPECT_EQ(QuantizeValue(-0.75, i8), -128) << scale;
    auto t16 = Q(DType::kInt16, scale, 0, Rounding::kTruncate);
    EXPECT_EQ(QuantizeValue(0.75, t16), 32767) << scale;
  }
}

// The TFLite QUANTIZE op itself is the oracle for the default rounding.
TEST(Quantize, HalfAwayFromZeroEqualsTflitesQuantizeOp) {
  for (auto [dtype, scale, zp] :
       {std::tuple{DType::kUInt8, 0.0078125f, 128}, std::tuple{DType::kInt8, 1 / 255.0f, -128},
        std::tuple{DType::kUInt8, 0.0186584f, 3}}) {
    std::vector<float> x;
    for (int p = 0; p < 256; ++p) {
      x.push_back((p - 127.5f) / 127.5f);                   // every [-1,1] input value
      x.push_back(float((p - 128 + 0.5) * double(scale)));  // exact half steps
      x.push_back(float(p) / 255.0f);
    }
    ModelBuilder b;
    int32_t in = b.AddTensor("x", DType::kFloat32, {1, int32_t(x.size())});
    int32_t out = b.AddTensor("q", dtype, {1, int32_t(x.size())}, PerTensor(scale, zp));
    b.AddBuiltinOp("QUANTIZE", {in}, {out});
    b.SetInputs({in});
    b.SetOutputs({out});
    Engine e = Engine::Load(WriteModel(b.Build()), "quantize.tflite");
    e.SetInput(0, ToBytes(x));
    e.Invoke();
    TensorView o = e.output(0);
    InputQuantization q = Q(dtype, scale, zp, Rounding::kHalfAwayFromZero);
    for (size_t i = 0; i < x.size(); ++i) {
      int64_t want = dtype == DType::kUInt8 ? int64_t(o.as<uint8_t>()[i]) : o.as<int8_t>()[i];
      ASSERT_EQ(QuantizeValue(x[i], q), want) << "x=" << x[i] << " scale=" << scale;
    }
  }
}

Image RandomImage(int w, int h, int c, unsigned seed) {
  Image im(w, h, c);
  std::mt19937 rng(seed);
  for (auto& p : im.pixels) p = uint8_t(rng());
  return im;
}

Spec MakeSpec(GeometryMode mode, ResizeDialect dialect, Interpolation interp) {
  Spec s;
  s.geometry.mode = mode;
  s.geometry.pad_value = {114, 100, 90};
  s.resize.dialect = dialect;
  s.resize.interpolation = interp;
  s.normalize.mean = {127.5, 120, 110};
  s.normalize.std = {127.5, 60, 70};
  return s;
}

TEST(Preprocess, FusedLookupEqualsTheFloatReferenceEverywhere) {
  Image image = RandomImage(97, 61, 3, 1);
  ModelInput in{.width = 40,
                .height = 32,
                .channels = 3,
                .layout = Layout::kNhwc,
                .dtype = DType::kUInt8,
                .scale = 0.0078125,
                .zero_point = 128};
  int cases = 0;
  for (auto mode : {GeometryMode::kStretch, GeometryMode::kLetterbox, GeometryMode::kCenterCrop})
    for (auto [dialect, interp] : {std::pair{ResizeDialect::kOpenCV, Interpolation::kBilinear},
                                   std::pair{ResizeDialect::kOpenCV, Interpolation::kArea},
                                   std::pair{ResizeDialect::kPillow, Interpolation::kBicubic},
                                   std::pair{ResizeDialect::kPillow, Interpolation::kBilinear}})
      for (auto order : {ChannelOrder::kRgb, ChannelOrder::kBgr})
        for (auto layout : {Layout::kNhwc, Layout::kNchw})
          for (auto [dtype, scale, zp] : {std::tuple{DType::kUInt8, 0.0078125, 128},
                                          std::tuple{DType::kInt8, 1 / 255.0, -128}})
            for (auto rounding : {Rounding::kHalfAwayFromZero, Rounding::kTruncate}) {
              Spec s = MakeSpec(mode, dialect, interp);
              s.input.channel_order = order;
              s.tensor.layout = layout;
              s.tensor.rounding = rounding;
              in.dtype = dtype, in.scale = scale, in.zero_point = zp;
              Preprocessed fused = Preprocess(image, s, in, {.fused = true});
              Preprocessed ref = Preprocess(image, s, in, {.fused = false});
              ASSERT_EQ(fused.tensor, ref.tensor) << Name(mode) << " " << Name(dialect);
              ++cases;
            }
  EXPECT_EQ(cases, 192);
}

TEST(Preprocess, TraceHoldsEveryStageAndLayoutsAgree) {
  Image image = RandomImage(50, 30, 3, 2);
  Spec s = MakeSpec(GeometryMode::kLetterbox, ResizeDialect::kOpenCV, Interpolation::kBilinear);
  s.input.channel_order = ChannelOrder::kBgr;
  ModelInput in{.width = 20,
                .height = 20,
                .channels = 3,
                .dtype = DType::kUInt8,
                .scale = 0.0078125,
                .zero_point = 128};
  Preprocessed p = Preprocess(image, s, in, {.trace = true});
  ASSERT_EQ(p.trace.size(), 4u);
  EXPECT_EQ(p.trace[0].name, "decoded");
  EXPECT_EQ(p.trace[0].data.bytes, image.pixels);
  EXPECT_EQ(p.trace[1].name, "resized");
  EXPECT_EQ(p.trace[1].data.shape, (std::vector<int>{20, 20, 3}));
  EXPECT_EQ(p.trace[3].data, p.tensor);
  // Letterbox 50x30 → 20x12 at rows 4..15: the pad rows hold the pad value, channels swapped.
  EXPECT_EQ(p.transform.content, (Rect{0, 4, 20, 12}));
  const auto resized = p.trace[1].data.as<uint8_t>();
  EXPECT_EQ(resized[0], 90);  // B of the pad (114, 100, 90) comes first for a BGR model
  EXPECT_EQ(resized[2], 114);
  const auto norm = p.trace[2].data.as<float>();
  for (size_t i = 0; i < norm.size(); ++i) {
    size_t ch = i % 3;
    float want = (float(resized[i]) - float(s.normalize.mean[ch])) / float(s.normalize.std[ch]);
    ASSERT_EQ(norm[i], want);
  }
  s.tensor.layout = Layout::kNchw;
  Preprocessed c = Preprocess(image, s, in);
  EXPECT_EQ(c.tensor.shape, (std::vector<int>{1, 3, 20, 20}));
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 20; ++x)
      for (int ch = 0; ch < 3; ++ch)
        ASSERT_EQ(c.tensor.bytes[size_t(ch) * 400 + size_t(y) * 20 + size_t(x)],
                  p.tensor.bytes[(size_t(y) * 20 + size_t(x)) * 3 + size_t(ch)]);
}

TEST(Preprocess, GrayModelsGetPillowsLuma) {
  Image image(2, 1, 3);
  image.pixels = {255, 0, 0, 10, 200, 30};
  Spec s;
  s.normalize.mean = {0, 0, 0};
  s.normalize.std = {1, 1, 1};
  ModelInput in{
      .width = 2, .height = 1, .channels = 1, .dtype = DType::kUInt8, .scale = 1, .zero_point = 0};
  // L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16: 76 and 124 (PIL's convert("L") agrees).
  EXPECT_EQ(Preprocess(image, s, in).tensor.bytes, (std::vector<uint8_t>{76, 124}));
}

// The Python pipelines people write are the oracles: same image, same bytes.
struct PythonPipeline {
  const char* name;
  Spec spec;
  ModelInput input;
};

std::vector<PythonPipeline> Pipelines() {
  std::vector<PythonPipeline> out;
  Spec m1p1;
  m1p1.normalize.mean = {127.5, 127.5, 127.5};
  m1p1.normalize.std = {127.5, 127.5, 127.5};
  m1p1.tensor.rounding = Rounding::kHalfToEven;
  ModelInput u8{.width = 300,
                .height = 300,
                .channels = 3,
                .dtype = DType::kUInt8,
                .scale = 0.0078125,
                .zero_point = 128};
  out.push_back({"cv2_stretch_m1p1_uint8", m1p1, u8});
  Spec pil = m1p1;
  pil.resize.dialect = ResizeDialect::kPillow;
  out.push_back({"pil_stretch_m1p1_uint8", pil, u8});
  Spec yolo;
  yolo.geometry.mode = GeometryMode::kLetterbox;
  yolo.geometry.pad_value = {114, 114, 114};
  yolo.normalize.std = {255, 255, 255};
  yolo.tensor.rounding = Rounding::kTruncate;
  out.push_back({"ultralytics_int8",
                 yolo,
                 {.width = 320,
                  .height = 320,
                  .channels = 3,
                  .dtype = DType::kInt8,
                  .scale = double(1 / 255.0f),
                  .zero_point = -128}});
  Spec coral;
  coral.geometry.mode = GeometryMode::kLetterbox;
  coral.geometry.placement = Placement::kTopLeft;
  coral.geometry.rounding = LetterboxRounding::kPycoral;
  coral.resize.dialect = ResizeDialect::kPillow;
  coral.normalize.std = {255, 255, 255};
  out.push_back({"pycoral_uint8",
                 coral,
                 {.width = 300,
                  .height = 300,
                  .channels = 3,
                  .dtype = DType::kUInt8,
                  .scale = double(1 / 255.0f),
                  .zero_point = 0}});
  return out;
}

TEST(Preprocess, EqualsTheTrainingSidesPythonPipelinesOnRealPhotos) {
  LOCKSTEP_REQUIRE_ASSETS();
  const fs::path oracle = fs::path(__FILE__).parent_path() / "oracle" / "pipelines.py";
  fs::path dir = testing::ScratchDir();
  for (const char* rel :
       {"datasets/coco128/train2017/000000000009.jpg",
        "datasets/coco128/train2017/000000000072.jpg", "images/tflite_support/multi_objects.jpg"}) {
    fs::path image_path = LOCKSTEP_ASSET(rel);
    Image image = DecodeImageFile(image_path);
    for (const auto& p : Pipelines()) {
      fs::path out = dir / (std::string(p.name) + ".npy");
      std::string cmd = "/usr/bin/python3 " + oracle.string() + " " + p.name + " " +
                        image_path.string() + " " + out.string() + " " +
                        std::to_string(p.input.width) + " " + std::to_string(p.input.height);
      ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
      TensorData want = ReadNpyFile(out);
      TensorData got = Preprocess(image, p.spec, p.input).tensor;
      ASSERT_EQ(got.shape, want.shape) << p.name;
      size_t diff = 0;
      for (size_t i = 0; i < got.bytes.size(); ++i) diff += got.bytes[i] != want.bytes[i];
      EXPECT_EQ(diff, 0u) << p.name << " on " << rel << ": bytes differ from the Python pipeline";
    }
  }
}

}  // namespace
}  // namespace lockstep
