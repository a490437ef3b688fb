// The per-layer report on the real models: metrics against a numpy oracle of the
// QuantizationDebugger's formulas on tensors saved from the runtime, the MobileNet v1 0.25
// float/quant pair, and `lockstep quant-report` on COCO SSD MobileNet v1.
#include "lockstep/quant/quant_report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lockstep/core/npy.h"
#include "lockstep/engine/engine.h"
#include "lockstep/image/decode.h"
#include "lockstep/model/model_io.h"
#include "lockstep/pipeline/preprocess.h"
#include "lockstep/pipeline/spec_model.h"
#include "lockstep/quant/float_shadow.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

using testing::RunCli;
using testing::RunPythonScript;
using testing::ScratchDir;

const char* kQuant = "models/classification/mobilenet_v1_0.25_224_quant.tflite";
const char* kFloat = "models/classification/mobilenet_v1_0.25_224_1_default_1.tflite";
const char* kSsd = testing::kCocoSsdV1;
const char* kImages[] = {"datasets/coco128/train2017/000000000009.jpg",
                         "datasets/coco128/train2017/000000000025.jpg"};

std::vector<std::vector<TensorData>> Inputs(const Model& model, const std::string& source) {
  const Spec spec = SpecFromModel(model, source);
  const ModelInput input = ModelInputOf(model, source);
  std::vector<std::vector<TensorData>> inputs;
  for (const char* image : kImages)
    inputs.push_back({Preprocess(DecodeImageFile(LOCKSTEP_ASSET(image)), spec, input).tensor});
  return inputs;
}

// "q1_0.npy": which side, which picked layer, which input.
std::string NpyName(char side, size_t layer, size_t input) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%c%zu_%zu.npy", side, layer, input);
  return buf;
}

