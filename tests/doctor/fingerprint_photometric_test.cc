// Photometric and codec fingerprints against independent oracles: lockstep's own stages of a
// real COCO128 photo (a textured synthetic image without the assets), and the "other" tensor
// made by numpy, Pillow and OpenCV through /usr/bin/python3 (a gamma, a brightness change, PIL's
// JPEG encoder, cv2's I420 round trip, YCbCr decoded with the wrong matrix or range). Each must
// be named first for what it is, with the estimated parameter near the true one; noise,
// blocky noise, another tone curve and another image must be named as none of them.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "doctor/describe_comparison.h"
#include "doctor/fingerprint.h"
#include "lockstep/core/npy.h"
#include "lockstep/doctor/tensor_compare.h"
#include "lockstep/image/decode.h"
#include "lockstep/pipeline/preprocess.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

using testing::Describe;
using ::testing::HasSubstr;

const char* kImage = "datasets/coco128/train2017/000000000009.jpg";       // 640x480, food
const char* kOtherImage = "datasets/coco128/train2017/000000000025.jpg";  // giraffes
const std::vector<std::string> kNewCodes = {"gamma",          "brightness_contrast",
                                            "jpeg_reencoded", "chroma_subsampled",
                                            "yuv_matrix",     "yuv_range"};

// The SSD's pipeline: OpenCV bilinear stretch to 300x300, [-1,1], uint8 scale 1/128 zp 128.
Spec MinusOneOne() {
  Spec s;
  s.normalize.mean = {127.5, 127.5, 127.5};
  s.normalize.std = {127.5, 127.5, 127.5};
  return s;
}

ModelInput Input() {
  ModelInput in;
  in.width = in.height = 300;
  in.dtype = DType::kUInt8;
  in.scale = 1.0 / 128;
  in.zero_point = 128;
  return in;
}

// Without the assets: gradients, a checkerboard and per-pixel noise (an LCG), colourful enough
// for the chroma hypotheses and textured enough for JPEG.
Image Textured(int w, int h, uint32_t seed) {
  Image img(w, h, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      int base[3] = {30 + 190 * x / w, 20 + 200 * y / h, 220 - 180 * (x + y) / (w + h)};
      for (int c = 0; c < 3; ++c) {
        seed = seed * 1664525u + 1013904223u;
        int noise = int(seed >> 24) % 41 - 20;
        img.at(x, y, c) =
            uint8_t(std::clamp(base[c] + noise + ((x / 24 + y / 24) % 2) * 40 - 20, 0, 255));
      }
    }
  return img;
}

// What the oracle makes from src.npy (the source, HxWx3) and resized.npy (lockstep's resized
// stage): each file one pipeline that transforms pixels as a real deployment does.
const char* kOracle = R"(
import io, numpy as np, cv2
from PIL import Image
src = np.load(out + '/src.npy')
x = np.load(out + '/resized.npy')
f = x.astype(np.float64)
def quantized(p):  # the SSD's input quantization of 0..255 pixels: [-1,1], scale 1/128, zp 128
    return np.clip(np.round((p - 127.5) / 127.5 * 128) + 128, 0, 255).astype(np.uint8)
def jpeg(a, quality):
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format='JPEG', quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert('RGB'))
np.save(out + '/gamma22_resized.npy', np.round(255 * (f / 255) ** 2.2).astype(np.uint8))
np.save(out + '/gamma045_normalized.npy',
        ((255 * (f / 255) ** (1 / 2.2) - 127.5) / 127.5).astype(np.float32))
np.save(out + '/bright_quantized.npy', quantized(np.clip(np.round(1.25 * f - 30), 0, 255)))
np.save(out + '/jpeg60_resized.npy', jpeg(x, 60))
np.save(out + '/jpeg85_quantized.npy', quantized(jpeg(x, 85).astype(np.float64)))
# The camera frame re-encoded before the (same) resize.
np.save(out + '/jpeg40_source_resized.npy',
        cv2.resize(jpeg(src, 40), (300, 300), interpolation=cv2.INTER_LINEAR))
np.save(out + '/i420_resized.npy',
        cv2.cvtColor(cv2.cvtColor(x, cv2.COLOR_RGB2YUV_I420), cv2.COLOR_YUV2RGB_I420))
