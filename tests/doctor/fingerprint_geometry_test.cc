// Fingerprints of what real deployments do to geometry and precision: a mirrored, rotated or
// transposed image, an EXIF orientation not applied, another pad value, tf's antialiased
// bilinear against Pillow's, float16 rounding, and boxes mapped back the wrong way. The "other"
// tensors come from independent oracles (numpy, Pillow and cv2 via /usr/bin/python3, or a
// hand-written loop); each test asserts the expected code comes first and that unrelated
// differences are not named as any of these causes.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "doctor/describe_comparison.h"
#include "doctor/fingerprint.h"
#include "lockstep/core/npy.h"
#include "lockstep/doctor/tensor_compare.h"
#include "lockstep/pipeline/preprocess.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

using lockstep::testing::Describe;
using lockstep::testing::RunPythonScript;
using lockstep::testing::ScratchDir;
using ::testing::HasSubstr;

// A textured, asymmetric image (no mirror or turn of it equals itself).
Image Textured(int w, int h) {
  Image img(w, h, 3);
  uint32_t state = 4242;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      state = state * 1664525u + 1013904223u;
      int noise = int(state >> 24) % 41 - 20;
      int base[3] = {30 + 180 * x / w, 20 + 200 * y / h, 220 - 160 * (x + 2 * y) / (w + 2 * h)};
      for (int c = 0; c < 3; ++c)
        img.at(x, y, c) = uint8_t(std::clamp(base[c] + noise + ((x / 9) % 2) * 15 * c, 0, 255));
    }
  return img;
}

TensorData ImageTensor(const Image& img) {
  TensorData t(DType::kUInt8, {img.height, img.width, img.channels});
  std::copy(img.pixels.begin(), img.pixels.end(), t.bytes.begin());
  return t;
}

Spec MinusOneOne() {
  Spec s;
  s.normalize.mean = {127.5, 127.5, 127.5};
  s.normalize.std = {127.5, 127.5, 127.5};
  return s;
}

ModelInput Input(int w, int h) {
  ModelInput in;
  in.width = w, in.height = h;
  in.dtype = DType::kUInt8;
  in.scale = 1.0 / 128, in.zero_point = 128;
  return in;
}

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

void ExpectFirst(const TensorComparison& c, const std::string& code) {
  ASSERT_FALSE(c.fingerprints.empty()) << "expected " << code << "\n" << Describe(c);
  EXPECT_EQ(c.fingerprints.front().code, code) << Describe(c);
  EXPECT_FALSE(c.equal);
}

// None of the codes this file is about.
void ExpectNoneOfThese(const TensorComparison& c) {
  for (const char* code :
       {"mirrored_horizontally", "mirrored_vertically", "rotated_90", "rotated_180", "rotated_270",
        "transposed_hw", "exif_orientation_not_applied", "pad_value", "float16_rounding",
        "boxes_stretched_after_letterbox", "box_scales_swapped"}) {
    std::vector<std::string> codes = Codes(c);
    EXPECT_EQ(std::count(codes.begin(), codes.end(), code), 0) << code << "\n" << Describe(c);
  }
}

// Runs `script` with `ref` saved as ref.npy (the source as source.npy, `tf` as tf.npy) in a
// scratch folder; returns that folder.
std::filesystem::path RunOracle(const std::string& script, const TensorData& ref,
                                const Image* source = nullptr, const TensorData* tf = nullptr) {
  std::filesystem::path dir = ScratchDir();
  WriteNpyFile(ref, dir / "ref.npy");
  if (source) WriteNpyFile(ImageTensor(*source), dir / "source.npy");
  if (tf) WriteNpyFile(*tf, dir / "tf.npy");
  RunPythonScript("import numpy as np\nfrom PIL import Image\nimport cv2\nd = r'" + dir.string() +
                      "'\nref = np.load(d + '/ref.npy')\n" + script,
                  dir);
  return dir;
}

struct Context {
  Spec spec;
  Image source;
  ModelInput input;
  CompareContext Get() const {
    CompareContext ctx;
    ctx.spec = &spec;
    ctx.source = &source;
    ctx.scale = input.scale, ctx.zero_point = input.zero_point;
    ctx.input_width = input.width, ctx.input_height = input.height;
    return ctx;
  }
};

// ---- orientation on the tensor ---------------------------------------------------------------

