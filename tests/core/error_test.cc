#include "lockstep/core/error.h"

#include <gtest/gtest.h>

#include "lockstep/core/dtype.h"

namespace lockstep {
namespace {

TEST(Error, NamesFileFieldExpectedAndFound) {
  Error e("model.tflite", "subgraphs[0].tensors[3].type", "a TensorType in 0..16", "42");
  EXPECT_STREQ(
      e.what(),
      "model.tflite: subgraphs[0].tensors[3].type: expected a TensorType in 0..16, found 42");
  EXPECT_EQ(e.field(), "subgraphs[0].tensors[3].type");
}

TEST(Error, LeavesOutEmptyPartsAndAddsTheHint) {
  Error e("x.png", "", "", "a truncated PNG stream", "re-export the image");
  EXPECT_STREQ(e.what(), "x.png: found a truncated PNG stream; re-export the image");
}

TEST(DType, NamesRoundTripAndSizes) {
  for (int i = 0; i <= 16; ++i) {
    auto t = static_cast<DType>(i);
    EXPECT_EQ(DTypeFromName(DTypeName(t)), t) << i;
  }
  EXPECT_EQ(DTypeName(DType::kInt8), "int8");
  EXPECT_EQ(DTypeSize(DType::kFloat32), 4u);
  EXPECT_EQ(DTypeSize(DType::kUInt8), 1u);
  EXPECT_FALSE(DTypeFromName("uint9").has_value());
  EXPECT_FALSE(IsKnownDType(17));
}

}  // namespace
}  // namespace lockstep
