// Two conventions of Ultralytics-style deployments the spec can state: the input cast without
// clipping (numpy's astype, tensor.saturate false; numpy itself is the oracle) and boxes
// un-letterboxed with the float pads (geometry.inverse_pads float; hand-computed cases).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include "lockstep/core/error.h"
#include "lockstep/pipeline/geometry.h"
#include "lockstep/pipeline/preprocess.h"
#include "lockstep/pipeline/spec.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

using json = nlohmann::json;

// Out-of-range inputs of every kind: just past each end, far past, past int32, infinities and
// NaN, and in-range values (truncated toward zero) for contrast.
std::vector<float> AstypeProbe() {
  std::vector<float> x = {0.0f,      0.4f,   -0.4f,  1.7f,    -1.7f,   126.9f,   127.2f,
                          127.9f,    128.0f, 128.6f, -128.9f, -129.0f, -129.5f,  255.9f,
                          256.0f,    300.5f, 383.2f, -200.6f, 1000.4f, -1000.4f, 40000.0f,
                          -70000.7f, 3e9f,   -3e9f,  1e20f,   -1e20f};
  x.push_back(std::numeric_limits<float>::infinity());
  x.push_back(-std::numeric_limits<float>::infinity());
  x.push_back(std::numeric_limits<float>::quiet_NaN());
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> wide(-700.0f, 700.0f);
  for (int i = 0; i < 200; ++i) x.push_back(wide(rng));
  return x;
}

// Debian's numpy is the oracle: (x / scale + zero_point).astype(dtype) exactly as Ultralytics
// writes it (float32 array, Python float scale, Python int zero point), and
// (np.round(x / scale) + zero_point).astype(dtype) for a rounding pipeline without np.clip.
TEST(Astype, WrapsExactlyAsNumpyDoes) {
  const std::vector<float> x = AstypeProbe();
  std::ostringstream list;
  list.precision(9);
  for (float v : x) {
    if (std::isnan(v))
      list << "float('nan'),";
    else if (std::isinf(v))
      list << (v > 0 ? "float('inf')," : "float('-inf'),");
    else
      list << v << ",";
  }
  struct Case {
    DType dtype;
    const char* np;
    double scale;
    int64_t zero_point;
  };
  const std::vector<Case> cases = {{DType::kInt8, "int8", 1.0, 0},
                                   {DType::kInt8, "int8", 0.5, -14},
                                   {DType::kUInt8, "uint8", 1.0, 0},
                                   {DType::kUInt8, "uint8", 0.25, 3},
                                   {DType::kInt16, "int16", 0.003, 0}};
  std::string script = "import numpy as np\nx = np.array([" + list.str() +
                       "], dtype=np.float32)\nwith np.errstate(all='ignore'):\n";
  for (const Case& c : cases) {
    std::ostringstream s;
    s.precision(17);
    s << c.scale;
    script += "    print(' '.join(str(v) for v in (x / " + s.str() + " + " +
              std::to_string(c.zero_point) + ").astype(np." + c.np + ")))\n";
    script += "    print(' '.join(str(v) for v in (np.round(x / " + s.str() + ") + " +
              std::to_string(c.zero_point) + ").astype(np." + c.np + ")))\n";
  }
  std::istringstream out(testing::RunPythonScript(script, testing::ScratchDir()));
  size_t wrapped = 0;
  for (const Case& c : cases)
    for (Rounding r : {Rounding::kTruncate, Rounding::kHalfToEven}) {
      InputQuantization q{c.dtype, c.scale, c.zero_point, r, /*saturate=*/false};
      for (size_t i = 0; i < x.size(); ++i) {
        int64_t want = 0;
        ASSERT_TRUE(out >> want) << "numpy printed too few values";
        ASSERT_EQ(QuantizeValue(x[i], q), want) << c.np << " scale " << c.scale << " zp "
                                                << c.zero_point << " " << Name(r) << " x=" << x[i];
        InputQuantization clamped = q;
        clamped.saturate = true;
        wrapped += QuantizeValue(x[i], clamped) != want;
      }
    }
  EXPECT_GT(wrapped, 500u);  // the probe does leave the range: wrapping is really tested
}

