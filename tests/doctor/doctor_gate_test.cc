// The verdict set by measured cost, on the real COCO SSD MobileNet v1 and COCO128 images: a
// resize difference that loses detections is an error whatever its static class; a difference
// that costs nothing says so; stage tensors need no deployed spec, are folded per stage and
// priced by running the model on the other pipeline's input.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "lockstep/core/error.h"
#include "lockstep/core/npy.h"
#include "lockstep/doctor/doctor.h"
#include "lockstep/image/decode.h"
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
  return {base / testing::kCocoSsdV1, base / "datasets/coco128/train2017"};
}

fs::path FewImages(const Assets& a, size_t n, const fs::path& scratch) {
  fs::path dir = scratch / "images";
  fs::create_directories(dir);
  std::vector<fs::path> all;
  for (const auto& e : fs::directory_iterator(a.images)) all.push_back(e.path());
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < n && i < all.size(); ++i)
    fs::create_symlink(all[i], dir / all[i].filename());
  return dir;
}

const Finding* FindingAt(const DoctorReport& r, const std::string& field) {
  for (const Finding& f : r.findings)
    if (f.field.rfind(field, 0) == 0) return &f;
  return nullptr;
}

TEST(DoctorGate, NearestResizeThatLosesDetectionsIsAnError) {
  Assets a = Find();
  if (a.model.empty()) GTEST_SKIP() << "no shared assets";
  json deployed = testing::CocoSsdV1TrainingSpec();
  deployed["resize"] = {{"dialect", "opencv"}, {"interpolation", "nearest"}};
  DoctorInput in;
  in.model = a.model;
  in.training = ParseSpec(testing::CocoSsdV1TrainingSpec(), "training");
  in.deployed = ParseSpec(deployed, "deployed");
  in.images = FewImages(a, 8, testing::ScratchDir());
  in.what_ifs = false;
  DoctorReport r = RunDoctor(in);
  ASSERT_TRUE(r.gate && r.gate->measured);
  EXPECT_EQ(r.gate->images, 8u);
  EXPECT_LT(r.gate->agreement_share, 0.95);
  EXPECT_TRUE(r.gate->costly);
  EXPECT_FALSE(r.aligned);
  const Finding* f = FindingAt(r, "$.resize");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kError);
  EXPECT_NE(f->consequence.find("measured: detections agree"), std::string::npos)
      << f->consequence;
  // The summary never contradicts itself: a measured misalignment, stages that differ.
  const std::string summary = DoctorSummary(r);
  EXPECT_NE(summary.find("MISALIGNED (measured)"), std::string::npos) << summary;
  EXPECT_NE(summary.find("resized ≠"), std::string::npos) << summary;
}

TEST(DoctorGate, GateThresholdsComeFromTheOptions) {
  Assets a = Find();
  if (a.model.empty()) GTEST_SKIP() << "no shared assets";
  json deployed = testing::CocoSsdV1TrainingSpec();
  deployed["resize"] = {{"dialect", "opencv"}, {"interpolation", "nearest"}};
  DoctorInput in;
  in.model = a.model;
  in.training = ParseSpec(testing::CocoSsdV1TrainingSpec(), "training");
  in.deployed = ParseSpec(deployed, "deployed");
  in.images = FewImages(a, 8, testing::ScratchDir());
  in.what_ifs = false;
  in.gate.min_agreement = 0.10;  // a lenient gate passes what the default one stops
  DoctorReport r = RunDoctor(in);
  ASSERT_TRUE(r.gate && r.gate->measured);
  EXPECT_FALSE(r.gate->costly);
  EXPECT_TRUE(r.aligned);
  const Finding* f = FindingAt(r, "$.resize");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kWarning);
  EXPECT_NE(f->consequence.find("costs nothing that passes the gate"), std::string::npos);
  const json j = DoctorJson(r);
  EXPECT_EQ(j["gate"]["basis"], "measured");
  EXPECT_DOUBLE_EQ(j["gate"]["min_agreement"].get<double>(), 0.10);
  EXPECT_EQ(j["verdict"], "ALIGNED (measured)");
}

TEST(DoctorGate, WithoutImagesTheVerdictSaysItIsStatic) {
  Assets a = Find();
  if (a.model.empty()) GTEST_SKIP() << "no shared assets";
  json deployed = testing::CocoSsdV1TrainingSpec();
  deployed["normalize"] = {{"mean", {0, 0, 0}}, {"std", {255, 255, 255}}};
  DoctorInput in;
  in.model = a.model;
  in.training = ParseSpec(testing::CocoSsdV1TrainingSpec(), "training");
  in.deployed = ParseSpec(deployed, "deployed");
  DoctorReport r = RunDoctor(in);
  EXPECT_FALSE(r.gate.has_value());
  EXPECT_FALSE(r.aligned);
  EXPECT_NE(DoctorSummary(r).find("MISALIGNED (static)"), std::string::npos);
  EXPECT_EQ(DoctorJson(r)["gate"]["basis"], "static");
}