# 4:2:2 by hand: full-range BT.601 (JPEG's YCrCb), chroma averaged over horizontal pairs.
ycc = cv2.cvtColor(x, cv2.COLOR_RGB2YCrCb).astype(np.float64)
for k in (1, 2):
    pairs = np.round((ycc[:, 0::2, k] + ycc[:, 1::2, k]) / 2)
    ycc[:, :, k] = np.repeat(pairs, 2, axis=1)
np.save(out + '/yuv422_normalized.npy', ((cv2.cvtColor(ycc.astype(np.uint8), cv2.COLOR_YCrCb2RGB)
                                          .astype(np.float32) - 127.5) / 127.5))
# YCbCr by matrix (BT.709 or BT.601, full or limited), decoded by cv2 as full-range BT.601.
def ycrcb(a, kr, kb, limited):
    kg = 1 - kr - kb
    m = np.array([[kr, kg, kb],
                  [0.5, -0.5 * kg / (1 - kr), -0.5 * kb / (1 - kr)],
                  [-0.5 * kr / (1 - kb), -0.5 * kg / (1 - kb), 0.5]])
    v = a.astype(np.float64) @ m.T
    if limited:
        v = v * np.array([219, 224, 224]) / 255 + np.array([16, 0, 0])
    v[..., 1:] += 128
    return cv2.cvtColor(np.clip(np.round(v), 0, 255).astype(np.uint8), cv2.COLOR_YCrCb2RGB)
np.save(out + '/bt709_as_601_resized.npy', ycrcb(x, 0.2126, 0.0722, False))
np.save(out + '/limited_as_full_resized.npy', ycrcb(x, 0.299, 0.114, True))
# Negatives: noise as large as the gamma's change, noise constant over 8x8 blocks, an S-curve.
rng = np.random.default_rng(3)
sigma = (255 * (f / 255) ** 2.2 - f).std()
np.save(out + '/noise_resized.npy', np.clip(np.round(f + rng.normal(0, sigma, f.shape)), 0, 255)
        .astype(np.uint8))
blocks = rng.integers(-6, 7, (38, 38, 3)).repeat(8, 0).repeat(8, 1)[:300, :300]
np.save(out + '/blocky_noise_resized.npy', np.clip(f + blocks, 0, 255).astype(np.uint8))
s = 1 / (1 + np.exp(-(f - 128) / 40))
np.save(out + '/s_curve_resized.npy', np.round(255 * (s - s.min()) / (s.max() - s.min()))
        .astype(np.uint8))
print(round(sigma, 2))
)";

