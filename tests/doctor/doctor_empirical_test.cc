// The doctor with images: both pipelines stage by stage on real COCO128 images through the real
// COCO SSD MobileNet v1 (and the int8-input Edge Impulse SSD), the first divergence and its
// fingerprint, agreement, COCO AP, attribution, what-ifs and stage tensors from elsewhere.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

#include "lockstep/core/error.h"
#include "lockstep/core/npy.h"
#include "lockstep/doctor/doctor.h"
#include "lockstep/image/decode.h"
#include "lockstep/run/dataset_run.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

struct Assets {
  fs::path model, annotations, images;
};

Assets Find() {
  fs::path base = testing::AssetsDir();
  if (base.empty()) return {};
  return {base / testing::kCocoSsdV1,
          base / "datasets/coco128/annotations/instances_train2017.json",
          base / "datasets/coco128/train2017"};
}

// A folder holding the first `n` COCO128 images (sorted by name), linked, in the test's scratch
// folder `scratch` (ScratchDir() empties it on each call: call it once per test).
fs::path FewImages(const Assets& a, size_t n, const fs::path& scratch = testing::ScratchDir()) {
  fs::path dir = scratch / "images";
  fs::create_directories(dir);
  std::vector<fs::path> all;
  for (const auto& e : fs::directory_iterator(a.images)) all.push_back(e.path());
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < n && i < all.size(); ++i)
    fs::create_symlink(all[i], dir / all[i].filename());
  return dir;
}

DoctorInput Input(const Assets& a, const json& training, const json& deployed) {
  DoctorInput in;
  in.model = a.model;
  in.training = ParseSpec(training, "training");
  in.deployed = ParseSpec(deployed, "deployed");
  return in;
}

const StageReport* StageNamed(const DoctorReport& r, const std::string& name) {
  for (const StageReport& s : r.stages)
    if (s.stage == name) return &s;
  return nullptr;
}

bool HasFingerprint(const StageReport& s, const std::string& code) {
  for (const Fingerprint& f : s.fingerprints)
    if (f.code == code) return true;
  return false;
}

TEST(DoctorEmpirical, IdenticalPipelinesAgreeAtEveryStage) {
  Assets a = Find();
  if (a.model.empty()) GTEST_SKIP() << "no shared assets";
  json other = testing::CocoSsdV1TrainingSpec();
  other["name"] = "deployed copy";
  DoctorInput in = Input(a, testing::CocoSsdV1TrainingSpec(), other);
  in.images = a.images;
  in.annotations = a.annotations;
  in.max_images = 3;
  std::vector<std::string> progress;
  in.progress = [&](const std::string& what, size_t done, size_t total) {
    progress.push_back(what + " " + std::to_string(done) + "/" + std::to_string(total));
  };
  DoctorReport r = RunDoctor(in);
  EXPECT_TRUE(r.aligned);
  EXPECT_EQ(r.images, 3u);
  ASSERT_EQ(r.stages.size(), 6u);
  std::vector<std::string> names;
  for (const StageReport& s : r.stages) {
    names.push_back(s.stage);
    EXPECT_TRUE(s.equal()) << s.stage;
    EXPECT_EQ(s.images, 3u) << s.stage;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"geometry", "resized", "normalized", "quantized",
                                             "raw_outputs", "detections"}));
  EXPECT_TRUE(r.first_divergence.empty());
  ASSERT_TRUE(r.agreement);
  EXPECT_GT(r.agreement->training, 0u);
  EXPECT_EQ(r.agreement->matched, r.agreement->training);
  EXPECT_EQ(r.agreement->deployed, r.agreement->training);
  EXPECT_DOUBLE_EQ(r.agreement->max_abs_score_delta, 0);
  ASSERT_TRUE(r.training_eval && r.deployed_eval);
  EXPECT_EQ(r.training_eval->stats, r.deployed_eval->stats);
  EXPECT_TRUE(r.attribution.empty());
  // The traced loop gives the numbers the plain dataset loop (lockstep eval's) gives.
  EvalSet set = LoadEvalSet(a.annotations, a.images, 3);
  DatasetRun plain = RunDataset(a.model, in.training, set);
  EXPECT_EQ(EvaluateBoxes(set.dataset, plain.detections).stats, r.training_eval->stats);
  // Samples: the two inputs are the same picture.
  ASSERT_EQ(r.samples.size(), 3u);
  EXPECT_EQ(r.samples[0].training_input, r.samples[0].deployed_input);
  EXPECT_EQ(r.samples[0].training_input.width, 300);
  // What-ifs on a uint8 input with zero point 128: all three, each with an AP.
  std::set<std::string> codes;
  for (const WhatIf& w : r.what_ifs) {
    codes.insert(w.code);
    ASSERT_TRUE(w.ap && w.ap_cost);
    EXPECT_NEAR(*w.ap_cost, r.training_eval->stats[0] - *w.ap, 1e-12);
  }
  EXPECT_EQ(codes,
            (std::set<std::string>{"astype_truncation", "int8_in_uint8", "zero_point_ignored"}));
  for (const WhatIf& w : r.what_ifs)
    if (w.code == "int8_in_uint8") {
      // Off by 128 steps: the detections are another set.
      EXPECT_LT(w.agreement.matched, r.agreement->training / 2);
    }
  EXPECT_EQ(progress.front(), "training and deployed 1/3");
  EXPECT_NE(std::find(progress.begin(), progress.end(), "what-if zero_point_ignored 3/3"),
            progress.end());
}