// The other pipeline's tensors of several images, two stages: resized equal, quantized with
// the zero point ignored. No deployed spec.
TEST(DoctorGate, StageTensorsAloneAreFoldedPerStageAndPriced) {
  Assets a = Find();
  if (a.model.empty()) GTEST_SKIP() << "no shared assets";
  const fs::path scratch = testing::ScratchDir();
  const fs::path images = FewImages(a, 4, scratch);
  const Spec training = ParseSpec(testing::CocoSsdV1TrainingSpec(), "t");
  Detector train = Detector::Create(a.model, training);
  const fs::path dir = scratch / "tensors";
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(images)) {
    DetectTrace trace;
    train.Detect(DecodeImageFile(e.path()), &trace);
    const std::string name = e.path().filename().string();
    for (const Stage& s : trace.stages)
      if (s.name == "resized") WriteNpyFile(s.data, dir / (name + ".resized.npy"));
    TensorData q = trace.input;  // uint8, zero point 128 → the other side used 0: q - 128
    for (uint8_t& v : q.bytes) v = uint8_t(std::max(0, int(v) - 128));
    WriteNpyFile(q, dir / (name + ".quantized.npy"));
  }
  DoctorInput in;
  in.model = a.model;
  in.training = training;
  in.images = images;
  in.stage_tensors = dir;
  in.max_images = 3;
  DoctorReport r = RunDoctor(in);
  ASSERT_EQ(r.external_stages.size(), 2u);
  EXPECT_EQ(r.external_stages[0].stage, "resized");
  EXPECT_TRUE(r.external_stages[0].equal());
  EXPECT_EQ(r.external_stages[0].images, 3u);
  EXPECT_EQ(r.external_stages[1].stage, "quantized");
  EXPECT_EQ(r.external_stages[1].images_differing, 3u);
  EXPECT_EQ(r.external_first_divergence, "quantized");
  const Finding* f = FindingAt(r, "$stage_tensors.quantized");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->code, "zero_point_offset");
  EXPECT_EQ(f->found.rfind("3/3 images ", 0), 0u) << f->found;
  ASSERT_TRUE(r.gate && r.gate->measured);
  EXPECT_EQ(r.gate->images, 3u);
  EXPECT_TRUE(r.gate->costly) << r.gate->reason;  // a dark input loses detections
  EXPECT_FALSE(r.aligned);
  // One finding per stage, not per file.
  size_t stage_findings = 0;
  for (const Finding& x : r.findings) stage_findings += x.field.rfind("$stage_tensors.", 0) == 0;
  EXPECT_EQ(stage_findings, 2u);  // resized, quantized
}

// The model input as the training pipeline makes it, fed back: nothing differs, nothing costs.
TEST(DoctorGate, TheTrainingPipelinesOwnTensorsCostNothing) {
  Assets a = Find();
  if (a.model.empty()) GTEST_SKIP() << "no shared assets";
  const fs::path scratch = testing::ScratchDir();
  const fs::path images = FewImages(a, 2, scratch);
  const Spec training = ParseSpec(testing::CocoSsdV1TrainingSpec(), "t");
  Detector train = Detector::Create(a.model, training);
  const fs::path dir = scratch / "tensors";
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(images)) {
    DetectTrace trace;
    train.Detect(DecodeImageFile(e.path()), &trace);
    WriteNpyFile(trace.input, dir / (e.path().filename().string() + ".quantized.npy"));
  }
  DoctorInput in;
  in.model = a.model;
  in.training = training;
  in.images = images;
  in.stage_tensors = dir;
  DoctorReport r = RunDoctor(in);
  ASSERT_TRUE(r.gate && r.gate->measured);
  EXPECT_DOUBLE_EQ(r.gate->agreement_share, 1.0);
  EXPECT_TRUE(r.aligned);
  EXPECT_EQ(FindingAt(r, "$stage_tensors.quantized")->code, "stage_tensor_matches");
}

TEST(DoctorGate, NeitherDeployedSpecNorStageTensorsIsAnError) {
  DoctorInput in;
  in.model = "model.tflite";
  EXPECT_THROW(RunDoctor(in), Error);
}

}  // namespace
}  // namespace lockstep