class PhotometricOracle : public ::testing::Test {
 protected:
  // The oracle runs once for the suite, in a folder of this process's own (ctest runs tests in
  // parallel processes).
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(lockstep::testing::ScratchBase() /
                                     ("PhotometricOracle." + std::to_string(::getpid())));
    std::filesystem::remove_all(*dir_);
    std::filesystem::create_directories(*dir_);
    bool real = !lockstep::testing::AssetsDir().empty();
    source_ = new Image(real ? DecodeImageFile(LOCKSTEP_ASSET(kImage)) : Textured(320, 240, 1));
    Image other = real ? DecodeImageFile(LOCKSTEP_ASSET(kOtherImage)) : Textured(320, 240, 99);
    stages_ = new std::map<std::string, TensorData>(Stages(*source_));
    other_stages_ = new std::map<std::string, TensorData>(Stages(other));
    TensorData src(DType::kUInt8, {source_->height, source_->width, 3});
    std::copy(source_->pixels.begin(), source_->pixels.end(), src.bytes.begin());
    WriteNpyFile(src, *dir_ / "src.npy");
    WriteNpyFile(stages_->at("resized"), *dir_ / "resized.npy");
    std::printf(
        "oracle (%s image): noise sigma %s", real ? "real" : "synthetic",
        lockstep::testing::RunPythonScript("out = r'" + dir_->string() + "'\n" + kOracle, *dir_)
            .c_str());
  }
  static void TearDownTestSuite() {
    if (dir_) std::filesystem::remove_all(*dir_);
    delete dir_, delete source_, delete stages_, delete other_stages_;
    dir_ = nullptr, source_ = nullptr, stages_ = other_stages_ = nullptr;
  }

  static std::map<std::string, TensorData> Stages(const Image& img) {
    std::map<std::string, TensorData> out;
    Preprocessed p = Preprocess(img, MinusOneOne(), Input(), {.trace = true, .fused = false});
    for (Stage& s : p.trace) out[s.name] = std::move(s.data);
    return out;
  }

  CompareContext Context() const {
    CompareContext ctx;
    ctx.spec = &spec_;
    ctx.scale = 1.0 / 128, ctx.zero_point = 128;
    ctx.source = source_;
    ctx.input_width = ctx.input_height = 300;
    return ctx;
  }

  static StageKind KindOf(const std::string& stage) {
    return stage == "resized"      ? StageKind::kResized
           : stage == "normalized" ? StageKind::kNormalized
                                   : StageKind::kQuantized;
  }

  TensorComparison Compare(const std::string& stage, const std::string& npy) const {
    TensorComparison c =
        CompareTensors(stages_->at(stage), ReadNpyFile(*dir_ / npy), KindOf(stage), Context());
    std::printf("%s vs lockstep's %s:\n%s", npy.c_str(), stage.c_str(), Describe(c).c_str());
    return c;
  }

  // The first fingerprint is `code`, and the reference with that cause applied (the candidate's
  // `transformed`) reproduces the other where the reference alone did not.
  void ExpectNamed(const TensorComparison& c, const std::string& code, const std::string& stage,
                   const std::string& npy, bool check_transformed = true) const {
    ASSERT_FALSE(c.fingerprints.empty()) << "expected " << code;
    EXPECT_EQ(c.fingerprints[0].code, code) << Describe(c);
    EXPECT_FALSE(c.equal);
    if (check_transformed) ExpectTransformedReproduces(code, stage, npy);
  }

  void ExpectTransformedReproduces(const std::string& code, const std::string& stage,
                                   const std::string& npy) const {
    fingerprint::Aligned a;
    a.stage = KindOf(stage);
    const TensorData& ref = stages_->at(stage);
    TensorData other = ReadNpyFile(*dir_ / npy);
    a.ref = fingerprint::Values(ref, "ref"), a.other = fingerprint::Values(other, "other");
    ASSERT_EQ(a.ref.size(), a.other.size());
    a.image = true, a.h = a.w = 300, a.c = 3;
    a.ref_dtype = ref.dtype, a.other_dtype = other.dtype;
    a.ref_integer = ref.dtype == DType::kUInt8, a.other_integer = other.dtype == DType::kUInt8;
    std::vector<fingerprint::Candidate> found;
    CompareContext ctx = Context();
    auto named = [&] {
      return std::find_if(found.begin(), found.end(), [&](const fingerprint::Candidate& k) {
        return k.fingerprint.code == code;
      });
    };
    // Each family only as far as needed: the source re-runs cost most.
    fingerprint::PhotometricHypotheses(a, ctx, found);
    if (named() == found.end()) fingerprint::CodecHypotheses(a, ctx, found);
    if (named() == found.end()) fingerprint::SourceCodecHypotheses(a, ctx, ctx.rerun_budget, found);
    auto it = named();
    ASSERT_NE(it, found.end()) << code;
    ASSERT_EQ(it->transformed.size(), a.ref.size());
    // Two stage steps: the widest tolerance any of these hypotheses states, in stage units
    // (a pixel level is one step at the resized and quantized stages, 1/127.5 normalized).
    double step = stage == "normalized" ? 1 / 127.5 : 1;
    size_t close = 0;
    double after = 0, before = 0;
    for (size_t i = 0; i < a.ref.size(); ++i) {
      close += std::abs(it->transformed[i] - a.other[i]) <= 2 * step + 1e-6;
      after += std::abs(it->transformed[i] - a.other[i]);
      before += std::abs(a.ref[i] - a.other[i]);
    }
    EXPECT_GE(double(close) / double(a.ref.size()), fingerprint::kHolds) << code;
    EXPECT_LT(after, 0.5 * before) << code;
  }

  static void ExpectNoneOf(const TensorComparison& c, const std::vector<std::string>& codes) {
    for (const Fingerprint& f : c.fingerprints)
      EXPECT_EQ(std::count(codes.begin(), codes.end(), f.code), 0) << Describe(c);
  }
  static void ExpectNoneOfTheNewCodes(const TensorComparison& c) { ExpectNoneOf(c, kNewCodes); }

  static std::filesystem::path* dir_;
  static Image* source_;
  static std::map<std::string, TensorData>*stages_, *other_stages_;
  Spec spec_ = MinusOneOne();
};

