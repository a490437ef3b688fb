// COCO box evaluation with pycocotools' COCOeval semantics (iouType "bbox"), reproduced step by
// step: per-image greedy matching, accumulation into precision/recall arrays, the 12 summary
// statistics. The same detections give the same numbers as pycocotools, ties included.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "lockstep/eval/coco.h"

namespace lockstep {

struct AreaRange {
  std::string label;
  double min = 0, max = 0;  // inclusive on both ends, compared with the annotation's area
};

struct CocoEvalParams {
  // np.linspace(.5, .95, 10) and np.linspace(0, 1, 101): i * step + start, not .05 * i sums.
  std::vector<double> iou_thresholds = DefaultIouThresholds();
  std::vector<double> recall_thresholds = DefaultRecallThresholds();
  std::vector<int> max_dets = {1, 10, 100};  // ascending; the last one cuts each image
  std::vector<AreaRange> area_ranges = {{"all", 0, 1e5 * 1e5},
                                        {"small", 0, 32 * 32},
                                        {"medium", 32 * 32, 96 * 96},
                                        {"large", 96 * 96, 1e5 * 1e5}};

  static std::vector<double> DefaultIouThresholds();
  static std::vector<double> DefaultRecallThresholds();
};

// The names of CocoEvalResult::stats, in order.
inline constexpr std::array<const char*, 12> kCocoStatNames = {
    "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};

struct CocoEvalResult {
  CocoEvalParams params;
  std::vector<int64_t> category_ids;  // ascending: the K axis of the arrays below
  // precision[T][R][K][A][M] and recall[T][K][A][M], row-major; -1 where a category has no
  // (non-ignored) ground truth for that area range.
  std::vector<double> precision;
  std::vector<double> recall;
  // AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl; -1 when nothing to average.
  std::array<double, 12> stats{};
  // AP@[.5:.95] per category (area "all", the largest maxDets), -1 when it has no ground truth.
  std::vector<double> category_ap;

  size_t T() const { return params.iou_thresholds.size(); }
  size_t R() const { return params.recall_thresholds.size(); }
  size_t K() const { return category_ids.size(); }
  size_t A() const { return params.area_ranges.size(); }
  size_t M() const { return params.max_dets.size(); }
  double Precision(size_t t, size_t r, size_t k, size_t a, size_t m) const {
    return precision[(((t * R() + r) * K() + k) * A() + a) * M() + m];
  }
  double Recall(size_t t, size_t k, size_t a, size_t m) const {
    return recall[((t * K() + k) * A() + a) * M() + m];
  }
};

// pycocotools' maskApi bbIou for one pair: xywh, no +1; for a crowd ground truth the union is
// the detection's own area (a detection inside a crowd region overlaps it fully).
double BoxIou(const XywhBox& detection, const XywhBox& ground_truth, bool crowd);

// evaluate() + accumulate() + summarize(). Detections must name the dataset's images and
// categories (ValidateDetections, with `source` naming them in the error).
CocoEvalResult EvaluateBoxes(const CocoDataset& dataset,
                             const std::vector<CocoDetection>& detections,
                             const CocoEvalParams& params = {},
                             const std::string& source = "detections");

}  // namespace lockstep
