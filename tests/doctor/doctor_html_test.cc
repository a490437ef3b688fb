// The doctor's HTML report: its structure and content checked on the string, every embedded PNG
// decoded back to the exact pixels it was made from, and the file opened in headless Chromium,
// whose DOM and screenshot must show the verdict, the findings and the images.
#include "lockstep/doctor/doctor_html.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "lockstep/core/base64.h"
#include "lockstep/core/error.h"
#include "lockstep/detect/detector.h"
#include "lockstep/doctor/difference_heatmap.h"
#include "lockstep/image/decode.h"
#include "lockstep/image/draw.h"
#include "lockstep/pipeline/geometry.h"
#include "lockstep/pipeline/preprocess.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;

const char* kSsd = testing::kCocoSsdV1;
const char* kChromium = "/usr/bin/chromium";

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A smooth generated picture, so that a PNG round trip and a drawn box are easy to tell apart.
Image Gradient(int w, int h, int seed) {
  Image im(w, h, 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      im.at(x, y, 0) = uint8_t((x * 255 / std::max(1, w - 1) + seed) % 256);
      im.at(x, y, 1) = uint8_t((y * 255 / std::max(1, h - 1) + 2 * seed) % 256);
      im.at(x, y, 2) = uint8_t((x + y + 3 * seed) % 256);
    }
  return im;
}

// A sample with known differences: the deployed input equals the training input except a block
// [10,20)×[5,15) changed by (+30, −20, +10) (sum 60) and pixel (0,0), black against white (765).
SampleView GeneratedSample() {
  SampleView v;
  v.file = "generated/squares <1> & \"two\".png";
  v.source = Gradient(64, 48, 0);
  v.training_input = Gradient(40, 30, 5);
  v.training_input.at(0, 0, 0) = v.training_input.at(0, 0, 1) = v.training_input.at(0, 0, 2) = 0;
  v.deployed_input = v.training_input;
  v.deployed_input.at(0, 0, 0) = v.deployed_input.at(0, 0, 1) = v.deployed_input.at(0, 0, 2) = 255;
  for (int y = 5; y < 15; ++y)
    for (int x = 10; x < 20; ++x) {
      v.training_input.at(x, y, 0) = 100;
      v.training_input.at(x, y, 1) = 100;
      v.training_input.at(x, y, 2) = 100;
      v.deployed_input.at(x, y, 0) = 130;
      v.deployed_input.at(x, y, 1) = 80;
      v.deployed_input.at(x, y, 2) = 110;
    }
  v.training_detections = {{1, "bicycle", 0.9f, Box{8, 6, 40, 30}}};
  v.deployed_detections = {{5, "bus", 0.4f, Box{20, 10, 60, 44}},
                           {1, "bicycle", 0.35f, Box{4, 4, 30, 40}}};
  return v;
}

CocoEvalResult Stats(std::array<double, 12> stats) {
  CocoEvalResult r;
  r.stats = stats;
  return r;
}

