// Models made with ModelBuilder, written with WriteModel and run in real TensorFlow Lite; every
// expected output is computed by hand from the op's definition.
#include "lockstep/model/model_builder.h"

#include <flatbuffers/flexbuffers.h>
#include <gtest/gtest.h>

#include <cmath>

#include "lockstep/core/error.h"
#include "lockstep/model/model_io.h"
#include "model/tflite_run.h"

namespace lockstep {
namespace {

using testing::As;
using testing::RunTflite;

BuiltinOptions Fused(std::string type) {
  return {std::move(type), {{"fused_activation_function", int64_t{0}}}};
}

TEST(ModelBuilder, FloatAddRunsInTflite) {
  ModelBuilder b;
  int x = b.AddTensor("x", DType::kFloat32, {1, 4});
  int y = b.AddTensor("y", DType::kFloat32, {1, 4});
  int z = b.AddTensor("z", DType::kFloat32, {1, 4});
  b.AddBuiltinOp("ADD", {x, y}, {z}, Fused("AddOptions"));
  b.SetInputs({x, y});
  b.SetOutputs({z});
  Model m = b.Build();
  std::vector<uint8_t> bytes = WriteModel(m);
  EXPECT_TRUE(ReadModel(bytes, "add") == m);

  auto run = RunTflite(bytes, {ToBytes(std::vector<float>{1, 2, 3, 4}),
                               ToBytes(std::vector<float>{0.5f, -1, 10, 0.25f})});
  ASSERT_TRUE(run.loaded);
  EXPECT_EQ(As<float>(run.outputs.at(0)), (std::vector<float>{1.5f, 1, 13, 4.25f}));
}

// uint8 ADD: a has scale 0.5 zp 10, b scale 0.25 zp 0, the sum scale 0.5 zp 5. Values are
// chosen so every real sum is a whole number of output steps (no rounding question).
TEST(ModelBuilder, QuantizedUint8AddRunsInTflite) {
  ModelBuilder b;
  int x = b.AddTensor("a", DType::kUInt8, {1, 4}, PerTensor(0.5f, 10));
  int y = b.AddTensor("b", DType::kUInt8, {1, 4}, PerTensor(0.25f, 0));
  int z = b.AddTensor("sum", DType::kUInt8, {1, 4}, PerTensor(0.5f, 5));
  b.AddBuiltinOp("ADD", {x, y}, {z}, Fused("AddOptions"));
  b.SetInputs({x, y});
  b.SetOutputs({z});
  std::vector<uint8_t> a = {20, 30, 250, 10};  // reals 5, 10, 120, 0
  std::vector<uint8_t> c = {4, 40, 40, 0};     // reals 1, 10, 10, 0
  // sums 6, 20, 130, 0 → q = sum / 0.5 + 5 = 17, 45, 265 (clamped to 255), 5
  auto run = RunTflite(WriteModel(b.Build()), {a, c});
  ASSERT_TRUE(run.loaded);
  EXPECT_EQ(run.outputs.at(0), (std::vector<uint8_t>{17, 45, 255, 5}));
}

// A 1x1 float CONV_2D: out[p][o] = bias[o] + sum_c in[p][c] * w[o][c].
TEST(ModelBuilder, Conv2D1x1RunsInTflite) {
  ModelBuilder b;
  std::vector<float> w = {1,  2, 3,  // output channel 0
                          -1, 0, 0.5f};
  std::vector<float> bias = {0.5f, -2};
  int in = b.AddTensor("in", DType::kFloat32, {1, 2, 2, 3});
  int wt = b.AddTensor("w", DType::kFloat32, {2, 1, 1, 3}, std::nullopt, b.AddBuffer(ToBytes(w)));
  int bt = b.AddTensor("bias", DType::kFloat32, {2}, std::nullopt, b.AddBuffer(ToBytes(bias)));
  int out = b.AddTensor("out", DType::kFloat32, {1, 2, 2, 2});
  b.AddBuiltinOp("CONV_2D", {in, wt, bt}, {out},
                 {"Conv2DOptions",
                  {{"padding", int64_t{1}},  // VALID
                   {"stride_w", int64_t{1}},
                   {"stride_h", int64_t{1}},
                   {"fused_activation_function", int64_t{0}}}});
  b.SetInputs({in});
  b.SetOutputs({out});
  std::vector<float> x = {1, 0, 0, 0, 1, 0, 0, 0, 1, 2, -1, 4};
  // pixel 0 (1,0,0): 1+0.5, -1-2 · pixel 1 (0,1,0): 2.5, -2 · pixel 2 (0,0,1): 3.5, -1.5
  // pixel 3 (2,-1,4): 2-2+12+0.5 = 12.5, -2+0+2-2 = -2
  auto run = RunTflite(WriteModel(b.Build()), {ToBytes(x)});
  ASSERT_TRUE(run.loaded);
  EXPECT_EQ(As<float>(run.outputs.at(0)),
            (std::vector<float>{1.5f, -3, 2.5f, -2, 3.5f, -1.5f, 12.5f, -2}));
}

// TFLite_Detection_PostProcess (a custom op in TFLite 2.9's builtin resolver) on three anchors,
// decoded by hand: yc = y/10·ha + ya, xc = x/10·wa + xa, h = exp(th/5)·ha, w = exp(tw/5)·wa.
TEST(ModelBuilder, DetectionPostProcessRunsInTflite) {
  ModelBuilder b;
  std::vector<float> anchors = {0.25f, 0.25f, 0.5f, 0.5f,  // (y, x, h, w)
                                0.7f,  0.7f,  0.3f, 0.3f, 0.25f, 0.75f, 0.2f, 0.2f};
  int enc = b.AddTensor("box_encodings", DType::kFloat32, {1, 3, 4});
  int cls = b.AddTensor("class_predictions", DType::kFloat32, {1, 3, 3});
  int anc =
      b.AddTensor("anchors", DType::kFloat32, {3, 4}, std::nullopt, b.AddBuffer(ToBytes(anchors)));
  int boxes = b.AddTensor("boxes", DType::kFloat32, {1, 3, 4});
  int classes = b.AddTensor("classes", DType::kFloat32, {1, 3});
  int scores = b.AddTensor("scores", DType::kFloat32, {1, 3});
  int count = b.AddTensor("count", DType::kFloat32, {1});
  std::vector<uint8_t> options = FlexbufferMap({{"max_detections", int64_t{3}},
                                                {"max_classes_per_detection", int64_t{1}},
                                                {"detections_per_class", int64_t{100}},
                                                {"use_regular_nms", false},
                                                {"nms_score_threshold", 0.3},
                                                {"nms_iou_threshold", 0.5},
                                                {"num_classes", int64_t{2}},
                                                {"y_scale", 10.0},
                                                {"x_scale", 10.0},
                                                {"h_scale", 5.0},
                                                {"w_scale", 5.0}});
  b.AddCustomOp("TFLite_Detection_PostProcess", {enc, cls, anc}, {boxes, classes, scores, count},
                options);
  b.SetInputs({enc, cls});
  b.SetOutputs({boxes, classes, scores, count});
  Model m = b.Build();
  std::vector<uint8_t> bytes = WriteModel(m);
  Model back = ReadModel(bytes, "postprocess");
  ASSERT_TRUE(back == m);
  auto map = flexbuffers::GetRoot(back.subgraphs[0].operators[0].custom_options).AsMap();
  EXPECT_EQ(map["num_classes"].AsInt32(), 2);
  EXPECT_FLOAT_EQ(map["nms_score_threshold"].AsFloat(), 0.3f);

  const float kLn2x5 = 5 * std::log(2.0f);
  std::vector<float> encodings = {0, 0,  0,      0,   // anchor 0 unchanged: [0, 0, 0.5, 0.5]
                                  2, -2, 0,      0,   // yc 0.76, xc 0.64: [0.61, 0.49, 0.91, 0.79]
                                  0, 0,  kLn2x5, 0};  // h doubles to 0.4: [0.05, 0.65, 0.45, 0.85]
  std::vector<float> logits = {0, 0.9f, 0.1f,         // background column first, then 2 classes
                               0, 0.2f, 0.7f, 0, 0.1f, 0.2f};  // best 0.2 < threshold 0.3: dropped
  auto run = RunTflite(bytes, {ToBytes(encodings), ToBytes(logits)});
  ASSERT_TRUE(run.loaded);
  ASSERT_EQ(run.outputs.size(), 4u);
  std::vector<float> got_count = As<float>(run.outputs[3]);
  ASSERT_EQ(got_count, std::vector<float>{2});
  std::vector<float> got_boxes = As<float>(run.outputs[0]);
  std::vector<float> want_boxes = {0, 0, 0.5f, 0.5f, 0.61f, 0.49f, 0.91f, 0.79f};
  for (size_t i = 0; i < want_boxes.size(); ++i)
    EXPECT_NEAR(got_boxes.at(i), want_boxes[i], 1e-6) << i;
  std::vector<float> got_classes = As<float>(run.outputs[1]);
  EXPECT_EQ(got_classes.at(0), 0);
  EXPECT_EQ(got_classes.at(1), 1);
  std::vector<float> got_scores = As<float>(run.outputs[2]);
  EXPECT_FLOAT_EQ(got_scores.at(0), 0.9f);
  EXPECT_FLOAT_EQ(got_scores.at(1), 0.7f);

  // The third anchor's box, had it scored: checks the h/w decode through exp().
  std::vector<float> logits2 = {0, 0.9f, 0.1f, 0, 0.2f, 0.7f, 0, 0.1f, 0.8f};
  auto run2 = RunTflite(bytes, {ToBytes(encodings), ToBytes(logits2)});
  ASSERT_TRUE(run2.loaded);
  ASSERT_EQ(As<float>(run2.outputs[3]), std::vector<float>{3});
  std::vector<float> boxes2 = As<float>(run2.outputs[0]);
  std::vector<float> scores2 = As<float>(run2.outputs[2]);
  EXPECT_FLOAT_EQ(scores2.at(1), 0.8f);  // sorted by score: 0.9, 0.8, 0.7
  std::vector<float> want2 = {0.05f, 0.65f, 0.45f, 0.85f};
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(boxes2.at(4 + i), want2[i], 1e-6) << i;
}

TEST(ModelBuilder, MetadataAndAssociatedFilesRoundTrip) {
  ModelBuilder b;
  int x = b.AddTensor("x", DType::kFloat32, {1});
  int y = b.AddTensor("y", DType::kFloat32, {1});
  b.AddBuiltinOp("RELU", {x}, {y});
  b.SetInputs({x});
  b.SetOutputs({y});
  b.SetDescription("made by hand");
  uint32_t buf = b.AddMetadata("min_runtime_version", {'1', '.', '5', 0});
  b.AddAssociatedFile("labels.txt", {'c', 'a', 't', '\n'});
  Model m = b.Build();
  EXPECT_EQ(m.buffers.size(), 2u);
  EXPECT_EQ(buf, 1u);
  Model back = ReadModel(WriteModel(m), "relu");
  EXPECT_TRUE(back == m);
  ASSERT_NE(back.metadata_buffer("min_runtime_version"), nullptr);
  EXPECT_EQ(back.metadata_buffer("min_runtime_version")->size(), 4u);
  EXPECT_EQ(back.description, "made by hand");
  auto run = RunTflite(WriteModel(m), {ToBytes(std::vector<float>{-3})});
  ASSERT_TRUE(run.loaded);
  EXPECT_EQ(As<float>(run.outputs.at(0)), std::vector<float>{0});
}

TEST(ModelBuilder, SharesOperatorCodes) {
  ModelBuilder b;
  int x = b.AddTensor("x", DType::kFloat32, {1});
  b.AddBuiltinOp("RELU", {x}, {x});
  b.AddBuiltinOp("RELU", {x}, {x});
  b.AddBuiltinOp("RELU", {x}, {x}, {}, 2);
  b.AddCustomOp("Mine", {x}, {x});
  Model m = b.Build();
  ASSERT_EQ(m.operator_codes.size(), 3u);
  EXPECT_EQ(m.subgraphs[0].operators[1].opcode_index, 0u);
  EXPECT_EQ(OperatorName(m, m.subgraphs[0].operators[3]), "Mine");
}

TEST(ModelBuilder, UnknownOpNameIsAnError) {
  ModelBuilder b;
  try {
    b.AddBuiltinOp("CONV2D", {}, {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"CONV2D\""), std::string::npos) << e.what();
  }
  EXPECT_THROW(FlexbufferMap({{"a", int64_t{1}}, {"a", false}}), Error);
}

}  // namespace
}  // namespace lockstep