std::filesystem::path* PhotometricOracle::dir_ = nullptr;
Image* PhotometricOracle::source_ = nullptr;
std::map<std::string, TensorData>* PhotometricOracle::stages_ = nullptr;
std::map<std::string, TensorData>* PhotometricOracle::other_stages_ = nullptr;

// ExpectNamed, and the test ends there when no fingerprint came (the rest reads the first).
#define ExpectNamedOrReturn(...)   \
  do {                             \
    ExpectNamed(__VA_ARGS__);      \
    if (HasFatalFailure()) return; \
  } while (0)

// The number after `prefix` in `text` ("gamma ≈ 2.20" → 2.2); NaN when absent.
double NumberAfter(const std::string& text, const std::string& prefix) {
  size_t at = text.find(prefix);
  if (at == std::string::npos) return std::nan("");
  return std::strtod(text.c_str() + at + prefix.size(), nullptr);
}

TEST_F(PhotometricOracle, NumpyGammaIsNamedWithItsExponent) {
  TensorComparison c = Compare("resized", "gamma22_resized.npy");
  ExpectNamedOrReturn(c, "gamma", "resized", "gamma22_resized.npy");
  EXPECT_NEAR(NumberAfter(c.fingerprints[0].description, "gamma ≈ "), 2.2, 0.02);
  EXPECT_THAT(c.fingerprints[0].evidence, HasSubstr("within one pixel level"));
}

TEST_F(PhotometricOracle, InverseGammaIsSeenThroughTheNormalization) {
  // Float values of an unrounded power law: no 8-bit rounding on the other side.
  TensorComparison c = Compare("normalized", "gamma045_normalized.npy");
  ExpectNamedOrReturn(c, "gamma", "normalized", "gamma045_normalized.npy");
  EXPECT_NEAR(NumberAfter(c.fingerprints[0].description, "gamma ≈ "), 1 / 2.2, 0.01);
  EXPECT_THAT(c.fingerprints[0].description, HasSubstr("(1/2.2"));
}

TEST_F(PhotometricOracle, BrightnessContrastIsSeenThroughTheQuantization) {
  TensorComparison c = Compare("quantized", "bright_quantized.npy");
  ExpectNamedOrReturn(c, "brightness_contrast", "quantized", "bright_quantized.npy");
  EXPECT_NEAR(NumberAfter(c.fingerprints[0].description, "gain "), 1.25, 0.02);
  EXPECT_NEAR(NumberAfter(c.fingerprints[0].description, "offset "), -30, 2);
  // Gain 1.25 and offset −30 clip both ends: not a normalization, not a zero point.
  ExpectNoneOf(c, {"normalization_range", "zero_point_offset", "constant_offset"});
}

TEST_F(PhotometricOracle, PillowJpegOfTheResizedImageIsNamedWithItsQuality) {
  TensorComparison c = Compare("resized", "jpeg60_resized.npy");
  ExpectNamedOrReturn(c, "jpeg_reencoded", "resized", "jpeg60_resized.npy");
  double q = NumberAfter(c.fingerprints[0].description, "quality ≈ ");
  EXPECT_NEAR(q, 60, 10);
  EXPECT_THAT(c.fingerprints[0].evidence, HasSubstr("block edges"));
}

TEST_F(PhotometricOracle, PillowJpegIsSeenThroughTheQuantization) {
  TensorComparison c = Compare("quantized", "jpeg85_quantized.npy");
  ExpectNamedOrReturn(c, "jpeg_reencoded", "quantized", "jpeg85_quantized.npy");
  EXPECT_NEAR(NumberAfter(c.fingerprints[0].description, "quality ≈ "), 85, 10);
}