TEST(DoctorEmpirical, ThreeMistakesDivergeAtGeometryAndShareTheGap) {
  Assets a = Find();
  if (a.model.empty()) GTEST_SKIP() << "no shared assets";
  json d = testing::CocoSsdV1TrainingSpec();
  d["normalize"] = {{"mean", {0, 0, 0}}, {"std", {255, 255, 255}}};
  d["input"] = {{"channel_order", "bgr"}};
  d["geometry"] = {{"mode", "letterbox"}};
  DoctorInput in = Input(a, testing::CocoSsdV1TrainingSpec(), d);
  in.images = a.images;
  in.annotations = a.annotations;
  in.max_images = 6;
  in.what_ifs = false;
  DoctorReport r = RunDoctor(in);
  EXPECT_FALSE(r.aligned);
  EXPECT_EQ(r.first_divergence, "geometry");
  const StageReport* geometry = StageNamed(r, "geometry");
  ASSERT_NE(geometry, nullptr);
  // All six images are 4:3 or 3:4 or any non-square shape: letterbox ≠ stretch everywhere.
  EXPECT_EQ(geometry->images_differing, 6u);
  EXPECT_TRUE(HasFingerprint(*geometry, "padded_vs_stretched"));
  const StageReport* resized = StageNamed(r, "resized");
  ASSERT_NE(resized, nullptr);
  EXPECT_TRUE(HasFingerprint(*resized, "padded_vs_stretched"));
  ASSERT_TRUE(r.training_eval && r.deployed_eval);
  const double gap = r.training_eval->stats[0] - r.deployed_eval->stats[0];
  EXPECT_GT(gap, 0.01);
  ASSERT_EQ(r.attribution.size(), 3u);
  std::set<std::string> units;
  for (const AttributionEntry& e : r.attribution) {
    units.insert(e.difference.unit);
    EXPECT_NEAR(e.ap_recovered, e.ap_switched - r.deployed_eval->stats[0], 1e-12);
    EXPECT_NEAR(e.share, e.ap_recovered / gap, 1e-12);
  }
  EXPECT_EQ(units, (std::set<std::string>{"input.channel_order", "geometry", "normalize"}));
  for (size_t i = 1; i < r.attribution.size(); ++i)
    EXPECT_GE(r.attribution[i - 1].share, r.attribution[i].share);
  // The switched spec is an honest pipeline: its AP is what RunDataset gives for it.
  const AttributionEntry& top = r.attribution.front();
  Spec switched = WithTrainingUnits(*in.deployed, in.training, {top.difference.unit});
  EvalSet set = LoadEvalSet(a.annotations, a.images, 6);
  DatasetRun run = RunDataset(a.model, switched, set);
  EXPECT_DOUBLE_EQ(EvaluateBoxes(set.dataset, run.detections).stats[0], top.ap_switched);
  // JSON carries the keys.
  nlohmann::ordered_json j = DoctorJson(r);
  for (const char* key : {"aligned", "findings", "stages", "stats", "attribution", "what_ifs",
                          "external", "agreement"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["findings"][0].size(), 7u);
  for (const char* key :
       {"code", "severity", "field", "training", "deployed", "consequence", "fix"})
    EXPECT_TRUE(j["findings"][0].contains(key)) << key;
  std::string summary = DoctorSummary(r);
  EXPECT_LE(std::count(summary.begin(), summary.end(), '\n'), 40);
  EXPECT_NE(summary.find("first divergence: geometry"), std::string::npos) << summary;
}

TEST(DoctorEmpirical, UnitRangeNormalizationDivergesAtTheNormalizedStage) {
  Assets a = Find();
  if (a.model.empty()) GTEST_SKIP() << "no shared assets";
  json d = testing::CocoSsdV1TrainingSpec();
  d["normalize"] = {{"mean", {0, 0, 0}}, {"std", {255, 255, 255}}};
  DoctorInput in = Input(a, testing::CocoSsdV1TrainingSpec(), d);
  in.images = FewImages(a, 2);
  DoctorReport r = RunDoctor(in);
  EXPECT_EQ(r.images, 2u);
  EXPECT_TRUE(StageNamed(r, "geometry")->equal());
  EXPECT_TRUE(StageNamed(r, "resized")->equal());
  EXPECT_EQ(r.first_divergence, "normalized");
  const StageReport* n = StageNamed(r, "normalized");
  ASSERT_FALSE(n->fingerprints.empty());
  EXPECT_EQ(n->fingerprints.front().code, "normalization_range")
      << n->fingerprints.front().evidence;
  // [0,1] against [-1,1]: the largest difference is 1 (a pixel of 0 gives 0 vs -1).
  EXPECT_NEAR(n->stats.max_abs_diff, 1.0, 1e-6);
  EXPECT_FALSE(r.training_eval.has_value());
  EXPECT_TRUE(r.attribution.empty());
  for (const WhatIf& w : r.what_ifs) EXPECT_FALSE(w.ap.has_value());
}

TEST(DoctorEmpirical, BgrIsFingerprintedAsChannelsSwapped) {
  Assets a = Find();
  if (a.model.empty()) GTEST_SKIP() << "no shared assets";
  json d = testing::CocoSsdV1TrainingSpec();
  d["input"] = {{"channel_order", "bgr"}};
  DoctorInput in = Input(a, testing::CocoSsdV1TrainingSpec(), d);
  in.images = FewImages(a, 2);
  in.what_ifs = false;
  DoctorReport r = RunDoctor(in);
  ASSERT_FALSE(r.first_divergence.empty());
  const StageReport* s = StageNamed(r, r.first_divergence);
  ASSERT_FALSE(s->fingerprints.empty());
  EXPECT_EQ(s->fingerprints.front().code, "channels_swapped");
  // Shown as the model reads it: the deployed input is the training input with R and B swapped.
  const SampleView& v = r.samples.front();
  size_t swapped = 0, total = 0;
  for (int y = 0; y < v.training_input.height; y += 7)
    for (int x = 0; x < v.training_input.width; x += 7, ++total)
      swapped += std::abs(v.training_input.at(x, y, 0) - v.deployed_input.at(x, y, 2)) <= 1 &&
                 std::abs(v.training_input.at(x, y, 2) - v.deployed_input.at(x, y, 0)) <= 1;
  EXPECT_EQ(swapped, total);
}

TEST(DoctorEmpirical, Uint8DataInAnInt8ModelRunsAsTheDeviceWould) {
  fs::path base = testing::AssetsDir();
  if (base.empty()) GTEST_SKIP() << "no shared assets";
  fs::path model = base / "models/detection/ei_ssd_mobilenet_v2_fpnlite_320_base_int8.tflite";
  json t = {{"schema", "lockstep.pipeline/v1"},
            {"geometry", {{"mode", "stretch"}}},
            {"resize", {{"dialect", "opencv"}, {"interpolation", "bilinear"}}},
            {"normalize", {{"mean", {0, 0, 0}}, {"std", {255, 255, 255}}}},
            {"output", {{"labels", {"base"}}, {"score_threshold", 0.0}}}};
  json d = t;
  d["tensor"] = {{"dtype", "uint8"}};
  Assets a = Find();
  const fs::path images = FewImages(a, 2);
  // The oracle: input scale 1/255, zero point -128, so training feeds q = pixel - 128 (int8) and
  // the uint8 pipeline feeds the pixel; the bytes differ by exactly 128 (mod 256) everywhere.
  Image image = DecodeImageFile(images / "000000000009.jpg");
  Detector train = Detector::Create(model, ParseSpec(t, "t"));
  EXPECT_THROW(Detector::Create(model, ParseSpec(d, "d")), Error);
  Detector deploy = Detector::Create(model, ParseSpec(d, "d"), {.reinterpret_8bit_input = true});
  DetectTrace tt, dt;
  train.Detect(image, &tt);
  deploy.Detect(image, &dt);
  ASSERT_EQ(tt.input.dtype, DType::kInt8);
  ASSERT_EQ(dt.input.dtype, DType::kInt8);
  ASSERT_EQ(tt.input.bytes.size(), dt.input.bytes.size());
  size_t off_by_128 = 0;
  for (size_t i = 0; i < tt.input.bytes.size(); ++i)
    off_by_128 += uint8_t(tt.input.bytes[i] + 128) == dt.input.bytes[i];
  EXPECT_EQ(off_by_128, tt.input.bytes.size());

  DoctorInput in;
  in.model = model;
  in.training = ParseSpec(t, "t");
  in.deployed = ParseSpec(d, "d");
  in.images = images;
  in.what_ifs = false;
  DoctorReport r = RunDoctor(in);
  bool named = false;
  for (const Finding& f : r.findings) named |= f.code == "input_dtype";
  EXPECT_TRUE(named);
  EXPECT_EQ(r.first_divergence, "quantized");
  const StageReport* q = StageNamed(r, "quantized");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->images_differing, 2u);
  EXPECT_TRUE(HasFingerprint(*q, "uint8_in_int8"))
      << (q->fingerprints.empty() ? "none" : q->fingerprints.front().code);
}

