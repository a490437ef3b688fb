#include "lockstep/doctor/doctor_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "lockstep/core/atomic_file.h"
#include "lockstep/core/base64.h"
#include "lockstep/core/xml_escape.h"
#include "lockstep/doctor/difference_heatmap.h"
#include "lockstep/eval/eval_report.h"
#include "lockstep/eval/pr_curve.h"
#include "lockstep/image/decode.h"
#include "lockstep/image/draw.h"
#include "lockstep/image/encode.h"
#include "lockstep/pipeline/resize.h"

namespace lockstep {
namespace {

// The eval report's sheet plus what the doctor adds. Colours are the Okabe–Ito ones the charts
// use: vermillion for errors and losses, orange for warnings, bluish green for agreement.
constexpr const char* kDoctorStyle =
    ".verdict{padding:14px 18px;border-radius:6px;font-size:20px;margin:12px 0}\n"
    ".verdict-aligned{background:#009E73;color:#ffffff}\n"
    ".verdict-warnings{background:#E69F00;color:#222222}\n"
    ".verdict-misaligned{background:#D55E00;color:#ffffff}\n"
    ".verdict .basis{font-size:14px;margin-top:6px}\n"
    "table.text th,table.text td{text-align:left;vertical-align:top}\n"
    "table.facts th{background:none;border:none;padding:2px 12px 2px 0}\n"
    "table.facts td{border:none;padding:2px 0;text-align:left}\n"
    ".badge{display:inline-block;padding:1px 8px;border-radius:9px;font-weight:bold}\n"
    ".sev-error .badge{background:#D55E00;color:#ffffff}\n"
    ".sev-warning .badge{background:#E69F00;color:#222222}\n"
    ".sev-info .badge{background:#56B4E9;color:#222222}\n"
    "tr.first-divergence td{background:#FBE3D6;font-weight:bold}\n"
    "tr.stage-equal td:first-child{color:#007A5A}\n"
    ".delta-neg{color:#B34700;font-weight:bold}\n.delta-pos{color:#007A5A;font-weight:bold}\n"
    "code{white-space:pre-wrap;word-break:break-word}\n"
    "td.name code{white-space:nowrap}\n"
    "table#stages td.text,table#stages th.text,table#external td.text,"
    "table#external th.text{text-align:left}\n"
    "figure img,figure svg{display:block}\n"
    "figure img{max-width:100%;height:auto;border:1px solid #ccc}\n"
    "img.enlarged{image-rendering:pixelated}\n"
    "figcaption{font-size:13px;color:#555;max-width:600px;margin-top:4px}\n"
    ".sample{border-top:1px solid #ddd;margin-top:18px}\n"
    ".none{color:#555;font-style:italic}\n";

std::string Esc(const std::string& text) { return XmlEscape(text); }

std::string Format(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

// COCO statistics are fractions, shown as percentages; -1 means nothing to average.
std::string Percent(double v) { return v <= -1 ? "-" : Format("%.1f", 100 * v); }

// A difference in percentage points, signed, coloured by direction.
std::string DeltaCell(double deployed, double training) {
  if (deployed <= -1 || training <= -1) return "<td>-</td>";
  double d = 100 * (deployed - training);
  const char* cls = d < -0.05 ? " class=\"delta-neg\"" : d > 0.05 ? " class=\"delta-pos\"" : "";
  return std::string("<td") + cls + ">" + Format("%+.1f", d) + "</td>";
}

// A share as a percentage with 3 significant digits; never "100%" or "0%" unless exact. Plain
// text: escape it.
std::string Share(double fraction) {
  double percent = 100 * fraction;
  if (percent < 100 && percent >= 99.95) return ">99.9%";
  if (percent > 0 && percent < 0.001) return "<0.001%";
  return Format("%.3g", percent) + "%";
}

std::string PngDataUri(const Image& image) {
  std::vector<uint8_t> png = EncodePng(image);
  return "data:image/png;base64," + Base64Encode(png);
}

// Gray, RGB or RGBA with as many bytes as its size says (what ToRgb and EncodePng take).
bool HasPixels(const Image& image) {
  return image.width > 0 && image.height > 0 &&
         (image.channels == 1 || image.channels == 3 || image.channels == 4) &&
         image.pixels.size() == size_t(image.width) * image.height * image.channels;
}

// Shown `target` pixels wide: larger pictures scaled down, smaller ones enlarged by a whole
// factor with square pixels, so a model input's single pixels stay visible.
std::string ImgTag(const Image& image, const std::string& cls, const std::string& alt, int target) {
  if (!HasPixels(image)) return "<p class=\"none\">" + Esc(alt) + ": not available</p>";
  int factor = image.width < target ? target / image.width : 1;
  double width = image.width > target ? target : image.width * factor;
  double height = std::max(1.0, std::round(image.height * width / image.width));
  return "<img class=\"" + cls + (factor > 1 ? " enlarged" : "") + "\" src=\"" + PngDataUri(image) +
         "\" width=\"" + Format("%.0f", width) + "\" height=\"" + Format("%.0f", height) +
         "\" alt=\"" + Esc(alt) + "\">";
}

// Detection panels larger than this on their long side are scaled down first: shown about 600
// pixels wide, they would only make the file heavy.
constexpr int kMaxPanelSide = 1200;

// The source with one pipeline's detections, the best drawn last so it stays on top.
Image DetectionPanel(const Image& source, const std::vector<PixelDetection>& detections) {
  Image canvas = ToRgb(source);
  double sx = 1, sy = 1;
  if (std::max(canvas.width, canvas.height) > kMaxPanelSide) {
    double f = double(kMaxPanelSide) / std::max(canvas.width, canvas.height);
    int w = std::max(1, int(std::lround(canvas.width * f)));
    int h = std::max(1, int(std::lround(canvas.height * f)));
    sx = double(w) / canvas.width;
    sy = double(h) / canvas.height;
    canvas = Resize(canvas, w, h, ResizeSpec{ResizeDialect::kOpenCV, Interpolation::kArea});
  }
  int side = std::min(canvas.width, canvas.height);
  // Lines and labels that stay readable when the panel is shown about 600 pixels wide.
  int thickness = std::max(2, side / 160);
  int text_scale = std::clamp(side / 200, 1, 3);
  for (auto it = detections.rbegin(); it != detections.rend(); ++it) {
    const Box& b = it->box;
    if (!std::isfinite(b.xmin) || !std::isfinite(b.ymin) || !std::isfinite(b.xmax) ||
        !std::isfinite(b.ymax))
      continue;
    std::string text = it->label + " " + Format("%.2f", it->score);
    DrawLabeledBox(canvas, b.xmin * sx, b.ymin * sy, b.xmax * sx, b.ymax * sy, text,
                   ClassColor(it->class_index), thickness, text_scale);
  }
  return canvas;
}

std::string Hex(Rgb c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
  return buf;
}

// The heatmap's scale: the colour ramp from 0 to `max` with three ticks.
std::string ColourScaleSvg(size_t index, int max) {
  const double left = 10, width = 280, top = 6, height = 14;
  std::string id = "heat-scale-" + std::to_string(index);
  std::ostringstream s;
  s << "<svg class=\"heat-scale\" xmlns=\"http://www.w3.org/2000/svg\" width=\"300\" "
       "height=\"44\" viewBox=\"0 0 300 44\" font-family=\"sans-serif\" font-size=\"11\">\n"
    << "<defs><linearGradient id=\"" << id << "\" x1=\"0\" x2=\"1\" y1=\"0\" y2=\"0\">";
  for (int i = 0; i <= 8; ++i)
    s << "<stop offset=\"" << Format("%.3f", i / 8.0) << "\" stop-color=\""
      << Hex(PerceptualColor(i / 8.0)) << "\"/>";
  s << "</linearGradient></defs>\n<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << width
    << "\" height=\"" << height << "\" fill=\"url(#" << id << ")\"/>\n";
  for (int i = 0; i <= 2; ++i) {
    double x = left + i * width / 2;
    const char* anchor = i == 0 ? "start" : i == 1 ? "middle" : "end";
    s << "<line x1=\"" << x << "\" y1=\"" << top + height << "\" x2=\"" << x << "\" y2=\""
      << top + height + 4 << "\" stroke=\"#333333\"/>\n<text x=\"" << x << "\" y=\""
      << top + height + 16 << "\" text-anchor=\"" << anchor << "\">"
      << (i == 0 ? std::string("0 (same)") : Format("%.0f", max * i / 2.0)) << "</text>\n";
  }
  s << "</svg>";
  return s.str();
}

std::string StageName(const std::string& stage) { return stage.empty() ? "(unnamed)" : stage; }

std::string FingerprintList(const std::vector<Fingerprint>& fingerprints) {
  if (fingerprints.empty()) return "";
  std::string out;
  for (const Fingerprint& f : fingerprints) {
    out += "<div class=\"fingerprint\"><strong>" +
           Esc(f.description.empty() ? f.code : f.description) + "</strong> <code>" + Esc(f.code) +
           "</code>";
    if (!f.evidence.empty()) out += "<br>" + Esc(f.evidence);
    out += "</div>";
  }
  return out;
}

std::string StatsCells(const DifferenceStats& s) {
  return "<td>" + std::to_string(s.elements) + "</td><td>" + Esc(Share(s.differing_share())) +
         "</td><td>" + Format("%.4g", s.max_abs_diff) + "</td><td>" + Format("%+.4g", s.mean_diff) +
         "</td><td>" + Format("%.4g", s.mean_abs_diff) + "</td>";
}

// What to fix, in order: the report leads with it.
void FixList(std::ostringstream& h, const DoctorReport& r) {
  if (r.fixes.empty()) return;
  h << "<h2>Fix first</h2>\n<ol id=\"fixes\">\n";
  for (size_t i = 0; i < r.fixes.size(); ++i)
    h << "<li><strong>fix <code>" << Esc(r.fixes[i].unit) << "</code>" << (i ? "" : " first")
      << "</strong>: " << Esc(r.fixes[i].text) << "</li>\n";
  h << "</ol>\n";
}

void Header(std::ostringstream& h, const DoctorReport& r) {
  size_t errors = 0, warnings = 0;
  for (const Finding& f : r.findings) {
    errors += f.severity == Severity::kError;
    warnings += f.severity == Severity::kWarning;
  }
  auto count = [](size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  std::string cls, verdict;
  if (!r.aligned) {
    cls = "verdict-misaligned";
    verdict = "<strong>Not aligned</strong>: " + count(errors, "error") + ", " +
              count(warnings, "warning") + ".";
  } else if (warnings > 0) {
    cls = "verdict-warnings";
    verdict = "<strong>Aligned</strong>, with " + count(warnings, "warning") + ".";
  } else {
    cls = "verdict-aligned";
    verdict = "<strong>Aligned</strong>: the deployed pipeline matches training.";
  }
  if (!r.first_divergence.empty())
    verdict += " The pipelines first diverge at <em>" + Esc(r.first_divergence) + "</em>.";
  else if (!r.stages.empty())
    verdict += " Every stage agrees on " + count(r.images, "image") + ".";
  // The verdict's basis: what the detections measured, or the catalogue's static severities.
  const std::string basis =
      r.gate && r.gate->measured
          ? "Measured: " + r.gate->reason + "."
          : "Static: no image ran, so the severities are the catalogue's (give images to measure).";
  h << "<h1>lockstep doctor</h1>\n<div id=\"verdict\" class=\"verdict " << cls << "\">" << verdict
    << "<div class=\"basis\">" << Esc(basis) << "</div></div>\n";
  FixList(h, r);
  h << "<table class=\"facts\">\n"
    << "<tr><th>model</th><td><code>" << Esc(r.model) << "</code>"
    << (r.model_run.empty()
            ? std::string()
            : "<br>ran on its CPU twin <code>" + Esc(r.model_run) + "</code> (no Edge TPU here)")
    << "</td></tr>\n"
    << "<tr><th>training</th><td><code>" << Esc(r.training_source) << "</code></td></tr>\n"
    << "<tr><th>deployed</th><td><code>" << Esc(r.deployed_source) << "</code></td></tr>\n"
    << "<tr><th>images</th><td>"
    << (r.stages.empty() && r.images == 0 ? std::string("none: static checks only")
                                          : std::to_string(r.images) + " compared")
    << "</td></tr>\n</table>\n";
}

void Findings(std::ostringstream& h, const DoctorReport& r) {
  h << "<h2>Findings</h2>\n";
  if (r.findings.empty()) {
    h << "<p class=\"none\">No findings.</p>\n";
    return;
  }
  // Errors first, then warnings, then notes; the doctor's order within each.
  std::vector<const Finding*> order;
  for (const Finding& f : r.findings) order.push_back(&f);
  std::stable_sort(order.begin(), order.end(), [](const Finding* a, const Finding* b) {
    return int(a->severity) > int(b->severity);
  });
  h << "<table id=\"findings\" class=\"text\">\n<tr><th>code</th><th>severity</th><th>field</th>"
       "<th>training</th><th>deployed</th><th>consequence</th><th>fix</th></tr>\n";
  for (const Finding* f : order) {
    std::string severity(SeverityName(f->severity));
    h << "<tr class=\"finding sev-" << severity << "\"><td class=\"name\"><code>" << Esc(f->code)
      << "</code></td><td class=\"severity\"><span class=\"badge\">" << severity
      << "</span></td><td class=\"name\"><code>" << Esc(f->field) << "</code></td><td><code>"
      << Esc(f->expected) << "</code></td><td><code>" << Esc(f->found) << "</code></td><td>"
      << Esc(f->consequence) << "</td><td>" << Esc(f->fix) << "</td></tr>\n";
  }
  h << "</table>\n";
}

void Differences(std::ostringstream& h, const DoctorReport& r) {
  if (r.differences.empty()) return;
  h << "<h2>Spec differences</h2>\n<table id=\"differences\" class=\"text\">\n"
       "<tr><th>unit</th><th>field</th><th>training</th><th>deployed</th></tr>\n";
  for (const SpecDifference& d : r.differences) {
    for (size_t i = 0; i < d.fields.size(); ++i) {
      h << "<tr>";
      if (i == 0)
        h << "<td rowspan=\"" << d.fields.size() << "\"><strong>" << Esc(d.unit)
          << "</strong></td>";
      h << "<td class=\"name\"><code>" << Esc(d.fields[i].field) << "</code></td><td><code>"
        << Esc(d.fields[i].training) << "</code></td><td><code>" << Esc(d.fields[i].deployed)
        << "</code></td></tr>\n";
    }
    if (d.fields.empty())
      h << "<tr><td><strong>" << Esc(d.unit) << "</strong></td><td colspan=\"3\"></td></tr>\n";
  }
  h << "</table>\n";
}

void Stages(std::ostringstream& h, const DoctorReport& r) {
  h << "<h2>Stages</h2>\n";
  if (r.stages.empty()) {
    h << "<p class=\"none\">No images given: the pipelines were not run.</p>\n";
    return;
  }
  h << "<table id=\"stages\">\n<tr><th>stage</th><th>images</th><th>images differing</th>"
       "<th>elements</th><th>elements differing</th><th>max |&#916;|</th><th>mean &#916;</th>"
       "<th>mean |&#916;|</th><th class=\"text\">likely cause</th><th "
       "class=\"text\">compared</th></tr>\n";
  for (const StageReport& s : r.stages) {
    bool first = !r.first_divergence.empty() && s.stage == r.first_divergence;
    std::string cls = first ? "first-divergence" : s.equal() ? "stage-equal" : "stage-differs";
    h << "<tr class=\"" << cls << "\"><td>" << Esc(StageName(s.stage))
      << (first       ? " &#9664; first divergence"
          : s.equal() ? " &#10003;"
                      : "")
      << "</td><td>" << s.images << "</td><td>" << s.images_differing << "</td>"
      << StatsCells(s.stats) << "<td class=\"text\">" << FingerprintList(s.fingerprints)
      << "</td><td class=\"text\">" << Esc(s.note) << "</td></tr>\n";
  }
  h << "</table>\n";
  if (r.agreement) {
    const DetectionAgreement& a = *r.agreement;
    h << "<h3>Detection agreement</h3>\n<table id=\"agreement\">\n<tr><th>training detections"
         "</th><th>deployed detections</th><th>matched</th><th>mean |&#916; score|</th>"
         "<th>max |&#916; score|</th><th>mean IoU</th></tr>\n<tr><td>"
      << a.training << "</td><td>" << a.deployed << "</td><td>" << a.matched << "</td><td>"
      << Format("%.4f", a.mean_abs_score_delta) << "</td><td>"
      << Format("%.4f", a.max_abs_score_delta) << "</td><td>" << Format("%.4f", a.mean_iou)
      << "</td></tr>\n</table>\n<p>Matched one to one: same class, IoU &#8805; 0.5, greedy by "
         "score.</p>\n";
  }
}

void Samples(std::ostringstream& h, const DoctorReport& r) {
  if (r.samples.empty()) return;
  h << "<h2>Sample images</h2>\n<div id=\"samples\">\n";
  for (size_t i = 0; i < r.samples.size(); ++i) {
    const SampleView& v = r.samples[i];
    h << "<section class=\"sample\">\n<h3>" << Esc(v.file.filename().string()) << "</h3>\n"
      << "<p><code>" << Esc(v.file.string()) << "</code></p>\n<div class=\"figures\">\n"
      << "<figure>"
      << ImgTag(v.training_input, "model-input", "training pipeline's model input", 300)
      << "<figcaption>Training pipeline's model input</figcaption></figure>\n"
      << "<figure>"
      << ImgTag(v.deployed_input, "model-input", "deployed pipeline's model input", 300)
      << "<figcaption>Deployed pipeline's model input</figcaption></figure>\n<figure>";
    const Image& a = v.training_input;
    const Image& b = v.deployed_input;
    if (HasPixels(a) && HasPixels(b) && a.width == b.width && a.height == b.height) {
      PixelDifference d =
          a.channels == b.channels ? DiffPixels(a, b) : DiffPixels(ToRgb(a), ToRgb(b));
      size_t pixels = size_t(d.width) * size_t(d.height);
      h << ImgTag(DifferenceHeatmap(d, std::max(d.max, 1)), "heatmap",
                  "difference heatmap of the two model inputs", 300)
        << ColourScaleSvg(i, std::max(d.max, 1)) << "<figcaption>|training &#8722; deployed| "
        << "summed over channels: " << d.differing << " of " << pixels << " pixels differ ("
        << Esc(Share(pixels ? double(d.differing) / double(pixels) : 0)) << "), largest " << d.max
        << " of " << 255 * d.channels << "</figcaption>";
    } else {
      h << "<p class=\"none\">No difference heatmap: the two model inputs are " << a.width << "x"
        << a.height << " and " << b.width << "x" << b.height << ".</p>";
    }
    h << "</figure>\n</div>\n<div class=\"figures\">\n";
    const std::pair<const char*, const std::vector<PixelDetection>*> panels[] = {
        {"Training", &v.training_detections}, {"Deployed", &v.deployed_detections}};
    for (const auto& [who, detections] : panels) {
      std::string alt = std::string(who) + " pipeline's detections";
      Image panel = HasPixels(v.source) ? DetectionPanel(v.source, *detections) : Image();
      h << "<figure>" << ImgTag(panel, "detections", alt, 600) << "<figcaption>" << who
        << " pipeline: " << detections->size() << " detection"
        << (detections->size() == 1 ? "" : "s") << " on the original image";
      if (HasPixels(panel) && panel.width != v.source.width)
        h << " (" << v.source.width << "x" << v.source.height << ", shown at " << panel.width << "x"
          << panel.height << ")";
      h << "</figcaption></figure>\n";
    }
    h << "</div>\n</section>\n";
  }
  h << "</div>\n";
}

void Coco(std::ostringstream& h, const DoctorReport& r) {
  h << "<h2>COCO box statistics (%)</h2>\n";
  if (!r.training_eval && !r.deployed_eval) {
    h << "<p class=\"none\">No COCO annotations given: AP not measured.</p>\n";
    return;
  }
  h << "<table id=\"coco\">\n<tr><th>pipeline</th>";
  for (const char* name : kCocoStatNames) h << "<th>" << name << "</th>";
  h << "</tr>\n";
  const std::pair<const char*, const std::optional<CocoEvalResult>*> rows[] = {
      {"training", &r.training_eval}, {"deployed", &r.deployed_eval}};
  for (const auto& [who, eval] : rows) {
    if (!*eval) continue;
    h << "<tr><td>" << who << "</td>";
    for (double v : (*eval)->stats) h << "<td>" << Percent(v) << "</td>";
    h << "</tr>\n";
  }
  if (r.training_eval && r.deployed_eval) {
    h << "<tr class=\"delta\"><td>deployed &#8722; training (points)</td>";
    for (size_t i = 0; i < kCocoStatNames.size(); ++i)
      h << DeltaCell(r.deployed_eval->stats[i], r.training_eval->stats[i]);
    h << "</tr>\n";
  }
  h << "</table>\n<p>AP: AP@[.50:.95], area all, 100 detections per image; APs/APm/APl by "
       "object area (&lt;32&#178;, 32&#178;&#8211;96&#178;, &gt;96&#178; pixels); "
       "AR1/AR10/AR100: recall with at most 1/10/100 detections per image. \"-\": nothing to "
       "average.</p>\n";
}

// The share a bar shows: the Shapley share when the doctor computed it (shares then add up to
// the whole gap), else what the unit recovers alone.
double ShownShare(const AttributionEntry& e) { return e.shapley_share.value_or(e.share); }

// Horizontal bars: the share of the AP gap each unit explains.
std::string AttributionSvg(const DoctorReport& r) {
  const auto& entries = r.attribution;
  const bool shapley = !entries.empty() && entries.front().shapley_share.has_value();
  double lo = 0, hi = 1;
  double total = 0;
  for (const AttributionEntry& e : entries) {
    if (double v = ShownShare(e); std::isfinite(v)) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      total += v;
    }
  }
  lo = std::max(lo, -1.0);  // a share beyond the axis is clipped; its label keeps the value
  hi = std::min(hi, 2.0);
  double step = hi - lo > 1.5 ? 0.25 : 0.1;
  const double left = 200, width = 420, right = 170, top = 76, row = 28;
  const double height = std::max<double>(1, double(entries.size())) * row;
  const double svg_w = left + width + right, svg_h = top + height + 36;
  auto x_of = [&](double v) { return left + (std::clamp(v, lo, hi) - lo) / (hi - lo) * width; };
  std::ostringstream s;
  s << "<svg id=\"attribution-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << svg_w
    << "\" height=\"" << svg_h << "\" viewBox=\"0 0 " << svg_w << " " << svg_h
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect x=\"0\" y=\"0\" width=\"" << svg_w
    << "\" height=\"" << svg_h << "\" fill=\"#ffffff\"/>\n"
    << "<text x=\"" << svg_w / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"16\">"
    << "Share of the AP gap each unit explains</text>\n";
  std::string caption;
  double gap = 0;
  if (r.training_eval && r.deployed_eval) {
    double t = r.training_eval->stats[0], d = r.deployed_eval->stats[0];
    gap = t - d;
    caption = "training AP " + Percent(t) + ", deployed AP " + Percent(d) + ": gap " +
              Format("%.1f", 100 * (t - d)) + " points; together the units explain " + Share(total);
  }
  s << "<text x=\"" << svg_w / 2 << "\" y=\"40\" text-anchor=\"middle\" fill=\"#555555\">"
    << Esc(caption) << "</text>\n";
  for (int i = int(std::ceil(lo / step - 1e-9)); i * step <= hi + 1e-9; ++i) {
    double v = i * step, x = x_of(v);
    s << "<line x1=\"" << Format("%.2f", x) << "\" y1=\"" << top << "\" x2=\"" << Format("%.2f", x)
      << "\" y2=\"" << top + height << "\" stroke=\"#e5e5e5\"/>\n"
      << "<text x=\"" << Format("%.2f", x) << "\" y=\"" << top - 8
      << "\" text-anchor=\"middle\" font-size=\"10\">" << Format("%.0f", 100 * v) << "%</text>\n";
  }
  double x0 = x_of(0), x1 = x_of(1);
  s << "<line x1=\"" << Format("%.2f", x1) << "\" y1=\"" << top - 4 << "\" x2=\""
    << Format("%.2f", x1) << "\" y2=\"" << top + height
    << "\" stroke=\"#009E73\" stroke-dasharray=\"4 3\"><title>the whole gap</title></line>\n";
  for (size_t i = 0; i < entries.size(); ++i) {
    const AttributionEntry& e = entries[i];
    double y = top + double(i) * row;
    const double shown = ShownShare(e);
    double share = std::isfinite(shown) ? shown : 0;
    double xe = x_of(share);
    // The points the bar stands for: its share of the gap (as the fix list says them).
    const double points = e.shapley_share ? *e.shapley_share * gap : e.ap_recovered;
    std::string value = (std::isfinite(shown) ? Share(shown) : std::string("n/a")) + ", " +
                        Format("%+.1f", 100 * points) + " AP points";
    s << "<rect class=\"attribution-bar\" x=\"" << Format("%.2f", std::min(x0, xe)) << "\" y=\""
      << y + 4 << "\" width=\"" << Format("%.2f", std::abs(xe - x0)) << "\" height=\"" << row - 8
      << "\" fill=\"" << (share < 0 ? "#D55E00" : "#0072B2") << "\"><title>"
      << Esc(e.difference.unit) << ": " << Esc(value) << "</title></rect>\n"
      << "<text x=\"" << left - 8 << "\" y=\"" << y + row - 10
      << "\" text-anchor=\"end\" font-size=\"12\">" << Esc(e.difference.unit) << "</text>\n"
      << "<text x=\"" << Format("%.2f", std::max(x0, xe) + 5) << "\" y=\"" << y + row - 10
      << "\" font-size=\"11\" fill=\"#333333\">" << Esc(value) << "</text>\n";
  }
  s << "<line x1=\"" << Format("%.2f", x0) << "\" y1=\"" << top << "\" x2=\"" << Format("%.2f", x0)
    << "\" y2=\"" << top + height << "\" stroke=\"#333333\"/>\n<text x=\"" << left + width / 2
    << "\" y=\"" << top + height + 24
    << "\" text-anchor=\"middle\" font-size=\"12\">share of (training AP &#8722; deployed AP) "
    << (!shapley           ? std::string("recovered by switching the unit back to training")
        : r.shapley_orders ? "each unit explains (Shapley, sampled from " +
                                 std::to_string(r.shapley_orders) + " orders of fixing)"
                           : std::string("each unit explains (Shapley: averaged over every order "
                                         "of fixing)"))
    << "</text>\n</svg>";
  return s.str();
}

void Attribution(std::ostringstream& h, const DoctorReport& r) {
  h << "<h2>Attribution</h2>\n";
  if (r.attribution.empty()) {
    h << "<p class=\"none\">"
      << (!r.training_eval || !r.deployed_eval ? "No attribution: it needs COCO annotations."
          : r.differences.empty()              ? "No attribution: the specs do not differ."
                                               : "No attribution was run.")
      << "</p>\n";
    return;
  }
  h << "<figure>" << AttributionSvg(r) << "</figure>\n"
    << "<table id=\"attribution\" class=\"text\">\n<tr><th>unit</th><th>fields switched back"
       "</th><th>AP switched alone</th><th>AP recovered alone (points)</th><th>share alone</th>"
       "<th>fair share (Shapley)</th></tr>\n";
  for (const AttributionEntry& e : r.attribution) {
    std::string fields;
    for (const FieldDifference& f : e.difference.fields)
      fields += (fields.empty() ? "" : "<br>") + std::string("<code>") + Esc(f.field) + "</code>";
    h << "<tr><td><strong>" << Esc(e.difference.unit) << "</strong></td><td>" << fields
      << "</td><td>" << Percent(e.ap_switched) << "</td><td>"
      << Format("%+.1f", 100 * e.ap_recovered) << "</td><td>"
      << Esc(std::isfinite(e.share) ? Share(e.share) : std::string("n/a")) << "</td><td>"
      << Esc(e.shapley_share ? Share(*e.shapley_share) : std::string("-"))
      << Esc(e.shapley_half_width ? " ±" + Share(*e.shapley_half_width) : std::string())
      << "</td></tr>\n";
  }
  h << "</table>\n<p>Alone: the unit switched back by itself; those shares need not add to 100% "
       "when the mistakes interact. Fair share: the unit's recovery averaged over every order of "
       "switching the units back; those add up to the whole gap. "
    << (r.shapley_orders ? "With more than " + std::to_string(kMaxShapleyUnits) +
                               " units they are sampled from " + std::to_string(r.shapley_orders) +
                               " random orders; ± is a 95% interval."
                         : std::string("Computed exactly, over every subset of the units."))
    << "</p>\n";
}

void WhatIfs(std::ostringstream& h, const DoctorReport& r) {
  if (r.what_ifs.empty()) return;
  h << "<h2>What if the input quantization were done wrong</h2>\n<table id=\"what-ifs\" "
       "class=\"text\">\n<tr><th>code</th><th>mistake</th><th>matched / training / deployed "
       "detections</th><th>mean |&#916; score|</th><th>AP</th><th>AP cost (points)</th></tr>\n";
  for (const WhatIf& w : r.what_ifs) {
    const DetectionAgreement& a = w.agreement;
    h << "<tr><td><code>" << Esc(w.code) << "</code></td><td>" << Esc(w.description) << "</td><td>"
      << a.matched << " / " << a.training << " / " << a.deployed << "</td><td>"
      << Format("%.4f", a.mean_abs_score_delta) << "</td><td>"
      << (w.ap ? Percent(*w.ap) : std::string("-")) << "</td><td>"
      << (w.ap_cost ? Format("%.1f", 100 * *w.ap_cost) : std::string("-")) << "</td></tr>\n";
  }
  h << "</table>\n";
}

void External(std::ostringstream& h, const DoctorReport& r) {
  if (r.external.empty()) return;
  h << "<h2>Stage tensors from elsewhere</h2>\n<table id=\"external\">\n<tr><th>file</th>"
       "<th>stage</th><th>shape</th><th>equal</th><th>elements</th><th>elements differing</th>"
       "<th>max |&#916;|</th><th>mean &#916;</th><th>mean |&#916;|</th>"
       "<th class=\"text\">likely cause</th></tr>\n";
  for (const ExternalComparison& e : r.external) {
    const TensorComparison& c = e.comparison;
    h << "<tr class=\"" << (c.equal ? "stage-equal" : "stage-differs") << "\"><td><code>"
      << Esc(e.file.string()) << "</code></td><td>" << Esc(std::string(Name(c.stage)))
      << "</td><td>" << (c.same_shape ? "same" : "aligned") << "</td><td>"
      << (c.equal ? "yes" : "no") << "</td>" << StatsCells(c.stats) << "<td class=\"text\">"
      << FingerprintList(c.fingerprints) << "</td></tr>\n";
  }
  h << "</table>\n<p>lockstep's training-side tensor is the reference; &#916; is the file's value "
       "minus lockstep's.</p>\n";
}

}  // namespace

std::string DoctorHtml(const DoctorReport& report) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<title>lockstep doctor: " << Esc(report.model) << "</title>\n<style>\n"
    << ReportStyle() << kDoctorStyle << "</style>\n</head>\n<body>\n";
  Header(h, report);
  Findings(h, report);
  Differences(h, report);
  Stages(h, report);
  Samples(h, report);
  Coco(h, report);
  Attribution(h, report);
  WhatIfs(h, report);
  External(h, report);
  h << "<p class=\"none\">Written by lockstep doctor. One self-contained file: images are "
       "embedded, charts are inline SVG.</p>\n</body>\n</html>\n";
  return h.str();
}

void WriteDoctorHtml(const std::filesystem::path& path, const DoctorReport& report) {
  WriteFileAtomically(path, DoctorHtml(report));
}

}  // namespace lockstep
