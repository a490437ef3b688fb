// The SVG charts: well-formed XML, and each curve's points exactly where PlotFrame puts the
// values of a hand-made precision array.
#include "lockstep/eval/pr_curve.h"

#include "eval/synthetic.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace lockstep {
namespace {

bool NameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':' || c == '-';
}
bool Space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// A start tag's inside: NAME (SPACE ATTR="VALUE")* SPACE* /?
bool StartTag(const std::string& tag, std::string& name, bool& self_closing) {
  size_t i = 0;
  if (tag.empty() || !std::isalpha(static_cast<unsigned char>(tag[0]))) return false;
  while (i < tag.size() && NameChar(tag[i])) name += tag[i++];
  while (true) {
    size_t spaces = 0;
    while (i < tag.size() && Space(tag[i])) ++i, ++spaces;
    if (i == tag.size()) return (self_closing = false, true);
    if (tag[i] == '/') return (self_closing = true, i + 1 == tag.size());
    if (spaces == 0 || !NameChar(tag[i])) return false;
    while (i < tag.size() && NameChar(tag[i])) ++i;
    if (i + 1 >= tag.size() || tag[i] != '=' || tag[i + 1] != '"') return false;
    size_t close = tag.find('"', i + 2);
    if (close == std::string::npos || tag.find('<', i + 2) < close) return false;
    i = close + 1;
  }
}

// The value of attribute `name` in each element whose text starts with `prefix`.
std::vector<std::string> AttributeOf(const std::string& svg, const std::string& prefix,
                                     const std::string& name) {
  std::vector<std::string> values;
  for (size_t at = svg.find(prefix); at != std::string::npos; at = svg.find(prefix, at + 1)) {
    size_t end = svg.find('>', at);
    size_t a = svg.find(" " + name + "=\"", at);
    if (a == std::string::npos || a > end) continue;
    a += name.size() + 3;
    values.push_back(svg.substr(a, svg.find('"', a) - a));
  }
  return values;
}

// A minimal XML check: every tag closes in order, attributes are quoted, no raw '<' or '&' in
// text, exactly one root element <svg>.
::testing::AssertionResult WellFormed(const std::string& xml) {
  std::vector<std::string> open;
  size_t roots = 0;
  size_t i = 0;
  while (i < xml.size()) {
    if (xml[i] == '&') {
      size_t semi = xml.find(';', i);
      std::string entity = xml.substr(i, semi == std::string::npos ? 8 : semi - i + 1);
      if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;" &&
          entity != "&apos;")
        return ::testing::AssertionFailure() << "bad entity at " << i << ": " << entity;
      i = semi + 1;
      continue;
    }
    if (xml[i] != '<') {
      if (open.empty() && !std::isspace(static_cast<unsigned char>(xml[i])))
        return ::testing::AssertionFailure() << "text outside the root at " << i;
      ++i;
      continue;
    }
    size_t end = i + 1;
    char quote = 0;
    for (; end < xml.size(); ++end) {
      if (quote) {
        if (xml[end] == quote) quote = 0;
        if (xml[end] == '<') return ::testing::AssertionFailure() << "'<' in attribute at " << end;
      } else if (xml[end] == '"' || xml[end] == '\'') {
        quote = xml[end];
      } else if (xml[end] == '>') {
        break;
      }
    }
    if (end == xml.size()) return ::testing::AssertionFailure() << "unclosed tag at " << i;
    std::string tag = xml.substr(i + 1, end - i - 1);
    if (tag[0] == '/') {
      std::string name = tag.substr(1);
      if (open.empty() || open.back() != name)
        return ::testing::AssertionFailure()
               << "</" << name << "> closes " << (open.empty() ? "nothing" : open.back());
      open.pop_back();
    } else {
      std::string name;
      bool self_closing = false;
      if (!StartTag(tag, name, self_closing))
        return ::testing::AssertionFailure() << "malformed tag <" << tag << ">";
      if (open.empty() && ++roots > 1) return ::testing::AssertionFailure() << "two roots";
      if (open.empty() && name != "svg") return ::testing::AssertionFailure() << "root " << name;
      if (!self_closing) open.push_back(name);
    }
    i = end + 1;
  }
  if (!open.empty()) return ::testing::AssertionFailure() << "<" << open.back() << "> not closed";
  if (roots != 1) return ::testing::AssertionFailure() << "no root";
  return ::testing::AssertionSuccess();
}