TEST(FingerprintOrientation, TurnsOfTheTensorAreNamedAtEveryStage) {
  Context k{MinusOneOne(), Textured(160, 120), Input(64, 64)};
  const std::pair<const char*, const char*> turns[] = {
      {"mirrored_horizontally", "np.flip(x, 1)"}, {"mirrored_vertically", "np.flip(x, 0)"},
      {"rotated_90", "np.rot90(x, -1)"},          {"rotated_180", "np.rot90(x, 2)"},
      {"rotated_270", "np.rot90(x, 1)"},          {"transposed_hw", "np.transpose(x, (1, 0, 2))"},
  };
  for (const char* stage : {"resized", "normalized", "quantized"}) {
    TensorData ref = StageOf(k.source, k.spec, k.input, stage);
    std::string script = "x = ref.reshape(ref.shape[-3:])\n";
    for (const auto& [code, expr] : turns)
      script += std::string("np.save(d + '/") + code + ".npy', np.ascontiguousarray(" + expr +
                ").reshape(ref.shape))\n";
    std::filesystem::path dir = RunOracle(script, ref);
    for (const auto& [code, expr] : turns) {
      SCOPED_TRACE(std::string(stage) + " " + code);
      TensorComparison c = CompareTensors(ref, ReadNpyFile(dir / (std::string(code) + ".npy")),
                                          KindOf(stage), k.Get());
      ExpectFirst(c, code);
      EXPECT_THAT(c.fingerprints.front().evidence, HasSubstr("100.0% of elements"));
    }
  }
  // Clockwise, said so.
  TensorData ref = StageOf(k.source, k.spec, k.input, "resized");
  std::filesystem::path dir = RunOracle("np.save(d + '/cw.npy', np.rot90(ref, -1).copy())\n", ref);
  TensorComparison c = CompareTensors(ref, ReadNpyFile(dir / "cw.npy"), StageKind::kResized);
  ExpectFirst(c, "rotated_90");
  EXPECT_THAT(c.fingerprints.front().description, HasSubstr("90° clockwise"));
}

TEST(FingerprintOrientation, NonSquareTensorTurnedOrReadTransposed) {
  Context k{MinusOneOne(), Textured(160, 120), Input(80, 48)};
  TensorData ref = StageOf(k.source, k.spec, k.input, "resized");  // 48x80x3
  std::filesystem::path dir = RunOracle(
      "np.save(d + '/cw.npy', np.rot90(ref, -1).copy())\n"
      "np.save(d + '/t.npy', np.transpose(ref, (1, 0, 2)).copy())\n"
      // A W×H buffer read with the H×W shape.
      "np.save(d + '/t_as_hw.npy', np.transpose(ref, (1, 0, 2)).copy().reshape(ref.shape))\n"
      "np.save(d + '/other_size.npy', np.zeros((80, 48, 3), np.uint8) + 7)\n",
      ref);
  TensorComparison cw = CompareTensors(ref, ReadNpyFile(dir / "cw.npy"), StageKind::kResized);
  ExpectFirst(cw, "rotated_90");
  EXPECT_FALSE(cw.same_shape);
  TensorComparison t = CompareTensors(ref, ReadNpyFile(dir / "t.npy"), StageKind::kResized);
  ExpectFirst(t, "transposed_hw");
  TensorComparison hw = CompareTensors(ref, ReadNpyFile(dir / "t_as_hw.npy"), StageKind::kResized);
  ExpectFirst(hw, "transposed_hw");
  EXPECT_THAT(hw.fingerprints.front().evidence, HasSubstr("buffer read with lockstep's"));
  // Exchanged sizes that are no turn of lockstep's image remain a different size.
  TensorComparison other =
      CompareTensors(ref, ReadNpyFile(dir / "other_size.npy"), StageKind::kResized);
  ExpectFirst(other, "different_size");
  ExpectNoneOfThese(other);
}

TEST(FingerprintOrientation, HandWrittenMirrorMatchesTheOracle) {
  // A loop of the test's own, no numpy: column x of the other is column w-1-x of lockstep's.
  Context k{MinusOneOne(), Textured(100, 90), Input(40, 40)};
  TensorData ref = StageOf(k.source, k.spec, k.input, "resized");
  TensorData other = ref;
  for (int y = 0; y < 40; ++y)
    for (int x = 0; x < 40; ++x)
      for (int c = 0; c < 3; ++c)
        other.bytes[size_t((y * 40 + x) * 3 + c)] = ref.bytes[size_t((y * 40 + 39 - x) * 3 + c)];
  ExpectFirst(CompareTensors(ref, other, StageKind::kResized, k.Get()), "mirrored_horizontally");
}