// A report as the doctor gives it for a deployment with [0,1] normalization, BGR and letterbox,
// with a hostile string in every kind of field.
DoctorReport MisalignedReport() {
  DoctorReport r;
  r.model = "models/m&<x>.tflite";
  r.training_source = "train.json";
  r.deployed_source = "deploy \"edge\".json";
  r.aligned = false;
  r.findings = {{"channel_order_mismatch", Severity::kWarning, "$.input.channel_order", "rgb",
                 "bgr", "Red and blue are swapped.", "Set input.channel_order to \"rgb\"."},
                {"normalization_range", Severity::kError, "$.normalize", "[-1,1]", "[0,1]",
                 "Inputs land in half the range the model expects & scores collapse.",
                 "Use mean 127.5, std 127.5."},
                {"geometry_mismatch", Severity::kError, "$.geometry.mode", "stretch",
                 "<script>document.title='pwned'</script>", "Objects are squeezed.", "Stretch."},
                {"postprocess_note", Severity::kInfo, "$.output", "", "", "Noted.", ""}};
  r.differences = {
      {"input.channel_order", {{"$.input.channel_order", "rgb", "bgr"}}},
      {"geometry", {{"$.geometry.mode", "stretch", "letterbox"}}},
      {"normalize",
       {{"$.normalize.mean[0]", "127.5", "0"}, {"$.normalize.std[0]", "127.5", "255"}}}};
  StageReport geometry{"geometry", 2, 0, {}, {}, "transform of 2 images"};
  StageReport resized{"resized", 2, 2, {}, {}, "HxWx3 uint8"};
  resized.stats = {270000, 150000, 255, -12.5, 40.25};
  resized.fingerprints = {{"padded_vs_stretched", "padded vs stretched",
                           "a band of constant rows at the top and bottom"}};
  StageReport normalized{"normalized", 2, 2, {}, {}, ""};
  normalized.stats = {270000, 269999, 1.5, 0.5, 0.75};
  r.stages = {geometry, resized, normalized};
  r.first_divergence = "resized";
  r.agreement = DetectionAgreement{12, 7, 5, 0.0812, 0.31, 0.74};
  r.images = 2;
  r.training_eval = Stats({0.251, 0.42, 0.26, 0.05, 0.2, 0.33, 0.22, 0.3, 0.31, -1, 0.25, 0.4});
  r.deployed_eval = Stats({0.101, 0.2, 0.09, 0.01, 0.08, 0.15, 0.1, 0.14, 0.15, -1, 0.1, 0.2});
  r.attribution = {{r.differences[2], 0.19, 0.09, 0.6},
                   {r.differences[1], 0.146, 0.045, 0.3},
                   {r.differences[0], 0.0935, -0.0075, -0.05}};
  r.what_ifs = {{"truncation_vs_rounding",
                 "truncation instead of rounding",
                 {12, 12, 12, 0.001},
                 0.249,
                 0.002}};
  TensorComparison c;
  c.stage = StageKind::kNormalized;
  c.equal = false;
  c.stats = {270000, 270000, 1.0, -0.5, 0.5};
  c.fingerprints = {{"normalization_range", "[0,1] vs [-1,1]",
                     "after mapping x→(x+1)/2 the tensors agree to 0.004"}};
  r.external = {{"dumps/normalized.npy", c}};
  r.samples = {GeneratedSample()};
  return r;
}

// Every data:image/png URI of the document, in order, as base64 text.
std::vector<std::string> PngUris(const std::string& html) {
  std::vector<std::string> out;
  const std::string prefix = "src=\"data:image/png;base64,";
  for (size_t at = html.find(prefix); at != std::string::npos; at = html.find(prefix, at + 1)) {
    size_t begin = at + prefix.size();
    out.push_back(html.substr(begin, html.find('"', begin) - begin));
  }
  return out;
}

// The opening tags of the document that start with `start`, each up to its '>'.
std::vector<std::string> Tags(const std::string& html, const std::string& start) {
  std::vector<std::string> out;
  for (size_t at = html.find(start); at != std::string::npos; at = html.find(start, at + 1))
    out.push_back(html.substr(at, html.find('>', at) - at));
  return out;
}

// The value of attribute `name` in one tag ("" when absent).
std::string Attribute(const std::string& tag, const std::string& name) {
  const std::string key = " " + name + "=\"";
  size_t at = tag.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return tag.substr(at, tag.find('"', at) - at);
}

// Every value of the given attribute openings (" src=\"", ...) in the document, in order.
std::vector<std::string> AttributeValues(const std::string& html,
                                         const std::vector<std::string>& keys) {
  std::vector<std::pair<size_t, std::string>> found;
  for (const std::string& key : keys)
    for (size_t at = html.find(key); at != std::string::npos; at = html.find(key, at + 1)) {
      size_t begin = at + key.size();
      found.emplace_back(at, html.substr(begin, html.find('"', begin) - begin));
    }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [at, value] : found) out.push_back(value);
  return out;
}

// "&#123;" or "&amp;" at the start of `text`.
bool IsEntity(const std::string& text) {
  if (text.size() < 3 || text[0] != '&') return false;
  size_t i = 1;
  if (text[1] == '#') {
    for (i = 2; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    }
    return i > 2 && i < text.size() && text[i] == ';';
  }
  for (; i < text.size() && std::islower(static_cast<unsigned char>(text[i])); ++i) {
  }
  return i > 1 && i < text.size() && text[i] == ';';
}

Rgb PixelAt(const Image& im, int x, int y) {
  return {im.at(x, y, 0), im.at(x, y, 1), im.at(x, y, 2)};
}

