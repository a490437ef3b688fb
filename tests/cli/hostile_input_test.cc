// Input built to break the JSON readers and writers: each case is exit 2 with one line naming
// the file and the JSON path, or a normal run with valid UTF-8 output; never a crash or exit 3.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "lockstep/core/utf8.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;
using ::lockstep::testing::AssetsDir;
using ::lockstep::testing::CliResult;
using ::lockstep::testing::RunCli;
using ::lockstep::testing::ScratchDir;

const char* kCoco128 = "datasets/coco128/train2017";

fs::path WriteText(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// Exit 2 and one valid UTF-8 line naming `file` and containing `part`.
void ExpectError(const CliResult& r, const std::string& file, const std::string& part) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(part), std::string::npos) << r.err;
  EXPECT_EQ(ValidUtf8(r.err), r.err);
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
}

CliResult SpecCheck(const fs::path& spec) {
  // The spec is read before the model: any path will do for a spec that cannot be read.
  return RunCli({"spec", "check", spec.string(), "model.tflite"});
}

TEST(HostileJson, SpecNestedDeeplyIsRefusedNotACrash) {
  fs::path dir = ScratchDir();
  std::string name = std::string(100000, '[') + std::string(100000, ']');
  fs::path spec =
      WriteText(dir / "deep.json", R"({"schema": "lockstep.pipeline/v1", "name": )" + name + "}");
  CliResult r = SpecCheck(spec);
  ExpectError(r, "deep.json", "$.name[0][0][0]...: expected JSON nested at most 64 deep");
  EXPECT_LT(r.err.size(), 300u) << r.err;
}

TEST(HostileJson, SpecWithADuplicateKeyNamesIt) {
  fs::path dir = ScratchDir();
  fs::path spec = WriteText(dir / "twice.json", R"({"schema": "lockstep.pipeline/v1",
      "geometry": {"mode": "stretch", "mode": "letterbox"}})");
  ExpectError(SpecCheck(spec), "twice.json", "$.geometry.mode: expected each key once");
}

TEST(HostileJson, SpecNumberBeyondDoubleRangeIsAnError) {
  fs::path dir = ScratchDir();
  fs::path spec = WriteText(dir / "huge.json", R"({"schema": "lockstep.pipeline/v1",
      "normalize": {"mean": [0, 1e400, 0], "std": [1, 1, 1]}})");
  ExpectError(SpecCheck(spec), "huge.json", "$.normalize.mean[1]: expected a number within");
}

TEST(HostileJson, LongUtf8ValuesAreCutBetweenCharacters) {
  fs::path dir = ScratchDir();
  std::string euros;
  for (int i = 0; i < 40; ++i) euros += "\xE2\x82\xAC";
  fs::path spec = WriteText(dir / "euro.json", R"({"schema": "lockstep.pipeline/v1",
      "geometry": {"mode": ")" + euros + R"("}})");
  CliResult r = SpecCheck(spec);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("$.geometry.mode"), std::string::npos) << r.err;
  EXPECT_EQ(ValidUtf8(r.err), r.err) << r.err;
}

// A COCO file of one image (`file_name`) with one annotation (`bbox` as JSON text).
std::string Coco(const std::string& file_name, const std::string& bbox) {
  return R"({"images": [{"id": 1, "file_name": ")" + file_name +
         R"(", "width": 640, "height": 480}],
    "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": )" +
         bbox + R"(, "area": 100, "iscrowd": 0}],
    "categories": [{"id": 1, "name": "person"}]})";
}

// With --spec, so that no notes about a derived spec come before the error.
CliResult Eval(const fs::path& coco, const fs::path& images) {
  fs::path spec =
      WriteText(coco.parent_path() / "spec.json", testing::CocoSsdV1TrainingSpec().dump());
  return RunCli({"eval", "--model", (AssetsDir() / testing::kCocoSsdV1).string(), "--spec",
                 spec.string(), "--coco", coco.string(), "--images", images.string()});
}

TEST(HostileJson, CocoNumberBeyondDoubleRangeIsAnError) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path dir = ScratchDir();
  fs::create_directories(dir / "images");
  fs::path coco = WriteText(dir / "huge.json", Coco("a.jpg", "[1, 2, 1e400, 4]"));
  ExpectError(Eval(coco, dir / "images"), "huge.json", "$.annotations[0].bbox[2]");
}

TEST(HostileJson, CocoFileNameOutsideTheImagesFolderIsRefused) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path dir = ScratchDir();
  fs::create_directories(dir / "images");
  // The file it names exists: without the check, eval would read it.
  fs::copy_file(AssetsDir() / kCoco128 / "000000000009.jpg", dir / "outside.jpg");
  fs::path coco = WriteText(dir / "escape.json", Coco("../outside.jpg", "[1, 2, 3, 4]"));
  ExpectError(Eval(coco, dir / "images"), "escape.json", "images[0].file_name");
  fs::path absolute =
      WriteText(dir / "absolute.json", Coco((dir / "outside.jpg").string(), "[1, 2, 3, 4]"));
  ExpectError(Eval(absolute, dir / "images"), "absolute.json", "images[0].file_name");
}

TEST(HostileJson, ImageFileNameNotValidUtf8GivesValidJson) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path dir = ScratchDir();
  fs::path image = dir / "caf\xe9.jpg";  // Latin-1, as an old file system may hold it
  fs::copy_file(AssetsDir() / kCoco128 / "000000000009.jpg", image);
  CliResult r = RunCli({"detect", "--model", (AssetsDir() / testing::kCocoSsdV1).string(),
                        image.string(), "--json", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ValidUtf8(r.out), r.out);
  nlohmann::json line = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')));
  EXPECT_NE(line["image"].get<std::string>().find("caf\xEF\xBF\xBD.jpg"), std::string::npos);
}

TEST(HostileJson, ScoreThresholdOutsideZeroToOneIsRefused) {
  LOCKSTEP_REQUIRE_ASSETS();
  for (const char* threshold : {"2", "-1", "nan"}) {
    CliResult r = RunCli({"detect", "--model", (AssetsDir() / testing::kCocoSsdV1).string(),
                          (AssetsDir() / kCoco128 / "000000000009.jpg").string(),
                          "--score-threshold", threshold});
    EXPECT_EQ(r.exit_code, 2) << threshold << ": " << r.err;
    EXPECT_NE(r.err.find("score_threshold"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace lockstep
