// The op's four outputs read back and turned into detections, on hand-computed values.
#include "lockstep/detect/postprocess_outputs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "lockstep/core/error.h"
#include "lockstep/model/model_builder.h"

namespace lockstep {
namespace {

TensorView FloatView(const std::string& name, std::vector<int> shape, std::vector<uint8_t>& bytes) {
  return TensorView{0, name, DType::kFloat32, std::move(shape), std::nullopt, bytes};
}

PostprocessOutputs Three() {
  PostprocessOutputs o;
  o.boxes = {0.1f,  0.2f, 0.5f, 0.6f,  // ymin xmin ymax xmax
             -0.1f, 0.0f, 1.2f, 0.9f,  // not clipped
             0.3f,  0.3f, 0.4f, 0.4f};
  o.classes = {2.0f, 0.0f, 7.0f};
  o.scores = {0.9f, 0.4f, 0.8f};
  o.count = 3;
  return o;
}

TEST(PostprocessOutputs, DetectionsSwapToXYOrderAndKeepScoresAtThreshold) {
  const std::vector<Detection> d = ToDetections(Three(), 0.4f);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].class_index, 2);
  EXPECT_FLOAT_EQ(d[0].score, 0.9f);
  EXPECT_DOUBLE_EQ(d[0].box.xmin, double(0.2f));
  EXPECT_DOUBLE_EQ(d[0].box.ymin, double(0.1f));
  EXPECT_DOUBLE_EQ(d[0].box.xmax, double(0.6f));
  EXPECT_DOUBLE_EQ(d[0].box.ymax, double(0.5f));
  EXPECT_DOUBLE_EQ(d[1].box.ymin, double(-0.1f));  // kept as the op gave it
  EXPECT_DOUBLE_EQ(d[1].box.ymax, double(1.2f));
  EXPECT_EQ(ToDetections(Three(), 0.41f).size(), 2u);  // 0.4 < 0.41 dropped
  EXPECT_EQ(ToDetections(Three(), 0.41f)[1].class_index, 7);
}

TEST(PostprocessOutputs, CountIsClampedToTheArrays) {
  PostprocessOutputs o = Three();
  o.count = 2;
  EXPECT_EQ(ToDetections(o, 0).size(), 2u);
  o.count = 40;  // a misread output: never past M
  EXPECT_EQ(ToDetections(o, 0).size(), 3u);
  o.count = -1;
  EXPECT_EQ(ToDetections(o, 0).size(), 0u);
  o.count = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(ToDetections(o, 0).size(), 0u);
  o.count = 1.5f;  // the op writes whole numbers; a fraction counts down
  EXPECT_EQ(ToDetections(o, 0).size(), 1u);
}

TEST(PostprocessOutputs, ReadsFloatAndQuantizedTensors) {
  const PostprocessOutputs want = Three();
  std::vector<uint8_t> boxes = ToBytes(want.boxes), classes = ToBytes(want.classes),
                       scores = ToBytes(want.scores);
  std::vector<uint8_t> count = {8};  // (8 - 2) · 0.5 = 3
  const TensorView count_view{3, "count", DType::kUInt8, {1}, PerTensor(0.5f, 2), count};
  const PostprocessOutputs got = ReadPostprocessOutputs(
      FloatView("boxes", {1, 3, 4}, boxes), FloatView("classes", {1, 3}, classes),
      FloatView("scores", {1, 3}, scores), count_view, "m.tflite");
  EXPECT_EQ(got, want);
}

TEST(PostprocessOutputs, ShapeMismatchNamesTheTensor) {
  std::vector<uint8_t> boxes(2 * 4 * 4), classes(3 * 4), scores(3 * 4), count(4);
  try {
    ReadPostprocessOutputs(FloatView("bx", {1, 2, 4}, boxes), FloatView("cl", {1, 3}, classes),
                           FloatView("sc", {1, 3}, scores), FloatView("n", {1}, count), "m.tflite");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), "m.tflite");
    EXPECT_EQ(e.field(), "boxes output 'bx'");
    EXPECT_EQ(e.expected(), "shape [1,3,4]");
    EXPECT_EQ(e.found(), "[1,2,4]");
  }
  std::vector<uint8_t> wide(8);
  EXPECT_THROW(ReadPostprocessOutputs(
                   FloatView("bx", {1, 3, 4}, boxes), FloatView("cl", {1, 3}, classes),
                   FloatView("sc", {1, 3}, scores), FloatView("n", {2}, wide), "m.tflite"),
               Error);
  std::vector<uint8_t> i32(12);
  const TensorView int_classes{1, "cl", DType::kInt32, {1, 3}, std::nullopt, i32};
  EXPECT_THROW(ReadPostprocessOutputs(FloatView("bx", {1, 3, 4}, boxes), int_classes,
                                      FloatView("sc", {1, 3}, scores), FloatView("n", {1}, count),
                                      "m.tflite"),
               Error);
}

}  // namespace
}  // namespace lockstep
