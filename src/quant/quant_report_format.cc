#include "lockstep/quant/quant_report_format.h"
#include "lockstep/core/xml_escape.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace lockstep {
namespace {

std::string Fixed(double v, int decimals = 2) {
  if (v == INFINITY) return "inf";
  if (v == -INFINITY) return "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Sci(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

nlohmann::ordered_json Number(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

// Adds the metrics of `e` to `j`.
void AddErrorJson(nlohmann::ordered_json& j, const LayerError& e, double scale) {
  j["samples"] = e.samples;
  j["num_elements"] = e.elements;
  j["stddev"] = Number(e.stddev);
  j["mean_error"] = Number(e.mean_error);
  j["max_abs_error"] = Number(e.max_abs_error);
  j["mean_squared_error"] = Number(e.mean_squared_error);
  j["rmse"] = Number(e.rmse);
  j["rmse_over_scale"] = scale > 0 ? Number(e.rmse / scale) : nlohmann::ordered_json(nullptr);
  j["worst_abs_error"] = Number(e.worst_abs_error);
  j["snr_db"] = Number(e.snr_db);
}

// Long TF names keep their informative end ("…/Conv2d_13_pointwise/Relu6").
std::string Clip(const std::string& s, size_t width) {
  if (s.size() <= width) return s;
  std::string out = "...";
  out.append(s, s.size() - (width - 3), std::string::npos);
  return out;
}

// The SNR chart's frame in SVG units and its dB range (finite SNRs rounded out to 10 dB).
struct SnrChart {
  double left = 70, top = 50, height = 320, right = 170, width = 0;
  double lo = INFINITY, hi = -INFINITY;
  size_t n = 0;  // layers
  double svg_w() const { return left + width + right; }
  double svg_h() const { return top + height + 70; }
  double x(size_t i) const { return left + (n > 1 ? double(i) / double(n - 1) : 0.5) * width; }
  double y(double db) const {
    if (db == INFINITY) db = hi;
    return top + (1 - (std::clamp(db, lo, hi) - lo) / (hi - lo)) * height;
  }
};

SnrChart ChartOf(const QuantReport& r) {
  SnrChart c;
  c.width = std::clamp(double(r.layers.size()) * 8.0, 440.0, 1100.0);
  c.n = r.layers.size();
  auto consider = [&](double v) {
    if (std::isfinite(v)) c.lo = std::min(c.lo, v), c.hi = std::max(c.hi, v);
  };
  for (const auto& l : r.layers) {
    consider(l.error.snr_db);
    if (l.vs_float) consider(l.vs_float->snr_db);
  }
  if (!std::isfinite(c.lo)) c.lo = 0, c.hi = 60;
  c.lo = std::floor(c.lo / 10) * 10;
  c.hi = std::max(c.lo + 10, std::ceil(c.hi / 10) * 10);
  return c;
}

// The opening tag, background and title.
void WriteSvgHeader(std::ostream& s, const SnrChart& c) {
  const double svg_w = c.svg_w(), svg_h = c.svg_h();
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << Fixed(svg_w, 0) << "\" height=\""
    << Fixed(svg_h, 0) << "\" viewBox=\"0 0 " << Fixed(svg_w, 0) << " " << Fixed(svg_h, 0)
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
    << "<rect x=\"0\" y=\"0\" width=\"" << Fixed(svg_w, 0) << "\" height=\"" << Fixed(svg_h, 0)
    << "\" fill=\"#ffffff\"/>\n";
  s << "<text x=\"" << Fixed(svg_w / 2) << "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">"
    << "SNR per layer in graph order (quantized vs float shadow)</text>\n";
}

// dB grid lines, layer ticks, the frame and the axis titles.
void WriteAxes(std::ostream& s, const SnrChart& c) {
  const double left = c.left, top = c.top, height = c.height, width = c.width;
  for (double db = c.lo; db <= c.hi + 1e-9; db += 10) {
    s << "<line x1=\"" << Fixed(left) << "\" y1=\"" << Fixed(c.y(db)) << "\" x2=\""
      << Fixed(left + width) << "\" y2=\"" << Fixed(c.y(db)) << "\" stroke=\"#dddddd\"/>\n";
    s << "<text x=\"" << Fixed(left - 6) << "\" y=\"" << Fixed(c.y(db) + 4)
      << "\" text-anchor=\"end\" font-size=\"10\">" << Fixed(db, 0) << "</text>\n";
  }
  // x ticks every 5, 10, 20, 50 ... layers, about ten of them.
  size_t step = 1000;
  for (size_t candidate : {5, 10, 20, 50, 100, 200, 500})
    if (c.n / candidate <= 12) {
      step = candidate;
      break;
    }
  for (size_t i = 0; i < c.n; i += step) {
    s << "<line x1=\"" << Fixed(c.x(i)) << "\" y1=\"" << Fixed(top + height) << "\" x2=\""
      << Fixed(c.x(i)) << "\" y2=\"" << Fixed(top + height + 5) << "\" stroke=\"#333333\"/>\n";
    s << "<text x=\"" << Fixed(c.x(i)) << "\" y=\"" << Fixed(top + height + 17)
      << "\" text-anchor=\"middle\" font-size=\"10\">" << i << "</text>\n";
  }
  s << "<rect x=\"" << Fixed(left) << "\" y=\"" << Fixed(top) << "\" width=\"" << Fixed(width)
    << "\" height=\"" << Fixed(height) << "\" fill=\"none\" stroke=\"#333333\"/>\n";
  s << "<text x=\"" << Fixed(left + width / 2) << "\" y=\"" << Fixed(top + height + 36)
    << "\" text-anchor=\"middle\" font-size=\"14\">layer (op output, graph order)</text>\n";
  s << "<text x=\"20\" y=\"" << Fixed(top + height / 2)
    << "\" text-anchor=\"middle\" font-size=\"14\" transform=\"rotate(-90 20 "
    << Fixed(top + height / 2) << ")\">SNR (dB)</text>\n";
}

// The SNR lines (vs the shadow; vs the real float model when there is one) and a dot on each
// jump.
void WriteSnrLines(std::ostream& s, const SnrChart& c, const QuantReport& r) {
  auto polyline = [&](const char* cls, const char* color, auto snr_of) {
    s << "<polyline class=\"" << cls << "\" fill=\"none\" stroke=\"" << color
      << "\" stroke-width=\"1.5\" points=\"";
    bool first = true;
    for (size_t i = 0; i < c.n; ++i) {
      auto v = snr_of(r.layers[i]);
      if (!v) continue;
      s << (first ? "" : " ") << Fixed(c.x(i)) << "," << Fixed(c.y(*v));
      first = false;
    }
    s << "\"/>\n";
  };
  polyline("snr-shadow", "#0072B2",
           [](const QuantLayer& l) { return std::optional<double>(l.error.snr_db); });
  if (!r.float_model.empty())
    polyline("snr-float", "#009E73", [](const QuantLayer& l) {
      return l.vs_float ? std::optional<double>(l.vs_float->snr_db) : std::nullopt;
    });
  for (size_t i = 0; i < c.n; ++i) {
    const QuantLayer& l = r.layers[i];
    if (!l.jump) continue;
    s << "<circle class=\"jump\" cx=\"" << Fixed(c.x(i)) << "\" cy=\"" << Fixed(c.y(l.error.snr_db))
      << "\" r=\"4\" fill=\"#D55E00\"><title>" << XmlEscape(l.op + " " + l.name) << ": "
      << Fixed(l.error.snr_db, 1) << " dB, drop " << Fixed(l.snr_drop_db, 1)
      << " dB</title></circle>\n";
  }
}

void WriteLegend(std::ostream& s, const SnrChart& c, const QuantReport& r) {
  const double lx = c.left + c.width + 14, top = c.top;
  s << "<line x1=\"" << Fixed(lx) << "\" y1=\"" << Fixed(top + 10) << "\" x2=\"" << Fixed(lx + 24)
    << "\" y2=\"" << Fixed(top + 10) << "\" stroke=\"#0072B2\" stroke-width=\"2\"/>\n"
    << "<text x=\"" << Fixed(lx + 30) << "\" y=\"" << Fixed(top + 14)
    << "\">vs float shadow</text>\n";
  double ly = top + 30;
  if (!r.float_model.empty()) {
    s << "<line x1=\"" << Fixed(lx) << "\" y1=\"" << Fixed(ly) << "\" x2=\"" << Fixed(lx + 24)
      << "\" y2=\"" << Fixed(ly) << "\" stroke=\"#009E73\" stroke-width=\"2\"/>\n"
      << "<text x=\"" << Fixed(lx + 30) << "\" y=\"" << Fixed(ly + 4)
      << "\">vs real float</text>\n";
    ly += 20;
  }
  s << "<circle cx=\"" << Fixed(lx + 12) << "\" cy=\"" << Fixed(ly)
    << "\" r=\"4\" fill=\"#D55E00\"/>"
    << "<text x=\"" << Fixed(lx + 30) << "\" y=\"" << Fixed(ly + 4) << "\">jump &gt; "
    << Fixed(r.jump_threshold_db, 0) << " dB</text>\n";
}

}  // namespace

std::string QuantReportTable(const QuantReport& r, size_t max_rows) {
  std::ostringstream s;
  size_t jumps = 0;
  for (const auto& l : r.layers) jumps += l.jump;
  s << r.model << (r.spec_name.empty() ? "" : "  spec: " + r.spec_name) << "\n";
  s << r.layers.size() << " layers over " << r.inputs.size() << " input"
    << (r.inputs.size() == 1 ? "" : "s") << ", quantized vs float shadow (" << r.dropped_ops
    << " QUANTIZE/DEQUANTIZE dropped); " << jumps << " jumps (SNR drop > "
    << Fixed(r.jump_threshold_db, 1) << " dB)\n";
  if (!r.float_model.empty())
    s << "real float model " << r.float_model << ": " << r.float_paired << " of " << r.layers.size()
      << " layers paired by name\n";
  const bool with_float = !r.float_model.empty();
  char line[512];
  std::snprintf(line, sizeof line, "%4s %-24s %-40s %8s %7s %10s %10s %10s %6s%s\n", "op", "type",
                "tensor", "SNR dB", "drop", "max|err|", "mean err", "RMSE", "RMSE/s",
                with_float ? "  SNR real" : "");
  s << line;
  const auto order = WorstLayers(r);
  for (size_t k = 0; k < order.size() && k < max_rows; ++k) {
    const QuantLayer& l = r.layers[order[k]];
    std::string real;
    if (with_float) real = l.vs_float ? "  " + Fixed(l.vs_float->snr_db, 1) : std::string("  -");
    std::snprintf(line, sizeof line, "%4d %-24s %-40s %8s %7s %10s %10s %10s %6s%s%s\n", l.op_index,
                  Clip(l.op, 24).c_str(), Clip(l.name, 40).c_str(),
                  Fixed(l.error.snr_db, 1).c_str(), Fixed(l.snr_drop_db, 1).c_str(),
                  Sci(l.error.max_abs_error).c_str(), Sci(l.error.mean_error).c_str(),
                  Sci(l.error.rmse).c_str(),
                  l.scale > 0 ? Fixed(l.error.rmse / l.scale, 2).c_str() : "-", real.c_str(),
                  l.jump ? "  JUMP" : "");
    s << line;
  }
  if (order.size() > max_rows)
    s << "(" << order.size() - max_rows << " better layers not shown; --json has all)\n";
  for (const auto& n : r.notes) s << "note: " << n << "\n";
  return s.str();
}

nlohmann::ordered_json QuantReportJson(const QuantReport& r) {
  nlohmann::ordered_json j;
  j["model"] = r.model;
  j["spec"] = r.spec_name;
  j["inputs"] = r.inputs;
  j["comparison"] =
      "dequantized quantized tensor minus float shadow tensor, each model run end to end; "
      "per-input metrics averaged over inputs, SNR pooled";
  j["jump_threshold_db"] = r.jump_threshold_db;
  j["dropped_ops"] = r.dropped_ops;
  j["restored_activations"] = r.restored_activations;
  j["notes"] = r.notes;
  if (!r.float_model.empty()) {
    j["float_model"] = r.float_model;
    j["float_paired"] = r.float_paired;
  }
  auto& layers = j["layers"] = nlohmann::ordered_json::array();
  for (const auto& l : r.layers) {
    nlohmann::ordered_json e;
    e["tensor"] = l.tensor;
    e["name"] = l.name;
    e["op_index"] = l.op_index;
    e["op"] = l.op;
    e["shape"] = l.shape;
    e["scale"] = l.scale;
    e["zero_point"] = l.zero_point;
    AddErrorJson(e, l.error, l.scale);
    e["inherited_snr_db"] = Number(l.inherited_snr_db);
    e["snr_drop_db"] = Number(l.snr_drop_db);
    e["jump"] = l.jump;
    if (l.vs_float) AddErrorJson(e["vs_float"], *l.vs_float, l.scale);
    if (l.shadow_vs_float) AddErrorJson(e["shadow_vs_float"], *l.shadow_vs_float, l.scale);
    layers.push_back(std::move(e));
  }
  return j;
}

std::string LayerSnrSvg(const QuantReport& r) {
  const SnrChart chart = ChartOf(r);
  std::ostringstream s;
  WriteSvgHeader(s, chart);
  WriteAxes(s, chart);
  WriteSnrLines(s, chart, r);
  WriteLegend(s, chart, r);
  s << "</svg>\n";
  return s.str();
}

std::string QuantReportHtml(const QuantReport& r) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
    << XmlEscape("quantization error: " + r.model) << "</title>\n"
    << "<style>\nbody{font-family:sans-serif;margin:24px;color:#222}\n"
       "table{border-collapse:collapse;font-size:13px}\n"
       "th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}\n"
       "td.name{text-align:left;font-family:monospace}\n"
       "tr.jump td{background:#fde7dc}\n</style>\n</head>\n<body>\n";
  h << "<h1>Per-layer quantization error</h1>\n<p>Model <code>" << XmlEscape(r.model) << "</code>"
    << (r.spec_name.empty() ? "" : ", spec " + XmlEscape(r.spec_name)) << ", " << r.inputs.size()
    << " inputs. Each quantized tensor, dequantized, minus the same tensor of "
    << "the float shadow (dequantized weights, float activations, " << r.dropped_ops
    << " QUANTIZE/DEQUANTIZE dropped), both models run end to end, so errors accumulate. "
    << "Metrics of TensorFlow's QuantizationDebugger per input, averaged over inputs; SNR = "
    << "10·log10(Σref²/Σerr²) pooled. A jump: SNR more than " << Fixed(r.jump_threshold_db, 1)
    << " dB below the lowest SNR of the op's inputs.</p>\n";
  if (!r.float_model.empty())
    h << "<p>Real float model <code>" << XmlEscape(r.float_model) << "</code>: " << r.float_paired
      << " of " << r.layers.size() << " layers paired by tensor name.</p>\n";
  for (const auto& n : r.notes) h << "<p>Note: " << XmlEscape(n) << "</p>\n";
  h << "<figure>\n" << LayerSnrSvg(r) << "</figure>\n";
  h << "<table>\n<tr><th>op</th><th>type</th><th>tensor</th><th>shape</th><th>scale</th>"
       "<th>SNR dB</th><th>drop dB</th><th>max |err|</th><th>mean err</th><th>stddev</th>"
       "<th>RMSE</th><th>RMSE/scale</th>";
  if (!r.float_model.empty()) h << "<th>SNR vs real float</th><th>shadow vs real float</th>";
  h << "</tr>\n";
  for (const auto& l : r.layers) {
    std::string shape;
    for (size_t i = 0; i < l.shape.size(); ++i) {
      if (i) shape += ',';
      shape += std::to_string(l.shape[i]);
    }
    h << "<tr" << (l.jump ? " class=\"jump\"" : "") << "><td>" << l.op_index << "</td><td>"
      << XmlEscape(l.op) << "</td><td class=\"name\">" << XmlEscape(l.name) << "</td><td>[" << shape
      << "]</td><td>" << (l.scale > 0 ? Sci(l.scale) : "-") << "</td><td>"
      << Fixed(l.error.snr_db, 1) << "</td><td>" << Fixed(l.snr_drop_db, 1) << "</td><td>"
      << Sci(l.error.max_abs_error) << "</td><td>" << Sci(l.error.mean_error) << "</td><td>"
      << Sci(l.error.stddev) << "</td><td>" << Sci(l.error.rmse) << "</td><td>"
      << (l.scale > 0 ? Fixed(l.error.rmse / l.scale) : "-") << "</td>";
    if (!r.float_model.empty()) {
      h << "<td>" << (l.vs_float ? Fixed(l.vs_float->snr_db, 1) : "-") << "</td><td>"
        << (l.shadow_vs_float ? Fixed(l.shadow_vs_float->snr_db, 1) : "-") << "</td>";
    }
    h << "</tr>\n";
  }
  h << "</table>\n</body>\n</html>\n";
  return h.str();
}

}  // namespace lockstep
