// NaN and infinity in compared tensors: an infinity equals only the same infinity, NaN nothing;
// either one disagreeing is counted, shown as max_abs_diff inf, and never "equal".
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "lockstep/doctor/tensor_compare.h"

namespace lockstep {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

TensorData Floats(const std::vector<float>& values) {
  TensorData t(DType::kFloat32, {int(values.size())});
  for (size_t i = 0; i < values.size(); ++i) t.as<float>()[i] = values[i];
  return t;
}

TensorComparison Compare(const std::vector<float>& reference, const std::vector<float>& other) {
  return CompareTensors(Floats(reference), Floats(other), StageKind::kRawOutput);
}

TEST(CompareNonFinite, InfinityAgainstAFiniteValueDiffers) {
  TensorComparison c = Compare({0.5f, -1, 2, 3}, {kInf, -kInf, kInf, 3});
  EXPECT_FALSE(c.equal);
  EXPECT_EQ(c.stats.differing, 3u);
  EXPECT_EQ(c.stats.non_finite, 3u);
  EXPECT_TRUE(std::isinf(c.stats.max_abs_diff));
  EXPECT_TRUE(std::isfinite(c.stats.mean_diff));
}

TEST(CompareNonFinite, TheSameInfinityIsEqualTheOtherIsNot) {
  EXPECT_TRUE(Compare({kInf, -kInf, 1}, {kInf, -kInf, 1}).equal);
  TensorComparison c = Compare({kInf, 1}, {-kInf, 1});
  EXPECT_FALSE(c.equal);
  EXPECT_EQ(c.stats.non_finite, 1u);
}

TEST(CompareNonFinite, NaNNeverEqualsAndIsReported) {
  for (auto [reference, other] : {std::pair{kNaN, kNaN}, {kNaN, 1.0f}, {1.0f, kNaN}}) {
    TensorComparison c = Compare({reference, 2}, {other, 2});
    EXPECT_FALSE(c.equal);
    EXPECT_EQ(c.stats.differing, 1u);
    EXPECT_EQ(c.stats.non_finite, 1u);
    EXPECT_GT(c.stats.max_abs_diff, 0) << "a NaN must not read as no difference";
  }
}

TEST(CompareNonFinite, FiniteTensorsHaveNoNonFiniteCount) {
  TensorComparison c = Compare({1, 2, 3}, {1, 2, 4});
  EXPECT_EQ(c.stats.differing, 1u);
  EXPECT_EQ(c.stats.non_finite, 0u);
  EXPECT_DOUBLE_EQ(c.stats.max_abs_diff, 1.0);
}

}  // namespace
}  // namespace lockstep
