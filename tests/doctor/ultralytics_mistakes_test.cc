// Ultralytics' known deployment mistakes (issue 8), each planted on the real
// yolov8n_coco_int8.tflite (int8 input, scale 1/255, zero point -128) with COCO128 images: the
// doctor must name exactly that mistake, statically and in the stages it compares.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "lockstep/core/npy.h"
#include "lockstep/doctor/doctor.h"
#include "lockstep/image/decode.h"
#include "lockstep/pipeline/preprocess.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

struct Assets {
  fs::path model, images;
};

Assets Find() {
  fs::path base = testing::AssetsDir();
  if (base.empty()) return {};
  return {base / "models/detection/yolov8n_coco_int8.tflite", base / "datasets/coco128/train2017"};
}

// Ultralytics' own pipeline, quantized as TFLite's QUANTIZE op would (rounded, clamped): its
// letterbox (pad 114, Python rounding), cv2 bilinear, /255, the yolov8 head.
json Training() {
  return {
      {"schema", "lockstep.pipeline/v1"},
      {"name", "yolov8n as trained"},
      {"geometry",
       {{"mode", "letterbox"}, {"pad_value", {114, 114, 114}}, {"rounding", "ultralytics"}}},
      {"resize", {{"dialect", "opencv"}, {"interpolation", "bilinear"}}},
      {"normalize", {{"mean", {0, 0, 0}}, {"std", {255, 255, 255}}}},
      {"output",
       {{"decoder", "yolov8"},
        {"label_file",
         (testing::AssetsDir() / "models/detection/yolov8n_coco_int8_metadata.yaml").string()}}}};
}

// The named images of COCO128, linked into a fresh folder. 000000000009 is 640x480 (80 + 80
// rows of pad), 000000000034 640x425 and 000000000092 640x427 (odd pads: 107 + 108 and
// 106 + 107 rows, where the float pads 107.5 and 106.5 differ by half a pixel).
fs::path Images(const Assets& a, const std::vector<std::string>& names) {
  fs::path dir = testing::ScratchDir() / "images";
  fs::create_directories(dir);
  for (const std::string& n : names) fs::create_symlink(a.images / n, dir / n);
  return dir;
}

DoctorReport Doctor(const Assets& a, const json& deployed, std::optional<fs::path> images = {}) {
  DoctorInput in;
  in.model = a.model;
  in.training = ParseSpec(Training(), "training");
  in.deployed = ParseSpec(deployed, "deployed");
  in.images = images;
  in.what_ifs = false;
  in.sample_images = 0;
  return RunDoctor(in);
}

// What the doctor names above info, leaving out what it says of the training spec itself: the
// export's input quantization (scale 0.018658, zero point -14) spends only 53 of the 256 levels
// on [0,1], which the doctor reports on both sides of every case.
std::set<std::string> Named(const DoctorReport& r) {
  std::set<std::string> out;
  for (const Finding& f : r.findings)
    if (f.severity != Severity::kInfo && f.code.rfind("training_", 0) != 0) out.insert(f.code);
  return out;
}

const Finding* FindingOf(const DoctorReport& r, const std::string& code) {
  for (const Finding& f : r.findings)
    if (f.code == code) return &f;
  return nullptr;
}

const StageReport* StageNamed(const DoctorReport& r, const std::string& name) {
  for (const StageReport& s : r.stages)
    if (s.stage == name) return &s;
  return nullptr;
}

std::string Codes(const StageReport& s) {
  std::string out;
  for (const Fingerprint& f : s.fingerprints) out += f.code + " ";
  return out;
}

#define LOCKSTEP_YOLO_ASSETS(a) \
  Assets a = Find();            \
  if (a.model.empty() || !fs::exists(a.model)) GTEST_SKIP() << "no shared assets"