// ---- EXIF orientation: the source turned before the resize -----------------------------------

TEST(FingerprintOrientation, ExifOrientationNotAppliedIsARerunOnTheTurnedSource) {
  Context k{MinusOneOne(), Textured(200, 120), Input(64, 64)};
  k.spec.resize = {ResizeDialect::kPillow, Interpolation::kBilinear};
  TensorData ref = StageOf(k.source, k.spec, k.input, "resized");
  // Pillow: the source turned 90° clockwise (ROTATE_270 turns counter-clockwise by 270°), then
  // resized; and cv2 turned 180° then resized into a [-1,1] tensor with OpenCV bilinear.
  std::filesystem::path dir = RunOracle(
      "src = np.load(d + '/source.npy')\n"
      "im = Image.fromarray(src).transpose(Image.ROTATE_270).resize((64, 64), Image.BILINEAR)\n"
      "np.save(d + '/pil_cw.npy', np.asarray(im))\n"
      "rs = cv2.resize(cv2.rotate(src, cv2.ROTATE_90_COUNTERCLOCKWISE), (64, 64),\n"
      "                interpolation=cv2.INTER_LINEAR)\n"
      "np.save(d + '/cv_ccw.npy', (rs.astype(np.float32) - np.float32(127.5)) / "
      "np.float32(127.5))\n",
      ref, &k.source);
  TensorComparison c =
      CompareTensors(ref, ReadNpyFile(dir / "pil_cw.npy"), StageKind::kResized, k.Get());
  ExpectFirst(c, "exif_orientation_not_applied");
  EXPECT_THAT(c.fingerprints.front().description, HasSubstr("rotated 90° clockwise"));
  EXPECT_THAT(c.fingerprints.front().evidence, HasSubstr("tagged 8 decoded without applying it"));

  Context cv{MinusOneOne(), k.source, Input(64, 64)};
  TensorData normalized = StageOf(cv.source, cv.spec, cv.input, "normalized");
  TensorComparison n =
      CompareTensors(normalized, ReadNpyFile(dir / "cv_ccw.npy"), StageKind::kNormalized, cv.Get());
  ExpectFirst(n, "exif_orientation_not_applied");
  EXPECT_THAT(n.fingerprints.front().description, HasSubstr("counter-clockwise"));
  EXPECT_THAT(n.fingerprints.front().evidence, HasSubstr("tagged 6 decoded without applying it"));

  // Without re-runs the turn before the resize is not claimed.
  CompareContext no_rerun = k.Get();
  no_rerun.rerun_budget = 0;
  std::vector<std::string> codes =
      Codes(CompareTensors(ref, ReadNpyFile(dir / "pil_cw.npy"), StageKind::kResized, no_rerun));
  EXPECT_EQ(std::count(codes.begin(), codes.end(), "exif_orientation_not_applied"), 0);
}

TEST(FingerprintOrientation, NoiseOrAnotherImageIsNoTurn) {
  Context k{MinusOneOne(), Textured(160, 120), Input(64, 64)};
  TensorData ref = StageOf(k.source, k.spec, k.input, "resized");
  TensorData noisy = ref;
  uint32_t state = 99;
  for (uint8_t& b : noisy.bytes) {
    state = state * 1664525u + 1013904223u;
    b = uint8_t(std::clamp(int(b) + int(state >> 30) - 1, 0, 255));
  }
  ExpectNoneOfThese(CompareTensors(ref, noisy, StageKind::kResized, k.Get()));
  TensorData another = StageOf(Textured(150, 160), k.spec, k.input, "resized");
  ExpectNoneOfThese(CompareTensors(ref, another, StageKind::kResized, k.Get()));
  // A mirror of another image is no mirror of this one.
  TensorData another_mirrored = another;
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x)
      for (int c = 0; c < 3; ++c)
        another_mirrored.bytes[size_t((y * 64 + x) * 3 + c)] =
            another.bytes[size_t((y * 64 + 63 - x) * 3 + c)];
  ExpectNoneOfThese(CompareTensors(ref, another_mirrored, StageKind::kResized, k.Get()));
}