TEST(Astype, HandComputedWrapAndTheSaturatingDefault) {
  InputQuantization wrap{DType::kInt8, 1.0, 0, Rounding::kTruncate, false};
  EXPECT_EQ(QuantizeValue(127.9, wrap), 127);   // truncated, in range
  EXPECT_EQ(QuantizeValue(128.5, wrap), -128);  // 128 wraps to the bottom
  EXPECT_EQ(QuantizeValue(-129.5, wrap), 127);  // -129 wraps to the top
  EXPECT_EQ(QuantizeValue(300.0, wrap), 44);    // 300 - 256
  InputQuantization clamp = wrap;
  clamp.saturate = true;
  EXPECT_EQ(QuantizeValue(128.5, clamp), 127);
  EXPECT_EQ(QuantizeValue(-129.5, clamp), -128);
  EXPECT_TRUE(InputQuantization{}.saturate);
}

Image RandomImage(int w, int h, unsigned seed) {
  Image im(w, h, 3);
  std::mt19937 rng(seed);
  for (auto& p : im.pixels) p = uint8_t(rng());
  return im;
}

// The fused lookup (both its streamed stretch path and the placed-image path) and the float
// reference agree without saturation too, and the wrap really changes the tensor.
TEST(Astype, FusedLookupEqualsTheReferenceWithoutSaturation) {
  Image image = RandomImage(83, 57, 11);
  ModelInput in{.width = 40,
                .height = 32,
                .channels = 3,
                .layout = Layout::kNhwc,
                .dtype = DType::kInt8,
                .scale = 1 / 255.0,
                .zero_point = -128};
  int cases = 0;
  for (auto mode : {GeometryMode::kStretch, GeometryMode::kLetterbox})
    for (auto dtype : {DType::kInt8, DType::kUInt8})
      for (auto layout : {Layout::kNhwc, Layout::kNchw})
        for (auto rounding : {Rounding::kTruncate, Rounding::kHalfAwayFromZero}) {
          Spec s;
          s.geometry.mode = mode;
          s.geometry.pad_value = {114, 114, 114};
          // [-1,1] into a [0,1] int8 input: half the values leave the range.
          s.normalize.mean = {127.5, 127.5, 127.5};
          s.normalize.std = {127.5, 127.5, 127.5};
          s.tensor.layout = layout;
          s.tensor.rounding = rounding;
          s.tensor.saturate = false;
          in.dtype = dtype, in.zero_point = dtype == DType::kInt8 ? -128 : 0;
          Preprocessed fused = Preprocess(image, s, in, {.fused = true});
          Preprocessed ref = Preprocess(image, s, in, {.fused = false});
          ASSERT_EQ(fused.tensor, ref.tensor) << Name(mode) << " " << DTypeName(dtype);
          s.tensor.saturate = true;
          Preprocessed clamped = Preprocess(image, s, in, {.fused = true});
          EXPECT_NE(clamped.tensor, fused.tensor);
          ++cases;
        }
  EXPECT_EQ(cases, 16);
}