// 1. (x / scale + zero_point).astype(int8): truncation without clipping. With the model's
// quantization [0,1] reaches -14..39 only: nothing leaves the range, so the cast's wrap is harmless
// (info) and the truncation is the mistake; the quantized stage is where the pipelines part.
TEST(UltralyticsMistakes, AstypeIsNamedAsTruncationWithTheWrapHarmless) {
  LOCKSTEP_YOLO_ASSETS(a);
  json d = Training();
  d["tensor"] = {{"rounding", "truncate"}, {"saturate", false}};
  DoctorReport r = Doctor(a, d, Images(a, {"000000000009.jpg"}));
  EXPECT_EQ(Named(r), (std::set<std::string>{"rounding"}));
  const Finding* rounding = FindingOf(r, "rounding");
  ASSERT_NE(rounding, nullptr);
  EXPECT_NE(rounding->consequence.find("astype(int8)"), std::string::npos);
  const Finding* wrap = FindingOf(r, "no_saturation");
  ASSERT_NE(wrap, nullptr);
  EXPECT_EQ(wrap->severity, Severity::kInfo);
  EXPECT_NE(wrap->consequence.find("reach -14..39"), std::string::npos) << wrap->consequence;
  EXPECT_EQ(r.first_divergence, "quantized");
  const StageReport* q = StageNamed(r, "quantized");
  ASSERT_NE(q, nullptr);
  ASSERT_FALSE(q->fingerprints.empty());
  EXPECT_EQ(q->fingerprints.front().code, "truncation_vs_rounding") << Codes(*q);
}

// The wrap bites when the values leave the range: the same astype on raw 0..255 pixels (the /255
// forgotten, a second mistake) wraps every bright pixel around. The doctor names both, the wrap
// as an error with the range it reaches.
TEST(UltralyticsMistakes, AstypeAfterAWrongNormalizationWrapsAndIsAnError) {
  LOCKSTEP_YOLO_ASSETS(a);
  json d = Training();
  d["normalize"] = {{"mean", {0, 0, 0}}, {"std", {1, 1, 1}}};
  d["tensor"] = {{"rounding", "truncate"}, {"saturate", false}};
  DoctorReport r = Doctor(a, d);
  EXPECT_EQ(Named(r), (std::set<std::string>{"normalization_range", "normalization_vs_quantization",
                                             "rounding", "no_saturation"}));
  const Finding* wrap = FindingOf(r, "no_saturation");
  ASSERT_NE(wrap, nullptr);
  EXPECT_EQ(wrap->severity, Severity::kError);
  // 255 / 0.018658 - 14 = about 13653: far above 127.
  EXPECT_NE(wrap->consequence.find("reach -14..1365"), std::string::npos) << wrap->consequence;
  EXPECT_FALSE(r.aligned);
}

// astype is two units a person can fix apart (round, then clip): attribution switches each.
TEST(UltralyticsMistakes, AstypeIsTwoUnitsOfTheSpecDifference) {
  Spec t = ParseSpec(Training(), "training");
  json d = Training();
  d["tensor"] = {{"rounding", "truncate"}, {"saturate", false}};
  Spec deployed = ParseSpec(d, "deployed");
  std::vector<SpecDifference> diff = DiffSpecs(t, deployed);
  ASSERT_EQ(diff.size(), 2u);
  EXPECT_EQ(diff[0].unit, "tensor.rounding");
  EXPECT_EQ(diff[1].unit, "tensor.saturation");
  ASSERT_EQ(diff[1].fields.size(), 1u);
  EXPECT_EQ(diff[1].fields[0].field, "$.tensor.saturate");
  EXPECT_EQ(diff[1].fields[0].deployed, "false");
  Spec clipped = WithTrainingUnits(deployed, t, {"tensor.saturation"});
  EXPECT_TRUE(clipped.tensor.saturate);
  EXPECT_EQ(clipped.tensor.rounding, Rounding::kTruncate);
}

// The quantized stage's fingerprint recognises wrapped values: Ultralytics' numpy tensor
// (computed here by numpy itself from lockstep's normalized stage) against lockstep's
// saturating one, on a real photo with the model's size.
TEST(UltralyticsMistakes, WrappedValuesFromNumpyAreRecognised) {
  LOCKSTEP_YOLO_ASSETS(a);
  const fs::path scratch = testing::ScratchDir();
  Spec spec = ParseSpec(Training(), "training");
  // Raw 0..255 pixels on the int8 input (the /255 forgotten) make every value leave the range.
  spec.normalize.std = {1, 1, 1};
  Image image = DecodeImageFile(a.images / "000000000025.jpg");
  ModelInput input{.width = 640,
                   .height = 640,
                   .channels = 3,
                   .layout = Layout::kNhwc,
                   .dtype = DType::kInt8,
                   .scale = 0.003921568859368563,
                   .zero_point = -128};
  Preprocessed p = Preprocess(image, spec, input, {.trace = true});
  const TensorData* normalized = nullptr;
  for (const Stage& s : p.trace)
    if (s.name == "normalized") normalized = &s.data;
  ASSERT_NE(normalized, nullptr);
  WriteNpyFile(*normalized, scratch / "normalized.npy");
  testing::RunPythonScript(
      "import numpy as np\n"
      "x = np.load('" +
          (scratch / "normalized.npy").string() +
          "')[None]\n"
          "np.save('" +
          (scratch / "quantized.npy").string() +
          "', (x / 0.003921568859368563 + -128).astype(np.int8))\n",
      scratch);
  TensorData numpy = ReadNpyFile(scratch / "quantized.npy");
  CompareContext ctx;
  ctx.spec = &spec;
  ctx.scale = input.scale;
  ctx.zero_point = input.zero_point;
  ctx.source = &image;
  ctx.input_width = 640, ctx.input_height = 640;
  TensorComparison c = CompareTensors(p.tensor, numpy, StageKind::kQuantized, ctx);
  ASSERT_FALSE(c.equal);
  ASSERT_FALSE(c.fingerprints.empty());
  EXPECT_EQ(c.fingerprints.front().code, "wraparound");
  EXPECT_NE(c.fingerprints.front().evidence.find("re-run without saturation and with truncate"),
            std::string::npos)
      << c.fingerprints.front().evidence;
  // lockstep's own astype reproduces numpy's tensor byte for byte.
  spec.tensor.rounding = Rounding::kTruncate;
  spec.tensor.saturate = false;
  EXPECT_EQ(Preprocess(image, spec, input).tensor.bytes, numpy.bytes);
}