const QuantLayer& LayerNamed(const QuantReport& r, const std::string& suffix) {
  for (const auto& l : r.layers)
    if (l.name.size() >= suffix.size() &&
        l.name.compare(l.name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return l;
  throw std::runtime_error("no layer " + suffix);
}

TEST(QuantReport, MetricsMatchANumpyOracleOnSavedTensors) {
  LOCKSTEP_REQUIRE_ASSETS();
  const std::string source = LOCKSTEP_ASSET(kQuant).string();
  const Model model = ReadModelFile(source);
  const auto inputs = Inputs(model, source);
  const QuantReport report = MeasureQuantError(model, source, inputs, {"a", "b"});
  ASSERT_EQ(report.layers.size(), 31u);

  // The same two runs, tensors saved as the runtime holds them: raw uint8 and float.
  const FloatShadow shadow = BuildFloatShadow(model, source);
  Engine q = Engine::Load(WriteModel(ExposeAllTensors(model)), "q");
  Engine s = Engine::Load(WriteModel(ExposeAllTensors(shadow.model)), "s");
  const std::vector<std::string> picked = {"Conv2d_0/Relu6", "Conv2d_13_pointwise/Relu6",
                                           "Predictions/Reshape_1"};
  const auto dir = ScratchDir();
  nlohmann::json meta = nlohmann::json::array();
  for (size_t k = 0; k < inputs.size(); ++k) {
    q.SetInput(0, inputs[k][0]);
    TensorData f(DType::kFloat32, inputs[k][0].shape);
    for (size_t i = 0; i < f.element_count(); ++i)
      f.as<float>()[i] = float((int(inputs[k][0].bytes[i]) - 128) * 0.0078125);
    s.SetInput(0, f);
    q.Invoke();
    s.Invoke();
    for (size_t p = 0; p < picked.size(); ++p) {
      const QuantLayer& layer = LayerNamed(report, picked[p]);
      auto copy = [](const TensorView& v) {
        TensorData t(v.dtype, v.shape);
        std::copy(v.bytes.begin(), v.bytes.end(), t.bytes.begin());
        return t;
      };
      for (size_t o = 0; o < q.output_count(); ++o)
        if (q.output(o).index == layer.tensor)
          WriteNpyFile(copy(q.output(o)), dir / NpyName('q', p, k));
      for (size_t o = 0; o < s.output_count(); ++o)
        if (s.output(o).index == layer.tensor)
          WriteNpyFile(copy(s.output(o)), dir / NpyName('s', p, k));
      if (k == 0) meta.push_back({{"scale", layer.scale}, {"zero_point", layer.zero_point}});
    }
  }
  std::ofstream(dir / "meta.json") << meta.dump();
  std::string script = "d = '";
  script += dir.string();
  script += "'\n";
  script += R"(
import json, os, numpy as np
meta = json.load(open(os.path.join(d, 'meta.json')))
result = []
for p, m in enumerate(meta):
    per = {'stddev': [], 'mean_error': [], 'max_abs_error': [], 'mean_squared_error': []}
    ref_sq = err_sq = 0.0
    for k in range(2):
        q = np.load(os.path.join(d, 'q%d_%d.npy' % (p, k))).astype(np.float64)
        ref = np.load(os.path.join(d, 's%d_%d.npy' % (p, k))).astype(np.float64)
        diffs = (q - m['zero_point']) * np.float32(m['scale']) - ref
        per['stddev'].append(np.std(diffs))
        per['mean_error'].append(np.average(diffs))
        per['max_abs_error'].append(np.max(np.abs(diffs)))
        per['mean_squared_error'].append(np.average(diffs ** 2))
        ref_sq += np.sum(ref ** 2); err_sq += np.sum(diffs ** 2)
    r = {k: float(np.nanmean(v)) for k, v in per.items()}
    r['snr_db'] = float(10 * np.log10(ref_sq / err_sq))
    result.append(r)
print(json.dumps(result))
)";
  const std::string out = RunPythonScript(script, dir);
  const auto oracle = nlohmann::json::parse(out.substr(out.find('[')));
  for (size_t p = 0; p < picked.size(); ++p) {
    const LayerError& e = LayerNamed(report, picked[p]).error;
    const auto& o = oracle[p];
    SCOPED_TRACE(picked[p]);
    EXPECT_EQ(e.samples, 2u);
    // The library dequantizes to float32 as TFLite does; numpy stays in float64.
    auto near = [](double a, double b) { EXPECT_NEAR(a, b, 1e-5 * std::fabs(b) + 1e-9); };
    near(e.stddev, o["stddev"].get<double>());
    near(e.mean_error, o["mean_error"].get<double>());
    near(e.max_abs_error, o["max_abs_error"].get<double>());
    near(e.mean_squared_error, o["mean_squared_error"].get<double>());
    EXPECT_NEAR(e.snr_db, o["snr_db"].get<double>(), 1e-4);
    EXPECT_GT(e.snr_db, 15);  // a real, not a degenerate, difference
    EXPECT_GT(e.mean_squared_error, 0);
  }
}

// The float and quant files of this pair are different checkpoints (the quant one fine-tuned with
// fake quantization): their first conv weights differ at 10.9 dB SNR, far beyond one step. So
// the real float model is far from both quantized model and shadow, by the same amount, while the
// shadow tracks the quantized model much more closely: the shadow measures quantization alone.
TEST(QuantReport, MobileNetPairShadowVersusRealFloat) {
  LOCKSTEP_REQUIRE_ASSETS();
  const std::string source = LOCKSTEP_ASSET(kQuant).string();
  const Model model = ReadModelFile(source);
  QuantReportOptions options;
  options.float_model = LOCKSTEP_ASSET(kFloat);
  const QuantReport r =
      MeasureQuantError(model, source, Inputs(model, source), {"a", "b"}, options);
  EXPECT_EQ(r.float_paired, 31u);  // every layer: the tensor names agree
  // The 27 convolutions named Relu6 (range [0, 6], activation NONE) and the average pool.
  EXPECT_EQ(r.restored_activations.size(), 28u);
  for (const auto& l : r.layers) {
    SCOPED_TRACE(l.name);
    ASSERT_TRUE(l.vs_float && l.shadow_vs_float);
    EXPECT_NEAR(l.shadow_vs_float->snr_db, l.vs_float->snr_db, 1.0);
    EXPECT_GT(l.error.snr_db, l.vs_float->snr_db + 5);
    EXPECT_LT(l.vs_float->snr_db, 17);
  }
  // Softmax outputs: quantized vs shadow within about 3 output steps of 1/256 at worst.
  const QuantLayer& out = LayerNamed(r, "Predictions/Reshape_1");
  EXPECT_LT(out.error.worst_abs_error, 3.5 / 256);
  EXPECT_GT(out.shadow_vs_float->worst_abs_error, 0.03);
}

TEST(QuantReport, FirstSsdLayerIsOffByHalfAStep) {
  LOCKSTEP_REQUIRE_ASSETS();
  const std::string source = LOCKSTEP_ASSET(kSsd).string();
  const Model model = ReadModelFile(source);
  const QuantReport r = MeasureQuantError(model, source, Inputs(model, source), {"a", "b"});
  ASSERT_EQ(r.layers.size(), 63u);  // 64 ops; the post-processing op's outputs are left out
  const QuantLayer& first = r.layers[0];
  EXPECT_EQ(first.op, "CONV_2D");
  // Exact input, dequantized weights: the first layer's only error is rounding its output (the
  // integer kernel's fixed-point multiplier adds a little).
  EXPECT_LE(first.error.worst_abs_error, 0.55 * first.scale);
  EXPECT_GT(first.error.worst_abs_error, 0.45 * first.scale);
  EXPECT_TRUE(first.jump);  // from exact (+inf dB) to finite
  EXPECT_EQ(first.inherited_snr_db, INFINITY);
}

TEST(QuantReportCli, CocoSsdTwoImages) {
  LOCKSTEP_REQUIRE_ASSETS();
  const auto dir = ScratchDir();
  std::ofstream(dir / "spec.json") << R"({"schema": "lockstep.pipeline/v1", "name": "training",
    "geometry": {"mode": "stretch"}, "resize": {"dialect": "tf_legacy", "interpolation": "bilinear"},
    "normalize": {"mean": 127.5, "std": 127.5}})";
  auto r =
      RunCli({"quant-report", LOCKSTEP_ASSET(kSsd).string(), "--spec", (dir / "spec.json").string(),
              "--images", LOCKSTEP_ASSET("datasets/coco128/train2017").string(), "--max-images",
              "2", "--json", (dir / "r.json").string(), "--html", (dir / "r.html").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LE(std::count(r.out.begin(), r.out.end(), '\n'), 40);
  EXPECT_NE(r.out.find("63 layers over 2 inputs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("convert_scores"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("[2/2]"), std::string::npos) << r.err;
  const auto j = nlohmann::json::parse(testing::ReadBytes(dir / "r.json"));
  ASSERT_EQ(j["layers"].size(), 63u);
  EXPECT_EQ(j["inputs"].size(), 2u);
  size_t jumps = 0;
  for (const auto& l : j["layers"]) jumps += l["jump"].get<bool>();
  std::stringstream html;
  html << std::ifstream(dir / "r.html").rdbuf();
  const std::string h = html.str();
  EXPECT_NE(h.find("<svg"), std::string::npos);
  EXPECT_NE(h.find("class=\"snr-shadow\""), std::string::npos);
  size_t circles = 0;
  for (size_t at = h.find("class=\"jump\" cx"); at != std::string::npos;
       at = h.find("class=\"jump\" cx", at + 1))
    ++circles;
  EXPECT_EQ(circles, jumps);
  EXPECT_GT(jumps, 0u);

  auto bad =
      RunCli({"quant-report", LOCKSTEP_ASSET(kSsd).string(), "--images", (dir / "none").string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("none"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace lockstep