TEST(DoctorHtml, HoldsTheVerdictFindingsStagesTablesAndCharts) {
  DoctorReport r = MisalignedReport();
  std::string html = DoctorHtml(r);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  // The verdict banner, in the misaligned colour, with the counts and the first divergence.
  EXPECT_NE(
      html.find("class=\"verdict verdict-misaligned\"><strong>Not aligned</strong>: 2 errors, "
                "1 warning. The pipelines first diverge at <em>resized</em>."),
      std::string::npos);
  EXPECT_NE(html.find(".verdict-misaligned{background:#D55E00"), std::string::npos);
  // The findings: one row each, errors first, severity as a coloured badge.
  EXPECT_EQ(Count(html, "<tr class=\"finding "), 4u);
  size_t error1 = html.find("<code>normalization_range</code></td><td class=\"severity\">");
  size_t error2 = html.find("<code>geometry_mismatch</code>");
  size_t warning = html.find("<code>channel_order_mismatch</code>");
  size_t info = html.find("<code>postprocess_note</code>");
  ASSERT_NE(info, std::string::npos);
  EXPECT_LT(error1, error2);
  EXPECT_LT(error2, warning);
  EXPECT_LT(warning, info);
  EXPECT_EQ(Count(html, "<tr class=\"finding sev-error\">"), 2u);
  EXPECT_EQ(Count(html, "<tr class=\"finding sev-warning\">"), 1u);
  EXPECT_NE(html.find(".sev-error .badge{background:#D55E00"), std::string::npos);
  for (const char* column :
       {"code", "severity", "field", "training", "deployed", "consequence", "fix"})
    EXPECT_NE(html.find(std::string("<th>") + column + "</th>"), std::string::npos) << column;
  // The spec differences, a unit spanning its fields.
  EXPECT_NE(html.find("<td rowspan=\"2\"><strong>normalize</strong>"), std::string::npos);
  // The stages: the first divergence highlighted, the equal stage ticked, the cause named.
  EXPECT_NE(html.find("<tr class=\"first-divergence\"><td>resized &#9664; first divergence</td>"
                      "<td>2</td><td>2</td><td>270000</td><td>55.6%</td><td>255</td>"
                      "<td>-12.5</td><td>40.25</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<tr class=\"stage-equal\"><td>geometry &#10003;</td>"), std::string::npos);
  // A share that is not all never reads 100%.
  EXPECT_NE(html.find("<td>270000</td><td>&gt;99.9%</td><td>1.5</td>"), std::string::npos);
  EXPECT_NE(html.find("<strong>padded vs stretched</strong> <code>padded_vs_stretched</code>"),
            std::string::npos);
  EXPECT_NE(html.find("<td>12</td><td>7</td><td>5</td><td>0.0812</td><td>0.3100</td>"),
            std::string::npos);
  // The COCO table: both pipelines and the deltas in points, "-" where COCO has nothing.
  EXPECT_NE(html.find("<tr><td>training</td><td>25.1</td><td>42.0</td>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>deployed</td><td>10.1</td><td>20.0</td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"delta-neg\">-15.0</td><td class=\"delta-neg\">-22.0</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"delta-neg\">-16.0</td><td>-</td>"), std::string::npos);
  for (const char* stat : kCocoStatNames)
    EXPECT_NE(html.find(std::string("<th>") + stat + "</th>"), std::string::npos) << stat;
  // The attribution chart: the axis runs from -5% to 100% over 420 pixels, so bars of 60%, 30%
  // and -5% are 240, 120 and 20 pixels wide; the negative one is vermillion and ends at the axis.
  std::vector<std::string> widths, fills, xs;
  for (const std::string& tag : Tags(html, "<rect class=\"attribution-bar\"")) {
    xs.push_back(Attribute(tag, "x"));
    widths.push_back(Attribute(tag, "width"));
    fills.push_back(Attribute(tag, "fill"));
  }
  EXPECT_EQ(widths, (std::vector<std::string>{"240.00", "120.00", "20.00"}));
  EXPECT_EQ(fills, (std::vector<std::string>{"#0072B2", "#0072B2", "#D55E00"}));
  EXPECT_EQ(xs, (std::vector<std::string>{"220.00", "220.00", "200.00"}));
  EXPECT_NE(html.find("training AP 25.1, deployed AP 10.1: gap 15.0 points; together the units "
                      "explain 85%"),
            std::string::npos);
  EXPECT_NE(html.find("<td>60%</td>"), std::string::npos);
  // What-ifs and the stage tensors from elsewhere.
  EXPECT_NE(html.find("<td><code>truncation_vs_rounding</code></td>"), std::string::npos);
  EXPECT_NE(html.find("<td>12 / 12 / 12</td>"), std::string::npos);
  EXPECT_NE(html.find("<code>dumps/normalized.npy</code></td><td>normalized</td>"),
            std::string::npos);
  EXPECT_NE(html.find("[0,1] vs [-1,1]"), std::string::npos);
  // One sample: two model inputs, a heatmap with its scale, two detection panels.
  EXPECT_EQ(Count(html, "<section class=\"sample\">"), 1u);
  // Small pictures enlarged by whole factors with square pixels: 40x30 inputs 7 times to 280x210,
  // the 64x48 source 9 times to 576x432.
  EXPECT_EQ(Count(html, "<img class=\"model-input enlarged\""), 2u);
  EXPECT_EQ(Count(html, "<img class=\"heatmap enlarged\""), 1u);
  EXPECT_EQ(Count(html, "<svg class=\"heat-scale\""), 1u);
  EXPECT_EQ(Count(html, "<img class=\"detections enlarged\""), 2u);
  EXPECT_EQ(Count(html, "\" width=\"280\" height=\"210\" alt="), 3u);
  EXPECT_EQ(Count(html, "\" width=\"576\" height=\"432\" alt="), 2u);
  EXPECT_NE(html.find(">765</text>"), std::string::npos);  // the scale's top: the largest sum
  EXPECT_NE(html.find("101 of 1200 pixels differ (8.42%), largest 765 of 765"), std::string::npos);
  EXPECT_NE(html.find("Deployed pipeline: 2 detections"), std::string::npos);
}

