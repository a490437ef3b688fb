// lockstep detect end to end on the real SSD MobileNet v1 COCO model and COCO128 images.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "lockstep/image/decode.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

using lockstep::testing::AssetsDir;
using lockstep::testing::RunCli;
using lockstep::testing::ScratchDir;
namespace fs = std::filesystem;

const char* kSsd = testing::kCocoSsdV1;

// The training pipeline of the model, as a spec file.
std::string WriteSpec(const fs::path& dir) {
  const fs::path path = dir / "ssd.json";
  std::ofstream(path) << R"({"schema": "lockstep.pipeline/v1",
    "geometry": {"mode": "stretch"},
    "normalize": {"mean": [127.5, 127.5, 127.5], "std": [127.5, 127.5, 127.5]},
    "output": {"decoder": "tflite_postprocess", "score_threshold": 0.5}})";
  return path.string();
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Image(const char* name) {
  return (AssetsDir() / "datasets/coco128/train2017" / name).string();
}

TEST(CliDetect, JsonLinesSchemaWithBoxesInImagePixels) {
  LOCKSTEP_REQUIRE_ASSETS();
  const fs::path dir = ScratchDir();
  auto r = RunCli({"detect", "--model", (AssetsDir() / kSsd).string(), "--spec", WriteSpec(dir),
                   Image("000000000025.jpg"), Image("000000000009.jpg"), "--json", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::vector<nlohmann::json> objects;
  while (std::getline(lines, line)) objects.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(objects.size(), 2u);  // one per image, in input order
  const nlohmann::json& giraffe = objects[0];
  EXPECT_EQ(giraffe["image"], Image("000000000025.jpg"));
  EXPECT_EQ(giraffe["width"], 640);
  EXPECT_EQ(giraffe["height"], 426);
  ASSERT_TRUE(giraffe["detections"].is_array());
  ASSERT_FALSE(giraffe["detections"].empty());
  for (const auto& object : objects)
    for (const auto& d : object["detections"]) {
      EXPECT_EQ(d.size(), 4u);
      EXPECT_TRUE(d["class_index"].is_number_integer());
      EXPECT_TRUE(d["label"].is_string());
      EXPECT_GE(d["score"].get<double>(), 0.5);
      ASSERT_EQ(d["box"].size(), 4u);
      EXPECT_LE(d["box"][0].get<double>(), d["box"][2].get<double>());
      EXPECT_LE(d["box"][2].get<double>(), object["width"].get<double>());
      EXPECT_LE(d["box"][3].get<double>(), object["height"].get<double>());
    }
  const auto& top = giraffe["detections"][0];
  EXPECT_EQ(top["label"], "giraffe");
  EXPECT_EQ(top["class_index"], 24);
  // Ground truth giraffe of 000000000025: [385.53, 60.03, 600.5, 357.19] (xyxy); the box is
  // in pixels of the 640x426 image, not of the 300x300 input and not normalized.
  EXPECT_NEAR(top["box"][0].get<double>(), 385.5, 30);
  EXPECT_NEAR(top["box"][3].get<double>(), 357.2, 30);
  EXPECT_NE(r.err.find("[2/2]"), std::string::npos) << r.err;
}

TEST(CliDetect, WithoutSpecPrintsTheAssumptions) {
  LOCKSTEP_REQUIRE_ASSETS();
  auto r = RunCli({"detect", "--model", (AssetsDir() / kSsd).string(), Image("000000000025.jpg"),
                   "--score-threshold", "0.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("No --spec"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("giraffe"), std::string::npos) << r.out;
}

TEST(CliDetect, DrawWritesPngsThatDecode) {
  LOCKSTEP_REQUIRE_ASSETS();
  const fs::path dir = ScratchDir();
  auto r = RunCli({"detect", "--model", (AssetsDir() / kSsd).string(), "--spec", WriteSpec(dir),
                   Image("000000000025.jpg"), "--draw", (dir / "drawn").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const lockstep::Image drawn = DecodeImageFile(dir / "drawn" / "000000000025.png");
  const lockstep::Image original = DecodeImageFile(Image("000000000025.jpg"));
  EXPECT_EQ(drawn.width, 640);
  EXPECT_EQ(drawn.height, 426);
  EXPECT_NE(drawn.pixels, original.pixels);  // something was drawn
}

TEST(CliDetect, TwoWorkersGiveTheSameJsonAsOne) {
  LOCKSTEP_REQUIRE_ASSETS();
  const fs::path dir = ScratchDir();
  const std::string spec = WriteSpec(dir);
  std::vector<std::string> images;
  for (const char* name : {"000000000009.jpg", "000000000025.jpg", "000000000030.jpg",
                           "000000000034.jpg", "000000000036.jpg"})
    images.push_back(Image(name));
  auto run = [&](const char* threads, const fs::path& out) {
    std::vector<std::string> args = {"detect", "--model", (AssetsDir() / kSsd).string(),
                                     "--spec", spec,      "--threads",
                                     threads,  "--json",  out.string()};
    args.insert(args.end(), images.begin(), images.end());
    return RunCli(args);
  };
  auto one = run("1", dir / "one.jsonl");
  auto two = run("2", dir / "two.jsonl");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ASSERT_EQ(two.exit_code, 0) << two.err;
  const std::string a = ReadText(dir / "one.jsonl");
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 5);
  EXPECT_EQ(a, ReadText(dir / "two.jsonl"));
  EXPECT_NE(two.err.find("2 workers"), std::string::npos) << two.err;
  EXPECT_FALSE(fs::exists(dir / ("one.jsonl.tmp")));
}

TEST(CliDetect, CocoResultsUseCheckedCategoryIds) {
  LOCKSTEP_REQUIRE_ASSETS();
  const fs::path dir = ScratchDir();
  const std::string ann =
      (AssetsDir() / "datasets/coco128/annotations/instances_train2017.json").string();
  auto r = RunCli({"detect", "--model", (AssetsDir() / kSsd).string(), "--spec", WriteSpec(dir),
                   Image("000000000025.jpg"), Image("000000000009.jpg"), "--coco", ann,
                   "--coco-results", (dir / "results.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("by name: 80 of 90"), std::string::npos) << r.err;
  const auto results = nlohmann::json::parse(ReadText(dir / "results.json"));
  ASSERT_TRUE(results.is_array());
  ASSERT_GE(results.size(), 2u);
  EXPECT_EQ(results[0]["image_id"], 25);
  EXPECT_EQ(results[0]["category_id"], 25);  // giraffe: class index 24, COCO id 25
  const auto& bbox = results[0]["bbox"];     // x, y, width, height
  EXPECT_NEAR(bbox[0].get<double>(), 385.5, 30);
  EXPECT_NEAR(bbox[2].get<double>(), 215.0, 40);
  bool bowl = false;
  for (const auto& d : results)
    if (d["image_id"] == 9 && d["category_id"] == 51) bowl = true;
  EXPECT_TRUE(bowl);

  // Explicit ids that are not categories of the dataset: exit 2, naming both sides.
  auto bad = RunCli({"detect", "--model", (AssetsDir() / kSsd).string(), "--spec", WriteSpec(dir),
                     Image("000000000025.jpg"), "--coco", ann, "--coco-results",
                     (dir / "bad.json").string(), "--category-ids", "1,2,999"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("--category-ids"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("instances_train2017.json"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("999"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir / "bad.json"));
  // An image the annotations do not know.
  auto unknown =
      RunCli({"detect", "--model", (AssetsDir() / kSsd).string(), "--spec", WriteSpec(dir),
              (AssetsDir() / "images/tflite_support/burger.jpg").string(), "--coco", ann,
              "--coco-results", (dir / "u.json").string()});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("burger.jpg"), std::string::npos) << unknown.err;
  // --coco-results without --coco.
  EXPECT_EQ(RunCli({"detect", "--model", (AssetsDir() / kSsd).string(), Image("000000000025.jpg"),
                    "--coco-results", (dir / "x.json").string()})
                .exit_code,
            2);
}

TEST(CliDetect, BadInputsExitTwo) {
  LOCKSTEP_REQUIRE_ASSETS();
  const fs::path dir = ScratchDir();
  // Not an image model: the Coral SSD head takes 12 feature maps.
  auto r = RunCli(
      {"detect", "--model",
       (AssetsDir() / "models/detection/ssd_mobilenet_v1_coco_quant_postprocess_head_layers.tflite")
           .string(),
       Image("000000000025.jpg")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("lockstep: "), std::string::npos) << r.err;
  // An image that is not one.
  std::ofstream(dir / "fake.jpg") << "not a jpeg";
  r = RunCli({"detect", "--model", (AssetsDir() / kSsd).string(), (dir / "fake.jpg").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("fake.jpg"), std::string::npos) << r.err;
  r = RunCli({"detect", "--model", (AssetsDir() / kSsd).string(), (dir / "none.jpg").string()});
  EXPECT_EQ(r.exit_code, 2);
  r = RunCli({"detect", "--model", (AssetsDir() / kSsd).string(), Image("000000000025.jpg"),
              "--threads", "0"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace lockstep
