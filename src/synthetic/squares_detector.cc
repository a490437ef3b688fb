// The demo's detector, built op by op with ModelBuilder; every weight is set by construction.
//
//   image uint8 [1,64,64,3] (scale 1/127.5, zero point 128) → DEQUANTIZE
//   → colour evidence E (1x1 CONV_2D, RELU6): for class c, 20·(x_c − mean of the other two
//     channels − 0.6) clipped to [0, 6]; a square's colour gives 6 (full), the grey background 0
//   → per anchor size, stride 2 (a 32x32 grid of anchor centres), two separable passes
//     (DEPTHWISE_CONV_2D along x, then along y) and 1x1 CONV_2Ds that pick the sums:
//       score   = mean of E inside the anchor minus twice the mean of E on a 2-pixel ring around
//                 it, /6, RELU — 1 when a square fills the anchor exactly, less otherwise;
//       moments = ΣE, ΣE·dy, ΣE·dx over the anchor plus ring (all classes): their ratios give
//                 the square's centre, ΣE its area and so its size;
//       box encodings (ty, tx, th, tw) = (Σdy/Σ, Σdx/Σ, 2.5·ln Σ, 2.5·ln Σ) after the kernels'
//                 constant factors (DIV, LOG, CONCATENATION, MUL)
//   → TFLite_Detection_PostProcess (fast NMS, scales 10, 10, 5, 5).
//
// The size comes from the area under the stretch aspect (a 160x112 image squeezed to 64x64), so a
// letterboxed input gives boxes of the wrong shape; the evidence has a threshold, so the halved
// colour contrast of [0,1] normalization or the clipped values of a zero point left out lose
// squares.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <string>
#include <vector>

#include "lockstep/model/model_builder.h"
#include "lockstep/synthetic/squares_detector.h"