TEST(DoctorHtml, EscapesEveryStringAndLoadsNothingFromOutside) {
  std::string html = DoctorHtml(MisalignedReport());
  // No markup from the report's strings survives: the only tags are the report's own.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;document.title=&apos;pwned&apos;&lt;/script&gt;"),
            std::string::npos);
  EXPECT_NE(html.find("<title>lockstep doctor: models/m&amp;&lt;x&gt;.tflite</title>"),
            std::string::npos);
  EXPECT_NE(html.find("deploy &quot;edge&quot;.json"), std::string::npos);
  EXPECT_NE(html.find("squares &lt;1&gt; &amp; &quot;two&quot;.png"), std::string::npos);
  EXPECT_NE(html.find("expects &amp; scores collapse."), std::string::npos);
  EXPECT_EQ(html.find("<1>"), std::string::npos);
  // Every & starts an entity.
  for (size_t at = html.find('&'); at != std::string::npos; at = html.find('&', at + 1)) {
    std::string rest = html.substr(at, 8);
    EXPECT_TRUE(IsEntity(rest)) << rest;
  }
  // Self-contained: every src and href is a data: URI or a fragment, no stylesheet or script
  // is linked; the only URL is the SVG namespace name, which is never fetched.
  size_t references = 0;
  for (const std::string& target : AttributeValues(html, {" src=\"", " href=\""})) {
    EXPECT_TRUE(target.rfind("data:image/png;base64,", 0) == 0 || target.rfind("#", 0) == 0)
        << target.substr(0, 60);
    ++references;
  }
  EXPECT_EQ(references, 5u);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  std::string without_namespace = html;
  const std::string svg_namespace = "xmlns=\"http://www.w3.org/2000/svg\"";
  for (size_t at = without_namespace.find(svg_namespace); at != std::string::npos;
       at = without_namespace.find(svg_namespace, at))
    without_namespace.erase(at, svg_namespace.size());
  EXPECT_EQ(without_namespace.find("http:"), std::string::npos);
  EXPECT_EQ(without_namespace.find("https:"), std::string::npos);
  EXPECT_EQ(without_namespace.find("file://"), std::string::npos);
}