TEST(DoctorEmpirical, StageTensorsFromElsewhereAreExplained) {
  Assets a = Find();
  if (a.model.empty()) GTEST_SKIP() << "no shared assets";
  const fs::path scratch = testing::ScratchDir();
  fs::path images = FewImages(a, 1, scratch);
  const std::string name = "000000000009.jpg";
  Spec training = ParseSpec(testing::CocoSsdV1TrainingSpec(), "t");
  Detector train = Detector::Create(a.model, training, {.score_threshold = 0.3});
  DetectTrace trace;
  ImageDetections found = train.Detect(DecodeImageFile(images / name), &trace);
  ASSERT_GE(found.detections.size(), 2u);
  fs::path dir = scratch / "tensors";
  fs::create_directories(dir);
  auto stage = [&](const std::string& s) {
    for (const Stage& x : trace.stages)
      if (x.name == s) return x.data;
    ADD_FAILURE() << "no stage " << s;
    return TensorData();
  };
  // resized: the same (tf_legacy gives floats; the other side saved them as they are).
  WriteNpyFile(stage("resized"), dir / (name + ".resized.npy"));
  // normalized: [0,1] instead of [-1,1].
  TensorData normalized = stage("normalized");
  for (float& v : normalized.as<float>()) v = (v + 1) / 2;
  WriteNpyFile(normalized, dir / (name + ".normalized.npy"));
  // boxes: (y, x) order in source pixels.
  TensorData boxes(DType::kFloat32, {int(found.detections.size()), 4});
  auto b = boxes.as<float>();
  for (size_t i = 0; i < found.detections.size(); ++i) {
    const Box& x = found.detections[i].box;
    b[4 * i] = float(x.ymin), b[4 * i + 1] = float(x.xmin), b[4 * i + 2] = float(x.ymax),
          b[4 * i + 3] = float(x.xmax);
  }
  WriteNpyFile(boxes, dir / (name + ".boxes.npy"));

  DoctorInput in = Input(a, testing::CocoSsdV1TrainingSpec(), testing::CocoSsdV1TrainingSpec());
  in.images = images;
  in.stage_tensors = dir;
  in.agreement_score_threshold = 0.3;
  DoctorReport r = RunDoctor(in);
  ASSERT_EQ(r.external.size(), 3u);
  std::map<std::string, std::string> code_of;
  for (const Finding& f : r.findings)
    if (f.field.rfind("$stage_tensors.", 0) == 0) code_of[f.field.substr(15)] = f.code;
  EXPECT_EQ(code_of["resized"], "stage_tensor_matches");
  EXPECT_EQ(code_of["normalized"], "normalization_range");
  EXPECT_EQ(code_of["boxes"], "yx_vs_xy_order");
  EXPECT_FALSE(r.aligned);  // the other pipeline diverges: an error

  // A file whose name says no stage is bad input.
  WriteNpyFile(boxes, dir / (name + ".logits.npy"));
  EXPECT_THROW(RunDoctor(in), Error);
}

