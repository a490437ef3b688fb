#include "lockstep/eval/pr_curve.h"
#include "lockstep/core/xml_escape.h"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <sstream>

namespace lockstep {
namespace {

// Colour-blind-safe (Okabe–Ito) line colours.
constexpr const char* kColors[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                   "#E69F00", "#56B4E9", "#000000"};

std::string Fixed(double v, int decimals = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string SvgOpen(double width, double height) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Fixed(width, 0) + "\" height=\"" +
         Fixed(height, 0) + "\" viewBox=\"0 0 " + Fixed(width, 0) + " " + Fixed(height, 0) +
         "\" font-family=\"sans-serif\" font-size=\"12\">\n" + "<rect x=\"0\" y=\"0\" width=\"" +
         Fixed(width, 0) + "\" height=\"" + Fixed(height, 0) + "\" fill=\"#ffffff\"/>\n";
}

std::string Text(double x, double y, const std::string& text, const std::string& extra = "") {
  return "<text x=\"" + Fixed(x) + "\" y=\"" + Fixed(y) + "\"" + (extra.empty() ? "" : " ") +
         extra + ">" + XmlEscape(text) + "</text>\n";
}

std::string Line(double x1, double y1, double x2, double y2, const std::string& style) {
  return "<line x1=\"" + Fixed(x1) + "\" y1=\"" + Fixed(y1) + "\" x2=\"" + Fixed(x2) + "\" y2=\"" +
         Fixed(y2) + "\" " + style + "/>\n";
}

double Mean(const std::vector<double>& v) {
  return v.empty() ? -1 : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}

}  // namespace

PrCurve MeanPrCurve(const CocoEvalResult& result, std::optional<size_t> iou_index,
                    const std::string& label) {
  PrCurve curve;
  curve.label = label;
  if (result.A() == 0 || result.M() == 0 || result.T() == 0) return curve;
  const size_t a = 0, m = result.M() - 1;  // area "all", the largest maxDets
  size_t t_begin = iou_index ? *iou_index : 0;
  size_t t_end = iou_index ? *iou_index + 1 : result.T();
  if (t_begin >= result.T()) return curve;
  for (size_t r = 0; r < result.R(); ++r) {
    double sum = 0;
    size_t n = 0;
    for (size_t t = t_begin; t < t_end; ++t) {
      for (size_t k = 0; k < result.K(); ++k) {
        double p = result.Precision(t, r, k, a, m);
        if (p > -1) {
          sum += p;
          ++n;
        }
      }
    }
    if (n == 0) return PrCurve{label, {}, {}};
    curve.recall.push_back(result.params.recall_thresholds[r]);
    curve.precision.push_back(sum / double(n));
  }
  return curve;
}

std::string PrCurvesSvg(const std::vector<PrCurve>& curves, const std::string& title,
                        const PlotFrame& f) {
  std::ostringstream s;
  s << SvgOpen(f.svg_width, f.svg_height);
  s << Text(f.svg_width / 2, 28, title, "text-anchor=\"middle\" font-size=\"16\"");
  // Grid and ticks every 0.1 on both axes.
  for (int i = 0; i <= 10; ++i) {
    double v = i / 10.0;
    double x = f.X(v), y = f.Y(v);
    s << Line(x, f.top, x, f.top + f.height, "stroke=\"#e5e5e5\" stroke-width=\"1\"");
    s << Line(f.left, y, f.left + f.width, y, "stroke=\"#e5e5e5\" stroke-width=\"1\"");
    s << Line(x, f.top + f.height, x, f.top + f.height + 5, "stroke=\"#333333\"");
    s << Line(f.left - 5, y, f.left, y, "stroke=\"#333333\"");
    s << Text(x, f.top + f.height + 19, Fixed(v, 1), "text-anchor=\"middle\"");
    s << Text(f.left - 8, y + 4, Fixed(v, 1), "text-anchor=\"end\"");
  }
  s << "<rect x=\"" << Fixed(f.left) << "\" y=\"" << Fixed(f.top) << "\" width=\"" << Fixed(f.width)
    << "\" height=\"" << Fixed(f.height)
    << "\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>\n";
  s << Text(f.left + f.width / 2, f.top + f.height + 40, "recall",
            "text-anchor=\"middle\" font-size=\"14\"");
  double cy = f.top + f.height / 2;
  s << Text(
      20, cy, "precision",
      "text-anchor=\"middle\" font-size=\"14\" transform=\"rotate(-90 20 " + Fixed(cy) + ")\"");
  // The curves, clipped to the plot area.
  s << "<clipPath id=\"plot-area\"><rect x=\"" << Fixed(f.left - 2) << "\" y=\"" << Fixed(f.top - 2)
    << "\" width=\"" << Fixed(f.width + 4) << "\" height=\"" << Fixed(f.height + 4)
    << "\"/></clipPath>\n";
  for (size_t i = 0; i < curves.size(); ++i) {
    const PrCurve& c = curves[i];
    s << "<polyline class=\"pr-curve\" clip-path=\"url(#plot-area)\" fill=\"none\" stroke=\""
      << kColors[i % std::size(kColors)] << "\" stroke-width=\"2\" points=\"";
    size_t n = std::min(c.recall.size(), c.precision.size());
    for (size_t j = 0; j < n; ++j) {
      if (j) s << ' ';
      s << Fixed(f.X(c.recall[j])) << ',' << Fixed(f.Y(c.precision[j]));
    }
    s << "\"><title>" << XmlEscape(c.label) << "</title></polyline>\n";
  }
  // Legend: top right, inside the figure, right of the plot area.
  double lx = f.left + f.width + 12, ly = f.top + 8;
  for (size_t i = 0; i < curves.size(); ++i) {
    double y = ly + double(i) * 20;
    s << Line(lx, y, lx + 22, y,
              std::string("stroke=\"") + kColors[i % std::size(kColors)] + "\" stroke-width=\"3\"");
    s << Text(lx + 28, y + 4, curves[i].label, "class=\"legend\"");
  }
  if (curves.empty() || std::all_of(curves.begin(), curves.end(),
                                    [](const PrCurve& c) { return c.precision.empty(); }))
    s << Text(f.left + f.width / 2, f.top + f.height / 2, "no ground truth to evaluate",
              "text-anchor=\"middle\" fill=\"#888888\"");
  s << "</svg>\n";
  return s.str();
}

std::string PrCurvesSvg(const CocoEvalResult& result, const std::string& title) {
  auto labelled = [](PrCurve c, const std::string& name) {
    c.label =
        name + (c.precision.empty() ? " (none)" : "  AP " + Fixed(100 * Mean(c.precision), 1));
    return c;
  };
  std::vector<PrCurve> curves;
  // pycocotools finds IoU .5 and .75 by equality with the thresholds.
  auto index_of = [&](double iou) -> std::optional<size_t> {
    const auto& th = result.params.iou_thresholds;
    for (size_t t = 0; t < th.size(); ++t)
      if (th[t] == iou) return t;
    return std::nullopt;
  };
  if (auto t = index_of(0.5)) curves.push_back(labelled(MeanPrCurve(result, t, ""), "IoU 0.50"));
  if (auto t = index_of(0.75)) curves.push_back(labelled(MeanPrCurve(result, t, ""), "IoU 0.75"));
  curves.push_back(labelled(MeanPrCurve(result, std::nullopt, ""), "IoU 0.50:0.95"));
  PlotFrame frame;
  frame.svg_width = 680;  // room for the legend with its AP figures
  return PrCurvesSvg(curves, title, frame);
}

std::string CategoryApSvg(const CocoEvalResult& result, const std::vector<std::string>& names,
                          const std::string& title) {
  struct Bar {
    std::string name;
    double ap;
  };
  std::vector<Bar> bars;
  size_t without_gt = 0;
  for (size_t k = 0; k < result.K(); ++k) {
    double ap = k < result.category_ap.size() ? result.category_ap[k] : -1;
    if (ap <= -1) {
      ++without_gt;
      continue;
    }
    std::string name = k < names.size() && !names[k].empty()
                           ? names[k]
                           : "category " + std::to_string(result.category_ids[k]);
    bars.push_back({name, ap});
  }
  std::stable_sort(bars.begin(), bars.end(),
                   [](const Bar& a, const Bar& b) { return a.ap > b.ap; });

  const double row = 16, left = 150, top = 70, width = 420, right = 60;
  const double height = std::max(1.0, double(bars.size())) * row;
  const double svg_w = left + width + right, svg_h = top + height + 30;
  std::ostringstream s;
  s << SvgOpen(svg_w, svg_h);
  s << Text(svg_w / 2, 24, title, "text-anchor=\"middle\" font-size=\"16\"");
  std::string caption =
      "AP@[.50:.95] per category, " + std::to_string(bars.size()) + " with ground truth";
  if (without_gt) caption += ", " + std::to_string(without_gt) + " without (not shown)";
  s << Text(svg_w / 2, 42, caption, "text-anchor=\"middle\" fill=\"#555555\"");
  // Axis on top: AP 0..1 with ticks every 0.1.
  for (int i = 0; i <= 10; ++i) {
    double x = left + i / 10.0 * width;
    s << Line(x, top, x, top + height, "stroke=\"#e5e5e5\"");
    s << Line(x, top - 5, x, top, "stroke=\"#333333\"");
    s << Text(x, top - 8, Fixed(i / 10.0, 1), "text-anchor=\"middle\" font-size=\"10\"");
  }
  for (size_t i = 0; i < bars.size(); ++i) {
    double y = top + double(i) * row;
    s << "<rect class=\"ap-bar\" x=\"" << Fixed(left) << "\" y=\"" << Fixed(y + 2) << "\" width=\""
      << Fixed(bars[i].ap * width) << "\" height=\"" << Fixed(row - 4)
      << "\" fill=\"#0072B2\"><title>" << XmlEscape(bars[i].name) << " "
      << Fixed(100 * bars[i].ap, 1) << "</title></rect>\n";
    s << Text(left - 6, y + row - 4, bars[i].name, "text-anchor=\"end\" font-size=\"11\"");
    s << Text(left + bars[i].ap * width + 4, y + row - 4, Fixed(100 * bars[i].ap, 1),
              "font-size=\"10\" fill=\"#333333\"");
  }
  s << Line(left, top, left, top + height, "stroke=\"#333333\"");
  s << Text(left + width / 2, top + height + 22, "AP", "text-anchor=\"middle\" font-size=\"13\"");
  s << "</svg>\n";
  return s.str();
}

}  // namespace lockstep