TEST(DoctorHtml, EmbeddedPngsDecodeToTheInputsTheHeatmapAndTheDrawnDetections) {
  DoctorReport r = MisalignedReport();
  const SampleView& v = r.samples[0];
  std::vector<std::string> uris = PngUris(DoctorHtml(r));
  ASSERT_EQ(uris.size(), 5u);
  std::vector<Image> images;
  for (const std::string& uri : uris)
    images.push_back(DecodeImage(Base64Decode(uri, "report"), "embedded png"));
  // The model inputs, pixel for pixel.
  EXPECT_EQ(images[0], v.training_input);
  EXPECT_EQ(images[1], v.deployed_input);
  // The heatmap: the zero colour wherever the inputs agree, the top colour at (0,0) (765, the
  // largest), and 60/765 of the way up inside the block.
  const Image& heat = images[2];
  ASSERT_EQ(heat.width, 40);
  ASSERT_EQ(heat.height, 30);
  ASSERT_EQ(heat.channels, 3);
  size_t zero = 0;
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 40; ++x) {
      Rgb c = PixelAt(heat, x, y);
      bool in_block = x >= 10 && x < 20 && y >= 5 && y < 15;
      if (x == 0 && y == 0) {
        EXPECT_EQ(c, (Rgb{0xfd, 0xe7, 0x25}));
      } else if (in_block) {
        EXPECT_EQ(c, (Rgb{70, 28, 108})) << x << "," << y;
      } else {
        EXPECT_EQ(c, (Rgb{0x44, 0x01, 0x54})) << x << "," << y;
        ++zero;
      }
    }
  EXPECT_EQ(zero, 1200u - 101u);
  // The detection panels: the source's size; the box outline in the class colour on the left
  // edge of each box, the source untouched far from any box.
  for (int panel : {3, 4}) {
    const Image& drawn = images[size_t(panel)];
    ASSERT_EQ(drawn.width, 64);
    ASSERT_EQ(drawn.height, 48);
    EXPECT_EQ(PixelAt(drawn, 63, 0), PixelAt(v.source, 63, 0));
    EXPECT_NE(drawn, v.source);
  }
  EXPECT_EQ(PixelAt(images[3], 8, 20), ClassColor(1));  // bicycle box, x from 8
  EXPECT_EQ(PixelAt(images[3], 50, 40), PixelAt(v.source, 50, 40));
  EXPECT_EQ(PixelAt(images[4], 20, 30), ClassColor(5));  // bus box, x from 20
  EXPECT_EQ(PixelAt(images[4], 4, 30), ClassColor(1));   // bicycle box, x from 4
}

TEST(DoctorHtml, StaticOnlyAlignedReportSaysSoWithoutImages) {
  DoctorReport r;
  r.model = "model.tflite";
  r.training_source = "a.json";
  r.deployed_source = "b.json";
  std::string html = DoctorHtml(r);
  EXPECT_NE(html.find("class=\"verdict verdict-aligned\"><strong>Aligned</strong>: the deployed "
                      "pipeline matches training."),
            std::string::npos);
  EXPECT_NE(html.find("No findings."), std::string::npos);
  EXPECT_NE(html.find("No images given"), std::string::npos);
  EXPECT_NE(html.find("No COCO annotations given"), std::string::npos);
  EXPECT_NE(html.find("none: static checks only"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<table id=\"findings\""), std::string::npos);
  // A warning alone keeps the pipelines aligned, in the warning colour.
  r.findings = {{"label_count", Severity::kWarning, "$.output.labels", "90", "80", "x", "y"}};
  EXPECT_NE(DoctorHtml(r).find("verdict-warnings\"><strong>Aligned</strong>, with 1 warning."),
            std::string::npos);
}

TEST(DoctorHtml, MissingPicturesAndMismatchedInputsStillRender) {
  DoctorReport r = MisalignedReport();
  r.samples[0].deployed_input = Image();  // the deployed side could not be computed
  r.samples[0].source = Image();
  std::string html = DoctorHtml(r);
  EXPECT_NE(html.find("deployed pipeline&apos;s model input: not available"), std::string::npos);
  EXPECT_NE(html.find("No difference heatmap: the two model inputs are 40x30 and 0x0."),
            std::string::npos);
  EXPECT_EQ(PngUris(html).size(), 1u);
  // Inputs of equal size but different channel counts are compared as RGB.
  r = MisalignedReport();
  Image gray(40, 30, 1);
  r.samples[0].training_input = gray;
  r.samples[0].deployed_input = ToRgb(gray);
  html = DoctorHtml(r);
  EXPECT_NE(html.find("0 of 1200 pixels differ"), std::string::npos);
}