// ---- pad value --------------------------------------------------------------------------------

Spec Letterbox(int pad) {
  Spec s = MinusOneOne();
  s.geometry.mode = GeometryMode::kLetterbox;
  s.geometry.pad_value = {pad, pad, pad};
  return s;
}

TEST(FingerprintPad, PadValueFromTheUltralyticsLetterboxOracle) {
  // lockstep pads with 0; cv2 letterboxes the Ultralytics way with 114: same placement.
  Context k{Letterbox(0), Textured(200, 150), Input(96, 96)};
  TensorData ref = StageOf(k.source, k.spec, k.input, "resized");
  std::filesystem::path dir = RunOracle(
      "src = np.load(d + '/source.npy')\n"
      "h, w = src.shape[:2]\n"
      "r = min(96 / h, 96 / w)\n"
      "nw, nh = int(round(w * r)), int(round(h * r))\n"
      "im = cv2.resize(src, (nw, nh), interpolation=cv2.INTER_LINEAR)\n"
      "dw, dh = (96 - nw) / 2, (96 - nh) / 2\n"
      "top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))\n"
      "left, right = int(round(dw - 0.1)), int(round(dw + 0.1))\n"
      "np.save(d + '/lb114.npy', cv2.copyMakeBorder(im, top, bottom, left, right,\n"
      "        cv2.BORDER_CONSTANT, value=(114, 114, 114)))\n",
      ref, &k.source);
  TensorComparison c =
      CompareTensors(ref, ReadNpyFile(dir / "lb114.npy"), StageKind::kResized, k.Get());
  ExpectFirst(c, "pad_value");
  EXPECT_EQ(c.fingerprints.front().description, "pad value 114 vs 0");
  std::vector<std::string> codes = Codes(c);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), "letterbox_placement"), 0) << Describe(c);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), "padded_vs_stretched"), 0) << Describe(c);
}

TEST(FingerprintPad, PadValueSeenThroughNormalizationAndQuantization) {
  Context k{Letterbox(114), Textured(200, 150), Input(96, 96)};
  Spec other = Letterbox(128);
  for (const char* stage : {"normalized", "quantized"}) {
    SCOPED_TRACE(stage);
    TensorComparison c =
        CompareTensors(StageOf(k.source, k.spec, k.input, stage),
                       StageOf(k.source, other, k.input, stage), KindOf(stage), k.Get());
    ExpectFirst(c, "pad_value");
    EXPECT_EQ(c.fingerprints.front().description, "pad value 128 vs 114");
    EXPECT_EQ(c.fingerprints.size(), 1u) << Describe(c);
  }
}

TEST(FingerprintPad, PadValueTogetherWithSwappedChannelsIsNotAPlacement) {
  Context k{Letterbox(0), Textured(200, 150), Input(96, 96)};
  Spec other = Letterbox(114);
  other.input.channel_order = ChannelOrder::kBgr;
  TensorComparison c = CompareTensors(StageOf(k.source, k.spec, k.input, "normalized"),
                                      StageOf(k.source, other, k.input, "normalized"),
                                      StageKind::kNormalized, k.Get());
  std::vector<std::string> codes = Codes(c);
  EXPECT_THAT(codes, ::testing::UnorderedElementsAre("pad_value", "channels_swapped"))
      << Describe(c);
}

TEST(FingerprintPad, AnotherPlacementOrNoiseIsNoPadValue) {
  Context k{Letterbox(0), Textured(200, 150), Input(96, 96)};
  Spec top_left = Letterbox(114);
  top_left.geometry.placement = Placement::kTopLeft;
  TensorComparison placed =
      CompareTensors(StageOf(k.source, k.spec, k.input, "resized"),
                     StageOf(k.source, top_left, k.input, "resized"), StageKind::kResized, k.Get());
  ExpectFirst(placed, "letterbox_placement");
  // Noise in the content with the pad changed too: the pad alone does not explain it.
  TensorData ref = StageOf(k.source, k.spec, k.input, "resized");
  TensorData other = StageOf(k.source, Letterbox(114), k.input, "resized");
  uint32_t state = 5;
  for (uint8_t& b : other.bytes) {
    state = state * 1664525u + 1013904223u;
    if ((state >> 28) == 0) b = uint8_t(b ^ 0x10);
  }
  ExpectNoneOfThese(CompareTensors(ref, other, StageKind::kResized, k.Get()));
}

