// `lockstep demo` as a user runs it on a fresh clone: exit 0, the files it says it wrote, the
// mAP of the training pipeline and of each planted mistake (recomputed here from the files it
// wrote), the doctor's diagnosis of each mistake, and the HTML report.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include <fstream>
#include <nlohmann/json.hpp>

#include "lockstep/image/decode.h"
#include "lockstep/model/model_io.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;

nlohmann::json ReadJson(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// The number after "`label` " on the line that contains `line_marker`; -1 when absent.
double NumberAfter(const std::string& text, const std::string& line_marker,
                   const std::string& label) {
  const size_t line = text.find(line_marker);
  if (line == std::string::npos) return -1;
  const std::string l = text.substr(line, text.find('\n', line) - line);
  const size_t at = l.find(label + " ");
  if (at == std::string::npos) return -1;
  const char* begin = l.c_str() + at + label.size() + 1;
  char* end = nullptr;
  const double v = std::strtod(begin, &end);
  return end == begin ? -1 : v;
}

// The demo runs once (a few seconds); each part of what it promises is checked below.
struct DemoRun {
  fs::path dir;
  testing::CliResult result;
};

void ChecksTheStory(const DemoRun& run);
void ChecksTheFiles(const DemoRun& run);
void ChecksTheMap(const DemoRun& run);
void ChecksTheDiagnoses(const DemoRun& run);
void ChecksTheHtmlReport(const DemoRun& run);

TEST(DemoCommand, TellsTheWholeStoryFromAFreshFolder) {
  DemoRun run;
  run.dir = testing::ScratchDir() / "out";  // does not exist yet: the demo creates it
  run.result = testing::RunCli({"demo", "--out", run.dir.string()});
  ASSERT_EQ(run.result.exit_code, 0) << run.result.out << run.result.err;
  ChecksTheStory(run);
  ChecksTheFiles(run);
  ChecksTheMap(run);
  ChecksTheDiagnoses(run);
  ChecksTheHtmlReport(run);
}

void ChecksTheStory(const DemoRun& run) {
  SCOPED_TRACE("story");
  const std::string& out = run.result.out;
  EXPECT_LE(std::count(out.begin(), out.end(), '\n'), 40) << out;
  EXPECT_NE(run.result.err.find("demo:"), std::string::npos);  // progress goes to stderr
  EXPECT_EQ(out.find("demo: running"), std::string::npos) << out;
}

void ChecksTheFiles(const DemoRun& run) {
  SCOPED_TRACE("files");
  const Model model = ReadModelFile(run.dir / "squares.tflite");
  EXPECT_EQ(model.subgraphs.at(0).tensors.at(size_t(model.subgraphs[0].inputs[0])).dtype,
            DType::kUInt8);
  const nlohmann::json coco = ReadJson(run.dir / "annotations.json");
  ASSERT_EQ(coco["images"].size(), 40u);
  EXPECT_GT(coco["annotations"].size(), 80u);
  for (const auto& image : coco["images"]) {
    const Image pixels =
        DecodeImageFile(run.dir / "images" / image["file_name"].get<std::string>());
    EXPECT_EQ(pixels.width, 160);
    EXPECT_EQ(pixels.height, 112);
  }
  const nlohmann::json training = ReadJson(run.dir / "training_spec.json");
  EXPECT_EQ(training["geometry"]["mode"], "stretch");
  EXPECT_EQ(training["normalize"]["mean"][0], 127.5);
  EXPECT_EQ(ReadJson(run.dir / "deployed_letterbox.json")["geometry"]["mode"], "letterbox");
  EXPECT_EQ(ReadJson(run.dir / "deployed_normalize_0_1.json")["normalize"]["std"][0], 255);
  EXPECT_EQ(ReadJson(run.dir / "deployed_zero_point_ignored.json")["tensor"]["zero_point"], 0);
  EXPECT_TRUE(fs::exists(run.dir / "deployed_all_three.json"));
}

// The printed mAP lines: the training pipeline high, each mistake clearly lower; and `lockstep
// eval` on the files the demo wrote gives the same training AP.
void ChecksTheMap(const DemoRun& run) {
  SCOPED_TRACE("mAP");
  const std::string& out = run.result.out;
  const double correct = NumberAfter(out, "Training pipeline", "AP");
  EXPECT_GT(correct, 0.8) << out;
  EXPECT_GT(NumberAfter(out, "Training pipeline", "AP50"), 0.95) << out;
  for (const char* mistake :
       {"[0,1] normalization", "letterbox instead of stretch", "without the zero point"}) {
    const double ap = NumberAfter(out, mistake, "AP");
    EXPECT_GE(ap, 0) << mistake << "\n" << out;
    EXPECT_LT(ap, correct - 0.3) << mistake << "\n" << out;
    EXPECT_NEAR(NumberAfter(out, mistake, "costs"), correct - ap, 0.0015) << mistake;
  }
}

// Each mistake's block names the doctor's finding for that mistake, and only that one.
void ChecksTheDiagnoses(const DemoRun& run) {
  SCOPED_TRACE("diagnoses");
  const std::string& out = run.result.out;
  const std::vector<std::pair<std::string, std::string>> blocks = {
      {"1. [0,1] normalization", "normalization_range"},
      {"2. letterbox instead of stretch", "geometry_mode"},
      {"3. input quantization without the zero point", "zero_point_ignored"}};
  for (size_t i = 0; i < blocks.size(); ++i) {
    const size_t begin = out.find(blocks[i].first);
    ASSERT_NE(begin, std::string::npos) << out;
    const size_t end =
        i + 1 < blocks.size() ? out.find(blocks[i + 1].first) : out.find("All three");
    ASSERT_NE(end, std::string::npos) << out;
    const std::string block = out.substr(begin, end - begin);
    EXPECT_NE(block.find("doctor: " + blocks[i].second + " ("), std::string::npos) << block;
    for (size_t j = 0; j < blocks.size(); ++j)
      if (j != i) {
        EXPECT_EQ(block.find(blocks[j].second), std::string::npos) << block;
      }
    EXPECT_NE(block.find("first divergence: "), std::string::npos) << block;
  }
  // The stage each mistake first shows in, with the fingerprint the doctor recognised.
  EXPECT_NE(out.find("first divergence: normalized, looks like [0,1] vs [-1,1]"), std::string::npos)
      << out;
  EXPECT_NE(out.find("first divergence: geometry"), std::string::npos) << out;
  EXPECT_NE(out.find("first divergence: quantized, looks like off by the zero point"),
            std::string::npos)
      << out;
}

// The HTML report of all three mistakes: its path printed, one self-contained file naming them.
void ChecksTheHtmlReport(const DemoRun& run) {
  SCOPED_TRACE("html");
  const fs::path html = run.dir / "doctor_report.html";
  EXPECT_NE(run.result.out.find(html.string()), std::string::npos) << run.result.out;
  ASSERT_TRUE(fs::exists(html));
  const std::vector<uint8_t> bytes = testing::ReadBytes(html);
  const std::string text(bytes.begin(), bytes.end());
  EXPECT_NE(text.find("<html"), std::string::npos);
  EXPECT_NE(text.find("data:image/png;base64,"), std::string::npos);  // images embedded
  for (const char* code : {"normalization_range", "geometry_mode", "zero_point_ignored"})
    EXPECT_NE(text.find(code), std::string::npos) << code;
}

}  // namespace
}  // namespace lockstep
