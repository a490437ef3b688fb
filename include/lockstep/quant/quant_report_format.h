// A QuantReport for people and programs: a terminal table of the worst layers, JSON, and an HTML
// page with the SNR of every layer in graph order as an inline SVG chart, jumps marked.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "lockstep/quant/quant_report.h"

namespace lockstep {

// A summary and the `max_rows` worst layers (lowest SNR), at most max_rows + 8 lines.
std::string QuantReportTable(const QuantReport& report, size_t max_rows = 30);

// {"model", "spec", "inputs", "jump_threshold_db", "dropped_ops", "notes", "float_model",
//  "float_paired", "layers": [{"tensor", "name", "op_index", "op", "shape", "scale",
//  "zero_point", "num_elements", "stddev", "mean_error", "max_abs_error", "mean_squared_error",
//  "rmse", "rmse_over_scale", "worst_abs_error", "snr_db", "inherited_snr_db", "snr_drop_db",
//  "jump", "vs_float": {...}, "shadow_vs_float": {...}}]}. Infinite values (exact tensors) are
// null.
nlohmann::ordered_json QuantReportJson(const QuantReport& report);

// SNR per layer in graph order: one polyline (and a second for the real float model when there
// is one), jumps as red circles with class "jump".
std::string LayerSnrSvg(const QuantReport& report);

// A self-contained page: summary, the chart, and the table of every layer.
std::string QuantReportHtml(const QuantReport& report);

}  // namespace lockstep
