#include "lockstep/eval/eval_report.h"
#include "lockstep/core/json_text.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "lockstep/core/atomic_file.h"
#include "lockstep/core/error.h"
#include "lockstep/core/xml_escape.h"
#include "lockstep/eval/pr_curve.h"

namespace lockstep {
namespace {

std::string Percent(double v) {
  if (v <= -1) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", 100 * v);
  return buf;
}

// AP of category k at IoU threshold t (area "all", largest maxDets); -1 without ground truth.
double CategoryApAt(const CocoEvalResult& r, size_t t, size_t k) {
  if (r.A() == 0 || r.M() == 0 || t >= r.T() || r.R() == 0) return -1;
  double sum = 0;
  for (size_t i = 0; i < r.R(); ++i) {
    double p = r.Precision(t, i, k, 0, r.M() - 1);
    if (p <= -1) return -1;
    sum += p;
  }
  return sum / double(r.R());
}

std::optional<size_t> IouIndex(const CocoEvalResult& r, double iou) {
  for (size_t t = 0; t < r.T(); ++t)
    if (r.params.iou_thresholds[t] == iou) return t;
  return std::nullopt;
}

}  // namespace

std::string_view ReportStyle() {
  return "body{font-family:sans-serif;margin:24px;color:#222}\n"
         "table{border-collapse:collapse;margin:12px 0}\n"
         "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}\n"
         "th:first-child,td:first-child{text-align:left}\n"
         "th{background:#f3f3f3}\n.figures{display:flex;flex-wrap:wrap;gap:16px;"
         "align-items:flex-start}\nfigure{margin:0}\n";
}

std::vector<std::string> CategoryNames(const CocoEvalResult& result, const CocoDataset& dataset) {
  std::vector<std::string> names;
  for (int64_t id : result.category_ids) {
    auto it = std::find_if(dataset.categories.begin(), dataset.categories.end(),
                           [id](const CocoCategory& c) { return c.id == id; });
    names.push_back(it == dataset.categories.end() ? "" : it->name);
  }
  return names;
}

std::string StatsTable(const std::vector<SpecEvaluation>& evaluations) {
  size_t label_width = 4;
  for (const auto& e : evaluations) label_width = std::max(label_width, e.label.size());
  std::ostringstream s;
  char cell[64];
  std::snprintf(cell, sizeof cell, "%-*s", int(label_width), "spec");
  s << cell;
  for (const char* name : kCocoStatNames) {
    std::snprintf(cell, sizeof cell, " %6s", name);
    s << cell;
  }
  s << '\n';
  for (const auto& e : evaluations) {
    s << e.label << std::string(label_width - e.label.size(), ' ');
    for (double v : e.result.stats) {
      std::snprintf(cell, sizeof cell, " %6s", Percent(v).c_str());
      s << cell;
    }
    s << '\n';
  }
  return s.str();
}

nlohmann::ordered_json EvalJson(const std::vector<SpecEvaluation>& evaluations,
                                const CocoDataset& dataset) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& e : evaluations) {
    const CocoEvalResult& r = e.result;
    nlohmann::ordered_json stats = nlohmann::ordered_json::object();
    for (size_t i = 0; i < kCocoStatNames.size(); ++i) stats[kCocoStatNames[i]] = r.stats[i];
    nlohmann::ordered_json per_category = nlohmann::ordered_json::object();
    std::vector<std::string> names = CategoryNames(r, dataset);
    auto t50 = IouIndex(r, 0.5), t75 = IouIndex(r, 0.75);
    for (size_t k = 0; k < r.K(); ++k) {
      double ap = k < r.category_ap.size() ? r.category_ap[k] : -1;
      if (ap <= -1) continue;
      std::string key = names[k].empty() ? std::to_string(r.category_ids[k]) : names[k];
      per_category[key] = {{"category_id", r.category_ids[k]},
                           {"AP", ap},
                           {"AP50", t50 ? CategoryApAt(r, *t50, k) : -1.0},
                           {"AP75", t75 ? CategoryApAt(r, *t75, k) : -1.0}};
    }
    out.push_back({{"spec", e.label},
                   {"spec_json", e.spec_json},
                   {"stats", stats},
                   {"per_category", per_category}});
  }
  return out;
}

void WriteEvalReport(const std::filesystem::path& dir,
                     const std::vector<SpecEvaluation>& evaluations, const CocoDataset& dataset,
                     const std::string& heading) {
  CreateOutputFolder(dir, "--report");

  std::ostringstream html;
  html << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       << "<title>lockstep eval: " << XmlEscape(heading) << "</title>\n"
       << "<style>\n"
       << ReportStyle() << "</style>\n</head>\n<body>\n"
       << "<h1>lockstep eval</h1>\n<p>" << XmlEscape(heading) << "</p>\n"
       << "<h2>COCO box statistics (%)</h2>\n<table>\n<tr><th>spec</th>";
  for (const char* name : kCocoStatNames) html << "<th>" << name << "</th>";
  html << "</tr>\n";
  for (const auto& e : evaluations) {
    html << "<tr><td>" << XmlEscape(e.label) << "</td>";
    for (double v : e.result.stats) html << "<td>" << Percent(v) << "</td>";
    html << "</tr>\n";
  }
  html << "</table>\n<p>AP: AP@[.50:.95], area all, 100 detections per image; APs/APm/APl by "
          "object area (&lt;32², 32²–96², &gt;96² pixels); AR1/AR10/AR100: recall with at most "
          "1/10/100 detections per image. \"-\": nothing to average.</p>\n";

  if (evaluations.size() > 1) {
    // The specs side by side: each one's AP@[.50:.95] curve on one chart.
    std::vector<PrCurve> curves;
    for (size_t i = 0; i < evaluations.size(); ++i) {
      PrCurve c = MeanPrCurve(evaluations[i].result, std::nullopt, "");
      c.label = "spec " + std::to_string(i + 1) + "  AP " + Percent(evaluations[i].result.stats[0]);
      curves.push_back(std::move(c));
    }
    PlotFrame frame;
    frame.svg_width = 680;
    WriteFileAtomically(dir / "compare_pr.svg",
                        PrCurvesSvg(curves, "Precision–recall, IoU 0.50:0.95, all specs", frame));
    html << "<h2>All specs</h2>\n<figure><img src=\"compare_pr.svg\" alt=\"precision-recall "
            "curves of every spec\"></figure>\n";
  }

  for (size_t i = 0; i < evaluations.size(); ++i) {
    const SpecEvaluation& e = evaluations[i];
    std::string stem = "spec" + std::to_string(i + 1);
    std::string title = "spec " + std::to_string(i + 1) + ": " + e.label;
    std::string pr = PrCurvesSvg(e.result, "Precision–recall, " + title);
    std::string ap =
        CategoryApSvg(e.result, CategoryNames(e.result, dataset), "AP per category, " + title);
    WriteFileAtomically(dir / (stem + "_pr.svg"), pr);
    WriteFileAtomically(dir / (stem + "_ap.svg"), ap);
    html << "<h2>" << XmlEscape(title) << "</h2>\n<div class=\"figures\">\n"
         << "<figure><img src=\"" << stem << "_pr.svg\" alt=\"precision-recall curves\">"
         << "</figure>\n<figure><img src=\"" << stem << "_ap.svg\" alt=\"AP per category\">"
         << "</figure>\n</div>\n<details><summary>spec</summary><pre>"
         << XmlEscape(JsonText(e.spec_json, 2)) << "</pre></details>\n";
  }
  html << "</body>\n</html>\n";
  WriteFileAtomically(dir / "index.html", html.str());
}

}  // namespace lockstep