TEST_F(PhotometricOracle, JpegOfTheSourceBeforeResizingIsFoundByReRuns) {
  TensorComparison c = Compare("resized", "jpeg40_source_resized.npy");
  ExpectNamedOrReturn(c, "jpeg_reencoded", "resized", "jpeg40_source_resized.npy",
                      /*check_transformed=*/false);  // below: each search costs ~25 re-runs
  EXPECT_NEAR(NumberAfter(c.fingerprints[0].description, "quality ≈ "), 40, 10);
  EXPECT_THAT(c.fingerprints[0].evidence, HasSubstr("the source image"));
}

TEST_F(PhotometricOracle, JpegOfTheSourceCarriesTheReRunAsTransformed) {
  ExpectTransformedReproduces("jpeg_reencoded", "resized", "jpeg40_source_resized.npy");
}

TEST_F(PhotometricOracle, OpenCvI420RoundTripIsChroma420) {
  TensorComparison c = Compare("resized", "i420_resized.npy");
  ExpectNamedOrReturn(c, "chroma_subsampled", "resized", "i420_resized.npy");
  EXPECT_EQ(c.fingerprints[0].description, "chroma subsampled 4:2:0");
  ExpectNoneOf(c, {"yuv_matrix", "yuv_range", "jpeg_reencoded"});
}

TEST_F(PhotometricOracle, HorizontalChromaPairsAre422) {
  TensorComparison c = Compare("normalized", "yuv422_normalized.npy");
  ExpectNamedOrReturn(c, "chroma_subsampled", "normalized", "yuv422_normalized.npy");
  EXPECT_EQ(c.fingerprints[0].description, "chroma subsampled 4:2:2");
  ExpectNoneOf(c, {"yuv_matrix", "yuv_range"});
}

TEST_F(PhotometricOracle, Bt709DecodedAsBt601IsTheMatrix) {
  TensorComparison c = Compare("resized", "bt709_as_601_resized.npy");
  ExpectNamedOrReturn(c, "yuv_matrix", "resized", "bt709_as_601_resized.npy");
  EXPECT_EQ(c.fingerprints[0].description, "BT.601 vs BT.709");
  EXPECT_THAT(c.fingerprints[0].evidence, HasSubstr("encoding (BT.709) and decoding (BT.601)"));
  ExpectNoneOf(c, {"yuv_range", "chroma_subsampled"});
}

TEST_F(PhotometricOracle, LimitedDecodedAsFullIsTheRange) {
  TensorComparison c = Compare("resized", "limited_as_full_resized.npy");
  ExpectNamedOrReturn(c, "yuv_range", "resized", "limited_as_full_resized.npy");
  EXPECT_EQ(c.fingerprints[0].description, "limited vs full range");
  EXPECT_THAT(c.fingerprints[0].evidence, HasSubstr("encoded in limited range, decoded as full"));
  ExpectNoneOf(c, {"yuv_matrix", "chroma_subsampled"});
}

TEST_F(PhotometricOracle, NoiseOfTheGammasSizeIsNoneOfThem) {
  TensorComparison c = Compare("resized", "noise_resized.npy");
  EXPECT_GT(c.stats.mean_abs_diff, 5);
  ExpectNoneOfTheNewCodes(c);
}

TEST_F(PhotometricOracle, BlockyNoiseIsNotJpeg) {
  // Constant per 8x8 block: as blocky as JPEG gets, but no quality reproduces it.
  TensorComparison c = Compare("resized", "blocky_noise_resized.npy");
  ExpectNoneOfTheNewCodes(c);
}

TEST_F(PhotometricOracle, AnotherToneCurveIsNeitherGammaNorBrightness) {
  TensorComparison c = Compare("resized", "s_curve_resized.npy");
  ExpectNoneOfTheNewCodes(c);
}

TEST_F(PhotometricOracle, AnotherImageIsNoneOfThem) {
  TensorComparison c = CompareTensors(stages_->at("resized"), other_stages_->at("resized"),
                                      StageKind::kResized, Context());
  EXPECT_FALSE(c.equal);
  ExpectNoneOfTheNewCodes(c);
}

TEST_F(PhotometricOracle, AnotherImageIsNoneOfThemThroughTheQuantization) {
  TensorComparison c = CompareTensors(stages_->at("quantized"), other_stages_->at("quantized"),
                                      StageKind::kQuantized, Context());
  EXPECT_FALSE(c.equal);
  ExpectNoneOfTheNewCodes(c);
}

}  // namespace
}  // namespace lockstep
