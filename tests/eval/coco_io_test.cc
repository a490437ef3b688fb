// COCO instances and results JSON: the real COCO128 annotations load; every malformed field is
// an Error naming the file and the JSON path; results round-trip exactly.
#include "lockstep/eval/coco.h"

#include <gtest/gtest.h>

#include <fstream>

#include "lockstep/core/error.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

const char* kMinimal = R"({
  "images": [{"id": 9, "file_name": "a.jpg", "width": 640, "height": 480}],
  "annotations": [{"id": 1, "image_id": 9, "category_id": 3, "bbox": [1, 2, 3, 4],
                   "area": 10.5, "iscrowd": 0}],
  "categories": [{"id": 3, "name": "car"}]})";

// Parses kMinimal with `from` replaced by `to`; returns the Error it throws.
Error ParseError(const std::string& from, const std::string& to) {
  std::string text = kMinimal;
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  try {
    ParseCocoDataset(text, "instances.json");
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error for " << to;
  return Error("none");
}

TEST(CocoDataset, ParsesTheFieldsEvaluationUses) {
  CocoDataset d = ParseCocoDataset(kMinimal, "instances.json");
  ASSERT_EQ(d.images.size(), 1u);
  EXPECT_EQ(d.images[0].id, 9);
  EXPECT_EQ(d.images[0].file_name, "a.jpg");
  EXPECT_EQ(d.images[0].width, 640);
  ASSERT_EQ(d.annotations.size(), 1u);
  EXPECT_EQ(d.annotations[0].bbox, (XywhBox{1, 2, 3, 4}));
  EXPECT_EQ(d.annotations[0].area, 10.5);
  EXPECT_FALSE(d.annotations[0].iscrowd);
  EXPECT_EQ(d.categories[0].name, "car");
}

TEST(CocoDataset, EveryMalformedFieldNamesItsPath) {
  Error e = ParseError(R"("area": 10.5, )", "");
  EXPECT_EQ(e.file(), "instances.json");
  EXPECT_EQ(e.field(), "annotations[0].area");
  EXPECT_EQ(e.found(), "the key missing");

  e = ParseError(R"("width": 640)", R"("width": "640")");
  EXPECT_EQ(e.field(), "images[0].width");
  EXPECT_EQ(e.expected(), "an integer");
  EXPECT_EQ(e.found(), "\"640\"");

  e = ParseError(R"("image_id": 9)", R"("image_id": 10)");
  EXPECT_EQ(e.field(), "annotations[0].image_id");
  EXPECT_EQ(e.expected(), "the id of one of the 1 images");
  EXPECT_EQ(e.found(), "10");

  e = ParseError(R"("category_id": 3)", R"("category_id": 4)");
  EXPECT_EQ(e.field(), "annotations[0].category_id");

  e = ParseError("[1, 2, 3, 4]", "[1, 2, -3, 4]");
  EXPECT_EQ(e.field(), "annotations[0].bbox[2]");
  EXPECT_EQ(e.found(), "-3");

  e = ParseError("[1, 2, 3, 4]", "[1, 2, 3]");
  EXPECT_EQ(e.field(), "annotations[0].bbox");
  EXPECT_EQ(e.found(), "3 values");

  e = ParseError("[1, 2, 3, 4]", "[1, null, 3, 4]");
  EXPECT_EQ(e.field(), "annotations[0].bbox[1]");
  EXPECT_EQ(e.found(), "a null");

  e = ParseError(R"("area": 10.5)", R"("area": -1)");
  EXPECT_EQ(e.field(), "annotations[0].area");

  e = ParseError(R"("height": 480)", R"("height": 0)");
  EXPECT_EQ(e.field(), "images[0].height");

  e = ParseError(R"("iscrowd": 0)", R"("iscrowd": 2)");
  EXPECT_EQ(e.field(), "annotations[0].iscrowd");

  e = ParseError(R"("categories": [)", R"("categories": 5, "x": [)");
  EXPECT_EQ(e.field(), "categories");
  EXPECT_EQ(e.expected(), "an array");

  // Keys evaluation does not use (segmentation, license, ...) are allowed.
  std::string extra = kMinimal;
  extra.replace(extra.find(R"("iscrowd": 0)"), 12, R"("iscrowd": 0, "segmentation": [[1, 2]])");
  EXPECT_EQ(ParseCocoDataset(extra, "instances.json").annotations.size(), 1u);
}

TEST(CocoDataset, RejectsDuplicateIdsAndBadJson) {
  std::string text = kMinimal;
  text.replace(text.find(R"("categories": [)"), 15,
               R"("categories": [{"id": 3, "name": "again"}, )");
  try {
    ParseCocoDataset(text, "x.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "categories[1].id");
  }
  EXPECT_THROW(ParseCocoDataset("{\"images\": [", "x.json"), Error);
  EXPECT_THROW(ParseCocoDataset("[]", "x.json"), Error);
  EXPECT_THROW(ReadCocoDataset("/nonexistent/instances.json"), Error);
}

TEST(CocoResults, RoundTripsExactlyAndValidatesIds) {
  CocoDataset d = ParseCocoDataset(kMinimal, "instances.json");
  std::vector<CocoDetection> dets = {{9, 3, {0.1, 1.0 / 3.0, 2e-7, 123.456789012345}, 0.123456789},
                                     {9, 3, {0, 0, 0, 0}, -0.5}};
  auto path = testing::ScratchDir() / "results.json";
  WriteCocoResults(path, dets);
  EXPECT_EQ(ReadCocoResults(path, d), dets);

  try {
    ParseCocoResults(R"([{"image_id": 9, "category_id": 3, "bbox": [0,0,1,1], "score": 1},
                         {"image_id": 9, "category_id": 0, "bbox": [0,0,1,1], "score": 1}])",
                     "results.json", d);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(
                  "results.json: [1].category_id: expected one of the dataset's 1 category ids, "
                  "found 0",
                  0),
              0u)
        << e.what();
  }
  try {
    ParseCocoResults(R"([{"image_id": 8, "category_id": 3, "bbox": [0,0,1,1], "score": 1}])",
                     "results.json", d);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "[0].image_id");
  }
  try {
    ParseCocoResults(R"([{"image_id": 9, "category_id": 3, "bbox": [0,0,1,1]}])", "results.json",
                     d);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "[0].score");
  }
  EXPECT_THROW(ParseCocoResults("{}", "results.json", d), Error);
}

