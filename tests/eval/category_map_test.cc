// Class index → COCO category id: the 90-slot COCO label map with gaps and an 80-class list both
// map onto COCO128's 80 categories by name; every mismatch is an Error naming both sides.
#include "lockstep/eval/category_map.h"

#include <gtest/gtest.h>

#include <functional>

#include "lockstep/core/error.h"
#include "lockstep/detect/detector.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

const char* kCoco128 = "datasets/coco128/annotations/instances_train2017.json";

std::string Message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(CategoryMap, NinetySlotLabelsWithGapsMapByName) {
  LOCKSTEP_REQUIRE_ASSETS();
  const CocoDataset data = ReadCocoDataset(LOCKSTEP_ASSET(kCoco128));
  ASSERT_EQ(data.categories.size(), 80u);
  for (const char* file : {"labels/coco_labels.txt", "labels/coco_labelmap_tflite_support.txt"}) {
    SCOPED_TRACE(file);
    const CategoryMap map =
        CategoryMapByName(ReadLabelFile(LOCKSTEP_ASSET(file)), data.categories, file, "coco128");
    ASSERT_EQ(map.category_ids.size(), 90u);
    EXPECT_EQ(map.CategoryOf(0), 1);              // person
    EXPECT_EQ(map.CategoryOf(2), 3);              // car
    EXPECT_EQ(map.CategoryOf(11), std::nullopt);  // n/a / ???
    EXPECT_EQ(map.CategoryOf(12), 13);            // stop sign
    EXPECT_EQ(map.CategoryOf(24), 25);            // giraffe
    EXPECT_EQ(map.CategoryOf(89), 90);            // toothbrush
    EXPECT_EQ(map.CategoryOf(90), std::nullopt);
    EXPECT_EQ(map.CategoryOf(-1), std::nullopt);
    // In the 90-slot map the category id is always the index + 1.
    for (int i = 0; i < 90; ++i) {
      if (auto id = map.CategoryOf(i)) {
        EXPECT_EQ(*id, i + 1);
      }
    }
    EXPECT_NE(map.rule.find("80 of 90 labels matched, 10 placeholder gaps"), std::string::npos)
        << map.rule;
  }
}

TEST(CategoryMap, EightyContiguousClassesMapOntoSparseIds) {
  LOCKSTEP_REQUIRE_ASSETS();
  const CocoDataset data = ReadCocoDataset(LOCKSTEP_ASSET(kCoco128));
  // YOLO's 80 classes in COCO order: index 11 is stop sign (category 13), 79 toothbrush (90).
  std::vector<std::string> labels;
  for (const std::string& l : ReadLabelFile(LOCKSTEP_ASSET("labels/coco_labels.txt")))
    if (!IsPlaceholderLabel(l)) labels.push_back(l);
  ASSERT_EQ(labels.size(), 80u);
  const CategoryMap map = CategoryMapByName(labels, data.categories, "yolo", "coco128");
  EXPECT_EQ(map.CategoryOf(0), 1);
  EXPECT_EQ(map.CategoryOf(11), 13);
  EXPECT_EQ(map.CategoryOf(79), 90);
  // The naive offset would shift every class after the first gap: refused, naming both sides.
  const std::string msg =
      Message([&] { CategoryMapByOffset(80, 1, labels, data.categories, "coco128"); });
  EXPECT_NE(msg.find("coco128"), std::string::npos) << msg;
  EXPECT_NE(msg.find("class 11 → 12 ('stop sign')"), std::string::npos) << msg;
  // With the 90 labels (placeholders at the gaps) the offset is right.
  const CategoryMap by_offset = CategoryMapByOffset(
      90, 1, ReadLabelFile(LOCKSTEP_ASSET("labels/coco_labels.txt")), data.categories, "coco128");
  EXPECT_EQ(by_offset.CategoryOf(12), 13);
  EXPECT_EQ(by_offset.CategoryOf(11), std::nullopt);
}

TEST(CategoryMap, MismatchesAreErrorsNamingBothSides) {
  const std::vector<CocoCategory> cats = {{1, "person"}, {2, "bicycle"}, {3, "car"}};
  // A label of another dataset (VOC's "tvmonitor", "motorbike").
  std::string msg = Message([&] {
    CategoryMapByName({"person", "motorbike", "tvmonitor"}, cats, "voc.txt", "ann.json");
  });
  EXPECT_NE(msg.find("voc.txt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ann.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'motorbike' (class 1)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 of 3"), std::string::npos) << msg;
  // Names compare without case and surrounding spaces.
  EXPECT_EQ(CategoryMapByName({" Person", "CAR"}, cats, "l", "a").CategoryOf(1), 3);
  // Two classes naming one category.
  EXPECT_NE(Message([&] {
              CategoryMapByName({"car", "car"}, cats, "l", "a");
            }).find("also at class 0"),
            std::string::npos);
  EXPECT_NE(Message([&] { CategoryMapByName({"n/a", "???"}, cats, "l", "a"); }), "no error");
  EXPECT_NE(Message([&] { CategoryMapByName({}, cats, "l", "a"); }), "no error");
  EXPECT_NE(Message([&] { CategoryMapByName({"car"}, {}, "l", "a"); }), "no error");
  // Explicit ids: each must exist, once; -1 is a gap.
  const CategoryMap ids = CategoryMapFromIds({3, -1, 1}, cats, "--category-ids", "a");
  EXPECT_EQ(ids.CategoryOf(0), 3);
  EXPECT_EQ(ids.CategoryOf(1), std::nullopt);
  msg = Message([&] { CategoryMapFromIds({1, 7}, cats, "--category-ids", "ann.json"); });
  EXPECT_NE(msg.find("--category-ids: category ids[1]"), std::string::npos) << msg;
  EXPECT_NE(msg.find("found 7"), std::string::npos) << msg;
  EXPECT_NE(Message([&] { CategoryMapFromIds({1, 1}, cats, "x", "a"); }), "no error");
  EXPECT_NE(Message([&] { CategoryMapByOffset(3, 2, {}, cats, "a"); }), "no error");  // id 4
  EXPECT_EQ(CategoryMapByOffset(3, 0, {}, {{0, "a"}, {1, "b"}, {2, "c"}}, "a").CategoryOf(2), 2);
}

TEST(CategoryMap, Placeholders) {
  for (const char* p : {"", "n/a", "???", " N/A ", "background", "__background__"})
    EXPECT_TRUE(IsPlaceholderLabel(p)) << p;
  for (const char* p : {"person", "na", "?"}) EXPECT_FALSE(IsPlaceholderLabel(p)) << p;
}

}  // namespace
}  // namespace lockstep