// The points attribute of every <polyline class="pr-curve">, parsed.
std::vector<std::vector<std::pair<double, double>>> CurvePoints(const std::string& svg) {
  std::vector<std::vector<std::pair<double, double>>> curves;
  for (const std::string& list : AttributeOf(svg, "<polyline class=\"pr-curve\"", "points")) {
    std::vector<std::pair<double, double>> points;
    size_t pos = 0;
    while (pos < list.size()) {
      double x, y;
      int used = 0;
      if (std::sscanf(list.c_str() + pos, " %lf,%lf%n", &x, &y, &used) != 2) break;
      points.push_back({x, y});
      pos += size_t(used);
    }
    curves.push_back(points);
  }
  return curves;
}

// Two IoU thresholds (.5, .75), recall thresholds 0, .5, 1, one area range, one maxDets, three
// categories of which the last has no ground truth (-1 everywhere).
CocoEvalResult HandMade() {
  CocoEvalResult r;
  r.params.iou_thresholds = {0.5, 0.75};
  r.params.recall_thresholds = {0, 0.5, 1};
  r.params.area_ranges = {{"all", 0, 1e10}};
  r.params.max_dets = {100};
  r.category_ids = {1, 2, 7};
  // precision[t][r][k]
  const double p[2][3][3] = {{{1.0, 0.8, -1}, {0.6, 0.4, -1}, {0.2, 0.0, -1}},
                             {{0.9, 0.5, -1}, {0.3, 0.1, -1}, {0.0, 0.0, -1}}};
  for (size_t t = 0; t < 2; ++t)
    for (size_t i = 0; i < 3; ++i)
      for (size_t k = 0; k < 3; ++k) r.precision.push_back(p[t][i][k]);
  r.recall.assign(2 * 3, 0);
  r.category_ap = {(1.0 + 0.6 + 0.2 + 0.9 + 0.3 + 0.0) / 6, (0.8 + 0.4 + 0.0 + 0.5 + 0.1) / 6, -1};
  return r;
}

// The checker itself catches what a broken generator would produce.
TEST(WellFormedCheck, RejectsBrokenXml) {
  EXPECT_TRUE(WellFormed("<svg a=\"1\"><g><line x=\"2\"/></g><text>a &amp; b</text></svg>\n"));
  EXPECT_FALSE(WellFormed("<svg><g></svg>"));                     // unclosed <g>
  EXPECT_FALSE(WellFormed("<svg><text>a & b</text></svg>"));      // raw '&'
  EXPECT_FALSE(WellFormed("<svg><line x=2/></svg>"));             // unquoted attribute
  EXPECT_FALSE(WellFormed("<svg></svg><svg></svg>"));             // two roots
  EXPECT_FALSE(WellFormed("<svg><text a=\"<\">x</text></svg>"));  // '<' in an attribute
  EXPECT_FALSE(WellFormed("<html></html>"));                      // not an SVG
}

TEST(MeanPrCurve, AveragesCategoriesWithGroundTruth) {
  CocoEvalResult r = HandMade();
  PrCurve c50 = MeanPrCurve(r, 0, "a");
  ASSERT_EQ(c50.precision.size(), 3u);
  EXPECT_EQ(c50.recall, (std::vector<double>{0, 0.5, 1}));
  EXPECT_DOUBLE_EQ(c50.precision[0], 0.9);
  EXPECT_DOUBLE_EQ(c50.precision[1], 0.5);
  EXPECT_DOUBLE_EQ(c50.precision[2], 0.1);
  PrCurve all = MeanPrCurve(r, std::nullopt, "b");
  EXPECT_DOUBLE_EQ(all.precision[0], (1.0 + 0.8 + 0.9 + 0.5) / 4);
  EXPECT_DOUBLE_EQ(all.precision[1], (0.6 + 0.4 + 0.3 + 0.1) / 4);
  EXPECT_DOUBLE_EQ(all.precision[2], (0.2 + 0.0 + 0.0 + 0.0) / 4);
  EXPECT_TRUE(MeanPrCurve(r, 2, "out of range").precision.empty());
}

TEST(MeanPrCurve, NoGroundTruthGivesAnEmptyCurve) {
  CocoEvalResult r = HandMade();
  for (double& p : r.precision) p = -1;
  EXPECT_TRUE(MeanPrCurve(r, std::nullopt, "").precision.empty());
  std::string svg = PrCurvesSvg(r, "empty");
  EXPECT_TRUE(WellFormed(svg));
  EXPECT_NE(svg.find("no ground truth to evaluate"), std::string::npos);
}