TEST(DoctorHtml, LargePhotosAreScaledDownWithTheirBoxes) {
  DoctorReport r;
  SampleView v = GeneratedSample();
  v.source = Gradient(2400, 1800, 3);
  v.training_detections = {{2, "car", 0.8f, Box{200, 300, 1000, 900}}};
  v.deployed_detections = {};
  r.samples = {v};
  std::string html = DoctorHtml(r);
  EXPECT_NE(html.find("Training pipeline: 1 detection on the original image (2400x1800, shown at "
                      "1200x900)"),
            std::string::npos);
  std::vector<std::string> uris = PngUris(html);
  ASSERT_EQ(uris.size(), 5u);
  Image training = DecodeImage(Base64Decode(uris[3], "report"), "training panel");
  Image deployed = DecodeImage(Base64Decode(uris[4], "report"), "deployed panel");
  ASSERT_EQ(training.width, 1200);
  ASSERT_EQ(training.height, 900);
  // The box at half scale: its left edge from x 100, y 150..450; nothing drawn on the other.
  EXPECT_EQ(PixelAt(training, 100, 300), ClassColor(2));
  EXPECT_EQ(PixelAt(training, 99, 300), PixelAt(deployed, 99, 300));
  EXPECT_NE(PixelAt(deployed, 100, 300), ClassColor(2));
  EXPECT_EQ(Count(html, "\" width=\"600\" height=\"450\" alt="), 2u);
}

TEST(DoctorHtml, WritesTheFileAtomically) {
  fs::path dir = testing::ScratchDir();
  DoctorReport r = MisalignedReport();
  WriteDoctorHtml(dir / "doctor.html", r);
  std::vector<uint8_t> bytes = testing::ReadBytes(dir / "doctor.html");
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), DoctorHtml(r));
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) files += entry.is_regular_file();
  EXPECT_EQ(files, 1u);  // no temporary left behind
  try {
    WriteDoctorHtml(dir / "missing" / "doctor.html", r);
    ADD_FAILURE() << "wrote into a folder that does not exist";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing/doctor.html"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "missing"));
}

// ---- Headless Chromium ----------------------------------------------------------------------

// The real thing for a sample: a COCO128 photo through the SSD MobileNet v1 detector with the
// training pipeline (stretch, [-1,1]) and a deployed one (letterbox, [0,1]), the model inputs as
// the geometry and resize stages place them.
SampleView RealSample(const fs::path& image_file) {
  Spec training;
  training.normalize.mean = {127.5, 127.5, 127.5};
  training.normalize.std = {127.5, 127.5, 127.5};
  training.output.score_threshold = 0.4;
  Spec deployed = training;
  deployed.geometry.mode = GeometryMode::kLetterbox;
  deployed.normalize.mean = {0, 0, 0};
  deployed.normalize.std = {255, 255, 255};
  SampleView v;
  v.file = image_file;
  v.source = ToRgb(DecodeImageFile(image_file));
  Detector train = Detector::Create(LOCKSTEP_ASSET(kSsd), training);
  Detector deploy = Detector::Create(LOCKSTEP_ASSET(kSsd), deployed);
  v.training_detections = train.Detect(v.source).detections;
  v.deployed_detections = deploy.Detect(v.source).detections;
  v.training_input =
      PlaceResized(v.source, training,
                   ComputeTransform(training.geometry, v.source.width, v.source.height, 300, 300));
  v.deployed_input =
      PlaceResized(v.source, deployed,
                   ComputeTransform(deployed.geometry, v.source.width, v.source.height, 300, 300));
  return v;
}

// Runs Chromium headless on `page` with `args`, stdout to `out`; true when it exited 0.
bool RunChromium(const fs::path& scratch, const std::string& args, const fs::path& page,
                 const fs::path& out) {
  std::string command = std::string("timeout 90 ") + kChromium +
                        " --headless --no-sandbox --disable-gpu --disable-background-networking "
                        "--no-first-run --force-color-profile=srgb --hide-scrollbars "
                        "--user-data-dir=" +
                        (scratch / "chromium-profile").string() + " " + args + " file://" +
                        page.string() + " > " + out.string() + " 2> " +
                        (scratch / "chromium.log").string();
  int status = std::system(command.c_str());
  if (status != 0) {
    std::vector<uint8_t> log = testing::ReadBytes(scratch / "chromium.log");
    ADD_FAILURE() << command << "\nexit status " << status << "\n"
                  << std::string(log.begin(), log.end()).substr(0, 4000);
  }
  return status == 0;
}

