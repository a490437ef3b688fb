// Precision–recall curves and per-category AP drawn as self-contained SVG text (no scripts, no
// external fonts or files), so a report can write them as files or embed them inline.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lockstep/eval/coco_eval.h"

namespace lockstep {

// One curve: precision at each of the evaluation's recall thresholds (same length).
struct PrCurve {
  std::string label;
  std::vector<double> recall;
  std::vector<double> precision;
};

// The mean precision over categories at each recall threshold, for area "all" and the largest
// maxDets, as COCO's summary averages it: categories without ground truth (-1) are left out.
// `iou_index` picks one IoU threshold; nullopt averages over all of them (the AP@[.5:.95]
// curve, whose mean over recall is stats[0]). Empty when no category has ground truth.
PrCurve MeanPrCurve(const CocoEvalResult& result, std::optional<size_t> iou_index,
                    const std::string& label);

// Where a chart puts its plot area (pixels from the SVG's top-left corner) and how a value in
// [0,1] lands on it: x = left + recall·width, y = top + (1 − precision)·height.
struct PlotFrame {
  double svg_width = 640, svg_height = 460;
  double left = 70, top = 50, width = 440, height = 360;
  double X(double recall) const { return left + recall * width; }
  double Y(double precision) const { return top + (1 - precision) * height; }
};

// Curves on recall (x) and precision (y) axes from 0 to 1 with ticks every 0.1, axis labels, a
// title and a legend; each curve is one <polyline> with class "pr-curve" and its points in
// PlotFrame coordinates (2 decimals).
std::string PrCurvesSvg(const std::vector<PrCurve>& curves, const std::string& title,
                        const PlotFrame& frame = {});

// The three curves a COCO summary rests on: IoU 0.5, IoU 0.75 and the mean over 0.5:0.95,
// each labelled with its AP.
std::string PrCurvesSvg(const CocoEvalResult& result, const std::string& title);

// Per-category AP@[.5:.95] as horizontal bars, highest first; categories without ground truth
// are left out and counted in the caption. `names[k]` labels category_ids[k] (empty: the id).
std::string CategoryApSvg(const CocoEvalResult& result, const std::vector<std::string>& names,
                          const std::string& title);

}  // namespace lockstep
