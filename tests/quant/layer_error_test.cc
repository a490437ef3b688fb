// The QuantizationDebugger metrics and the SNR on hand-computed cases.
#include "lockstep/quant/layer_error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

TEST(LayerError, PerInputMetricsAveragedAndSnrPooled) {
  LayerErrorAccumulator acc;
  // Input 1: d = {1, -1, 1, 3}: mean 1, mean d² 3, std sqrt(3 − 1), max |d| 3; Σref² = 4.
  const std::vector<float> ref1 = {1, 1, 1, 1}, q1 = {2, 0, 2, 4};
  // Input 2: d = {0, 0, 0, -2}: mean −0.5, mean d² 1, std sqrt(1 − 0.25), max |d| 2; Σref² = 16.
  const std::vector<float> ref2 = {2, 2, 2, 2}, q2 = {2, 2, 2, 0};
  acc.Add(q1, ref1);
  acc.Add(q2, ref2);
  const LayerError e = acc.Result();
  EXPECT_EQ(e.samples, 2u);
  EXPECT_EQ(e.elements, 4u);
  EXPECT_DOUBLE_EQ(e.mean_error, 0.25);
  EXPECT_DOUBLE_EQ(e.mean_squared_error, 2);
  EXPECT_DOUBLE_EQ(e.rmse, std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(e.stddev, (std::sqrt(2.0) + std::sqrt(0.75)) / 2);
  EXPECT_DOUBLE_EQ(e.max_abs_error, 2.5);
  EXPECT_DOUBLE_EQ(e.worst_abs_error, 3);
  // Σref² = 20, Σd² = 12 + 4 = 16.
  EXPECT_DOUBLE_EQ(e.snr_db, 10 * std::log10(20.0 / 16.0));
}

TEST(LayerError, ExactAndDegenerateCases) {
  LayerErrorAccumulator exact;
  exact.Add(std::vector<float>{1, 2}, std::vector<float>{1, 2});
  EXPECT_EQ(exact.Result().snr_db, INFINITY);
  EXPECT_EQ(exact.Result().rmse, 0);

  LayerErrorAccumulator zero_reference;
  zero_reference.Add(std::vector<float>{0.5f}, std::vector<float>{0});
  EXPECT_EQ(zero_reference.Result().snr_db, -INFINITY);

  EXPECT_EQ(LayerErrorAccumulator().Result().samples, 0u);

  LayerErrorAccumulator mismatched;
  EXPECT_THROW(mismatched.Add(std::vector<float>{1}, std::vector<float>{1, 2}, "t"), Error);
  mismatched.Add(std::vector<float>{1}, std::vector<float>{1}, "t");
  EXPECT_THROW(mismatched.Add(std::vector<float>{1, 2}, std::vector<float>{1, 2}, "t"), Error);
}

}  // namespace
}  // namespace lockstep