TEST(CocoDataset, LoadsCoco128) {
  LOCKSTEP_REQUIRE_ASSETS();
  CocoDataset d =
      ReadCocoDataset(LOCKSTEP_ASSET("datasets/coco128/annotations/instances_train2017.json"));
  EXPECT_EQ(d.images.size(), 128u);
  EXPECT_EQ(d.annotations.size(), 939u);
  EXPECT_EQ(d.categories.size(), 80u);
  size_t crowds = 0;
  for (const auto& a : d.annotations) crowds += a.iscrowd;
  EXPECT_EQ(crowds, 10u);
  // The first annotation in the file (checked against the JSON by eye).
  EXPECT_EQ(d.annotations[0].id, 1774);
  EXPECT_EQ(d.annotations[0].image_id, 74);
  EXPECT_EQ(d.annotations[0].bbox, (XywhBox{61.87, 276.25, 296.42, 103.18}));
  EXPECT_EQ(d.annotations[0].area, 18234.62355);
  // Round trip through our writer.
  auto path = testing::ScratchDir() / "instances.json";
  WriteCocoDataset(path, d);
  CocoDataset again = ReadCocoDataset(path);
  ASSERT_EQ(again.annotations.size(), d.annotations.size());
  EXPECT_EQ(again.annotations[938].bbox, d.annotations[938].bbox);
}

}  // namespace
}  // namespace lockstep
