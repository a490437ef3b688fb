// lockstep doctor as a user runs it: exit codes (0 aligned, 1 an error finding, 2 bad input),
// the summary, --json (the issue's shape, on stdout with -) and progress on stderr.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace lockstep {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;
using testing::RunCli;

json ThreeMistakes() {
  json d = testing::CocoSsdV1TrainingSpec();
  d["name"] = "[0,1] + BGR + letterbox";
  d["normalize"] = {{"mean", {0, 0, 0}}, {"std", {255, 255, 255}}};
  d["input"] = {{"channel_order", "bgr"}};
  d["geometry"] = {{"mode", "letterbox"}};
  return d;
}

fs::path Write(const fs::path& dir, const std::string& name, const json& j) {
  std::ofstream(dir / name) << j.dump(2);
  return dir / name;
}

std::string Model() {
  fs::path base = testing::AssetsDir();
  if (base.empty()) return "";
  return (base / testing::kCocoSsdV1).string();
}

TEST(DoctorCli, IdenticalSpecsExitZero) {
  std::string model = Model();
  if (model.empty()) GTEST_SKIP() << "no shared assets";
  fs::path dir = testing::ScratchDir();
  fs::path t = Write(dir, "train.json", testing::CocoSsdV1TrainingSpec());
  auto r =
      RunCli({"doctor", "--model", model, "--train-spec", t.string(), "--deploy-spec", t.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ALIGNED (static): 0 error(s), 0 warning(s)"), std::string::npos) << r.out;
}

TEST(DoctorCli, MistakesExitOneWithTheIssuesJsonOnStdout) {
  std::string model = Model();
  if (model.empty()) GTEST_SKIP() << "no shared assets";
  fs::path dir = testing::ScratchDir();
  fs::path t = Write(dir, "train.json", testing::CocoSsdV1TrainingSpec()),
           d = Write(dir, "deploy.json", ThreeMistakes());
  auto r = RunCli({"doctor", "--model", model, "--train-spec", t.string(), "--deploy-spec",
                   d.string(), "--json", "-"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["aligned"], false);
  EXPECT_TRUE(j["stages"].empty());  // static checks only
  EXPECT_TRUE(j["stats"].is_object());
  std::set<std::string> errors;
  for (const json& f : j["findings"]) {
    for (const char* key :
         {"code", "severity", "field", "training", "deployed", "consequence", "fix"})
      EXPECT_TRUE(f.contains(key)) << key;
    if (f["severity"] == "error") errors.insert(f["code"].get<std::string>());
  }
  EXPECT_EQ(errors, (std::set<std::string>{"channel_order", "geometry_mode", "normalization_range",
                                           "normalization_vs_metadata"}));
  for (const json& f : j["findings"])
    if (f["code"] == "normalization_range") {
      EXPECT_EQ(f["training"], "[-1,1]");
      EXPECT_EQ(f["deployed"], "[0,1]");
      EXPECT_EQ(f["field"], "$.normalize");
    }
}

TEST(DoctorCli, ImagesRunBothPipelinesWithProgress) {
  std::string model = Model();
  if (model.empty()) GTEST_SKIP() << "no shared assets";
  fs::path base = testing::AssetsDir();
  fs::path dir = testing::ScratchDir();
  fs::path t = Write(dir, "train.json", testing::CocoSsdV1TrainingSpec()),
           d = Write(dir, "deploy.json", ThreeMistakes());
  auto r = RunCli({"doctor",
                   "--model",
                   model,
                   "--train-spec",
                   t.string(),
                   "--deploy-spec",
                   d.string(),
                   "--coco",
                   (base / "datasets/coco128/annotations/instances_train2017.json").string(),
                   "--images",
                   (base / "datasets/coco128/train2017").string(),
                   "--max-images",
                   "2",
                   "--threads",
                   "2",
                   "--no-what-ifs",
                   "--json",
                   (dir / "report.json").string(),
                   "--html",
                   (dir / "report.html").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("[1/2] training and deployed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[2/2] attribution geometry"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("first divergence: geometry"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("attribution of the AP gap"), std::string::npos) << r.out;
  std::ifstream in(dir / "report.json");
  json j = json::parse(in);
  EXPECT_EQ(j["stages"].size(), 6u);
  EXPECT_EQ(j["first_divergence"], "geometry");
  EXPECT_EQ(j["attribution"].size(), 3u);
  EXPECT_TRUE(j["stats"].contains("training"));
  EXPECT_TRUE(j["what_ifs"].empty());
  // The HTML report (helper "report" renders it) is written where asked.
  std::ifstream html(dir / "report.html");
  std::string text((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("<html"), std::string::npos);
}

TEST(DoctorCli, BadInputExitsTwoNamingIt) {
  std::string model = Model();
  if (model.empty()) GTEST_SKIP() << "no shared assets";
  fs::path dir = testing::ScratchDir();
  fs::path t = Write(dir, "train.json", testing::CocoSsdV1TrainingSpec());
  auto missing = RunCli({"doctor", "--model", model, "--train-spec", t.string(), "--deploy-spec",
                         (dir / "nope.json").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nope.json"), std::string::npos) << missing.err;
  auto coco_alone = RunCli({"doctor", "--model", model, "--train-spec", t.string(), "--deploy-spec",
                            t.string(), "--coco", t.string()});
  EXPECT_EQ(coco_alone.exit_code, 2);
  EXPECT_NE(coco_alone.err.find("--images"), std::string::npos) << coco_alone.err;
  json bad = testing::CocoSsdV1TrainingSpec();
  bad["normalize"] = {{"mean", 0}, {"std", 0}};
  fs::path b = Write(dir, "bad.json", bad);
  auto invalid =
      RunCli({"doctor", "--model", model, "--train-spec", t.string(), "--deploy-spec", b.string()});
  EXPECT_EQ(invalid.exit_code, 2);
  EXPECT_NE(invalid.err.find("$.normalize.std"), std::string::npos) << invalid.err;
  auto no_folder = RunCli({"doctor", "--model", model, "--train-spec", t.string(), "--deploy-spec",
                           t.string(), "--images", (dir / "none").string()});
  EXPECT_EQ(no_folder.exit_code, 2);
  EXPECT_NE(no_folder.err.find("no such folder"), std::string::npos) << no_folder.err;
}

}  // namespace
}  // namespace lockstep
