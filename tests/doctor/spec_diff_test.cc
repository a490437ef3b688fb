// DiffSpecs groups differing leaves into the units a person changes together; WithTrainingUnits
// switches units back. Oracles: hand-written specs whose differences are known.
#include "lockstep/doctor/spec_diff.h"

#include <gtest/gtest.h>

#include "lockstep/core/error.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

Spec Parse(const nlohmann::json& j) { return ParseSpec(j, "test"); }

std::vector<std::string> Units(const std::vector<SpecDifference>& d) {
  std::vector<std::string> out;
  for (const auto& x : d) out.push_back(x.unit);
  return out;
}

TEST(SpecDiff, IdenticalSpecsDifferOnlyByNameGiveNothing) {
  nlohmann::json b = testing::CocoSsdV1TrainingSpec();
  b["name"] = "another label";
  EXPECT_TRUE(DiffSpecs(Parse(testing::CocoSsdV1TrainingSpec()), Parse(b)).empty());
}

TEST(SpecDiff, NormalizationIsOneUnitWithSixLeaves) {
  nlohmann::json b = testing::CocoSsdV1TrainingSpec();
  b["normalize"] = {{"mean", {0, 0, 0}}, {"std", {255, 255, 255}}};
  auto d = DiffSpecs(Parse(testing::CocoSsdV1TrainingSpec()), Parse(b));
  ASSERT_EQ(Units(d), std::vector<std::string>{"normalize"});
  ASSERT_EQ(d[0].fields.size(), 6u);
  EXPECT_EQ(d[0].fields[0].field, "$.normalize.mean[0]");
  EXPECT_EQ(d[0].fields[0].training, "127.5");
  EXPECT_EQ(d[0].fields[0].deployed, "0.0");
  EXPECT_EQ(d[0].fields[3].field, "$.normalize.std[0]");
}

TEST(SpecDiff, ThreeMistakesGiveThreeUnitsInDataFlowOrder) {
  nlohmann::json b = testing::CocoSsdV1TrainingSpec();
  b["normalize"] = {{"mean", {0, 0, 0}}, {"std", {255, 255, 255}}};
  b["input"] = {{"channel_order", "bgr"}};
  b["geometry"] = {{"mode", "letterbox"}, {"pad_value", {0, 0, 0}}};
  auto d = DiffSpecs(Parse(testing::CocoSsdV1TrainingSpec()), Parse(b));
  EXPECT_EQ(Units(d), (std::vector<std::string>{"input.channel_order", "geometry", "normalize"}));
  // The letterbox's own keys have no training counterpart: absent on the training side.
  bool placement = false;
  for (const auto& f : d[1].fields)
    if (f.field == "$.geometry.placement") {
      placement = true;
      EXPECT_NE(f.training.find("absent"), std::string::npos);
    }
  EXPECT_TRUE(placement);
}

TEST(SpecDiff, QuantizationFieldsFormOneUnitAndRoundingAnother) {
  nlohmann::json b = testing::CocoSsdV1TrainingSpec();
  b["tensor"] = {
      {"dtype", "int8"}, {"scale", 0.0078125}, {"zero_point", 0}, {"rounding", "truncate"}};
  auto d = DiffSpecs(Parse(testing::CocoSsdV1TrainingSpec()), Parse(b));
  EXPECT_EQ(Units(d), (std::vector<std::string>{"tensor.quantization", "tensor.rounding"}));
  EXPECT_EQ(d[0].fields.size(), 3u);
}

TEST(SpecDiff, OutputKeysAreUnitsOfTheirOwn) {
  nlohmann::json b = testing::CocoSsdV1TrainingSpec();
  b["output"]["clamp_boxes"] = false;
  b["output"]["score_threshold"] = 0.5;
  auto d = DiffSpecs(Parse(testing::CocoSsdV1TrainingSpec()), Parse(b));
  EXPECT_EQ(Units(d), (std::vector<std::string>{"output.score_threshold", "output.clamp_boxes"}));
}

TEST(SpecDiff, SwitchingEveryUnitBackGivesTheTrainingPipeline) {
  nlohmann::json b = testing::CocoSsdV1TrainingSpec();
  b["name"] = "deployed";
  b["normalize"] = {{"mean", {0, 0, 0}}, {"std", {255, 255, 255}}};
  b["input"] = {{"channel_order", "bgr"}, {"exif_orientation", false}};
  b["geometry"] = {{"mode", "letterbox"}, {"placement", "top_left"}};
  b["resize"] = {{"dialect", "pillow"}, {"interpolation", "bicubic"}};
  b["tensor"] = {{"scale", 0.0078125}, {"zero_point", 0}, {"rounding", "truncate"}};
  b["output"]["clamp_boxes"] = false;
  Spec training = Parse(testing::CocoSsdV1TrainingSpec()), deployed = Parse(b);
  auto d = DiffSpecs(training, deployed);
  ASSERT_EQ(d.size(), 8u);
  Spec back = WithTrainingUnits(deployed, training, Units(d));
  EXPECT_TRUE(DiffSpecs(training, back).empty());
  // One unit at a time leaves the others as deployed.
  Spec one = WithTrainingUnits(deployed, training, {"geometry"});
  EXPECT_EQ(one.geometry.mode, GeometryMode::kStretch);
  EXPECT_EQ(one.input.channel_order, ChannelOrder::kBgr);
  EXPECT_EQ(one.normalize.std[0], 255);
  EXPECT_EQ(DiffSpecs(training, one).size(), 7u);
  Spec quant = WithTrainingUnits(deployed, training, {"tensor.quantization"});
  EXPECT_FALSE(quant.tensor.zero_point.has_value());  // absent in training: the model's
  EXPECT_EQ(quant.tensor.rounding, Rounding::kTruncate);
}

TEST(SpecDiff, AUnitMovesWhole) {
  // The resize unit carries its dialect-specific keys along (antialias exists only for tf).
  nlohmann::json a = testing::CocoSsdV1TrainingSpec();
  a["resize"] = {{"dialect", "tf"}, {"interpolation", "bilinear"}, {"antialias", true}};
  nlohmann::json b = testing::CocoSsdV1TrainingSpec();
  b["resize"] = {{"dialect", "pillow"}, {"interpolation", "bicubic"}};
  Spec back = WithTrainingUnits(Parse(b), Parse(a), {"resize"});
  EXPECT_EQ(back.resize.dialect, ResizeDialect::kTf);
  EXPECT_TRUE(back.resize.antialias);
}

}  // namespace
}  // namespace lockstep
