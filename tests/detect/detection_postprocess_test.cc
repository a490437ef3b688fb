// lockstep's TFLite_Detection_PostProcess against the real op in TFLite 2.9: one-op models built
// here with seeded random inputs, and the real SSD models with their op's inputs exposed.
#include "lockstep/detect/detection_postprocess.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lockstep/core/error.h"
#include "lockstep/engine/engine.h"
#include "lockstep/model/model_builder.h"
#include "lockstep/model/model_io.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

struct Case {
  std::string name;
  uint32_t seed = 1;
  int anchors = 100;
  int num_classes = 5;
  bool background = true;
  int max_detections = 10;
  int max_classes_per_detection = 1;
  int detections_per_class = 100;
  bool regular = false;
  float score_threshold = 0.3f;
  float iou_threshold = 0.5f;
  bool quantized = false;  // uint8 box encodings, scores and anchors
  int score_levels = 0;    // >0: scores are multiples of 1/levels, so many tie
  int clusters = 0;        // >0: anchors share this many centers, so boxes overlap heavily
  // Zero encodings on anchors built so that IoUs are exactly 0.5 or 1 in float: the
  // threshold comparison itself (> vs >=) decides.
  bool exact_overlaps = false;
};

// Uniform in [0,1) from the top 24 bits: the same floats on every standard library.
float Unit(std::mt19937& rng) { return float(rng() >> 8) * (1.0f / 16777216.0f); }

DetectionPostprocessOptions OptionsOf(const Case& c) {
  DetectionPostprocessOptions o;
  o.max_detections = c.max_detections;
  o.max_classes_per_detection = c.max_classes_per_detection;
  o.detections_per_class = c.detections_per_class;
  o.use_regular_nms = c.regular;
  o.nms_score_threshold = c.score_threshold;
  o.nms_iou_threshold = c.iou_threshold;
  o.num_classes = c.num_classes;
  o.y_scale = 10;
  o.x_scale = 10;
  o.h_scale = 5;
  o.w_scale = 5;
  return o;
}

// The inputs of one case: raw bytes for the model, and the anchors' constant bytes.
struct Inputs {
  std::vector<uint8_t> boxes, scores, anchors;
};

Inputs MakeInputs(const Case& c) {
  std::mt19937 rng(c.seed);
  const int columns = c.num_classes + (c.background ? 1 : 0);
  std::vector<float> anchors, boxes, scores;
  std::vector<float> centers;
  for (int k = 0; k < std::max(c.clusters, 1); ++k) centers.push_back(Unit(rng));
  for (int i = 0; i < c.anchors; ++i) {
    const float cy = c.clusters ? centers[size_t(i % c.clusters)] : Unit(rng);
    const float cx = c.clusters ? centers[size_t((i * 7 + 3) % c.clusters)] : Unit(rng);
    if (c.exact_overlaps) {
      // Per group of three: a box, its left half (IoU 0.5), and the box again (IoU 1).
      const float y = 0.5f + 2.0f * float(i / 3);
      const bool half = i % 3 == 1;
      anchors.insert(anchors.end(), {y, half ? 0.375f : 0.5f, 0.5f, half ? 0.25f : 0.5f});
    } else {
      anchors.insert(anchors.end(), {cy, cx, 0.05f + 0.3f * Unit(rng), 0.05f + 0.3f * Unit(rng)});
    }
    // Small encodings near a cluster keep IoUs spread around the threshold.
    const float spread = c.clusters ? 1.0f : 4.0f;
    if (c.exact_overlaps)
      boxes.insert(boxes.end(), {0, 0, 0, 0});
    else
      boxes.insert(boxes.end(), {spread * (Unit(rng) - 0.5f), spread * (Unit(rng) - 0.5f),
                                 2 * Unit(rng) - 1, 2 * Unit(rng) - 1});
    for (int k = 0; k < columns; ++k) {
      float s = Unit(rng);
      if (c.score_levels) s = std::floor(s * float(c.score_levels)) / float(c.score_levels);
      scores.push_back(s);
    }
  }
  Inputs in;
  if (!c.quantized) {
    in.boxes = ToBytes(boxes);
    in.scores = ToBytes(scores);
    in.anchors = ToBytes(anchors);
    return in;
  }
  // uint8: boxes with scale 0.05 zp 128, scores 1/256 zp 0, anchors 1/255 zp 0.
  auto q = [](float v, float scale, int zp) {
    return uint8_t(std::clamp(int(std::lround(v / scale)) + zp, 0, 255));
  };
  for (float v : boxes) in.boxes.push_back(q(v, 0.05f, 128));
  for (float v : scores) in.scores.push_back(q(v, 1.0f / 256, 0));
  for (float v : anchors) in.anchors.push_back(q(v, 1.0f / 255, 0));
  return in;
}