// 640x427 into 640x640 with Ultralytics' letterbox: r = 1, 213 rows of pad split
// round(106.5 - 0.1) = 106 above and 107 below. Un-mapping with the float pad 106.5 moves every
// y by half a pixel; x has no pad and does not move.
TEST(InversePads, FloatPadsShiftBoxesByTheRoundedHalfPixel) {
  GeometrySpec g;
  g.mode = GeometryMode::kLetterbox;
  g.rounding = LetterboxRounding::kUltralytics;
  Transform forward = ComputeTransform(g, 640, 427, 640, 640);
  EXPECT_EQ(forward.content, (Rect{0, 106, 640, 427}));
  EXPECT_EQ(forward.inverse_shift_x, 0);
  EXPECT_EQ(forward.inverse_shift_y, 0);
  Box b = forward.Inverse(Box{100, 206, 300, 406});
  EXPECT_DOUBLE_EQ(b.ymin, 100);
  EXPECT_DOUBLE_EQ(b.ymax, 300);

  g.inverse_pads = InversePads::kFloat;
  Transform flt = ComputeTransform(g, 640, 427, 640, 640);
  EXPECT_EQ(flt.content, forward.content);  // the forward step is unchanged
  EXPECT_DOUBLE_EQ(flt.inverse_shift_y, 0.5);
  Box f = flt.Inverse(Box{100, 206, 300, 406});
  EXPECT_DOUBLE_EQ(f.xmin, 100);
  EXPECT_DOUBLE_EQ(f.xmax, 300);
  EXPECT_DOUBLE_EQ(f.ymin, 99.5);
  EXPECT_DOUBLE_EQ(f.ymax, 299.5);

  // 1280x854 at gain 0.5: the same 427 rows and pads, so the half pixel becomes one source pixel.
  Transform half = ComputeTransform(g, 1280, 854, 640, 640);
  EXPECT_EQ(half.content, (Rect{0, 106, 640, 427}));
  Box h = half.Inverse(Box{100, 206, 300, 406});
  EXPECT_DOUBLE_EQ(h.ymin, 199);
  EXPECT_DOUBLE_EQ(h.ymax, 599);

  // An even pad (640x480: 80 + 80) and a top-left placement have no half pixel to lose.
  EXPECT_EQ(ComputeTransform(g, 640, 480, 640, 640).inverse_shift_y, 0);
  GeometrySpec top_left = g;
  top_left.placement = Placement::kTopLeft;
  EXPECT_EQ(ComputeTransform(top_left, 640, 427, 640, 640).inverse_shift_y, 0);
  // MediaPipe's letterbox already un-maps with its exact fractional pads.
  GeometrySpec mediapipe = g;
  mediapipe.rounding = LetterboxRounding::kMediapipe;
  Transform m = ComputeTransform(mediapipe, 640, 427, 640, 640);
  EXPECT_EQ(m.inverse_shift_y, 0);
  EXPECT_DOUBLE_EQ(m.origin_y, 106.5);
}

Spec Parse(const std::string& text) { return ParseSpec(json::parse(text), "spec.json"); }

std::string Problems(const std::string& text) {
  try {
    Parse(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(UltralyticsSpec, NewFieldsRoundTripAndDefaultsStayUnwritten) {
  Spec s = Parse(R"({"schema": "lockstep.pipeline/v1",
    "geometry": {"mode": "letterbox", "pad_value": 114, "inverse_pads": "float"},
    "tensor": {"rounding": "truncate", "saturate": false}})");
  EXPECT_EQ(s.geometry.inverse_pads, InversePads::kFloat);
  EXPECT_FALSE(s.tensor.saturate);
  auto j = ToJson(s);
  EXPECT_EQ(j["geometry"]["inverse_pads"], "float");
  EXPECT_EQ(j["tensor"]["saturate"], false);
  Spec again = ParseSpec(json::parse(j.dump()), "round trip");
  EXPECT_EQ(ToJson(again), j);

  Spec d = Parse(R"({"schema": "lockstep.pipeline/v1", "geometry": {"mode": "letterbox"}})");
  EXPECT_EQ(d.geometry.inverse_pads, InversePads::kForward);
  EXPECT_TRUE(d.tensor.saturate);
  auto dj = ToJson(d);
  EXPECT_FALSE(dj["geometry"].contains("inverse_pads"));
  EXPECT_FALSE(dj["tensor"].contains("saturate"));
}

TEST(UltralyticsSpec, BadValuesAreNamedWithTheirPath) {
  EXPECT_NE(Problems(R"({"schema": "lockstep.pipeline/v1",
    "geometry": {"mode": "letterbox", "inverse_pads": "round"}})")
                .find("$.geometry.inverse_pads: expected one of forward, float, found \"round\""),
            std::string::npos);
  EXPECT_NE(Problems(R"({"schema": "lockstep.pipeline/v1",
    "geometry": {"mode": "stretch", "inverse_pads": "float"}})")
                .find("$.geometry.inverse_pads: expected no inverse_pads for mode stretch"),
            std::string::npos);
  EXPECT_NE(Problems(R"({"schema": "lockstep.pipeline/v1", "tensor": {"saturate": "no"}})")
                .find("$.tensor.saturate: expected true or false, found \"no\""),
            std::string::npos);
  EXPECT_NE(Problems(R"({"schema": "lockstep.pipeline/v1",
    "tensor": {"dtype": "float32", "saturate": false}})")
                .find("$.tensor.saturate: expected no saturate for a float32 tensor"),
            std::string::npos);
}

}  // namespace
}  // namespace lockstep