// ---- tf antialiased bilinear vs Pillow bilinear -----------------------------------------------

TEST(FingerprintInterpolation, PillowBilinearAndTfAntialiasAreToldApart) {
  Context k{MinusOneOne(), Textured(240, 180), Input(64, 64)};
  TensorData ref = StageOf(k.source, k.spec, k.input, "resized");  // OpenCV bilinear
  Spec tf = k.spec, pillow = k.spec;
  tf.resize = {ResizeDialect::kTf, Interpolation::kBilinear, true};
  pillow.resize = {ResizeDialect::kPillow, Interpolation::kBilinear};
  TensorData tf_aa = StageOf(k.source, tf, k.input, "resized");
  TensorData own_pillow = StageOf(k.source, pillow, k.input, "resized");
  // Pillow itself, as the oracle; and tf's antialiased result rounded to bytes.
  std::filesystem::path dir = RunOracle(
      "src = np.load(d + '/source.npy')\n"
      "np.save(d + '/pillow.npy', np.asarray(Image.fromarray(src).resize((64, 64), "
      "Image.BILINEAR)))\n"
      "tf = np.load(d + '/tf.npy')\n"
      "np.save(d + '/tf_rounded.npy', np.clip(np.round(tf), 0, 255).astype(np.uint8))\n",
      ref, &k.source, &tf_aa);
  TensorData pil = ReadNpyFile(dir / "pillow.npy");
  ASSERT_EQ(pil.bytes, own_pillow.bytes) << "lockstep's Pillow dialect is Pillow's bytes";
  // The two are close but not the same: otherwise this test could not fail.
  {
    std::vector<double> a = fingerprint::Values(tf_aa, "tf"), b = fingerprint::Values(pil, "pil");
    size_t apart = 0;
    for (size_t i = 0; i < a.size(); ++i) apart += std::abs(a[i] - b[i]) > 0.5;
    EXPECT_GT(apart, a.size() / 100) << "tf antialias and Pillow bilinear agree here";
  }
  TensorComparison p = CompareTensors(ref, pil, StageKind::kResized, k.Get());
  ExpectFirst(p, "interpolation");
  EXPECT_THAT(p.fingerprints.front().description, HasSubstr("Pillow bilinear"));
  TensorComparison t = CompareTensors(ref, tf_aa, StageKind::kResized, k.Get());
  ExpectFirst(t, "interpolation");
  EXPECT_THAT(t.fingerprints.front().description,
              HasSubstr("tf.image.resize bilinear (antialias)"));
  // The oracle's bytes of tf's result: still tf, not Pillow.
  TensorComparison r =
      CompareTensors(ref, ReadNpyFile(dir / "tf_rounded.npy"), StageKind::kResized, k.Get());
  ExpectFirst(r, "interpolation");
  EXPECT_THAT(r.fingerprints.front().description,
              HasSubstr("tf.image.resize bilinear (antialias)"));
}

// ---- float16 ----------------------------------------------------------------------------------

TEST(FingerprintFloat16, HalfBitsAreReadExactly) {
  std::filesystem::path dir = ScratchDir();
  RunPythonScript("import numpy as np\nd = r'" + dir.string() +
                      "'\n"
                      "v = np.array([0, -0.0, 1, -2.5, 65504, -65504, 6e-8, -6e-8, 6.1e-5,\n"
                      "              1e-7, 0.333, np.inf, -np.inf], np.float16)\n"
                      "np.save(d + '/h.npy', v)\n"
                      "np.save(d + '/d.npy', v.astype(np.float64))\n"
                      "x = np.random.RandomState(3).standard_normal(4000).astype(np.float32)\n"
                      "x = np.concatenate([x * 1e-5, x, x * 3e4, np.float32([65519, 65520, "
                      "1e5, 0.0009765625 * 1.5])])\n"
                      "np.save(d + '/x32.npy', x)\n"
                      "np.save(d + '/x16.npy', x.astype(np.float16))\n"
                      "np.save(d + '/nan.npy', np.array([np.nan], np.float16))\n",
                  dir);
  std::vector<double> h = fingerprint::Values(ReadNpyFile(dir / "h.npy"), "h");
  std::vector<double> d = fingerprint::Values(ReadNpyFile(dir / "d.npy"), "d");
  ASSERT_EQ(h.size(), d.size());
  for (size_t i = 0; i < h.size(); ++i) {
    EXPECT_EQ(h[i], d[i]) << i;
    EXPECT_EQ(std::signbit(h[i]), std::signbit(d[i])) << i;
  }
  EXPECT_TRUE(std::isnan(fingerprint::Values(ReadNpyFile(dir / "nan.npy"), "nan")[0]));
  // numpy's float32 → float16 cast is what RoundToHalf reproduces, overflow and ties included.
  std::vector<double> x32 = fingerprint::Values(ReadNpyFile(dir / "x32.npy"), "x32");
  std::vector<double> x16 = fingerprint::Values(ReadNpyFile(dir / "x16.npy"), "x16");
  ASSERT_EQ(x32.size(), x16.size());
  size_t wrong = 0;
  for (size_t i = 0; i < x32.size(); ++i) wrong += fingerprint::RoundToHalf(x32[i]) != x16[i];
  EXPECT_EQ(wrong, 0u);
}