namespace lockstep {
namespace {

constexpr int kIn = kSquaresInputSize;
constexpr int kGrid = kIn / 2;  // anchor centres: stride 2
// The image size the detector was trained for: its boxes assume this aspect.
constexpr double kTrainWidth = 160, kTrainHeight = 112;
// Anchor sizes in training-image pixels (the squares are 14..38).
constexpr double kAnchorSides[] = {14, 18, 23, 29, 37};
constexpr double kRing = 2;  // input pixels around each anchor
// How much evidence on the ring costs: 2 makes an anchor inside a corner of a larger square
// (half its ring on the square) score 0.
constexpr double kRingWeight = 2;
// Colour evidence: gain and threshold on x_c − (x_other1 + x_other2)/2 in [-1,1] units.
constexpr float kEvidenceGain = 20, kEvidenceThreshold = 0.6f;
constexpr float kEps = 1e-4f;  // keeps ΣE away from 0 where there is no evidence

// The length of pixel j's span [j − 0.5, j + 0.5] inside [−half, half].
double Coverage(int j, double half) {
  return std::max(0.0, std::min(j + 0.5, half) - std::max(j - 0.5, -half));
}

BuiltinOptions Fused(std::string type, int64_t activation = 0) {
  return {std::move(type), {{"fused_activation_function", activation}}};
}

// Fields in the schema's order, as the reader gives them back.
BuiltinOptions ConvOptions(std::string type, int stride, int64_t activation) {
  return {std::move(type),
          {{"padding", int64_t{0}},  // SAME
           {"stride_w", int64_t{stride}},
           {"stride_h", int64_t{stride}},
           {"fused_activation_function", activation}}};
}

class Graph {
 public:
  int32_t Const(const std::string& name, const std::vector<float>& v, std::vector<int32_t> shape) {
    return b.AddTensor(name, DType::kFloat32, std::move(shape), std::nullopt,
                       b.AddBuffer(ToBytes(v)));
  }
  int32_t Shape(const std::string& name, const std::vector<int32_t>& v) {
    return b.AddTensor(name, DType::kInt32, {int32_t(v.size())}, std::nullopt,
                       b.AddBuffer(ToBytes(v)));
  }
  int32_t Float(const std::string& name, std::vector<int32_t> shape) {
    return b.AddTensor(name, DType::kFloat32, std::move(shape));
  }
  int32_t Reshape(const std::string& name, int32_t in, const std::vector<int32_t>& shape) {
    int32_t out = Float(name, shape);
    b.AddBuiltinOp("RESHAPE", {in, Shape(name + "/shape", shape)}, {out},
                   {"ReshapeOptions", {{"new_shape", shape}}});
    return out;
  }
  int32_t Concat(const std::string& name, const std::vector<int32_t>& ins, int axis,
                 std::vector<int32_t> shape) {
    int32_t out = Float(name, std::move(shape));
    b.AddBuiltinOp("CONCATENATION", ins, {out},
                   {"ConcatenationOptions",
                    {{"axis", int64_t{axis}}, {"fused_activation_function", int64_t{0}}}});
    return out;
  }
  ModelBuilder b;
};

// One anchor size's kernels. Each is a product of a vertical and a horizontal profile (pixel
// coverage of an interval), so the model applies them as two 1-D depthwise passes.
struct Kernels {
  std::vector<double> inner_y, inner_x;  // the anchor
  std::vector<double> outer_y, outer_x;  // the anchor plus its ring
  int ry = 0, rx = 0;                    // half sizes: taps -r..r around the centre pixel
  double inner_area = 0, ring_area = 0;
};

Kernels MakeKernels(double side) {
  const double wi = side * kIn / kTrainWidth, hi = side * kIn / kTrainHeight;
  const double ax = wi / 2 + kRing, ay = hi / 2 + kRing;
  Kernels k;
  k.rx = int(std::ceil(ax - 0.5));
  k.ry = int(std::ceil(ay - 0.5));
  for (int y = -k.ry; y <= k.ry; ++y) {
    k.inner_y.push_back(Coverage(y, hi / 2));
    k.outer_y.push_back(Coverage(y, ay));
  }
  for (int x = -k.rx; x <= k.rx; ++x) {
    k.inner_x.push_back(Coverage(x, wi / 2));
    k.outer_x.push_back(Coverage(x, ax));
  }
  k.inner_area = wi * hi;
  k.ring_area = (wi + 2 * kRing) * (hi + 2 * kRing) - k.inner_area;
  return k;
}

constexpr int kClasses = 3;
constexpr int kCells = kGrid * kGrid;
constexpr int kMaxDetections = 10;

// Fields in the schema's order; depth multiplier 2 (two profiles per input channel).
BuiltinOptions DepthwiseOptions(int stride_w, int stride_h) {
  return {"DepthwiseConv2DOptions",
          {{"padding", int64_t{0}},
           {"stride_w", int64_t{stride_w}},
           {"stride_h", int64_t{stride_h}},
           {"depth_multiplier", int64_t{2}},
           {"fused_activation_function", int64_t{0}}}};
}

// Colour evidence per class (6 = full) and, in one more channel, all classes' evidence: the box
// moments do not depend on the class.
int32_t ColourEvidence(Graph& g, int32_t x) {
  ModelBuilder& b = g.b;
  std::vector<float> ew, eb;
  for (int c = 0; c < kClasses; ++c) {
    for (int i = 0; i < 3; ++i) ew.push_back(i == c ? kEvidenceGain : -kEvidenceGain / 2);
    eb.push_back(-kEvidenceGain * kEvidenceThreshold);
  }
  int32_t evidence = g.Float("evidence", {1, kIn, kIn, kClasses});
  b.AddBuiltinOp("CONV_2D",
                 {x, g.Const("evidence/weights", ew, {kClasses, 1, 1, 3}),
                  g.Const("evidence/bias", eb, {kClasses})},
                 {evidence}, ConvOptions("Conv2DOptions", 1, 3 /* RELU6 */));
  int32_t total_evidence = g.Float("evidence/total", {1, kIn, kIn, 1});
  b.AddBuiltinOp("CONV_2D",
                 {evidence, g.Const("evidence/total/weights", {1, 1, 1}, {1, 1, 1, kClasses}),
                  g.Const("evidence/total/bias", {0.f}, {1})},
                 {total_evidence}, ConvOptions("Conv2DOptions", 1, 0));
  return g.Concat("evidence/all", {evidence, total_evidence}, 3, {1, kIn, kIn, kClasses + 1});
}

// One anchor size: its name, kernels and size in normalized units.
struct Anchor {
  std::string name;
  Kernels k;
  double ha = 0, wa = 0;
};

// Horizontal pass (depth multiplier 2, stride 2 along x): per class channel its inner and
// outer profile; the total channel's outer profile and outer profile · dx.
int32_t RowProfiles(Graph& g, const Anchor& anchor, int32_t evidence4) {
  const Kernels& k = anchor.k;
  const std::string& name = anchor.name;
  const int kw = 2 * k.rx + 1;
  std::vector<float> hw(size_t(kw) * 8);  // [1, 1, kw, 4·2], output channel = 2·input + m
  for (int j = 0; j < kw; ++j) {
    float* tap = &hw[size_t(j) * 8];
    for (int c = 0; c < kClasses; ++c) {
      tap[2 * c] = float(k.inner_x[size_t(j)]);
      tap[2 * c + 1] = float(k.outer_x[size_t(j)]);
    }
    tap[6] = float(k.outer_x[size_t(j)]);
    tap[7] = float(k.outer_x[size_t(j)] * (j - k.rx));
  }
  int32_t rows = g.Float(name + "/rows", {1, kIn, kGrid, 8});
  g.b.AddBuiltinOp("DEPTHWISE_CONV_2D",
                   {evidence4, g.Const(name + "/rows/weights", hw, {1, 1, kw, 8}),
                    g.Const(name + "/rows/bias", std::vector<float>(8, 0.f), {8})},
                   {rows}, DepthwiseOptions(2, 1));
  return rows;
}

// Vertical pass (depth multiplier 2, stride 2 along y) into 16 channels, 4 per input pair:
// class c: 4c = inner·(1/Ai + w/Ar), 4c+2 = −outer·w/Ar, so 4c + 4c+2 is the inner mean
// minus w times the ring mean. Total: 12 = Σ, 13 = Σdy, 14 = Σdx, each scaled (see below).
// Σ' = ΣE·kAreaToH2/ha² (so ln Σ' = 2·ln(h/ha)); the numerators carry the same factor and
// 10/(64·ha) or 10/(64·wa), so that Σ'dy/Σ' is ty and Σ'dx/Σ' is tx. 1/6: E is in [0, 6].
int32_t WindowSums(Graph& g, const Anchor& anchor, int32_t rows) {
  const Kernels& k = anchor.k;
  const std::string& name = anchor.name;
  const double ha = anchor.ha, wa = anchor.wa;
  const int kh = 2 * k.ry + 1;
  // th = 5·ln(h/ha) with h² = area·kAreaToH2 under stretch.
  const double kAreaToH2 = kTrainWidth / (double(kIn) * kIn * kTrainHeight);
  const double a = (1 / k.inner_area + kRingWeight / k.ring_area) / 6;
  const double r = kRingWeight / k.ring_area / 6;
  const double mass = kAreaToH2 / (ha * ha) / 6;
  std::vector<float> vw(size_t(kh) * 16, 0.f);  // [1, kh, 1, 16]
  for (int i = 0; i < kh; ++i) {
    float* tap = &vw[size_t(i) * 16];
    const double in = k.inner_y[size_t(i)], out = k.outer_y[size_t(i)];
    for (int c = 0; c < kClasses; ++c) {
      tap[4 * c] = float(in * a);
      tap[4 * c + 2] = float(-out * r);
    }
    tap[12] = float(out * mass);
    tap[13] = float(out * mass * (i - k.ry) * 10 / (kIn * ha));
    tap[14] = float(out * mass * 10 / (kIn * wa));
  }
  int32_t sums = g.Float(name + "/sums", {1, kGrid, kGrid, 16});
  g.b.AddBuiltinOp("DEPTHWISE_CONV_2D",
                   {rows, g.Const(name + "/sums/weights", vw, {1, kh, 1, 16}),
                    g.Const(name + "/sums/bias", std::vector<float>(16, 0.f), {16})},
                   {sums}, DepthwiseOptions(1, 2));
  return sums;
}

// Scores: 1x1 conv adding each class's pair, RELU; [1, cells, classes].
int32_t AnchorScores(Graph& g, const std::string& name, int32_t sums) {
  std::vector<float> pick(size_t(kClasses) * 16, 0.f);  // [classes, 1, 1, 16]
  for (int c = 0; c < kClasses; ++c) {
    pick[size_t(c) * 16 + size_t(4 * c)] = 1;
    pick[size_t(c) * 16 + size_t(4 * c + 2)] = 1;
  }
  int32_t score = g.Float(name + "/score", {1, kGrid, kGrid, kClasses});
  g.b.AddBuiltinOp("CONV_2D",
                   {sums, g.Const(name + "/score/weights", pick, {kClasses, 1, 1, 16}),
                    g.Const(name + "/score/bias", std::vector<float>(kClasses, 0.f), {kClasses})},
                   {score}, ConvOptions("Conv2DOptions", 1, 1 /* RELU */));
  return g.Reshape(name + "/scores", score, {1, kCells, kClasses});
}

// Moments: Σdy and Σdx; Σ (+ε, so that empty windows divide and log safely). Their ratios and
// log give the box encodings before the final scale; [1, cells, 4].
int32_t AnchorBoxes(Graph& g, const std::string& name, int32_t sums) {
  ModelBuilder& b = g.b;
  std::vector<float> first(2 * 16, 0.f), zeroth(16, 0.f);
  first[13] = 1;
  first[16 + 14] = 1;
  zeroth[12] = 1;
  int32_t moments = g.Float(name + "/moments", {1, kGrid, kGrid, 2});
  b.AddBuiltinOp("CONV_2D",
                 {sums, g.Const(name + "/moments/weights", first, {2, 1, 1, 16}),
                  g.Const(name + "/moments/bias", {0.f, 0.f}, {2})},
                 {moments}, ConvOptions("Conv2DOptions", 1, 0));
  int32_t total = g.Float(name + "/mass", {1, kGrid, kGrid, 1});
  b.AddBuiltinOp("CONV_2D",
                 {sums, g.Const(name + "/mass/weights", zeroth, {1, 1, 1, 16}),
                  g.Const(name + "/mass/bias", {kEps}, {1})},
                 {total}, ConvOptions("Conv2DOptions", 1, 0));
  int32_t centre = g.Float(name + "/centre", {1, kGrid, kGrid, 2});
  b.AddBuiltinOp("DIV", {moments, total}, {centre}, Fused("DivOptions"));
  int32_t log_mass = g.Float(name + "/log_mass", {1, kGrid, kGrid, 1});
  b.AddBuiltinOp("LOG", {total}, {log_mass});
  int32_t enc =
      g.Concat(name + "/encodings", {centre, log_mass, log_mass}, 3, {1, kGrid, kGrid, 4});
  return g.Reshape(name + "/boxes", enc, {1, kCells, 4});
}

// Output cell (i, j) is centred on input pixel (2i + 1, 2j + 1) (SAME padding, stride 2).
void AppendAnchorCentres(const Anchor& anchor, std::vector<float>& anchors) {
  for (int i = 0; i < kGrid; ++i)
    for (int j = 0; j < kGrid; ++j) {
      anchors.push_back(float((2 * i + 1.5) / kIn));
      anchors.push_back(float((2 * j + 1.5) / kIn));
      anchors.push_back(float(anchor.ha));
      anchors.push_back(float(anchor.wa));
    }
}

// Every anchor size's scores and box encodings, and the anchors, in anchor-size order.
struct Heads {
  std::vector<int32_t> scores, boxes;
  std::vector<float> anchors;
};

Heads AnchorHeads(Graph& g, int32_t evidence4) {
  Heads heads;
  for (double side : kAnchorSides) {
    const Anchor anchor{"anchor" + std::to_string(int(side)), MakeKernels(side),
                        side / kTrainHeight, side / kTrainWidth};
    int32_t rows = RowProfiles(g, anchor, evidence4);
    int32_t sums = WindowSums(g, anchor, rows);
    heads.scores.push_back(AnchorScores(g, anchor.name, sums));
    heads.boxes.push_back(AnchorBoxes(g, anchor.name, sums));
    AppendAnchorCentres(anchor, heads.anchors);
  }
  return heads;
}

// TFLite_Detection_PostProcess (fast NMS, scales 10, 10, 5, 5) over all anchors; returns its
// outputs: boxes, classes, scores, count.
std::vector<int32_t> DetectionPostprocess(Graph& g, const Heads& heads) {
  ModelBuilder& b = g.b;
  const int n = int(std::size(kAnchorSides)) * kCells;
  int32_t raw = g.Concat("box_encodings/raw", heads.boxes, 1, {1, n, 4});
  int32_t boxes = g.Float("box_encodings", {1, n, 4});
  // th = 5·ln(h/ha) = 2.5·ln Σ'.
  b.AddBuiltinOp("MUL", {raw, g.Const("box_encodings/scale", {1, 1, 2.5f, 2.5f}, {4})}, {boxes},
                 Fused("MulOptions"));
  int32_t scores = g.Concat("class_predictions", heads.scores, 1, {1, n, kClasses});
  int32_t anchor_tensor = g.Const("anchors", heads.anchors, {n, 4});

  std::vector<int32_t> outs = {g.Float("detection_boxes", {1, kMaxDetections, 4}),
                               g.Float("detection_classes", {1, kMaxDetections}),
                               g.Float("detection_scores", {1, kMaxDetections}),
                               g.Float("num_detections", {1})};
  b.AddCustomOp("TFLite_Detection_PostProcess", {boxes, scores, anchor_tensor}, outs,
                FlexbufferMap({{"max_detections", int64_t{kMaxDetections}},
                               {"max_classes_per_detection", int64_t{1}},
                               {"detections_per_class", int64_t{100}},
                               {"use_regular_nms", false},
                               {"nms_score_threshold", 0.2},
                               {"nms_iou_threshold", 0.5},
                               {"num_classes", int64_t{kClasses}},
                               {"y_scale", 10.0},
                               {"x_scale", 10.0},
                               {"h_scale", 5.0},
                               {"w_scale", 5.0}}));
  return outs;
}

}  // namespace

Model BuildSquaresDetector() {
  Graph g;
  ModelBuilder& b = g.b;
  int32_t image = b.AddTensor("image", DType::kUInt8, {1, kIn, kIn, 3},
                              PerTensor(kSquaresInputScale, kSquaresInputZeroPoint));
  int32_t x = g.Float("image/float", {1, kIn, kIn, 3});
  b.AddBuiltinOp("DEQUANTIZE", {image}, {x});
  const std::vector<int32_t> outs = DetectionPostprocess(g, AnchorHeads(g, ColourEvidence(g, x)));
  b.SetInputs({image});
  b.SetOutputs(outs);
  // Named outputs (TF2's serving signature: output_0..3 = count, scores, classes, boxes), so a
  // reader can tell the roles apart even when a broken pipeline gives no detection at all.
  Model model =
      (b.SetDescription(

           "lockstep demo: coloured-squares detector built by construction (stretch to 64x64, "
           "[-1,1] normalization)"),
       b.Build());
  model.signature_defs.push_back({"serving_default",
                                  {{"images", uint32_t(image)}},
                                  {{"output_0", uint32_t(outs[3])},
                                   {"output_1", uint32_t(outs[2])},
                                   {"output_2", uint32_t(outs[1])},
                                   {"output_3", uint32_t(outs[0])}},
                                  0});
  return model;
}

}  // namespace lockstep