TEST(DoctorHtmlChromium, RendersTheVerdictFindingsAndImages) {
  if (!fs::exists(kChromium))
    GTEST_SKIP() << kChromium << " is absent: install Debian's chromium (scripts/setup.sh does) "
                 << "to open the report in a real browser";
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path dir = testing::ScratchDir();
  DoctorReport r = MisalignedReport();
  SampleView photo = RealSample(LOCKSTEP_ASSET("datasets/coco128/train2017/000000000025.jpg"));
  ASSERT_FALSE(photo.training_detections.empty());  // the giraffes
  r.samples.insert(r.samples.begin(), photo);
  fs::path report = dir / "doctor.html";
  WriteDoctorHtml(report, r);

  // The DOM after load, through a copy with a probe that counts the decoded images (the report
  // itself carries no script).
  std::string html = DoctorHtml(r);
  size_t end = html.rfind("</body>");
  ASSERT_NE(end, std::string::npos);
  html.insert(end,
              "<script>window.addEventListener('load',function(){var im=document.images,ok=0;"
              "for(var i=0;i<im.length;++i)if(im[i].complete&&im[i].naturalWidth>0)++ok;"
              "document.body.setAttribute('data-images',im.length);"
              "document.body.setAttribute('data-images-loaded',ok);});</script>");
  std::vector<uint8_t> probe_bytes(html.begin(), html.end());
  testing::WriteBytes(dir / "probe.html", probe_bytes);
  ASSERT_TRUE(RunChromium(dir, "--virtual-time-budget=10000 --dump-dom", dir / "probe.html",
                          dir / "dom.html"));
  std::vector<uint8_t> dom_bytes = testing::ReadBytes(dir / "dom.html");
  std::string dom(dom_bytes.begin(), dom_bytes.end());
  EXPECT_NE(dom.find("data-images=\"10\""), std::string::npos) << dom.substr(0, 2000);
  EXPECT_NE(dom.find("data-images-loaded=\"10\""), std::string::npos);
  EXPECT_NE(dom.find("<strong>Not aligned</strong>: 2 errors, 1 warning."), std::string::npos);
  EXPECT_EQ(Count(dom, "<tr class=\"finding "), 4u);
  EXPECT_NE(dom.find("id=\"attribution-chart\""), std::string::npos);
  EXPECT_NE(dom.find("<title>lockstep doctor: models/m&amp;&lt;x&gt;.tflite</title>"),
            std::string::npos);          // the planted script stayed text
  EXPECT_EQ(Count(dom, "<script"), 1u);  // the probe only

  // The screenshot of the report itself: the verdict banner in its colour across the top, and
  // the pictures and charts (thousands of colours), not a blank page.
  fs::path shot = dir / "doctor.png";
  ASSERT_TRUE(RunChromium(dir, "--window-size=1280,2000 --screenshot=" + shot.string(), report,
                          dir / "screenshot.log"));
  Image page = ToRgb(DecodeImageFile(shot));
  EXPECT_EQ(page.width, 1280);
  EXPECT_EQ(page.height, 2000);
  const Rgb banner{0xD5, 0x5E, 0x00};
  size_t banner_pixels = 0, banner_top = size_t(page.height);
  std::set<uint32_t> colours;
  for (int y = 0; y < page.height; ++y)
    for (int x = 0; x < page.width; ++x) {
      Rgb c = PixelAt(page, x, y);
      colours.insert(uint32_t(c.r) << 16 | uint32_t(c.g) << 8 | c.b);
      if (c == banner) {
        ++banner_pixels;
        banner_top = std::min(banner_top, size_t(y));
      }
    }
  EXPECT_GT(banner_pixels, 30000u);  // ~1230 × 55 pixels less the text
  EXPECT_LT(banner_top, 150u);
  EXPECT_GT(colours.size(), 2000u);
  std::cout << "screenshot " << shot.string() << ": " << colours.size() << " colours, "
            << banner_pixels << " banner pixels from y " << banner_top << "\n";
}

}  // namespace
}  // namespace lockstep