TEST(FingerprintFloat16, HalfPrecisionInputIsNamed) {
  Context k{MinusOneOne(), Textured(160, 120), Input(64, 64)};
  TensorData ref = StageOf(k.source, k.spec, k.input, "normalized");
  std::filesystem::path dir = RunOracle(
      "np.save(d + '/h.npy', ref.astype(np.float16))\n"
      "np.save(d + '/back.npy', ref.astype(np.float16).astype(np.float32))\n"
      "rng = np.random.RandomState(1)\n"
      "np.save(d + '/noise.npy', ref + rng.uniform(-1e-3, 1e-3, ref.shape).astype(np.float32))\n",
      ref);
  TensorComparison h =
      CompareTensors(ref, ReadNpyFile(dir / "h.npy"), StageKind::kNormalized, k.Get());
  ExpectFirst(h, "float16_rounding");
  EXPECT_EQ(h.fingerprints.size(), 1u) << Describe(h);
  ExpectFirst(CompareTensors(ref, ReadNpyFile(dir / "back.npy"), StageKind::kNormalized, k.Get()),
              "float16_rounding");
  ExpectNoneOfThese(
      CompareTensors(ref, ReadNpyFile(dir / "noise.npy"), StageKind::kNormalized, k.Get()));
}

// ---- boxes ------------------------------------------------------------------------------------

TensorData BoxTensor(const std::vector<double>& v) {
  TensorData t(DType::kFloat32, {int(v.size() / 4), 4});
  std::transform(v.begin(), v.end(), t.as<float>().begin(), [](double x) { return float(x); });
  return t;
}

// Twelve boxes inside a 640x480 image, one reaching past its right edge (lockstep does not
// clip; the other side does).
std::vector<double> SourceBoxes() {
  std::vector<double> b;
  for (int i = 0; i < 11; ++i)
    b.insert(b.end(), {20.0 + 45 * i, 15.0 + 30 * i, 80.0 + 45 * i + 3 * i, 60.0 + 33 * i});
  b.insert(b.end(), {590, 200, 660, 300});
  return b;
}

struct BoxCase {
  Spec spec;
  Image source{640, 480, 3};
  CompareContext Get() const {
    CompareContext ctx;
    ctx.spec = &spec;
    ctx.source = &source;
    ctx.input_width = ctx.input_height = 320;
    return ctx;
  }
};

TEST(FingerprintBoxes, MappedBackAsIfStretchedAfterALetterbox) {
  BoxCase k{Letterbox(114)};
  TensorData ref = BoxTensor(SourceBoxes());
  // The Ultralytics letterbox of 640x480 into 320x320: r = 0.5, 40 rows of pad at the top; the
  // other maps input pixels back with 640/320 and 480/320 and clips to the image.
  std::filesystem::path dir = RunOracle(
      "r, top = 0.5, 40\n"
      "x = ref[:, [0, 2]] * r * (640 / 320)\n"
      "y = (ref[:, [1, 3]] * r + top) * (480 / 320)\n"
      "o = np.stack([x[:, 0], y[:, 0], x[:, 1], y[:, 1]], 1)\n"
      "o[:, [0, 2]] = np.clip(o[:, [0, 2]], 0, 640)\n"
      "o[:, [1, 3]] = np.clip(o[:, [1, 3]], 0, 480)\n"
      "np.save(d + '/stretched.npy', o.astype(np.float32))\n"
      "o2 = o.copy(); o2[3] = [1, 2, 3, 4]\n"
      "np.save(d + '/one_outlier.npy', o2.astype(np.float32))\n",
      ref);
  TensorComparison c =
      CompareTensors(ref, ReadNpyFile(dir / "stretched.npy"), StageKind::kBoxes, k.Get());
  ExpectFirst(c, "boxes_stretched_after_letterbox");
  EXPECT_THAT(c.fingerprints.front().evidence, HasSubstr("12 of the other's 12 boxes"));
  TensorComparison o =
      CompareTensors(ref, ReadNpyFile(dir / "one_outlier.npy"), StageKind::kBoxes, k.Get());
  ExpectFirst(o, "boxes_stretched_after_letterbox");
  EXPECT_THAT(o.fingerprints.front().evidence, HasSubstr("11 of the other's 12 boxes"));
}

