// The doctor with no external file: the synthetic squares detector (built by the model writer,
// weights set by construction for stretch + [-1,1]) on its generated annotated images, with each
// classic mistake planted. Runs wherever the suite runs, assets or not.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "lockstep/doctor/doctor.h"
#include "lockstep/model/model_io.h"
#include "lockstep/synthetic/squares_dataset.h"
#include "lockstep/synthetic/squares_detector.h"
#include "lockstep/synthetic/squares_spec.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;

struct Squares {
  fs::path model, images, annotations;
};

Squares Make(int images) {
  fs::path dir = testing::ScratchDir();
  Squares s{dir / "squares.tflite", dir / "images", dir / "annotations.json"};
  WriteModelFile(BuildSquaresDetector(), s.model);
  SquaresOptions options;
  options.images = images;
  WriteSquares(GenerateSquares(options), s.images, s.annotations);
  return s;
}

DoctorInput Input(const Squares& s, const Spec& deployed) {
  DoctorInput in;
  in.model = s.model;
  in.training = SquaresTrainingSpec();
  in.deployed = deployed;
  in.images = s.images;
  in.annotations = s.annotations;
  in.what_ifs = false;
  return in;
}

std::set<std::string> Named(const DoctorReport& r) {
  std::set<std::string> out;
  for (const Finding& f : r.findings)
    if (f.severity != Severity::kInfo) out.insert(f.code);
  return out;
}

TEST(DoctorSynthetic, TheTrainingPipelineAgainstItselfIsAligned) {
  Squares s = Make(8);
  DoctorInput in = Input(s, SquaresTrainingSpec());
  in.what_ifs = true;
  DoctorReport r = RunDoctor(in);
  EXPECT_TRUE(r.aligned);
  EXPECT_TRUE(Named(r).empty());
  EXPECT_TRUE(r.first_divergence.empty());
  ASSERT_TRUE(r.training_eval && r.deployed_eval);
  EXPECT_GT(r.training_eval->stats[0], 0.5);  // the detector really works
  EXPECT_EQ(r.training_eval->stats, r.deployed_eval->stats);
  // Its input has zero point 128: ignoring it costs AP.
  bool zero_point = false;
  for (const WhatIf& w : r.what_ifs)
    if (w.code == "zero_point_ignored") {
      zero_point = true;
      ASSERT_TRUE(w.ap_cost);
      EXPECT_GT(*w.ap_cost, 0.05);
    }
  EXPECT_TRUE(zero_point);
}

TEST(DoctorSynthetic, EachClassicMistakeIsNamedAndCostsAp) {
  Squares s = Make(8);
  const std::map<std::string, std::string> code = {{"normalize_0_1", "normalization_range"},
                                                   {"letterbox", "geometry_mode"},
                                                   {"zero_point_ignored", "zero_point_ignored"}};
  const std::map<std::string, std::string> also = {
      {"normalize_0_1", "normalization_vs_quantization"},
      {"zero_point_ignored", "input_zero_point_mismatch"}};
  const std::map<std::string, std::string> first = {{"normalize_0_1", "normalized"},
                                                    {"letterbox", "geometry"},
                                                    {"zero_point_ignored", "quantized"}};
  for (const PlantedMistake& m : ClassicMistakes(SquaresTrainingSpec())) {
    SCOPED_TRACE(m.name);
    ASSERT_TRUE(code.count(m.name));
    DoctorReport r = RunDoctor(Input(s, m.spec));
    EXPECT_FALSE(r.aligned);
    EXPECT_TRUE(Named(r).count(code.at(m.name)));
    // Nothing else above info but what CheckSpec says of the same field against the model.
    std::set<std::string> expected = {code.at(m.name)};
    if (also.count(m.name)) expected.insert(also.at(m.name));
    EXPECT_EQ(Named(r), expected);
    EXPECT_EQ(r.first_divergence, first.at(m.name));
    ASSERT_TRUE(r.training_eval && r.deployed_eval);
    EXPECT_LT(r.deployed_eval->stats[0], r.training_eval->stats[0] - 0.02);
    // One difference: it explains the whole gap.
    ASSERT_EQ(r.attribution.size(), 1u);
    EXPECT_DOUBLE_EQ(r.attribution[0].share, 1.0);
  }
}

TEST(DoctorSynthetic, AllThreeTogetherAreAttributedOneByOne) {
  Squares s = Make(8);
  DoctorReport r = RunDoctor(Input(s, WithAllMistakes(SquaresTrainingSpec())));
  EXPECT_FALSE(r.aligned);
  for (const char* c : {"normalization_range", "geometry_mode", "zero_point_ignored"})
    EXPECT_TRUE(Named(r).count(c)) << c;
  ASSERT_EQ(r.attribution.size(), 3u);
  const double gap = r.training_eval->stats[0] - r.deployed_eval->stats[0];
  EXPECT_GT(gap, 0.05);
  double fair = 0;
  for (const AttributionEntry& e : r.attribution) {
    EXPECT_GE(e.ap_switched, 0.0);
    EXPECT_LE(e.ap_switched, 1.0);
    ASSERT_TRUE(e.shapley_share);
    fair += *e.shapley_share;
  }
  EXPECT_NEAR(fair, 1.0, 1e-9);  // Shapley shares add up to the whole gap
}

// With two units the Shapley share has a closed form in the numbers the report already holds:
// a's share = (what a recovers alone + what is left after b alone) / 2 / gap.
TEST(DoctorSynthetic, TwoMistakesShapleyFromTheAloneFigures) {
  Squares s = Make(8);
  Spec deployed = SquaresTrainingSpec();
  deployed.geometry.mode = GeometryMode::kLetterbox;
  deployed.normalize.mean = {0, 0, 0};
  deployed.normalize.std = {255, 255, 255};
  DoctorReport r = RunDoctor(Input(s, deployed));
  ASSERT_EQ(r.attribution.size(), 2u);
  const double gap = r.training_eval->stats[0] - r.deployed_eval->stats[0];
  ASSERT_GT(gap, 0.05);
  const AttributionEntry &a = r.attribution[0], &b = r.attribution[1];
  ASSERT_TRUE(a.shapley_share && b.shapley_share);
  EXPECT_NEAR(*a.shapley_share, (a.ap_recovered + gap - b.ap_recovered) / 2 / gap, 1e-9);
  EXPECT_NEAR(*b.shapley_share, (b.ap_recovered + gap - a.ap_recovered) / 2 / gap, 1e-9);
}

}  // namespace
}  // namespace lockstep
