#include "lockstep/model/edgetpu.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lockstep {
namespace {

// TFLite BuiltinOperator numbers used below.
constexpr int32_t kConv2D = 3, kDequantize = 6, kCustom = 32;

Operator Op(uint32_t code, std::vector<int32_t> in, std::vector<int32_t> out) {
  Operator op;
  op.opcode_index = code;
  op.inputs = std::move(in);
  op.outputs = std::move(out);
  return op;
}

// The shape of the Coral SSD segment_1_of_2: TPU segment, then DEQUANTIZE and the NMS op on CPU.
Model CompiledDetector() {
  Model m;
  m.operator_codes = {{kCustom, "edgetpu-custom-op", 1},
                      {kDequantize, "", 1},
                      {kCustom, "TFLite_Detection_PostProcess", 1}};
  Subgraph sg;
  sg.tensors.resize(10);
  sg.operators = {Op(0, {0, 1}, {2, 3}), Op(1, {3}, {4}), Op(2, {2, 4, 5}, {6, 7, 8, 9})};
  m.subgraphs = {sg};
  return m;
}

TEST(EdgeTpu, CompiledModelListsTheCpuOpsInGraphOrder) {
  EdgeTpuFacts f = ReadEdgeTpuFacts(CompiledDetector());
  EXPECT_TRUE(f.compiled);
  ASSERT_EQ(f.segments.size(), 1u);
  EXPECT_EQ(f.segments[0].operator_index, 0u);
  EXPECT_EQ(f.segments[0].inputs, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(f.segments[0].outputs, (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(f.cpu_ops, (std::vector<std::string>{"DEQUANTIZE", "TFLite_Detection_PostProcess"}));
}

TEST(EdgeTpu, SeveralSegmentsAreEachReported) {
  Model m = CompiledDetector();
  m.subgraphs[0].operators.push_back(Op(0, {9}, {5}));
  EdgeTpuFacts f = ReadEdgeTpuFacts(m);
  ASSERT_EQ(f.segments.size(), 2u);
  EXPECT_EQ(f.segments[1].operator_index, 3u);
  EXPECT_EQ(f.cpu_ops.size(), 2u);
}

TEST(EdgeTpu, UncompiledModelHasNoSegmentsAndNoCpuList) {
  Model m;
  m.operator_codes = {{kConv2D, "", 1}, {kDequantize, "", 1}};
  Subgraph sg;
  sg.tensors.resize(3);
  sg.operators = {Op(0, {0}, {1}), Op(1, {1}, {2})};
  m.subgraphs = {sg};
  EdgeTpuFacts f = ReadEdgeTpuFacts(m);
  EXPECT_FALSE(f.compiled);
  EXPECT_TRUE(f.segments.empty());
  EXPECT_TRUE(f.cpu_ops.empty());
  EXPECT_FALSE(ReadEdgeTpuFacts(Model{}).compiled);
}

TEST(EdgeTpu, CpuTwinPathFollowsTheCompilersNaming) {
  EXPECT_EQ(CpuTwinPath("models/yolov8n_int8_edgetpu.tflite"),
            std::filesystem::path("models/yolov8n_int8.tflite"));
  EXPECT_EQ(CpuTwinPath("x_edgetpu.tflite"), std::filesystem::path("x.tflite"));
  EXPECT_EQ(CpuTwinPath("models/yolov8n_int8.tflite"), std::nullopt);
  EXPECT_EQ(CpuTwinPath("_edgetpu.tflite"), std::nullopt);  // no name left for the twin
  EXPECT_EQ(CpuTwinPath("x_edgetpu_v2.tflite"), std::nullopt);
}

}  // namespace
}  // namespace lockstep
