// COCOeval bbox semantics on small cases whose expected values are worked out by hand in the
// comments. Precision is tp / (tp + fp + eps) with eps = 2^-52, so "1" is 1 / (1 + eps) and the
// comparisons allow 1e-12.
#include "lockstep/eval/coco_eval.h"

#include <gtest/gtest.h>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

constexpr double kTol = 1e-12;
enum Stat { kAP, kAP50, kAP75, kAPs, kAPm, kAPl, kAR1, kAR10, kAR100, kARs, kARm, kARl };

CocoAnnotation Gt(int64_t id, int64_t image, int64_t category, XywhBox box, bool crowd = false,
                  double area = -1) {
  return {id, image, category, box, area < 0 ? box.width * box.height : area, crowd};
}

CocoDataset Dataset(std::vector<int64_t> images, std::vector<int64_t> categories,
                    std::vector<CocoAnnotation> annotations) {
  CocoDataset d;
  for (int64_t id : images) d.images.push_back({id, std::to_string(id) + ".jpg", 640, 480});
  for (int64_t id : categories) d.categories.push_back({id, "category " + std::to_string(id)});
  d.annotations = std::move(annotations);
  return d;
}

void ExpectStats(const CocoEvalResult& r, const std::array<double, 12>& expected) {
  for (size_t i = 0; i < 12; ++i) EXPECT_NEAR(r.stats[i], expected[i], kTol) << kCocoStatNames[i];
}