TEST(PrCurvesSvg, PointsLandWherePlotFrameSays) {
  PlotFrame f;
  // Hand-computed: left 70 + recall * 440, top 50 + (1 - precision) * 360.
  EXPECT_DOUBLE_EQ(f.X(0.5), 290);
  EXPECT_DOUBLE_EQ(f.Y(0.25), 320);
  std::vector<PrCurve> curves = {{"one", {0, 0.5, 1}, {1, 0.25, 0}},
                                 {"two & <three>", {0, 1}, {0.5, 0.5}}};
  std::string svg = PrCurvesSvg(curves, "title \"quoted\"", f);
  ASSERT_TRUE(WellFormed(svg)) << svg;
  auto points = CurvePoints(svg);
  ASSERT_EQ(points.size(), 2u);
  using P = std::vector<std::pair<double, double>>;
  EXPECT_EQ(points[0], (P{{70, 50}, {290, 320}, {510, 410}}));
  EXPECT_EQ(points[1], (P{{70, 230}, {510, 230}}));
  EXPECT_NE(svg.find("two &amp; &lt;three&gt;"), std::string::npos);
  EXPECT_NE(svg.find("title &quot;quoted&quot;"), std::string::npos);
  // Self-contained: no scripts, no links to other files or fonts.
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_EQ(svg.find("href"), std::string::npos);
  EXPECT_EQ(svg.find("@import"), std::string::npos);
}

TEST(PrCurvesSvg, CocoResultGivesIou50Iou75AndMeanCurves) {
  CocoEvalResult r = HandMade();
  std::string svg = PrCurvesSvg(r, "hand-made");
  ASSERT_TRUE(WellFormed(svg)) << svg;
  auto points = CurvePoints(svg);
  ASSERT_EQ(points.size(), 3u);
  using P = std::vector<std::pair<double, double>>;
  // IoU .5: mean precision .9, .5, .1 at recall 0, .5, 1 → y = 50 + (1 - p) * 360.
  EXPECT_EQ(points[0], (P{{70, 86}, {290, 230}, {510, 374}}));
  // IoU .75: .7, .2, 0.
  EXPECT_EQ(points[1], (P{{70, 158}, {290, 338}, {510, 410}}));
  // Mean over both: .8, .35, .05.
  EXPECT_EQ(points[2], (P{{70, 122}, {290, 284}, {510, 392}}));
  // Legend: each curve's AP (the mean over recall), the last one equal to AP@[.5:.95].
  EXPECT_NE(svg.find("IoU 0.50  AP 50.0"), std::string::npos);
  EXPECT_NE(svg.find("IoU 0.75  AP 30.0"), std::string::npos);
  EXPECT_NE(svg.find("IoU 0.50:0.95  AP 40.0"), std::string::npos);
}

TEST(CategoryApSvg, BarsSortedWithWidthsProportionalToAp) {
  CocoEvalResult r = HandMade();  // AP 0.5 and 0.3; the third category has no ground truth
  std::string svg = CategoryApSvg(r, {"cat", "dog & co", "ghost"}, "per category");
  ASSERT_TRUE(WellFormed(svg)) << svg;
  std::vector<double> widths;
  for (const std::string& w : AttributeOf(svg, "<rect class=\"ap-bar\"", "width"))
    widths.push_back(std::stod(w));
  // 420 px for AP 1, highest first.
  EXPECT_EQ(widths, (std::vector<double>{210, 126}));
  EXPECT_NE(svg.find("dog &amp; co"), std::string::npos);
  EXPECT_EQ(svg.find("ghost"), std::string::npos);
  EXPECT_NE(svg.find("1 without (not shown)"), std::string::npos);
}

// On a real evaluation the mean of the 0.5:0.95 curve over recall is COCO's AP, and the IoU .5
// curve's mean is AP50 (both average the same array entries).
TEST(MeanPrCurve, MeanOverRecallIsCocoAp) {
  CocoDataset d = synthetic::RandomDataset(7, 12, 5, 6);
  CocoEvalResult r = EvaluateBoxes(d, synthetic::DetectionsFrom(d, 8, 0.8, 3));
  ASSERT_GT(r.stats[0], 0.05);
  auto mean = [](const PrCurve& c) {
    double sum = 0;
    for (double p : c.precision) sum += p;
    return sum / double(c.precision.size());
  };
  EXPECT_NEAR(mean(MeanPrCurve(r, std::nullopt, "")), r.stats[0], 1e-12);
  EXPECT_NEAR(mean(MeanPrCurve(r, 0, "")), r.stats[1], 1e-12);
  EXPECT_NEAR(mean(MeanPrCurve(r, 5, "")), r.stats[2], 1e-12);
}

}  // namespace
}  // namespace lockstep
