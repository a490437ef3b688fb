// `lockstep spec` and `lockstep preprocess` as a user runs them.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "lockstep/core/npy.h"
#include "support/test_support.h"

namespace lockstep {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using testing::RunCli;
using testing::ScratchDir;

const char* kSsd = testing::kCocoSsdV1;
const char* kImage = "datasets/coco128/train2017/000000000009.jpg";

void WriteText(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

TEST(SpecCommand, FromModelMarksFactsAndAssumptions) {
  LOCKSTEP_REQUIRE_ASSETS();
  auto r = RunCli({"spec", "from-model", LOCKSTEP_ASSET(kSsd).string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json spec = json::parse(r.out);
  EXPECT_EQ(spec["schema"], "lockstep.pipeline/v1");
  EXPECT_EQ(spec["tensor"]["width"], 300);
  EXPECT_EQ(spec["tensor"]["dtype"], "uint8");
  EXPECT_EQ(spec["normalize"]["mean"][0], 127.5);
  EXPECT_NE(r.err.find("fact        $.normalize: NormalizationOptions in the model's metadata"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("ASSUMPTION  $.geometry"), std::string::npos);

  // No metadata, input scale 1/255 zero point 0: [0,1], an assumption.
  r = RunCli(
      {"spec", "from-model",
       LOCKSTEP_ASSET("models/detection/frc_ssd_mobilenet_v2_fpnlite_320_detect_quant.tflite")
           .string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  spec = json::parse(r.out);
  EXPECT_EQ(spec["normalize"]["mean"][0], 0);
  EXPECT_EQ(spec["normalize"]["std"][0], 255);
  EXPECT_NE(r.err.find("ASSUMPTION  $.normalize: no NormalizationOptions in the metadata; the "
                       "input quantization covers [0, 1], i.e. [0,1]"),
            std::string::npos)
      << r.err;
}

TEST(SpecCommand, CheckFindsWhatDisagreesWithTheModel) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path dir = ScratchDir();
  WriteText(dir / "wrong.json", R"({"schema": "lockstep.pipeline/v1",
    "normalize": {"mean": 0, "std": 255}, "tensor": {"width": 320, "height": 320}})");
  auto r = RunCli(
      {"spec", "check", (dir / "wrong.json").string(), LOCKSTEP_ASSET(kSsd).string(), "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  json out = json::parse(r.out);
  std::vector<std::string> codes;
  for (auto& f : out["findings"]) codes.push_back(f["code"]);
  EXPECT_EQ(codes, (std::vector<std::string>{"input_size_mismatch", "normalization_vs_metadata"}));

  WriteText(dir / "right.json", R"({"schema": "lockstep.pipeline/v1",
    "normalize": {"mean": 127.5, "std": 127.5}})");
  r = RunCli({"spec", "check", (dir / "right.json").string(), LOCKSTEP_ASSET(kSsd).string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  WriteText(dir / "bad.json", R"({"schema": "lockstep.pipeline/v1", "geometry": {"mode": 3}})");
  r = RunCli({"spec", "check", (dir / "bad.json").string(), LOCKSTEP_ASSET(kSsd).string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.json: 1 problem in the pipeline spec\n  $.geometry.mode: expected one "
                       "of stretch, letterbox, center_crop, pad_only, found 3"),
            std::string::npos)
      << r.err;
}

TEST(PreprocessCommand, WritesTheTensorAndEveryStage) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path dir = ScratchDir();
  WriteText(dir / "spec.json", R"({"schema": "lockstep.pipeline/v1",
    "geometry": {"mode": "letterbox", "pad_value": 114},
    "normalize": {"mean": 127.5, "std": 127.5}})");
  auto r = RunCli({"preprocess", "--model", LOCKSTEP_ASSET(kSsd).string(), "--spec",
                   (dir / "spec.json").string(), LOCKSTEP_ASSET(kImage).string(), "--out",
                   (dir / "x.npy").string(), "--trace", (dir / "trace").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 640x480 letterboxed into 300x300: 300x225 at row 37 (pads round(37.5-0.1) = 37 above,
  // round(37.5+0.1) = 38 below).
  EXPECT_NE(r.out.find("640x480 -> uint8 tensor, content at (0,37) 300x225 of 300x300"),
            std::string::npos)
      << r.out;
  TensorData x = ReadNpyFile(dir / "x.npy");
  EXPECT_EQ(x.shape, (std::vector<int>{1, 300, 300, 3}));
  // The pad: pixel 114 → (114 - 127.5)/127.5 = -0.10588 → round(-13.55) + 128 = 114.
  EXPECT_EQ(x.bytes[0], 114);
  for (const char* f : {"0_decoded.npy", "0_decoded.png", "1_resized.npy", "1_resized.png",
                        "2_normalized.npy", "3_quantized.npy"})
    EXPECT_TRUE(fs::exists(dir / "trace" / f)) << f;
  EXPECT_EQ(ReadNpyFile(dir / "trace" / "3_quantized.npy"), x);
}

TEST(PreprocessCommand, BadInputsAreOneClearError) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path dir = ScratchDir();
  auto r = RunCli({"preprocess", "--model",
                   LOCKSTEP_ASSET("models/detection/ssd_mobilenet_v1_coco_quant_postprocess_head_"
                                  "layers.tflite")
                       .string(),
                   LOCKSTEP_ASSET(kImage).string(), "--out", (dir / "x.npy").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("this is not an image model"), std::string::npos) << r.err;
  r = RunCli({"preprocess", "--model", LOCKSTEP_ASSET(kSsd).string(), "--max-pixels", "1000",
              LOCKSTEP_ASSET(kImage).string(), "--out", (dir / "x.npy").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("image size: expected at most 1000 pixels, found 640x480"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir / "x.npy"));
}

}  // namespace
}  // namespace lockstep