std::vector<uint8_t> OneOpModel(const Case& c, const Inputs& in) {
  ModelBuilder b;
  const int columns = c.num_classes + (c.background ? 1 : 0);
  const DType t = c.quantized ? DType::kUInt8 : DType::kFloat32;
  auto quant = [&](float scale, int64_t zp) {
    return c.quantized ? std::optional<Quantization>(PerTensor(scale, zp)) : std::nullopt;
  };
  const int32_t boxes = b.AddTensor("box_encodings", t, {1, c.anchors, 4}, quant(0.05f, 128));
  const int32_t scores =
      b.AddTensor("class_predictions", t, {1, c.anchors, columns}, quant(1.0f / 256, 0));
  const int32_t anchors =
      b.AddTensor("anchors", t, {c.anchors, 4}, quant(1.0f / 255, 0), b.AddBuffer(in.anchors));
  const int m = c.max_detections * c.max_classes_per_detection;
  const int32_t out_boxes = b.AddTensor("detection_boxes", DType::kFloat32, {1, m, 4});
  const int32_t out_classes = b.AddTensor("detection_classes", DType::kFloat32, {1, m});
  const int32_t out_scores = b.AddTensor("detection_scores", DType::kFloat32, {1, m});
  const int32_t out_count = b.AddTensor("num_detections", DType::kFloat32, {1});
  b.AddCustomOp("TFLite_Detection_PostProcess", {boxes, scores, anchors},
                {out_boxes, out_classes, out_scores, out_count},
                FlexbufferMap({{"max_detections", int64_t(c.max_detections)},
                               {"max_classes_per_detection", int64_t(c.max_classes_per_detection)},
                               {"detections_per_class", int64_t(c.detections_per_class)},
                               {"use_regular_nms", c.regular},
                               {"nms_score_threshold", double(c.score_threshold)},
                               {"nms_iou_threshold", double(c.iou_threshold)},
                               {"num_classes", int64_t(c.num_classes)},
                               {"y_scale", 10.0},
                               {"x_scale", 10.0},
                               {"h_scale", 5.0},
                               {"w_scale", 5.0}}));
  b.SetInputs({boxes, scores});
  b.SetOutputs({out_boxes, out_classes, out_scores, out_count});
  return WriteModel(b.Build());
}

// The slots the op writes: fast NMS fills max_classes_per_detection slots per kept box (fewer
// when there are fewer classes), regular NMS the first `count`. The rest is left unwritten.
std::vector<size_t> WrittenSlots(const DetectionPostprocessOptions& o, int count) {
  std::vector<size_t> slots;
  if (o.use_regular_nms) {
    for (int k = 0; k < count; ++k) slots.push_back(size_t(k));
    return slots;
  }
  const int per_anchor = std::min(o.max_classes_per_detection, o.num_classes);
  for (int k = 0; k < count; ++k)
    for (int c = 0; c < per_anchor; ++c)
      slots.push_back(size_t(k * o.max_classes_per_detection + c));
  return slots;
}

// Every written element equal, bit for bit. Returns the count.
int ExpectSameOutputs(const PostprocessOutputs& op, const PostprocessOutputs& mine,
                      const DetectionPostprocessOptions& o, const std::string& what) {
  EXPECT_EQ(op.count, mine.count) << what;
  EXPECT_EQ(op.scores.size(), mine.scores.size()) << what;
  int mismatches = 0;
  for (size_t s : WrittenSlots(o, int(op.count))) {
    if (s >= op.scores.size() || s >= mine.scores.size()) break;
    bool same = op.classes[s] == mine.classes[s] && op.scores[s] == mine.scores[s];
    for (size_t k = 0; k < 4; ++k) same = same && op.boxes[s * 4 + k] == mine.boxes[s * 4 + k];
    if (!same && ++mismatches <= 5)
      ADD_FAILURE() << what << " slot " << s << ": op class " << op.classes[s] << " score "
                    << op.scores[s] << " box " << op.boxes[s * 4] << "," << op.boxes[s * 4 + 1]
                    << "," << op.boxes[s * 4 + 2] << "," << op.boxes[s * 4 + 3]
                    << " vs lockstep class " << mine.classes[s] << " score " << mine.scores[s]
                    << " box " << mine.boxes[s * 4] << "," << mine.boxes[s * 4 + 1] << ","
                    << mine.boxes[s * 4 + 2] << "," << mine.boxes[s * 4 + 3];
  }
  EXPECT_EQ(mismatches, 0) << what;
  return int(op.count);
}