// 2. uint8 data fed to the int8 input (the bytes of a uint8 pipeline): named input_dtype, and
// the quantized stage fingerprinted as uint8 data in an int8 tensor.
TEST(UltralyticsMistakes, Uint8DataInTheInt8InputIsNamed) {
  LOCKSTEP_YOLO_ASSETS(a);
  json d = Training();
  d["tensor"] = {{"dtype", "uint8"}};
  DoctorReport r = Doctor(a, d, Images(a, {"000000000009.jpg"}));
  std::set<std::string> named = Named(r);
  EXPECT_TRUE(named.count("input_dtype")) << *named.begin();
  for (const std::string& code : named)
    EXPECT_TRUE(code == "input_dtype" || code == "input_dtype_mismatch") << code;
  const Finding* f = FindingOf(r, "input_dtype");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->consequence.find("uint8 data in a int8 tensor"), std::string::npos);
  EXPECT_EQ(r.first_divergence, "quantized");
  const StageReport* q = StageNamed(r, "quantized");
  ASSERT_NE(q, nullptr);
  ASSERT_FALSE(q->fingerprints.empty());
  EXPECT_EQ(q->fingerprints.front().code, "uint8_in_int8") << Codes(*q);
}

// 3. Boxes un-letterboxed with the float pads while the letterbox applied integer ones: named
// statically; empirically the placement and model outputs are identical, and the detections of
// the odd-pad images are the training ones shifted by exactly half a pixel / gain in y.
TEST(UltralyticsMistakes, FloatPadsInTheInverseLetterboxAreNamed) {
  LOCKSTEP_YOLO_ASSETS(a);
  json d = Training();
  d["geometry"]["inverse_pads"] = "float";
  DoctorReport r =
      Doctor(a, d, Images(a, {"000000000009.jpg", "000000000034.jpg", "000000000092.jpg"}));
  EXPECT_EQ(Named(r), (std::set<std::string>{"letterbox_float_pads"}));
  const Finding* f = FindingOf(r, "letterbox_float_pads");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->field, "$.geometry.inverse_pads");
  for (const char* stage : {"geometry", "resized", "normalized", "quantized", "raw_outputs"}) {
    const StageReport* s = StageNamed(r, stage);
    ASSERT_NE(s, nullptr) << stage;
    EXPECT_TRUE(s->equal()) << stage;
  }
  EXPECT_EQ(r.first_divergence, "detections");
  const StageReport* det = StageNamed(r, "detections");
  ASSERT_NE(det, nullptr);
  EXPECT_EQ(det->images_differing, 2u);  // 000000000009 has even pads: nothing moves
  ASSERT_FALSE(det->fingerprints.empty());
  EXPECT_EQ(det->fingerprints.front().code, "letterbox_float_pads");
  // r = 1 (width 640): the boxes move up by exactly half a pixel, not at all in x.
  EXPECT_NE(det->fingerprints.front().evidence.find("(0.0000, -0.500)"), std::string::npos)
      << det->fingerprints.front().evidence;
  ASSERT_TRUE(r.agreement.has_value());
  EXPECT_EQ(r.agreement->matched, r.agreement->training);  // every box still matches
  EXPECT_LT(r.agreement->mean_iou, 1.0);
}

}  // namespace
}  // namespace lockstep
