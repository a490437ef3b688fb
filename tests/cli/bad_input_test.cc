// Bad input to `lockstep run`: every case exits 2 with one clear stderr line that names the file,
// and nothing crashes.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "lockstep/model/model_builder.h"
#include "lockstep/model/model_io.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;
using ::lockstep::testing::CliResult;
using ::lockstep::testing::ReadBytes;
using ::lockstep::testing::RunCli;
using ::lockstep::testing::ScratchDir;
using ::lockstep::testing::WriteBytes;

const char* kMobilenet = "models/classification/mobilenet_v1_0.25_128_quant.tflite";

// Exit 2, exactly one stderr line, "lockstep: " first, naming `file`.
void ExpectOneCleanLine(const CliResult& r, const std::string& file) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("lockstep: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
}

CliResult RunModel(const fs::path& model, const fs::path& out,
                   std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"run", model.string(), "--out", out.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunCli(args);
}

TEST(BadInput, MissingModel) {
  fs::path scratch = ScratchDir();
  auto r = RunModel(scratch / "nope.tflite", scratch / "out");
  ExpectOneCleanLine(r, (scratch / "nope.tflite").string());
  EXPECT_NE(r.err.find("no such file"), std::string::npos);
  EXPECT_FALSE(fs::exists(scratch / "out"));
}

TEST(BadInput, EmptyModel) {
  fs::path scratch = ScratchDir();
  WriteBytes(scratch / "empty.tflite", {});
  auto r = RunModel(scratch / "empty.tflite", scratch / "out");
  ExpectOneCleanLine(r, "empty.tflite");
  EXPECT_NE(r.err.find("empty"), std::string::npos);
}

TEST(BadInput, TruncatedModel) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path scratch = ScratchDir();
  auto bytes = ReadBytes(LOCKSTEP_ASSET(kMobilenet));
  bytes.resize(bytes.size() / 2);
  WriteBytes(scratch / "half.tflite", bytes);
  ExpectOneCleanLine(RunModel(scratch / "half.tflite", scratch / "out"), "half.tflite");
}

TEST(BadInput, BitFlippedHeader) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path scratch = ScratchDir();
  auto bytes = ReadBytes(LOCKSTEP_ASSET(kMobilenet));
  bytes[0] ^= 0x5a;  // the root table offset
  bytes[2] ^= 0x81;
  bytes[5] ^= 0x04;  // the "TFL3" identifier
  WriteBytes(scratch / "flipped.tflite", bytes);
  ExpectOneCleanLine(RunModel(scratch / "flipped.tflite", scratch / "out"), "flipped.tflite");
}

TEST(BadInput, RandomBytes) {
  fs::path scratch = ScratchDir();
  std::vector<uint8_t> noise(100000);
  uint64_t s = 12345;
  for (auto& b : noise) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    b = uint8_t(s >> 56);
  }
  WriteBytes(scratch / "noise.tflite", noise);
  ExpectOneCleanLine(RunModel(scratch / "noise.tflite", scratch / "out"), "noise.tflite");
}

TEST(BadInput, AnOpThisTfliteLacks) {
  fs::path scratch = ScratchDir();
  ModelBuilder b;
  int32_t in = b.AddTensor("in", DType::kUInt8, {1, 8, 8, 3});
  int32_t out = b.AddTensor("out", DType::kUInt8, {1, 8, 8, 3});
  b.AddCustomOp("MyFancyOp", {in}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  WriteModelFile(b.Build(), scratch / "fancy.tflite");
  auto r = RunModel(scratch / "fancy.tflite", scratch / "out");
  ExpectOneCleanLine(r, "fancy.tflite");
  EXPECT_NE(r.err.find("operator MyFancyOp"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("custom op 'MyFancyOp', which this TFLite lacks"), std::string::npos);
}

TEST(BadInput, EdgeTpuModelWithoutATpu) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path scratch = ScratchDir();
  fs::path model =
      LOCKSTEP_ASSET("models/classification/mobilenet_v1_0.25_128_quant_edgetpu.tflite");
  auto r = RunModel(model, scratch / "out");
  ExpectOneCleanLine(r, model.string());
  EXPECT_NE(r.err.find("compiled for the Edge TPU"), std::string::npos) << r.err;
  EXPECT_TRUE(r.err.find("libedgetpu.so.1 was not found") != std::string::npos ||
              r.err.find("no Edge TPU is attached") != std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("CPU twin"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("mobilenet_v1_0.25_128_quant.tflite"), std::string::npos) << r.err;
}

TEST(BadInput, WrongSizeBinInput) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path scratch = ScratchDir();
  WriteBytes(scratch / "short.bin", std::vector<uint8_t>(128 * 128 * 3 - 1, 7));
  auto r = RunModel(LOCKSTEP_ASSET(kMobilenet), scratch / "out",
                    {"--input", (scratch / "short.bin").string()});
  ExpectOneCleanLine(r, "short.bin");
  EXPECT_NE(r.err.find("expected 49152 bytes (uint8[1,128,128,3]), found 49151 bytes"),
            std::string::npos)
      << r.err;
}

TEST(BadInput, WrongDtypeNpyInput) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path scratch = ScratchDir();
  std::string script =
      "import numpy as np\n"
      "np.save('" +
      (scratch / "f.npy").string() +
      "', np.zeros((1, 128, 128, 3), np.float32))\n"
      "np.save('" +
      (scratch / "s.npy").string() + "', np.zeros((1, 64, 64, 3), np.uint8))\n";
  WriteBytes(scratch / "make.py", std::vector<uint8_t>(script.begin(), script.end()));
  ASSERT_EQ(std::system(("/usr/bin/python3 '" + (scratch / "make.py").string() + "'").c_str()), 0);
  auto r = RunModel(LOCKSTEP_ASSET(kMobilenet), scratch / "out",
                    {"--input", (scratch / "f.npy").string()});
  ExpectOneCleanLine(r, "f.npy");
  EXPECT_NE(r.err.find("expected uint8[1,128,128,3], found float32[1,128,128,3]"),
            std::string::npos)
      << r.err;
  r = RunModel(LOCKSTEP_ASSET(kMobilenet), scratch / "out",
               {"--input", (scratch / "s.npy").string()});
  ExpectOneCleanLine(r, "s.npy");
  EXPECT_NE(r.err.find("expected uint8[1,128,128,3], found uint8[1,64,64,3]"), std::string::npos)
      << r.err;
}

TEST(BadInput, InputFilesThatAreMissingOrTooMany) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path scratch = ScratchDir();
  auto r = RunModel(LOCKSTEP_ASSET(kMobilenet), scratch / "out",
                    {"--input", (scratch / "gone.npy").string()});
  ExpectOneCleanLine(r, "gone.npy");
  WriteBytes(scratch / "a.bin", std::vector<uint8_t>(49152, 1));
  r = RunModel(LOCKSTEP_ASSET(kMobilenet), scratch / "out",
               {"--input", (scratch / "a.bin").string(), "--input", (scratch / "a.bin").string()});
  ExpectOneCleanLine(r, "mobilenet_v1_0.25_128_quant.tflite");
  EXPECT_NE(r.err.find("--input: expected 1 file(s)"), std::string::npos) << r.err;
  WriteBytes(scratch / "bad.npy", std::vector<uint8_t>{'n', 'o', 'p', 'e'});
  r = RunModel(LOCKSTEP_ASSET(kMobilenet), scratch / "out",
               {"--input", (scratch / "bad.npy").string()});
  ExpectOneCleanLine(r, "bad.npy");
}

}  // namespace
}  // namespace lockstep