TEST(CocoEvalParams, ThresholdsAreNumpyLinspaceValues) {
  // np.linspace(.5, .95, 10).hex(): i * 0.05 + .5 computed in doubles, not the decimal values.
  const char* hex[] = {"0x1.0000000000000p-1", "0x1.199999999999ap-1", "0x1.3333333333333p-1",
                       "0x1.4cccccccccccdp-1", "0x1.6666666666666p-1", "0x1.8000000000000p-1",
                       "0x1.999999999999ap-1", "0x1.b333333333333p-1", "0x1.cccccccccccccp-1",
                       "0x1.e666666666666p-1"};
  auto iou = CocoEvalParams::DefaultIouThresholds();
  ASSERT_EQ(iou.size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(iou[i], std::strtod(hex[i], nullptr)) << i;
  EXPECT_NE(iou[8], 0.9);   // 0.8999999999999999: what an IoU of exactly .9 is compared with
  EXPECT_EQ(iou[5], 0.75);  // summarize() finds AP75 by equality
  auto rec = CocoEvalParams::DefaultRecallThresholds();
  ASSERT_EQ(rec.size(), 101u);
  for (size_t i = 0; i < 101; ++i) EXPECT_EQ(rec[i], double(i) * 0.01) << i;
}

TEST(BoxIou, MaskApiBbIou) {
  EXPECT_DOUBLE_EQ(BoxIou({0, 0, 10, 10}, {0, 0, 10, 10}, false), 1.0);
  EXPECT_DOUBLE_EQ(BoxIou({0, 0, 10, 10}, {5, 0, 10, 10}, false), 50.0 / 150.0);  // no +1
  EXPECT_EQ(BoxIou({0, 0, 10, 10}, {10, 0, 10, 10}, false), 0.0);                 // touching edges
  // Crowd: union is the detection's area, so a box inside a crowd region has IoU 1.
  EXPECT_DOUBLE_EQ(BoxIou({55, 55, 10, 10}, {50, 50, 40, 40}, true), 1.0);
  EXPECT_DOUBLE_EQ(BoxIou({55, 55, 10, 10}, {50, 50, 40, 40}, false), 100.0 / 1600.0);
  // Half outside the crowd region: 50 / 100.
  EXPECT_DOUBLE_EQ(BoxIou({85, 55, 10, 10}, {50, 50, 40, 40}, true), 0.5);
}

// One small (10x10), one medium (50x50) and one large (100x100) object, found exactly.
TEST(CocoEval, PerfectDetectionsScoreOne) {
  auto d = Dataset({1, 2}, {1, 2},
                   {Gt(1, 1, 1, {0, 0, 10, 10}), Gt(2, 1, 2, {100, 100, 50, 50}),
                    Gt(3, 2, 1, {0, 0, 100, 100})});
  std::vector<CocoDetection> dets = {
      {1, 1, {0, 0, 10, 10}, .9}, {1, 2, {100, 100, 50, 50}, .8}, {2, 1, {0, 0, 100, 100}, .7}};
  auto r = EvaluateBoxes(d, dets);
  ExpectStats(r, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  EXPECT_NEAR(r.category_ap[0], 1, kTol);
  EXPECT_NEAR(r.category_ap[1], 1, kTol);
}

TEST(CocoEval, EmptyResultsAreZeroAndAbsentRangesMinusOne) {
  // No large object: for "large" every category has npig == 0, so APl = ARl = -1; elsewhere the
  // categories with ground truth have precision 0 and recall 0. Category 3 has none: -1.
  auto d = Dataset({1}, {1, 2, 3}, {Gt(1, 1, 1, {0, 0, 10, 10}), Gt(2, 1, 2, {100, 100, 50, 50})});
  auto r = EvaluateBoxes(d, {});
  ExpectStats(r, {0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, -1});
  EXPECT_EQ(r.category_ap, (std::vector<double>{0, 0, -1}));
  EXPECT_EQ(r.Precision(0, 0, 2, 0, 2), -1);
  EXPECT_EQ(r.Recall(0, 0, 0, 2), 0);
  EXPECT_EQ(r.Recall(0, 2, 0, 2), -1);
}

TEST(CocoEval, DetectionsOnACrowdRegionAreIgnoredNotFalsePositives) {
  // Regular gt A and a crowd region C. Two detections inside C (IoU 1 by the crowd rule) score
  // higher than the hit on A. Were they false positives: [FP, FP, TP] -> precision .33 at
  // every recall. Ignored, only the TP counts: AP 1. The crowd is not in the recall denominator.
  auto d = Dataset({1}, {1},
                   {Gt(1, 1, 1, {0, 0, 10, 10}), Gt(2, 1, 1, {50, 50, 40, 40}, /*crowd=*/true)});
  std::vector<CocoDetection> dets = {
      {1, 1, {55, 55, 10, 10}, .95}, {1, 1, {60, 60, 10, 10}, .96}, {1, 1, {0, 0, 10, 10}, .9}};
  auto r = EvaluateBoxes(d, dets);
  EXPECT_NEAR(r.stats[kAP], 1, kTol);
  EXPECT_NEAR(r.stats[kAR100], 1, kTol);
  // AR1: the single kept detection is the top one, on the crowd: recall 0.
  EXPECT_NEAR(r.stats[kAR1], 0, kTol);

  // Same boxes with C not a crowd: both crowd-region boxes are now FPs (IoU 100/1600 with C).
  d.annotations[1].iscrowd = false;
  auto plain = EvaluateBoxes(d, dets);
  // recall 1/2 reached at the third detection with precision 1/3; C itself never found.
  // rc = [0, 0, .5], pr = [0, 0, 1/3] -> 1/3 for r in 0..0.5 (51 of 101 thresholds).
  EXPECT_NEAR(plain.stats[kAP], 51.0 / 101.0 / 3.0, kTol);
}

TEST(CocoEval, SecondDetectionOfAnObjectIsAFalsePositive) {
  // gt [0,0,10,10]. d2 = [0,0,10,9] (IoU 90/100 = .9) scores .9; d1 = exact scores .8.
  // t <= .9 (9 thresholds; the 9th is 0.8999999999999999 <= .9): d2 TP, d1 FP, the object is
  //   taken -> rc [1,1], pr [1,.5] -> AP_t = 1.
  // t = .95: d2 misses -> FP; d1 TP -> rc [0,1], pr [0,.5] -> envelope .5 -> AP_t = .5.
  auto d = Dataset({1}, {1}, {Gt(1, 1, 1, {0, 0, 10, 10})});
  std::vector<CocoDetection> dets = {{1, 1, {0, 0, 10, 10}, .8}, {1, 1, {0, 0, 10, 9}, .9}};
  auto r = EvaluateBoxes(d, dets);
  EXPECT_NEAR(r.stats[kAP], (9 * 1 + .5) / 10, kTol);
  EXPECT_NEAR(r.stats[kAP50], 1, kTol);
  EXPECT_NEAR(r.stats[kAP75], 1, kTol);
  EXPECT_NEAR(r.stats[kAR100], 1, kTol);
  EXPECT_NEAR(r.stats[kAR1], .9, kTol);  // only d2 kept: found at 9 of 10 thresholds
  EXPECT_NEAR(r.Precision(9, 0, 0, 0, 2), .5, kTol);
  EXPECT_NEAR(r.Precision(8, 100, 0, 0, 2), 1, kTol);
}

TEST(CocoEval, ScoreTiesKeepImageIdThenFileOrder) {
  // Images listed as [2, 1]; one object in each; every score .5. File order: d0 (image 2, TP),
  // d1 (image 1, FP), d2 (image 1, TP). Per image ties keep file order: image 1 -> [d1, d2].
  // Accumulation concatenates images by ascending id and mergesorts (stable):
  //   [d1 FP, d2 TP, d0 TP] -> rc [0,.5,1], pr [0,.5,2/3] -> envelope 2/3 everywhere: AP 2/3.
  // (Image 2 first, or an unstable sort putting a TP first, would give (51 + 50*2/3)/101.)
  auto d = Dataset({2, 1}, {1}, {Gt(1, 1, 1, {0, 0, 10, 10}), Gt(2, 2, 1, {0, 0, 10, 10})});
  std::vector<CocoDetection> dets = {
      {2, 1, {0, 0, 10, 10}, .5}, {1, 1, {50, 50, 10, 10}, .5}, {1, 1, {0, 0, 10, 10}, .5}};
  auto r = EvaluateBoxes(d, dets);
  EXPECT_NEAR(r.stats[kAP], 2.0 / 3.0, kTol);

  // Within one image too: [FP, TP] in file order vs [TP, FP].
  auto one = Dataset({1}, {1}, {Gt(1, 1, 1, {0, 0, 10, 10})});
  auto fp_first = EvaluateBoxes(one, {{1, 1, {50, 50, 10, 10}, .5}, {1, 1, {0, 0, 10, 10}, .5}});
  EXPECT_NEAR(fp_first.stats[kAP], .5, kTol);  // rc [0,1], pr [0,.5]
  auto tp_first = EvaluateBoxes(one, {{1, 1, {0, 0, 10, 10}, .5}, {1, 1, {50, 50, 10, 10}, .5}});
  EXPECT_NEAR(tp_first.stats[kAP], 1, kTol);
  // maxDets 1 keeps the first of the tie in file order.
  EXPECT_NEAR(fp_first.stats[kAR1], 0, kTol);
  EXPECT_NEAR(tp_first.stats[kAR1], 1, kTol);
}

TEST(CocoEval, AreaRangesUseTheAnnotationAreaAndIgnoreOutOfRangeDetections) {
  // S: box 40x40 but annotation area 900 -> small (by box it would be medium).
  // M: area 2500 (medium), never detected. L: 100x100 = 10000 (large).
  // Detections: F = 5x5 false positive (.95), dS = S's box (.9, box area 1600), dL (.8).
  auto d = Dataset({1}, {1},
                   {Gt(1, 1, 1, {0, 0, 40, 40}, false, 900), Gt(2, 1, 1, {100, 0, 50, 50}),
                    Gt(3, 1, 1, {200, 200, 100, 100})});
  std::vector<CocoDetection> dets = {
      {1, 1, {500, 400, 5, 5}, .95}, {1, 1, {0, 0, 40, 40}, .9}, {1, 1, {200, 200, 100, 100}, .8}};
  auto r = EvaluateBoxes(d, dets);
  // all: [F, dS, dL] = [FP, TP, TP], npig 3 -> rc [0,1/3,2/3], pr [0,1/2,2/3] -> envelope 2/3
  //   for r <= 2/3 (r = 0..0.66: 67 thresholds), 0 beyond: AP = 67/101 * 2/3.
  EXPECT_NEAR(r.stats[kAP], 67.0 / 101.0 * 2.0 / 3.0, kTol);
  // small: M, L ignored. F (area 25) is in range: FP. dS matched to S: TP even though its own
  //   box area 1600 is outside [0, 1024]. dL matched to the ignored L: ignored.
  //   rc [0,1,1], pr [0,.5,.5] -> APs = .5, ARs = 1.
  EXPECT_NEAR(r.stats[kAPs], .5, kTol);
  EXPECT_NEAR(r.stats[kARs], 1, kTol);
  // medium: S (900) and L ignored; F unmatched and outside range: ignored; dS, dL matched to
  //   ignored gts: ignored. M is never found: APm = ARm = 0.
  EXPECT_NEAR(r.stats[kAPm], 0, kTol);
  EXPECT_NEAR(r.stats[kARm], 0, kTol);
  // large: F ignored (area 25 outside), dS matched to ignored S, dL TP -> rc [0,0,1] with the
  //   first two not counted: precision 1 everywhere.
  EXPECT_NEAR(r.stats[kAPl], 1, kTol);
  EXPECT_NEAR(r.stats[kARl], 1, kTol);
  EXPECT_NEAR(r.stats[kAR100], 2.0 / 3.0, kTol);
  EXPECT_NEAR(r.stats[kAR10], 2.0 / 3.0, kTol);
  EXPECT_NEAR(r.stats[kAR1], 0, kTol);  // only F kept

  // Area bounds are inclusive: an object of area exactly 32^2 is both small and medium.
  auto edge = Dataset({1}, {1}, {Gt(1, 1, 1, {0, 0, 32, 32})});
  auto e = EvaluateBoxes(edge, {{1, 1, {0, 0, 32, 32}, .5}});
  EXPECT_NEAR(e.stats[kAPs], 1, kTol);
  EXPECT_NEAR(e.stats[kAPm], 1, kTol);
  EXPECT_EQ(e.stats[kAPl], -1);
}

TEST(CocoEval, MaxDetsCutEachImage) {
  // 12 separate objects in one image, each found exactly, scores descending.
  std::vector<CocoAnnotation> gts;
  std::vector<CocoDetection> dets;
  for (int i = 0; i < 12; ++i) {
    gts.push_back(Gt(i + 1, 1, 1, {i * 50.0, 0, 40, 40}));
    dets.push_back({1, 1, {i * 50.0, 0, 40, 40}, 1.0 - i * 0.05});
  }
  auto r = EvaluateBoxes(Dataset({1}, {1}, gts), dets);
  EXPECT_NEAR(r.stats[kAR1], 1.0 / 12, kTol);
  EXPECT_NEAR(r.stats[kAR10], 10.0 / 12, kTol);
  EXPECT_NEAR(r.stats[kAR100], 1, kTol);
  EXPECT_NEAR(r.stats[kAP], 1, kTol);
  // maxDets 10: rc reaches 10/12 = .8333 -> thresholds 0..0.83 (84 of 101) keep precision 1.
  EXPECT_NEAR(r.Precision(0, 83, 0, 0, 1), 1, kTol);
  EXPECT_EQ(r.Precision(0, 84, 0, 0, 1), 0);
}

TEST(CocoEval, AbsentCategoriesAreMinusOneAndLeftOutOfTheMean) {
  // Category 1: one object found. Category 2: nothing. Category 3: no ground truth but a
  // detection (E is not empty, npig is 0): still -1, and AP is the mean over category 1 only.
  auto d = Dataset({1}, {1, 2, 3}, {Gt(1, 1, 1, {0, 0, 10, 10})});
  auto r = EvaluateBoxes(d, {{1, 1, {0, 0, 10, 10}, .9}, {1, 3, {50, 50, 10, 10}, .99}});
  EXPECT_NEAR(r.stats[kAP], 1, kTol);
  EXPECT_NEAR(r.category_ap[0], 1, kTol);
  EXPECT_EQ(r.category_ap[1], -1);
  EXPECT_EQ(r.category_ap[2], -1);
  EXPECT_EQ(r.Recall(0, 2, 0, 2), -1);
  EXPECT_EQ(r.stats[kAPm], -1);  // no medium object in any category
}

TEST(CocoEval, PrecisionIsInterpolatedFromTheRight) {
  // Two objects; [FP .95, TP .9, TP .8] -> rc [0,.5,1], pr [0,1/2,2/3].
  // Envelope [2/3, 2/3, 2/3]: every recall threshold reads 2/3 -> AP 2/3. Without the
  // envelope it would be (0 + 50 * .5 + 50 * 2/3) / 101 = .5775.
  auto d = Dataset({1}, {1}, {Gt(1, 1, 1, {0, 0, 10, 10}), Gt(2, 1, 1, {50, 0, 10, 10})});
  auto r = EvaluateBoxes(
      d,
      {{1, 1, {200, 200, 10, 10}, .95}, {1, 1, {0, 0, 10, 10}, .9}, {1, 1, {50, 0, 10, 10}, .8}});
  EXPECT_NEAR(r.stats[kAP], 2.0 / 3.0, kTol);
  EXPECT_NEAR(r.Precision(0, 0, 0, 0, 2), 2.0 / 3.0, kTol);    // r = 0 -> index 0 (rc 0)
  EXPECT_NEAR(r.Precision(0, 50, 0, 0, 2), 2.0 / 3.0, kTol);   // r = .5 -> index 1
  EXPECT_NEAR(r.Precision(0, 100, 0, 0, 2), 2.0 / 3.0, kTol);  // r = 1 -> index 2
}

TEST(CocoEval, AMatchToAnnotationIdZeroCountsAsNoMatchLikePycocotools) {
  // pycocotools stores the matched gt's id in dtMatches and tests it for truth: a detection
  // matched to annotation id 0 is a false positive, and the object still counts as taken.
  auto d = Dataset({1}, {1}, {Gt(0, 1, 1, {0, 0, 10, 10})});
  auto r = EvaluateBoxes(d, {{1, 1, {0, 0, 10, 10}, .9}, {1, 1, {0, 0, 10, 10}, .8}});
  EXPECT_EQ(r.stats[kAP], 0);
  EXPECT_EQ(r.stats[kAR100], 0);
  d.annotations[0].id = 1;
  EXPECT_NEAR(EvaluateBoxes(d, {{1, 1, {0, 0, 10, 10}, .9}}).stats[kAP], 1, kTol);
}

TEST(CocoEval, RejectsDetectionsOutsideTheDataset) {
  auto d = Dataset({1}, {1, 2}, {Gt(1, 1, 1, {0, 0, 10, 10})});
  try {
    EvaluateBoxes(d, {{1, 1, {0, 0, 1, 1}, .5}, {1, 0, {0, 0, 1, 1}, .5}}, {}, "results.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), "results.json");
    EXPECT_EQ(e.field(), "[1].category_id");
    EXPECT_EQ(e.expected(), "one of the dataset's 2 category ids");
    EXPECT_EQ(e.found(), "0");
  }
  try {
    EvaluateBoxes(d, {{7, 1, {0, 0, 1, 1}, .5}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "[0].image_id");
    EXPECT_EQ(e.found(), "7");
  }
}

}  // namespace
}  // namespace lockstep
