// What `lockstep eval` hands to people: a comparison table of the 12 COCO statistics (one row
// per pipeline spec), the JSON record of every evaluation, and an HTML report with the
// precision–recall curves and per-category AP as SVG.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "lockstep/eval/coco.h"
#include "lockstep/eval/coco_eval.h"

namespace lockstep {

// One spec's evaluation over a dataset.
struct SpecEvaluation {
  std::string label;                 // the spec file's path, or "derived"
  nlohmann::ordered_json spec_json;  // the spec as it ran
  CocoEvalResult result;
};

// The dataset's category names in the order of result.category_ids (empty when not found).
std::vector<std::string> CategoryNames(const CocoEvalResult& result, const CocoDataset& dataset);

// A fixed-width table: one row per evaluation, the 12 stats as percentages with 1 decimal ("-"
// where COCO has nothing to average, its -1).
std::string StatsTable(const std::vector<SpecEvaluation>& evaluations);

// [{"spec", "spec_json", "stats": {AP, AP50, ...} as fractions (-1: nothing to average),
//   "per_category": {name: {"category_id", "AP", "AP50", "AP75"}}}]; categories without ground
// truth are left out of per_category.
nlohmann::ordered_json EvalJson(const std::vector<SpecEvaluation>& evaluations,
                                const CocoDataset& dataset);

// Writes into `dir` (created if needed): spec<i>_pr.svg and spec<i>_ap.svg for each evaluation
// (i from 1), compare_pr.svg (every spec's AP@[.50:.95] curve) when there are several, and
// index.html showing the table and the figures. `heading` names the run (model,
// dataset). Each file is written to a temporary name and renamed.
void WriteEvalReport(const std::filesystem::path& dir,
                     const std::vector<SpecEvaluation>& evaluations, const CocoDataset& dataset,
                     const std::string& heading);

// The stylesheet lockstep's HTML reports share (eval, doctor), so they read as one product.
std::string_view ReportStyle();

}  // namespace lockstep