PostprocessOutputs OpOutputs(const Engine& e, const std::vector<size_t>& at, const std::string& s) {
  return ReadPostprocessOutputs(e.output(at[0]), e.output(at[1]), e.output(at[2]), e.output(at[3]),
                                s);
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  uint32_t seed = 11;
  for (bool regular : {false, true})
    for (bool quantized : {false, true})
      for (bool background : {true, false})
        for (int per_detection : {1, 2}) {
          Case c;
          c.regular = regular;
          c.quantized = quantized;
          c.background = background;
          c.max_classes_per_detection = per_detection;
          c.seed = seed++;
          c.name = std::string(regular ? "regular" : "fast") + (quantized ? "_uint8" : "_float") +
                   (background ? "_bg" : "_nobg") + "_cls" + std::to_string(per_detection);
          cases.push_back(c);
          Case overlap = c;  // clustered anchors, tied scores, 500 anchors
          overlap.name += "_500_clustered_ties";
          overlap.seed = seed++;
          overlap.anchors = 500;
          overlap.clusters = 12;
          overlap.score_levels = 8;
          overlap.max_detections = 25;
          overlap.detections_per_class = 7;
          overlap.iou_threshold = 0.35f;
          cases.push_back(overlap);
        }
  Case many_classes;  // more classes than max_classes_per_detection; threshold 0
  many_classes.name = "fast_many_classes_threshold0";
  many_classes.num_classes = 30;
  many_classes.max_classes_per_detection = 3;
  many_classes.score_threshold = 0;
  many_classes.anchors = 300;
  many_classes.score_levels = 4;
  cases.push_back(many_classes);
  Case few_classes = many_classes;  // fewer classes than max_classes_per_detection
  few_classes.name = "fast_fewer_classes_than_per_detection";
  few_classes.num_classes = 2;
  few_classes.max_classes_per_detection = 3;
  cases.push_back(few_classes);
  Case regular_many = many_classes;
  regular_many.name = "regular_many_classes_dpc3";
  regular_many.regular = true;
  regular_many.detections_per_class = 3;
  regular_many.max_detections = 40;
  cases.push_back(regular_many);
  Case iou_one = many_classes;
  iou_one.name = "fast_iou_1_keeps_all";
  iou_one.iou_threshold = 1.0f;
  iou_one.max_classes_per_detection = 1;
  cases.push_back(iou_one);
  for (bool regular : {false, true})
    for (float iou : {0.5f, 1.0f}) {
      Case exact;
      exact.name = std::string(regular ? "regular" : "fast") + "_exact_iou_" +
                   std::to_string(iou).substr(0, 3);
      exact.exact_overlaps = true;
      exact.anchors = 60;
      exact.regular = regular;
      exact.iou_threshold = iou;
      exact.score_threshold = 0.1f;
      exact.max_detections = 30;
      exact.score_levels = 16;
      cases.push_back(exact);
    }
  return cases;
}

TEST(DetectionPostprocess, EqualsTheTfliteOpOnOneOpModels) {
  int cases = 0, detections = 0, non_empty = 0;
  for (const Case& c : Cases()) {
    const Inputs in = MakeInputs(c);
    Engine engine = Engine::Load(OneOpModel(c, in), c.name);
    engine.SetInput(0, in.boxes, c.name);
    engine.SetInput(1, in.scores, c.name);
    engine.Invoke();
    const PostprocessOutputs op = OpOutputs(engine, {0, 1, 2, 3}, c.name);
    const PostprocessOutputs mine = RunDetectionPostprocess(
        OptionsOf(c), PostprocessInput(engine.input(0), c.name),
        PostprocessInput(engine.input(1), c.name),
        PostprocessInput(engine.model(), engine.model().subgraphs[0].operators[0].inputs[2],
                         c.name),
        c.name);
    const int n = ExpectSameOutputs(op, mine, OptionsOf(c), c.name);
    ++cases;
    detections += n;
    non_empty += n > 0;
  }
  EXPECT_EQ(cases, 40);
  EXPECT_EQ(non_empty, cases);  // every case exercises NMS
  RecordProperty("detections_compared", detections);
  std::printf("one-op models: %d cases, %d detections compared\n", cases, detections);
}

// A copy of the model whose graph also outputs the postprocess op's box encodings and class
// predictions, so one Invoke gives both the op's inputs and its outputs.
struct Exposed {
  Engine engine;
  DetectionPostprocess op;
  std::vector<size_t> op_outputs;  // positions of boxes, classes, scores, count
  size_t box_encodings = 0, class_predictions = 0;
};