TEST(FingerprintBoxes, ScalesSwapped) {
  BoxCase k{Letterbox(114)};
  TensorData ref = BoxTensor(SourceBoxes());
  std::filesystem::path dir = RunOracle(
      "n = ref / np.float32([640, 480, 640, 480])\n"
      "o = n * np.float32([480, 640, 480, 640])\n"
      "np.save(d + '/swapped.npy', o.astype(np.float32))\n",
      ref);
  TensorComparison c =
      CompareTensors(ref, ReadNpyFile(dir / "swapped.npy"), StageKind::kBoxes, k.Get());
  ExpectFirst(c, "box_scales_swapped");
  EXPECT_THAT(c.fingerprints.front().description, HasSubstr("x·H, y·W"));
}

TEST(FingerprintBoxes, ExistingMistakesTolerateClippingAndAFewOutliers) {
  BoxCase k{Letterbox(114)};
  TensorData ref = BoxTensor(SourceBoxes());
  std::filesystem::path dir = RunOracle(
      "n = np.clip(ref / np.float32([640, 480, 640, 480]), 0, 1)\n"
      "np.save(d + '/normalized.npy', n.astype(np.float32))\n"
      "yx = n[:, [1, 0, 3, 2]].copy(); yx[5] = [0.9, 0.9, 0.95, 0.95]\n"
      "np.save(d + '/yx_outlier.npy', yx.astype(np.float32))\n"
      "m = ref * 0.5; m[:, [1, 3]] += 40; m = np.clip(m, 0, 320)\n"
      "np.save(d + '/input.npy', m.astype(np.float32))\n",
      ref);
  ExpectFirst(CompareTensors(ref, ReadNpyFile(dir / "normalized.npy"), StageKind::kBoxes, k.Get()),
              "normalized_vs_pixel_boxes");
  TensorComparison yx =
      CompareTensors(ref, ReadNpyFile(dir / "yx_outlier.npy"), StageKind::kBoxes, k.Get());
  std::vector<std::string> codes = Codes(yx);
  EXPECT_THAT(codes, ::testing::ElementsAre("normalized_vs_pixel_boxes", "yx_vs_xy_order"))
      << Describe(yx);
  ExpectFirst(CompareTensors(ref, ReadNpyFile(dir / "input.npy"), StageKind::kBoxes, k.Get()),
              "boxes_not_unletterboxed");
}

TEST(FingerprintBoxes, JitterOrTooManyOutliersAreNotNamed) {
  BoxCase k{Letterbox(114)};
  TensorData ref = BoxTensor(SourceBoxes());
  std::filesystem::path dir = RunOracle(
      "rng = np.random.RandomState(2)\n"
      "np.save(d + '/jitter.npy', (ref + rng.uniform(-6, 6, ref.shape)).astype(np.float32))\n"
      "n = ref / np.float32([640, 480, 640, 480])\n"
      "n[:3] = rng.uniform(0, 1, (3, 4))\n"
      "np.save(d + '/three_wrong.npy', n.astype(np.float32))\n",
      ref);
  TensorComparison j =
      CompareTensors(ref, ReadNpyFile(dir / "jitter.npy"), StageKind::kBoxes, k.Get());
  EXPECT_TRUE(j.fingerprints.empty()) << Describe(j);
  TensorComparison w =
      CompareTensors(ref, ReadNpyFile(dir / "three_wrong.npy"), StageKind::kBoxes, k.Get());
  EXPECT_TRUE(w.fingerprints.empty()) << Describe(w);
}

}  // namespace
}  // namespace lockstep
