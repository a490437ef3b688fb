// Shapley shares and the fix list on hand-computed games: the values are known in closed form,
// so the exact computation must hit them and the sampled one must cover them.
#include "doctor/attribution.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <numeric>
#include <set>

namespace lockstep::doctor {
namespace {

using testing::HasSubstr;

// The glove game: unit 0 holds a left glove, units 1 and 2 right ones; a pair is worth 1.
// Shapley values (2/3, 1/6, 1/6).
double Glove(uint32_t mask) { return (mask & 1u) && (mask & 6u) ? 1.0 : 0.0; }

TEST(Shapley, ExactGloveGame) {
  const std::vector<double> v = ExactShapley(3, Glove);
  EXPECT_NEAR(v[0], 2.0 / 3, 1e-12);
  EXPECT_NEAR(v[1], 1.0 / 6, 1e-12);
  EXPECT_NEAR(v[2], 1.0 / 6, 1e-12);
}

TEST(Shapley, SampledAdditiveGameIsExactWithNoInterval) {
  const std::vector<double> w = {0.3, -0.1, 0.05, 0.2, 0.0, 0.15};
  auto additive = [&](uint32_t mask) {
    double s = 0;
    for (size_t i = 0; i < w.size(); ++i)
      if (mask & (1u << i)) s += w[i];
    return s;
  };
  const ShapleyEstimate e = SampleShapley(w.size(), 6, 7, additive);
  EXPECT_EQ(e.orders, 6u);
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_NEAR(e.value[i], w[i], 1e-12) << i;
    EXPECT_NEAR(e.half_width[i], 0, 1e-12) << i;
  }
}

// All five units needed at once: the one switched last gets everything, so each has 1/5.
double AllFive(uint32_t mask) { return mask == 31u ? 1.0 : 0.0; }

TEST(Shapley, SampledUnanimityGameAddsUpAndCoversTheTruth) {
  std::set<uint32_t> asked;
  auto counted = [&](uint32_t mask) {
    asked.insert(mask);
    return AllFive(mask);
  };
  const ShapleyEstimate e = SampleShapley(5, 40, 11, counted);
  // Every order gives the whole gap away: the estimates add up to it exactly.
  EXPECT_NEAR(std::accumulate(e.value.begin(), e.value.end(), 0.0), 1.0, 1e-12);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_GT(e.half_width[i], 0) << i;
    EXPECT_LE(std::abs(e.value[i] - 0.2), e.half_width[i] * 1.5) << i;
  }
  EXPECT_LE(asked.size(), 32u);  // each subset is asked for once by a caching caller
}

TEST(Shapley, SampledIsDeterministicForASeedAndFewOrdersAskFewSubsets) {
  std::set<uint32_t> asked;
  auto counted = [&](uint32_t mask) {
    asked.insert(mask);
    return Glove(mask & 7u) + 0.5 * std::popcount(mask >> 3);
  };
  const ShapleyEstimate a = SampleShapley(8, 2, 5, counted);
  EXPECT_LE(asked.size(), 2u * 8 + 1);  // one order and its reverse: at most 2n+1 subsets
  const ShapleyEstimate b = SampleShapley(8, 2, 5, counted);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.orders, 2u);
}

DoctorReport WithGap(double training_ap, double deployed_ap) {
  DoctorReport r;
  r.training_eval.emplace();
  r.deployed_eval.emplace();
  r.training_eval->stats[0] = training_ap;
  r.deployed_eval->stats[0] = deployed_ap;
  return r;
}

AttributionEntry Entry(const std::string& unit, double recovered, std::optional<double> fair) {
  AttributionEntry e;
  e.difference.unit = unit;
  e.ap_recovered = recovered;
  e.shapley_share = fair;
  return e;
}

UnitCost Cost(const std::string& unit, double agreement_share,
              std::optional<double> ap_drop = std::nullopt) {
  UnitCost c;
  c.difference.unit = unit;
  c.agreement_share = agreement_share;
  c.ap_drop = ap_drop;
  return c;
}

TEST(FixList, LeadsWithTheLargestFairShareInApPoints) {
  DoctorReport r = WithGap(0.211, 0.111);  // a gap of 10 points
  r.attribution = {Entry("geometry", 0.015, 0.30), Entry("input.channel_order", 0.030, 0.48),
                   Entry("normalize", 0.004, 0.22)};
  const std::vector<FixStep> fixes = RankFixes(r);
  ASSERT_EQ(fixes.size(), 3u);
  EXPECT_EQ(fixes[0].unit, "input.channel_order");
  EXPECT_NEAR(*fixes[0].gain, 0.048, 1e-9);
  EXPECT_EQ(fixes[0].text, "+4.8 AP (fair share 48% of the gap)");
  EXPECT_EQ(fixes[1].unit, "geometry");
  EXPECT_EQ(fixes[2].unit, "normalize");
}

TEST(FixList, SampledSharesCarryTheirInterval) {
  DoctorReport r = WithGap(0.30, 0.10);
  r.shapley_orders = 8;
  AttributionEntry e = Entry("resize", 0.05, 0.5);
  e.shapley_half_width = 0.12;
  r.attribution = {e};
  const std::vector<FixStep> fixes = RankFixes(r);
  ASSERT_EQ(fixes.size(), 1u);
  EXPECT_EQ(fixes[0].basis, "sampled fair share");
  EXPECT_EQ(fixes[0].text, "+10.0 AP (sampled fair share 50% of the gap ±12%)");
}

TEST(FixList, ReverseAblationRanksWhenNothingAloneRecovers) {
  // The deployed AP is near 0 and each unit fixed alone recovers nothing: break each unit alone
  // in the training pipeline instead.
  DoctorReport r = WithGap(0.25, 0.0);
  r.attribution = {Entry("normalize", 0.0, std::nullopt), Entry("geometry", 0.0, std::nullopt)};
  r.unit_costs = {Cost("normalize", 1.0, 0.08), Cost("geometry", 1.0, 0.20)};
  const std::vector<FixStep> fixes = RankFixes(r);
  ASSERT_EQ(fixes.size(), 2u);
  EXPECT_EQ(fixes[0].unit, "geometry");
  EXPECT_EQ(fixes[0].basis, "reverse ablation");
  EXPECT_THAT(fixes[0].text, HasSubstr("-20.0 AP"));
}

TEST(FixList, WithoutAnnotationsDetectionsLostRank) {
  DoctorReport r;
  r.unit_costs = {Cost("resize", 0.9), Cost("input.channel_order", 0.4)};
  const std::vector<FixStep> fixes = RankFixes(r);
  ASSERT_EQ(fixes.size(), 2u);
  EXPECT_EQ(fixes[0].unit, "input.channel_order");
  EXPECT_EQ(fixes[0].text, "alone it loses 60% of the training pipeline's detections");
}

}  // namespace
}  // namespace lockstep::doctor
