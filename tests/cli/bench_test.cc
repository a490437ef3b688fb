// `lockstep bench`: the table's rows and what they say ran. Speed itself is never asserted here.
#include <gtest/gtest.h>

#include <string>

#include "support/test_support.h"

namespace lockstep {
namespace {

using ::lockstep::testing::RunCli;

// The table row that starts with `kernels` and `threads`, or "".
std::string Row(const std::string& out, const std::string& kernels, int threads) {
  size_t pos = 0;
  while ((pos = out.find(kernels, pos)) != std::string::npos) {
    size_t end = out.find('\n', pos);
    std::string line = out.substr(pos, end - pos);
    if ((pos == 0 || out[pos - 1] == '\n') && line.size() > 17 &&
        std::stoi(line.substr(10, 7)) == threads)
      return line;
    pos = end;
  }
  return "";
}

TEST(BenchCommand, FourRowsSayingWhatRan) {
  LOCKSTEP_REQUIRE_ASSETS();
  auto r = RunCli(
      {"bench", LOCKSTEP_ASSET("models/classification/mobilenet_v1_0.25_128_quant.tflite").string(),
       "--runs", "3", "--warmup", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("median ms"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("runs: 3 timed after 1 warm-up"), std::string::npos) << r.out;
  for (int threads : {1, 2}) {
    std::string builtin = Row(r.out, "builtin", threads);
    std::string xnn = Row(r.out, "xnnpack", threads);
    EXPECT_NE(builtin.find("builtin kernels (31 ops)"), std::string::npos) << r.out;
    // A uint8 model: XNNPACK could not take it, and the row says so.
    EXPECT_NE(xnn.find("fell back: builtin kernels (31 ops)"), std::string::npos) << r.out;
  }
  EXPECT_NE(r.out.find("note: XNNPACK took none of this model's ops"), std::string::npos);
}

TEST(BenchCommand, Int8ModelRunsOnXnnpack) {
  LOCKSTEP_REQUIRE_ASSETS();
  auto r = RunCli(
      {"bench", LOCKSTEP_ASSET("models/detection/openmv_fomo_face_detection_int8.tflite").string(),
       "--runs", "2", "--warmup", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(Row(r.out, "xnnpack", 1).find("XNNPACK (QS8+QU8) took"), std::string::npos) << r.out;
  EXPECT_NE(Row(r.out, "xnnpack", 2).find("XNNPACK (QS8+QU8) took"), std::string::npos) << r.out;
}

TEST(BenchCommand, BadCountsAreUsageErrors) {
  LOCKSTEP_REQUIRE_ASSETS();
  auto r = RunCli(
      {"bench", LOCKSTEP_ASSET("models/classification/mobilenet_v1_0.25_128_quant.tflite").string(),
       "--runs", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--runs: expected 1 to 100000, found 0"), std::string::npos) << r.err;
  r = RunCli({"bench", "/nonexistent.tflite"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent.tflite: expected a .tflite model file, found no such file"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace lockstep