// A stage tensor of infinities or NaNs is no match, and the doctor does not call it aligned.
TEST(DoctorEmpirical, NonFiniteStageTensorsAreNeverAligned) {
  Assets a = Find();
  if (a.model.empty()) GTEST_SKIP() << "no shared assets";
  const fs::path scratch = testing::ScratchDir();
  fs::path images = FewImages(a, 1, scratch);
  const std::string name = "000000000009.jpg";
  Spec training = ParseSpec(testing::CocoSsdV1TrainingSpec(), "t");
  Detector train = Detector::Create(a.model, training, {.score_threshold = 0.3});
  DetectTrace trace;
  train.Detect(DecodeImageFile(images / name), &trace);
  TensorData normalized;
  for (const Stage& x : trace.stages)
    if (x.name == "normalized") normalized = x.data;
  ASSERT_FALSE(normalized.bytes.empty());
  fs::path dir = scratch / "tensors";
  fs::create_directories(dir);
  DoctorInput in = Input(a, testing::CocoSsdV1TrainingSpec(), testing::CocoSsdV1TrainingSpec());
  in.images = images;
  in.stage_tensors = dir;
  for (float bad : {std::numeric_limits<float>::infinity(), std::nanf("")}) {
    TensorData other = normalized;
    for (float& v : other.as<float>()) v = bad;
    WriteNpyFile(other, dir / (name + ".normalized.npy"));
    DoctorReport r = RunDoctor(in);
    ASSERT_EQ(r.external.size(), 1u);
    const TensorComparison& c = r.external[0].comparison;
    EXPECT_FALSE(c.equal) << bad;
    EXPECT_EQ(c.stats.non_finite, c.stats.elements) << bad;
    EXPECT_FALSE(r.aligned) << bad;
    bool named = false;
    for (const Finding& f : r.findings)
      named = named || (f.code == "stage_tensor_non_finite" && f.severity == Severity::kError);
    EXPECT_TRUE(named) << bad;
    EXPECT_NE(DoctorSummary(r).find("MISALIGNED"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace lockstep
