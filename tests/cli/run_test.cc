// `lockstep run` as a user runs it: the files it writes, checked with numpy and against the engine
// in this process (the same TFLite runtime, called directly).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "lockstep/core/npy.h"
#include "lockstep/engine/engine.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;
using ::lockstep::testing::ReadBytes;
using ::lockstep::testing::RunCli;
using ::lockstep::testing::ScratchDir;
using ::lockstep::testing::WriteBytes;

std::string Python(const std::string& script, const fs::path& scratch) {
  return testing::RunPythonScript(script, scratch);
}

nlohmann::json ReadJson(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

const char* kSsd = testing::kCocoSsdV1;
const char* kMobilenet = "models/classification/mobilenet_v1_0.25_128_quant.tflite";

TEST(RunCommand, WritesEveryOutputAsNpyWithASidecar) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path scratch = ScratchDir();
  fs::path model = LOCKSTEP_ASSET(kSsd);
  auto r = RunCli({"run", model.string(), "--out", (scratch / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("kernels: builtin kernels (64 ops)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("generated (SplitMix64, seed 0x6c6f636b73746570)"), std::string::npos);

  nlohmann::json side = ReadJson(scratch / "out" / "run.json");
  EXPECT_EQ(side["schema"], "lockstep.run/v1");
  EXPECT_EQ(side["delegate"], "builtin");
  EXPECT_EQ(side["tflite_version"], "2.9.0");
  ASSERT_EQ(side["inputs"].size(), 1u);
  EXPECT_EQ(side["inputs"][0]["dtype"], "uint8");
  EXPECT_EQ(side["inputs"][0]["shape"], (std::vector<int>{1, 300, 300, 3}));
  const auto& outs = side["outputs"];
  ASSERT_EQ(outs.size(), 4u);
  std::vector<std::string> files = {
      "0_TFLite_Detection_PostProcess.npy", "1_TFLite_Detection_PostProcess_1.npy",
      "2_TFLite_Detection_PostProcess_2.npy", "3_TFLite_Detection_PostProcess_3.npy"};
  std::vector<std::vector<int>> shapes = {{1, 10, 4}, {1, 10}, {1, 10}, {1}};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(outs[i]["index"], i);
    EXPECT_EQ(outs[i]["file"], files[i]);
    EXPECT_EQ(outs[i]["dtype"], "float32");
    EXPECT_EQ(outs[i]["shape"], shapes[i]);
    EXPECT_TRUE(outs[i]["quantization"].is_null());
    EXPECT_TRUE(fs::is_regular_file(scratch / "out" / files[i]));
  }
  EXPECT_EQ(outs[1]["name"], "TFLite_Detection_PostProcess:1");

  // numpy reads every file with the sidecar's shape; the count is a whole number in [0, 10].
  std::string out = Python(R"(
import json, os, numpy as np
d = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'out')
side = json.load(open(os.path.join(d, 'run.json')))
for o in side['outputs']:
    a = np.load(os.path.join(d, o['file']))
    assert list(a.shape) == o['shape'], (o['file'], a.shape)
    assert str(a.dtype) == o['dtype'], (o['file'], a.dtype)
count = float(np.load(os.path.join(d, side['outputs'][3]['file']))[0])
assert 0 <= count <= 10 and count == int(count), count
scores = np.load(os.path.join(d, side['outputs'][2]['file']))
assert ((scores >= 0) & (scores <= 1)).all()
print('ok', int(count))
)",
                           scratch);
  EXPECT_EQ(out.substr(0, 3), "ok ") << out;

  // The same bytes as the engine called directly with the same generated input.
  Engine engine = Engine::Load(model);
  engine.SetInput(0, GeneratedInput(engine.input(0), 0));
  engine.Invoke();
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ(ReadNpyFile(scratch / "out" / files[i]), engine.CopyOutput(i)) << files[i];

  // Run again: the same bytes.
  auto again = RunCli({"run", model.string(), "--out", (scratch / "again").string()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  for (const auto& f : files)
    EXPECT_EQ(ReadBytes(scratch / "out" / f), ReadBytes(scratch / "again" / f)) << f;
}

TEST(RunCommand, GivenInputsAsNpyOrRawBytes) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path scratch = ScratchDir();
  fs::path model = LOCKSTEP_ASSET(kMobilenet);
  Python(R"(
import os, numpy as np
d = os.path.dirname(os.path.abspath(__file__))
x = (np.arange(128 * 128 * 3) * 37 % 251).astype(np.uint8).reshape(1, 128, 128, 3)
np.save(os.path.join(d, 'x.npy'), x)
x.tofile(os.path.join(d, 'x.bin'))
)",
         scratch);
  auto a = RunCli({"run", model.string(), "--input", (scratch / "x.npy").string(), "--out",
                   (scratch / "a").string()});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("<- " + (scratch / "x.npy").string()), std::string::npos) << a.out;
  auto b = RunCli({"run", model.string(), "--input", (scratch / "x.bin").string(), "--out",
                   (scratch / "b").string()});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  std::string file = "0_MobilenetV1_Predictions_Reshape_1.npy";
  EXPECT_EQ(ReadBytes(scratch / "a" / file), ReadBytes(scratch / "b" / file));

  nlohmann::json side = ReadJson(scratch / "a" / "run.json");
  EXPECT_EQ(side["inputs"][0]["source"], (scratch / "x.npy").string());
  EXPECT_EQ(side["outputs"][0]["dtype"], "uint8");
  EXPECT_EQ(side["outputs"][0]["quantization"]["scale"], 0.00390625);
  EXPECT_EQ(side["outputs"][0]["quantization"]["zero_point"], 0);

  // The engine, fed the same array, agrees.
  Engine engine = Engine::Load(model);
  engine.SetInput(0, ReadNpyFile(scratch / "x.npy"));
  engine.Invoke();
  EXPECT_EQ(ReadNpyFile(scratch / "a" / file), engine.CopyOutput(0));
}

TEST(RunCommand, XnnpackOnAUint8ModelSaysItFellBack) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path scratch = ScratchDir();
  auto r = RunCli({"run", LOCKSTEP_ASSET(kSsd).string(), "--xnnpack", "--threads", "2", "--out",
                   (scratch / "x").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("note: XNNPACK took none of this model's ops"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 threads"), std::string::npos);
  nlohmann::json side = ReadJson(scratch / "x" / "run.json");
  EXPECT_EQ(side["delegate"], "builtin");
  ASSERT_EQ(side["notes"].size(), 1u);
  EXPECT_EQ(side["threads"], 2);
}

TEST(RunCommand, XnnpackOnAnInt8ModelSaysWhatItTook) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path scratch = ScratchDir();
  auto r = RunCli(
      {"run", LOCKSTEP_ASSET("models/detection/openmv_fomo_face_detection_int8.tflite").string(),
       "--xnnpack", "--out", (scratch / "x").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("kernels: XNNPACK (QS8+QU8) took"), std::string::npos) << r.out;
  nlohmann::json side = ReadJson(scratch / "x" / "run.json");
  EXPECT_EQ(side["delegate"], "xnnpack");
  EXPECT_EQ(side["outputs"][0]["dtype"], "int8");
  EXPECT_EQ(side["outputs"][0]["shape"], (std::vector<int>{1, 12, 12, 2}));
  EXPECT_EQ(side["outputs"][0]["quantization"]["zero_point"], -128);
}

}  // namespace
}  // namespace lockstep