Exposed Expose(const std::filesystem::path& path) {
  Model model = ReadModelFile(path);
  const DetectionPostprocess op = *FindDetectionPostprocess(model, path.string());
  auto& outputs = model.subgraphs[0].outputs;
  std::vector<size_t> at;
  for (int32_t t : op.outputs)
    at.push_back(size_t(std::find(outputs.begin(), outputs.end(), t) - outputs.begin()));
  outputs.push_back(op.inputs[0]);
  outputs.push_back(op.inputs[1]);
  const size_t boxes = outputs.size() - 2;
  Engine engine = Engine::Load(WriteModel(model), path.string());
  return Exposed{std::move(engine), op, at, boxes, boxes + 1};
}

// Runs the exposed model on input set `variant` (0: GeneratedInput, else seeded random bytes)
// and compares the op's outputs with lockstep's decoding of the op's inputs. Returns the count.
int CheckRealModel(const std::string& file, int variant) {
  const auto path = LOCKSTEP_ASSET("models/detection/" + file);
  Exposed x = Expose(path);
  std::mt19937 rng(uint32_t(1000 + variant));
  for (size_t i = 0; i < x.engine.input_count(); ++i) {
    TensorData in = GeneratedInput(x.engine.input(i), i);
    if (variant > 0 && DTypeSize(in.dtype) == 1)
      for (auto& b : in.bytes) b = uint8_t(rng() >> 24);
    x.engine.SetInput(i, in);
  }
  x.engine.Invoke();
  const std::string what = file + " input set " + std::to_string(variant);
  const PostprocessOutputs op = OpOutputs(x.engine, x.op_outputs, what);
  const PostprocessOutputs mine = RunDetectionPostprocess(
      x.op.options, PostprocessInput(x.engine.output(x.box_encodings), what),
      PostprocessInput(x.engine.output(x.class_predictions), what),
      PostprocessInput(x.engine.model(), x.op.inputs[2], what), what);
  return ExpectSameOutputs(op, mine, x.op.options, what);
}

TEST(DetectionPostprocess, EqualsTheOpInsideRealSsdModels) {
  LOCKSTEP_REQUIRE_ASSETS();
  for (const char* file :
       {"ssd_mobilenet_v1_coco_quant_postprocess_head_layers.tflite",
        "coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite", "ssdlite_mobiledet_dog_vs_cat.tflite",
        "frc_ssd_mobilenet_v2_fpnlite_320_detect_quant.tflite",
        "ei_ssd_mobilenet_v2_fpnlite_320_base_int8.tflite", "traffic_model.tflite"}) {
    int total = 0;
    for (int variant = 0; variant < 3; ++variant) {
      const int n = CheckRealModel(file, variant);
      total += n;
    }
    EXPECT_GT(total, 0) << file;  // the comparison covered detections
    std::printf("%s: %d detections equal over 3 input sets\n", file, total);
  }
}

TEST(DetectionPostprocess, RefusesWhatTheKernelRefuses) {
  Case c;
  const Inputs in = MakeInputs(c);
  TensorData boxes(DType::kFloat32, {1, c.anchors, 4}), scores(DType::kFloat32, {1, c.anchors, 6}),
      anchors(DType::kFloat32, {c.anchors, 4});
  boxes.bytes = in.boxes;
  scores.bytes = in.scores;
  anchors.bytes = in.anchors;
  DetectionPostprocessOptions o = OptionsOf(c);
  EXPECT_NO_THROW(RunDetectionPostprocess(o, boxes, scores, anchors, "m.tflite"));
  o.nms_iou_threshold = 0;
  EXPECT_THROW(RunDetectionPostprocess(o, boxes, scores, anchors, "m.tflite"), Error);
  o = OptionsOf(c);
  o.num_classes = 3;  // 6 columns is neither 3 nor 3 + 1
  try {
    RunDetectionPostprocess(o, boxes, scores, anchors, "m.tflite");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), "m.tflite");
    EXPECT_EQ(e.field(), "class predictions");
  }
  TensorData short_anchors(DType::kFloat32, {c.anchors - 1, 4});
  EXPECT_THROW(RunDetectionPostprocess(OptionsOf(c), boxes, scores, short_anchors, "m.tflite"),
               Error);
  // A negative anchor height inverts every box: the kernel fails, so does lockstep.
  std::vector<float> a(anchors.as<float>().begin(), anchors.as<float>().end());
  a[2] = -0.5f;
  anchors.bytes = ToBytes(a);
  EXPECT_THROW(RunDetectionPostprocess(OptionsOf(c), boxes, scores, anchors, "m.tflite"), Error);
  TensorData int8(DType::kInt8, {1, c.anchors, 4});
  TensorView v{0, "box_encodings", DType::kInt8, {1, c.anchors, 4}, PerTensor(0.1f, 0), int8.bytes};
  EXPECT_THROW(PostprocessInput(v, "m.tflite"), Error);
}

}  // namespace
}  // namespace lockstep
