// The float shadow on hand-built quantized models: its constants and outputs against values
// computed by hand, and against the quantized model run by the real TFLite runtime.
#include "lockstep/quant/float_shadow.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "lockstep/core/error.h"
#include "lockstep/engine/engine.h"
#include "lockstep/model/model_builder.h"
#include "lockstep/model/model_io.h"

namespace lockstep {
namespace {

Quantization PerChannel(std::vector<float> scales, int32_t axis) {
  Quantization q;
  q.scale = std::move(scales);
  q.zero_point.assign(q.scale.size(), 0);
  q.quantized_dimension = axis;
  return q;
}

std::vector<float> Floats(const std::vector<uint8_t>& bytes) {
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

// int8 1x1 CONV_2D, per-channel weights: input [1,1,1,2] (scale 0.5, zp -1), two filters.
Model OneConv() {
  ModelBuilder b;
  int32_t in = b.AddTensor("input", DType::kInt8, {1, 1, 1, 2}, PerTensor(0.5f, -1));
  // Filter 0: q {10, 20} * 0.1 = {1, 2}; filter 1: q {-5, 15} * 0.2 = {-1, 3}.
  std::vector<int8_t> w = {10, 20, -5, 15};
  int32_t weights = b.AddTensor("weights", DType::kInt8, {2, 1, 1, 2}, PerChannel({0.1f, 0.2f}, 0),
                                b.AddBuffer(ToBytes(w)));
  // Bias scales are input scale x weight scale: 0.05 and 0.1; q {4, -10} = {0.2, -1.0}.
  std::vector<int32_t> bias = {4, -10};
  int32_t bias_t = b.AddTensor("bias", DType::kInt32, {2}, PerChannel({0.05f, 0.1f}, 0),
                               b.AddBuffer(ToBytes(bias)));
  int32_t out = b.AddTensor("conv", DType::kInt8, {1, 1, 1, 2}, PerTensor(0.1f, 0));
  b.AddBuiltinOp("CONV_2D", {in, weights, bias_t}, {out},
                 {"Conv2DOptions",
                  {{"padding", int64_t{1}}, {"stride_w", int64_t{1}}, {"stride_h", int64_t{1}}}},
                 3);
  b.SetInputs({in});
  b.SetOutputs({out});
  return b.Build();
}

TEST(FloatShadow, OneConvGivesTheHandComputedFloatResult) {
  const Model quantized = OneConv();
  FloatShadow shadow = BuildFloatShadow(quantized, "one_conv");
  const Subgraph& g = shadow.model.subgraphs[0];
  ASSERT_EQ(g.tensors.size(), 4u);
  for (const Tensor& t : g.tensors) {
    EXPECT_EQ(t.dtype, DType::kFloat32) << t.name;
    EXPECT_FALSE(t.quantization) << t.name;
  }
  EXPECT_EQ(Floats(shadow.model.buffers[g.tensors[1].buffer]),
            (std::vector<float>{1.0f, 2.0f, -1.0f, 3.0f}));
  auto bias = Floats(shadow.model.buffers[g.tensors[2].buffer]);
  EXPECT_FLOAT_EQ(bias[0], 0.2f);
  EXPECT_FLOAT_EQ(bias[1], -1.0f);
  EXPECT_EQ(shadow.model.operator_codes[0].version, 1);

  // Input q {3, -5} → real {2, -2}. Filter 0: 2·1 − 2·2 + 0.2 = −1.8; filter 1: −2 − 6 − 1 = −9.
  Engine e = Engine::Load(WriteModel(shadow.model), "one_conv shadow");
  TensorData x(DType::kFloat32, {1, 1, 1, 2});
  x.as<float>()[0] = 2;
  x.as<float>()[1] = -2;
  e.SetInput(0, x);
  e.Invoke();
  auto y = e.output(0).as<float>();
  EXPECT_NEAR(y[0], -1.8f, 1e-6);
  EXPECT_NEAR(y[1], -9.0f, 1e-6);

  // The quantized model on the real runtime lands on the same values (−18 and −90 steps of 0.1).
  Engine q = Engine::Load(WriteModel(quantized), "one_conv");
  TensorData xq(DType::kInt8, {1, 1, 1, 2});
  xq.as<int8_t>()[0] = 3;
  xq.as<int8_t>()[1] = -5;
  q.SetInput(0, xq);
  q.Invoke();
  EXPECT_EQ(q.output(0).as<int8_t>()[0], -18);
  EXPECT_EQ(q.output(0).as<int8_t>()[1], -90);
}

// float → QUANTIZE (uint8) → ADD constant → LOGISTIC → DEQUANTIZE → float.
Model QuantizeAddLogistic() {
  ModelBuilder b;
  int32_t in = b.AddTensor("input", DType::kFloat32, {1, 8});
  int32_t q = b.AddTensor("input_q", DType::kUInt8, {1, 8}, PerTensor(1.0f / 64, 128));
  std::vector<uint8_t> c = {0, 40, 90, 128, 129, 170, 200, 255};
  int32_t k = b.AddTensor("k", DType::kUInt8, {1, 8}, PerTensor(0.01f, 100), b.AddBuffer(c));
  int32_t sum = b.AddTensor("sum", DType::kUInt8, {1, 8}, PerTensor(0.02f, 120));
  int32_t sig = b.AddTensor("sigmoid", DType::kUInt8, {1, 8}, PerTensor(1.0f / 256, 0));
  int32_t out = b.AddTensor("output", DType::kFloat32, {1, 8});
  b.AddBuiltinOp("QUANTIZE", {in}, {q});
  b.AddBuiltinOp("ADD", {q, k}, {sum}, {"AddOptions", {}});
  b.AddBuiltinOp("LOGISTIC", {sum}, {sig});
  b.AddBuiltinOp("DEQUANTIZE", {sig}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  return b.Build();
}

TEST(FloatShadow, DropsQuantizeAndDequantizeAndAgreesWithinOneStep) {
  const Model quantized = QuantizeAddLogistic();
  FloatShadow shadow = BuildFloatShadow(quantized, "qal");
  EXPECT_EQ(shadow.dropped_ops, 2u);
  const Subgraph& g = shadow.model.subgraphs[0];
  ASSERT_EQ(g.operators.size(), 2u);
  EXPECT_EQ(OperatorName(shadow.model, g.operators[0]), "ADD");
  EXPECT_EQ(g.operators[0].inputs[0], 0);         // the QUANTIZE's input feeds ADD directly
  EXPECT_EQ(g.outputs, std::vector<int32_t>{4});  // the DEQUANTIZE's input is the output
  EXPECT_EQ(shadow.alias[1], 0);
  EXPECT_EQ(shadow.alias[5], 4);

  Engine qe = Engine::Load(WriteModel(quantized), "qal");
  Engine se = Engine::Load(WriteModel(shadow.model), "qal shadow");
  for (size_t trial = 0; trial < 4; ++trial) {
    TensorData x = GeneratedInput(qe.input(0), trial);  // uniform in [-1, 1)
    qe.SetInput(0, x);
    se.SetInput(0, x);
    qe.Invoke();
    se.Invoke();
    auto a = qe.output(0).as<float>(), b = se.output(0).as<float>();
    for (size_t i = 0; i < a.size(); ++i) {
      // Input and sum each round once (half a step each: 1/128 and 0.01, through a sigmoid of
      // slope <= 1/4), then the output rounds (1/512): under 0.0065, 1.7 output steps.
      EXPECT_NEAR(a[i], b[i], 0.25 * (1.0 / 128 + 0.01) + 1.0 / 512) << "element " << i;
      // And the shadow is really the float computation: sigmoid(x + k).
      const float k = 0.01f * (std::vector<int>{0, 40, 90, 128, 129, 170, 200, 255}[i] - 100);
      EXPECT_NEAR(b[i], 1 / (1 + std::exp(-(x.as<float>()[i] + k))), 1e-6);
    }
  }
}

TEST(FloatShadow, UnsupportedOpIsAnErrorNamingIt) {
  ModelBuilder b;
  int32_t ids = b.AddTensor("ids", DType::kInt32, {2});
  int32_t table = b.AddTensor("table", DType::kUInt8, {4, 2}, PerTensor(0.1f, 0),
                              b.AddBuffer(std::vector<uint8_t>(8, 1)));
  int32_t out = b.AddTensor("out", DType::kUInt8, {2, 2}, PerTensor(0.1f, 0));
  b.AddBuiltinOp("EMBEDDING_LOOKUP", {ids, table}, {out});
  b.SetInputs({ids});
  b.SetOutputs({out});
  try {
    BuildFloatShadow(b.Build(), "lookup.tflite");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("lookup.tflite"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("operator 0 (EMBEDDING_LOOKUP)"), std::string::npos)
        << e.what();
  }
}

TEST(FloatShadow, DequantizesPerChannelAlongTheQuantizedDimension) {
  // Depthwise weights [1,1,2,3]: channel axis 3, scales 1, 2, 4; zero points 0, 1, -1.
  Quantization q = PerChannel({1, 2, 4}, 3);
  q.zero_point = {0, 1, -1};
  std::vector<int8_t> w = {1, 2, 3, -1, -2, -3};
  auto bytes = ToBytes(w);
  EXPECT_EQ(Dequantize(bytes, DType::kInt8, {1, 1, 2, 3}, q, "w"),
            (std::vector<float>{1, 2, 16, -1, -6, -8}));
  EXPECT_THROW(Dequantize(bytes, DType::kInt8, {1, 1, 3, 2}, q, "w"), Error);
  EXPECT_THROW(Dequantize(bytes, DType::kFloat32, {1, 1, 2, 3}, q, "w"), Error);
  EXPECT_THROW(Dequantize(bytes, DType::kInt8, {1, 1, 2, 4}, q, "w"), Error);  // too few bytes
}

TEST(FloatShadow, ExposeAllTensorsListsEveryOpOutputOnce) {
  Model m = ExposeAllTensors(QuantizeAddLogistic());
  EXPECT_EQ(m.subgraphs[0].outputs, (std::vector<int32_t>{5, 1, 3, 4}));
  Model skipped = ExposeAllTensors(QuantizeAddLogistic(), {1});
  EXPECT_EQ(skipped.subgraphs[0].outputs, (std::vector<int32_t>{5, 1, 4}));
}

}  // namespace
}  // namespace lockstep
