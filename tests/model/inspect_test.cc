#include "lockstep/model/inspect.h"

#include <flatbuffers/flexbuffers.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "lockstep/core/error.h"
#include "lockstep/model/model_io.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

constexpr int32_t kConv2D = 3, kDequantize = 6, kLogistic = 14, kCustom = 32;

std::vector<uint8_t> NmsOptions() {
  flexbuffers::Builder b;
  b.Map([&] {
    b.Int("max_detections", 20);
    b.Int("max_classes_per_detection", 1);
    b.Float("nms_score_threshold", 0.3f);
    b.Float("nms_iou_threshold", 0.6f);
    b.Int("num_classes", 90);
    b.Float("y_scale", 10);
    b.Float("x_scale", 10);
    b.Float("h_scale", 5);
    b.Float("w_scale", 5);
  });
  b.Finish();
  return b.GetBuffer();
}

// A small quantized detector: uint8 image -> CONV_2D (per-channel int8 weights) -> DEQUANTIZE ->
// NMS, with `extra_convs` more CONV_2D ops to make a big graph.
Model Detector(size_t extra_convs = 0) {
  Model m;
  m.operator_codes = {{kConv2D, "", 1},
                      {kDequantize, "", 1},
                      {kCustom, "TFLite_Detection_PostProcess", 1},
                      {kLogistic, "", 1}};
  m.buffers = {{}, std::vector<uint8_t>(8 * 3, 1), std::vector<uint8_t>(16, 2)};
  Subgraph sg;
  Tensor image{"image",
               DType::kUInt8,
               {1, 300, 300, 3},
               {},
               0,
               Quantization{{0.0078125f}, {128}, 0, {}, {}}};
  Tensor weights{"conv/weights",
                 DType::kInt8,
                 {8, 1, 1, 3},
                 {},
                 1,
                 Quantization{std::vector<float>(8, 0.01f), std::vector<int64_t>(8, 0), 0, {}, {}}};
  Tensor anchors{"anchors", DType::kUInt8, {4, 4}, {}, 2, Quantization{{0.5f}, {0}, 0, {}, {}}};
  Tensor feature{"feature", DType::kUInt8, {1, 4, 4}, {}, 0, Quantization{{0.1f}, {3}, 0, {}, {}}};
  Tensor real{"feature_float", DType::kFloat32, {1, 4, 4}, {}, 0, std::nullopt};
  Tensor boxes{"boxes", DType::kFloat32, {1, 20, 4}, {}, 0, std::nullopt};
  Tensor classes{"classes", DType::kFloat32, {1, 20}, {}, 0, std::nullopt};
  Tensor scores{"scores", DType::kFloat32, {1, 20}, {}, 0, std::nullopt};
  Tensor count{"count", DType::kFloat32, {1}, {}, 0, std::nullopt};
  sg.tensors = {image, weights, anchors, feature, real, boxes, classes, scores, count};
  sg.inputs = {0};
  sg.outputs = {5, 6, 7, 8};
  Operator conv;
  conv.opcode_index = 0;
  conv.inputs = {0, 1, -1};
  conv.outputs = {3};
  Operator deq;
  deq.opcode_index = 1;
  deq.inputs = {3};
  deq.outputs = {4};
  Operator nms;
  nms.opcode_index = 2;
  nms.inputs = {4, 4, 2};
  nms.outputs = {5, 6, 7, 8};
  nms.custom_options = NmsOptions();
  sg.operators = {conv, deq};
  for (size_t i = 0; i < extra_convs; ++i) {
    Operator op = conv;
    op.opcode_index = (i % 3 == 0) ? 3 : 0;
    sg.operators.push_back(op);
  }
  sg.operators.push_back(nms);
  m.subgraphs = {sg};
  return m;
}

TEST(Inspect, JsonHasTheTensorsInTheirOwnWords) {
  nlohmann::json j = ToJson(Inspect(Detector(), "det.tflite"));
  EXPECT_EQ(j["source"], "det.tflite");
  EXPECT_EQ(j["subgraphs"], 1);
  ASSERT_EQ(j["inputs"].size(), 1u);
  const auto& in = j["inputs"][0];
  EXPECT_EQ(in["name"], "image");
  EXPECT_EQ(in["dtype"], "uint8");
  EXPECT_EQ(in["shape"], (std::vector<int>{1, 300, 300, 3}));
  EXPECT_EQ(in["quantization"]["scale"][0], 0.0078125);
  EXPECT_EQ(in["quantization"]["zero_point"][0], 128);
  EXPECT_EQ(in["quantization"]["quantized_dimension"], 0);
  ASSERT_EQ(j["outputs"].size(), 4u);
  EXPECT_EQ(j["outputs"][0]["dtype"], "float32");
  EXPECT_TRUE(j["outputs"][0]["quantization"].is_null());
  EXPECT_EQ(j["outputs"][3]["index"], 8);
}

TEST(Inspect, JsonOperatorsUseTensorIndices) {
  nlohmann::json j = ToJson(Inspect(Detector(), "det.tflite"));
  ASSERT_EQ(j["operators"].size(), 3u);
  EXPECT_EQ(j["operators"][0]["op"], "CONV_2D");
  EXPECT_EQ(j["operators"][0]["inputs"], (std::vector<int>{0, 1, -1}));
  EXPECT_EQ(j["operators"][2]["op"], "TFLite_Detection_PostProcess");
  EXPECT_EQ(j["operators"][2]["outputs"], (std::vector<int>{5, 6, 7, 8}));
  EXPECT_EQ(j["op_counts"]["CONV_2D"], 1);
  EXPECT_EQ(j["operator_count"], 3);
}

TEST(Inspect, CountsPerChannelWeights) {
  ModelReport r = Inspect(Detector(), "det.tflite");
  EXPECT_EQ(r.quantized_weights, 2u);    // conv weights and anchors
  EXPECT_EQ(r.per_channel_weights, 1u);  // conv weights only
  nlohmann::json j = ToJson(r);
  EXPECT_EQ(j["per_channel_weights"], 1);
  EXPECT_EQ(j["per_channel"], true);
}

TEST(Inspect, PostprocessAndEdgeTpuSections) {
  nlohmann::json j = ToJson(Inspect(Detector(), "det.tflite"));
  ASSERT_FALSE(j["postprocess"].is_null());
  EXPECT_EQ(j["postprocess"]["num_classes"], 90);
  EXPECT_EQ(j["postprocess"]["max_detections"], 20);
  EXPECT_EQ(j["postprocess"]["detections_per_class"], 100);
  EXPECT_EQ(j["postprocess"]["use_regular_nms"], false);
  EXPECT_NEAR(j["postprocess"]["nms_score_threshold"].get<double>(), 0.3, 1e-7);
  EXPECT_EQ(j["postprocess"]["operator_index"], 2);
  EXPECT_EQ(j["postprocess"]["inputs"], (std::vector<int>{4, 4, 2}));
  EXPECT_EQ(j["edgetpu"]["compiled"], false);
  EXPECT_TRUE(j["edgetpu"]["cpu_ops"].empty());
  EXPECT_TRUE(j["metadata"].is_null());

  Model compiled = Detector();
  compiled.operator_codes[0] = {kCustom, "edgetpu-custom-op", 1};
  j = ToJson(Inspect(compiled, "det_edgetpu.tflite"));
  EXPECT_EQ(j["edgetpu"]["compiled"], true);
  EXPECT_EQ(j["edgetpu"]["custom_ops"], 1);
  EXPECT_EQ(j["edgetpu"]["cpu_ops"],
            (std::vector<std::string>{"DEQUANTIZE", "TFLite_Detection_PostProcess"}));
}

TEST(Inspect, TextFitsOneScreenForAHugeGraph) {
  ModelReport r = Inspect(Detector(600), "big.tflite");
  EXPECT_EQ(r.operators.size(), 603u);
  std::string text = ToText(r);
  size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  EXPECT_LE(lines, 40u) << text;
  EXPECT_NE(text.find("CONV_2D 401"), std::string::npos) << text;
  EXPECT_NE(text.find("LOGISTIC 200"), std::string::npos) << text;
  EXPECT_NE(text.find("uint8 [1,300,300,3]  scale 0.0078125 zero_point 128"), std::string::npos)
      << text;
  EXPECT_NE(text.find("num_classes 90, max_detections 20"), std::string::npos) << text;
}

TEST(Inspect, BadTensorIndexIsAnError) {
  Model m = Detector();
  m.subgraphs[0].inputs = {42};
  try {
    Inspect(m, "det.tflite");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "subgraphs[0].inputs[0]");
    EXPECT_EQ(e.found(), "42");
  }
}

// ---- The real models: every fact below is from /work/shared/assets/MANIFEST.md (read from the
// flatbuffers with flatc and the upstream schemas), label counts from unzipping the files with
// Python's zipfile.

struct Io {
  Io(DType d, std::vector<int32_t> s, float sc = 0, int64_t zp = 0)
      : dtype(d), shape(std::move(s)), scale(sc), zero_point(zp) {}
  DType dtype;
  std::vector<int32_t> shape;  // empty: not checked
  float scale;                 // 0: not checked
  int64_t zero_point;
};

struct Nms {
  int32_t num_classes, max_detections;
  float score_threshold;
};

struct Facts {
  const char* path;
  Io input;
  std::optional<Io> output;  // the first output, when the manifest states it
  bool per_channel;
  bool compiled;
  std::optional<std::vector<std::string>> cpu_ops;  // when the manifest lists them
  std::optional<Nms> nms;
  bool metadata;
  size_t labels = 0;
  size_t inputs = 1;
  size_t outputs = 0;  // 0: not stated
};

constexpr float k255 = 1.0f / 255, k256 = 1.0f / 256;
const DType u8 = DType::kUInt8, i8 = DType::kInt8, f32 = DType::kFloat32;
const std::vector<std::string> kNone = {};
// The Coral SSD segment_1 files dequantize both feature maps on the CPU before the NMS op.
const std::vector<std::string> kDeqNms = {"DEQUANTIZE", "DEQUANTIZE",
                                          "TFLite_Detection_PostProcess"};

std::vector<Facts> Manifest() {
  const std::vector<std::string> kDeqDeq = {"DEQUANTIZE", "DEQUANTIZE"};
  // clang-format off
  // path, input, first output, per-channel, compiled, cpu_ops, NMS {classes, max_det, score
  // threshold (-1: not stated)}, metadata, labels, input count, output count (0: not stated)
  std::vector<Facts> v;
  v.push_back({"classification/apple_classifier.tflite", {u8, {1, 224, 224, 3}, k255, 0},
              Io{u8, {1, 2}, k256, 0}, true, false, {}, {}, false});
  v.push_back({"classification/apple_classifier_edgetpu.tflite", {u8, {1, 224, 224, 3}, k255, 0},
              Io{u8, {1, 2}, k256, 0}, false, true, kNone, {}, false});
  v.push_back({"classification/mobilenet_v1_0.25_128_quant.tflite", {u8, {1, 128, 128, 3}, 0.0078125f, 128},
              Io{u8, {1, 1001}, k256, 0}, false, false, {}, {}, true, 1001});
  v.push_back({"classification/mobilenet_v1_0.25_128_quant_edgetpu.tflite", {u8, {1, 128, 128, 3}, 0.0078125f, 128},
              Io{u8, {1, 1001}, k256, 0}, false, true, kNone, {}, true, 1001});
  v.push_back({"classification/mobilenet_v1_0.5_160_quant.tflite", {u8, {1, 160, 160, 3}, 0.0078125f, 128},
              Io{u8, {1, 1001}, k256, 0}, false, false, {}, {}, true, 1001});
  v.push_back({"classification/mobilenet_v1_0.5_160_quant_edgetpu.tflite", {u8, {1, 160, 160, 3}, 0.0078125f, 128},
              Io{u8, {1, 1001}, k256, 0}, false, true, kNone, {}, true, 1001});
  v.push_back({"classification/mobilenet_v1_0.75_192_quant.tflite", {u8, {1, 192, 192, 3}, 0.0078125f, 128},
              Io{u8, {1, 1001}, k256, 0}, false, false, {}, {}, true, 1001});
  v.push_back({"classification/mobilenet_v1_0.75_192_quant_edgetpu.tflite", {u8, {1, 192, 192, 3}, 0.0078125f, 128},
              Io{u8, {1, 1001}, k256, 0}, false, true, kNone, {}, true, 1001});
  v.push_back({"classification/mobilenet_v1_0.25_224_quant.tflite", {u8, {1, 224, 224, 3}, 0.0078125f, 128},
              Io{u8, {1, 1001}}, false, false, {}, {}, true, 1001});
  v.push_back({"classification/mobilenet_v1_0.25_224_1_default_1.tflite", {f32, {1, 224, 224, 3}},
              Io{f32, {1, 1001}}, false, false, {}, {}, false});
  v.push_back({"classification/mobilenet_v1_0.25_224_1_metadata_1.tflite", {f32, {1, 224, 224, 3}},
              Io{f32, {1, 1001}}, false, false, {}, {}, true, 1001});
  v.push_back({"classification/mobilenet_v2_1.0_224_quant.tflite", {u8, {1, 224, 224, 3}, 0.0078125f, 128},
              Io{u8, {1, 1001}}, false, false, {}, {}, true, 1001});
  v.push_back({"classification/tf2_mobilenet_v2_1.0_224_ptq.tflite", {u8, {1, 224, 224, 3}, 0.007843f, 127},
              Io{u8, {1, 1001}}, true, false, {}, {}, true, 1001});
  v.push_back({"classification/person_detect_int8.tflite", {i8, {1, 96, 96, 1}, 0.007843f, -1},
              Io{i8, {1, 2}, k256, -128}, true, false, {}, {}, false});
  v.push_back({"detection/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite", {u8, {1, 300, 300, 3}, 0.0078125f, 128},
              {}, false, false, {}, Nms{90, 10, 1e-8f}, true, 90, 1, 4});
  v.push_back({"detection/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29_no_metadata.tflite", {u8, {1, 300, 300, 3}, 0.0078125f, 128},
              {}, false, false, {}, Nms{90, 10, 1e-8f}, false, 0, 1, 4});
  v.push_back({"detection/ssd_mobilenet_v1_coco_quant_postprocess_segment_0_of_2_edgetpu.tflite", {u8, {1, 300, 300, 3}, 0.0078125f, 128},
              Io{u8, {1, 19, 19, 512}}, false, true, kNone, {}, false, 0, 1, 2});
  v.push_back({"detection/ssd_mobilenet_v1_coco_quant_postprocess_segment_1_of_2_edgetpu.tflite", {u8, {1, 19, 19, 512}},
              Io{f32, {1, 20, 4}}, false, true, kDeqNms, Nms{90, 20, 0.3f}, false, 0, 2, 4});
  v.push_back({"detection/ssd_mobilenet_v2_coco_quant_postprocess_segment_0_of_2_edgetpu.tflite", {u8, {1, 300, 300, 3}, 0.0078125f, 128},
              {}, false, true, kNone, {}, false, 0, 1, 3});
  v.push_back({"detection/ssd_mobilenet_v2_coco_quant_postprocess_segment_1_of_2_edgetpu.tflite", {u8, {}},
              Io{f32, {1, 20, 4}}, false, true, kDeqNms, Nms{90, 20, 1e-8f}, false, 0, 3, 4});
  v.push_back({"detection/ssd_mobilenet_v1_coco_quant_postprocess_head_layers.tflite", {u8, {1, 19, 19, 12}, 0.086556f, 183},
              {}, false, false, {}, Nms{90, 20, 0.3f}, false, 0, 12, 4});
  v.push_back({"detection/frc_ssd_mobilenet_v2_fpnlite_320_detect_quant.tflite", {u8, {1, 320, 320, 3}, k255, 0},
              {}, true, false, {}, Nms{3, 10, 0.0f}, false, 0, 1, 4});
  v.push_back({"detection/frc_ssd_mobilenet_v2_fpnlite_320_detect_quant_edgetpu.tflite", {u8, {1, 320, 320, 3}, k255, 0},
              Io{f32, {1, 10}}, true, true, {}, Nms{3, 10, 0.0f}, false, 0, 1, 4});
  v.push_back({"detection/ssdlite_mobiledet_dog_vs_cat.tflite", {u8, {1, 320, 320, 3}, 0.0078125f, 128},
              {}, false, false, {}, Nms{2, 10, -1}, false, 0, 1, 4});
  v.push_back({"detection/traffic_model.tflite", {u8, {1, 256, 256, 3}, 0.0078125f, 128},
              {}, false, false, {}, Nms{3, 40, -1}, false, 0, 3, 6});
  v.push_back({"detection/mediapipe_mm_ssd_320_model_int8.tflite", {u8, {1, 320, 320, 3}, 0.007843f, 127},
              Io{u8, {1, 19125, 4}, 0.077292f, 142}, true, false, {}, {}, true, 3, 1, 2});
  v.push_back({"detection/mediapipe_mm_ssd_320_model_int8_edgetpu.tflite", {u8, {1, 320, 320, 3}, 0.007843f, 127},
              Io{u8, {1, 19125, 4}, 0.077292f, 142}, false, true, kNone, {}, false, 0, 1, 2});
  v.push_back({"detection/face-detector-quantized_edgetpu.tflite", {u8, {1, 128, 128, 3}, 0.007843f, 127},
              Io{f32, {1, 896, 16}}, false, true, kDeqDeq, {}, false, 0, 1, 2});
  v.push_back({"detection/face_detection_short_range.tflite", {f32, {1, 128, 128, 3}},
              Io{f32, {1, 896, 16}}, false, false, {}, {}, false, 0, 1, 2});
  v.push_back({"detection/yolov8n_coco_int8.tflite", {i8, {1, 640, 640, 3}, 0.018658f, -14},
              Io{i8, {1, 84, 8400}, 0.003986f, -128}, false, false, {}, {}, true, 80, 1, 1});
  v.push_back({"detection/yolov8n_coco_int8_edgetpu.tflite", {i8, {1, 640, 640, 3}, 0.018658f, -14},
              Io{i8, {1, 84, 8400}, 0.003986f, -128}, false, true, {}, {}, true, 80, 1, 1});
  v.push_back({"detection/yolov5n_coco_int8.tflite", {u8, {1, 640, 640, 3}, k255, 0},
              Io{u8, {1, 25200, 85}, 0.004483f, 3}, true, false, {}, {}, false, 0, 1, 1});
  v.push_back({"detection/yolov5n_coco_int8_edgetpu.tflite", {u8, {1, 640, 640, 3}, k255, 0},
              Io{u8, {1, 25200, 85}, 0.004483f, 3}, false, true, {}, {}, false, 0, 1, 1});
  v.push_back({"detection/yolo11n_coco_int8.tflite", {i8, {1, 640, 640, 3}, k255, -128},
              Io{i8, {1, 84, 8400}, 0.004078f, -122}, false, false, {}, {}, true, 80, 1, 1});
  v.push_back({"detection/ei_ssd_mobilenet_v2_fpnlite_320_base_int8.tflite", {i8, {1, 320, 320, 3}, k255, -128},
              {}, true, false, {}, Nms{1, 10, 0.0f}, false, 0, 1, 4});
  v.push_back({"detection/openmv_fomo_face_detection_int8.tflite", {i8, {1, 96, 96, 3}, k255, -128},
              Io{i8, {1, 12, 12, 2}, k256, -128}, true, false, {}, {}, false, 0, 1, 1});
  // clang-format on
  return v;
}

void ExpectIo(const TensorReport& t, const Io& io, const std::string& what) {
  EXPECT_EQ(t.dtype, io.dtype) << what;
  if (!io.shape.empty()) {
    EXPECT_EQ(t.shape, io.shape) << what;
  }
  if (io.scale == 0) return;
  ASSERT_TRUE(t.quantization.has_value()) << what;
  ASSERT_EQ(t.quantization->scale.size(), 1u) << what;
  // The manifest prints scales to 4 significant digits (0.004483 for 0.0044835).
  EXPECT_NEAR(t.quantization->scale[0], io.scale, io.scale * 5e-4) << what;
  EXPECT_EQ(t.quantization->zero_point.at(0), io.zero_point) << what;
}

// gtest prints a parameter by its path rather than its bytes.
void PrintTo(const Facts& f, std::ostream* os) { *os << f.path; }

class RealModel : public ::testing::TestWithParam<Facts> {};

TEST_P(RealModel, MatchesTheManifest) {
  LOCKSTEP_REQUIRE_ASSETS();
  const Facts& f = GetParam();
  auto path = LOCKSTEP_ASSET(std::string("models/") + f.path);
  ModelReport r = Inspect(ReadModelFile(path), path.string());
  EXPECT_EQ(r.subgraphs, 1u);
  if (f.inputs) {
    ASSERT_EQ(r.inputs.size(), f.inputs);
    ExpectIo(r.inputs[0], f.input, "input 0");
  }
  if (f.outputs) {
    EXPECT_EQ(r.outputs.size(), f.outputs);
  }
  if (f.output) ExpectIo(r.outputs.at(0), *f.output, "output 0");
  EXPECT_EQ(r.per_channel_weights > 0, f.per_channel) << r.per_channel_weights;
  EXPECT_EQ(r.edgetpu.compiled, f.compiled);
  if (f.compiled) {
    EXPECT_EQ(r.edgetpu.segments.size(), 1u);
  }
  if (f.cpu_ops) {
    EXPECT_EQ(r.edgetpu.cpu_ops, *f.cpu_ops);
  }
  ASSERT_EQ(r.postprocess.has_value(), f.nms.has_value());
  if (f.nms) {
    EXPECT_EQ(r.postprocess->options.num_classes, f.nms->num_classes);
    EXPECT_EQ(r.postprocess->options.max_detections, f.nms->max_detections);
    if (f.nms->score_threshold >= 0) {
      EXPECT_FLOAT_EQ(r.postprocess->options.nms_score_threshold, f.nms->score_threshold);
    }
  }
  EXPECT_EQ(r.metadata.has_value(), f.metadata);
  EXPECT_EQ(r.labels.size(), f.labels);
  std::string text = ToText(r);
  EXPECT_LE(std::count(text.begin(), text.end(), '\n'), 40) << text;
}

std::string FactsName(const ::testing::TestParamInfo<Facts>& param_info) {
  std::string name = param_info.param.path;
  name = name.substr(name.find('/') + 1);
  name = name.substr(0, name.size() - std::string(".tflite").size());
  for (char& c : name)
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Manifest, RealModel, ::testing::ValuesIn(Manifest()), FactsName);

TEST(RealModels, EveryModelInTheAssetsIsInTheTable) {
  LOCKSTEP_REQUIRE_ASSETS();
  size_t files = 0;
  for (const char* folder : {"models/detection", "models/classification"})
    for (const auto& e : std::filesystem::directory_iterator(LOCKSTEP_ASSET(folder)))
      files += e.path().extension() == ".tflite";
  EXPECT_EQ(files, Manifest().size());
}

std::string Asset(const char* p) { return LOCKSTEP_ASSET(std::string("models/") + p).string(); }

TEST(RealModels, CocoSsdMetadataNormalizationAndLabels) {
  LOCKSTEP_REQUIRE_ASSETS();
  auto path = Asset("detection/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite");
  ModelReport r = Inspect(ReadModelFile(path), path);
  ASSERT_TRUE(r.metadata.has_value());
  ASSERT_TRUE(r.metadata->inputs.at(0).normalization.has_value());
  EXPECT_EQ(r.metadata->inputs[0].normalization->mean, std::vector<float>{127.5f});
  EXPECT_EQ(r.metadata->inputs[0].normalization->std, std::vector<float>{127.5f});
  // labelmap.txt: 90 lines, "???" for the COCO ids without a class.
  ASSERT_EQ(r.labels.size(), 90u);
  EXPECT_EQ(r.labels[0], "person");
  EXPECT_EQ(r.labels[11], "???");
  EXPECT_EQ(r.labels[89], "toothbrush");
  EXPECT_EQ(r.associated_files, std::vector<std::string>{"labelmap.txt"});
  nlohmann::json j = ToJson(r);
  EXPECT_EQ(j["metadata"]["normalization"]["std"][0], 127.5);
  EXPECT_EQ(j["metadata"]["label_count"], 90);
}

TEST(RealModels, MediapipeLabelsAndFloatStats) {
  LOCKSTEP_REQUIRE_ASSETS();
  auto path = Asset("detection/mediapipe_mm_ssd_320_model_int8.tflite");
  ModelReport r = Inspect(ReadModelFile(path), path);
  EXPECT_EQ(r.labels, (std::vector<std::string>{"background", "basket", "target"}));
  // MediaPipe keeps its anchors in a custom metadata entry.
  EXPECT_EQ(r.metadata->custom_metadata, std::vector<std::string>{"DETECTOR_METADATA"});
  ASSERT_TRUE(r.metadata->inputs.at(0).normalization.has_value());
  EXPECT_EQ(r.metadata->inputs[0].normalization->mean, std::vector<float>{127.5f});

  path = Asset("classification/mobilenet_v1_0.25_224_1_metadata_1.tflite");
  r = Inspect(ReadModelFile(path), path);
  EXPECT_EQ(r.metadata->inputs.at(0).stats_min, std::vector<float>{-1});
  EXPECT_EQ(r.metadata->inputs.at(0).stats_max, std::vector<float>{1});
  EXPECT_EQ(r.labels.at(0), "background");
}

TEST(RealModels, UltralyticsNamesAreTheLabels) {
  LOCKSTEP_REQUIRE_ASSETS();
  for (const char* p :
       {"detection/yolov8n_coco_int8.tflite", "detection/yolo11n_coco_int8.tflite"}) {
    auto path = Asset(p);
    ModelReport r = Inspect(ReadModelFile(path), path);
    ASSERT_EQ(r.labels.size(), 80u) << p;
    EXPECT_EQ(r.labels[0], "person");
    EXPECT_EQ(r.labels[79], "toothbrush");
  }
}

TEST(RealModels, OpCountsOfTheYolos) {
  LOCKSTEP_REQUIRE_ASSETS();
  auto count = [](const ModelReport& r, const std::string& op) {
    for (const auto& [name, n] : r.op_counts)
      if (name == op) return n;
    return size_t{0};
  };
  auto path = Asset("detection/yolov8n_coco_int8.tflite");
  ModelReport r = Inspect(ReadModelFile(path), path);
  EXPECT_EQ(r.operators.size(), 255u);
  EXPECT_EQ(count(r, "CONV_2D"), 64u);
  path = Asset("detection/yolov5n_coco_int8.tflite");
  r = Inspect(ReadModelFile(path), path);
  EXPECT_EQ(r.operators.size(), 281u);
  EXPECT_EQ(count(r, "QUANTIZE"), 26u);
  EXPECT_EQ(count(r, "CONV_2D"), 60u);
  path = Asset("detection/yolo11n_coco_int8.tflite");
  r = Inspect(ReadModelFile(path), path);
  EXPECT_EQ(r.operators.size(), 497u);
  EXPECT_EQ(count(r, "CONV_2D"), 209u);
  EXPECT_EQ(count(r, "DEPTHWISE_CONV_2D"), 6u);
  EXPECT_EQ(count(r, "FULLY_CONNECTED"), 4u);
  EXPECT_EQ(count(r, "SOFTMAX"), 2u);
  path = Asset("detection/openmv_fomo_face_detection_int8.tflite");
  r = Inspect(ReadModelFile(path), path);
  EXPECT_EQ(r.operators.size(), 27u);
  path = Asset("detection/ei_ssd_mobilenet_v2_fpnlite_320_base_int8.tflite");
  r = Inspect(ReadModelFile(path), path);
  EXPECT_EQ(count(r, "CONV_2D"), 72u);
  EXPECT_EQ(count(r, "DEPTHWISE_CONV_2D"), 51u);
  path = Asset("classification/tf2_mobilenet_v2_1.0_224_ptq.tflite");
  r = Inspect(ReadModelFile(path), path);
  EXPECT_EQ(r.per_channel_weights, 106u);
}

TEST(RealModels, EdgeTpuYoloTailsRunOnTheCpu) {
  LOCKSTEP_REQUIRE_ASSETS();
  auto path = Asset("detection/yolov8n_coco_int8_edgetpu.tflite");
  ModelReport r = Inspect(ReadModelFile(path), path);
  EXPECT_EQ(r.edgetpu.cpu_ops.size(), 25u);
  ASSERT_EQ(r.edgetpu.segments.size(), 1u);
  ASSERT_EQ(r.edgetpu.segments[0].outputs.size(), 3u);
  Model model = ReadModelFile(path);
  const Subgraph& sg = model.subgraphs[0];
  std::vector<std::vector<int32_t>> shapes;
  for (int32_t t : r.edgetpu.segments[0].outputs) {
    const Tensor& tensor = sg.tensors.at(static_cast<size_t>(t));
    EXPECT_EQ(tensor.dtype, DType::kInt8);
    EXPECT_NEAR(tensor.quantization->scale.at(0), 0.22119f, 1e-5f);
    EXPECT_EQ(tensor.quantization->zero_point.at(0), 28);
    shapes.push_back(tensor.shape);
  }
  std::sort(shapes.begin(), shapes.end());
  EXPECT_EQ(shapes,
            (std::vector<std::vector<int32_t>>{{1, 40, 40, 144}, {1, 80, 80, 144}, {1, 144, 400}}));

  path = Asset("detection/yolov5n_coco_int8_edgetpu.tflite");
  r = Inspect(ReadModelFile(path), path);
  EXPECT_EQ(r.edgetpu.cpu_ops.size(), 24u);

  path = Asset("detection/face-detector-quantized_edgetpu.tflite");
  r = Inspect(ReadModelFile(path), path);
  for (const auto& op : r.edgetpu.cpu_ops) EXPECT_EQ(op, "DEQUANTIZE");
  EXPECT_FALSE(r.edgetpu.cpu_ops.empty());
}

// The manifest says only DEQUANTIZE and the NMS op stay on the CPU; the file says otherwise: the
// compiler mapped the backbone and left the whole FPN box predictor (48 ops) to the CPU.
TEST(RealModels, FrcEdgeTpuLeavesTheBoxPredictorOnTheCpu) {
  LOCKSTEP_REQUIRE_ASSETS();
  auto path = Asset("detection/frc_ssd_mobilenet_v2_fpnlite_320_detect_quant_edgetpu.tflite");
  ModelReport r = Inspect(ReadModelFile(path), path);
  ASSERT_EQ(r.operators.size(), 49u);
  EXPECT_EQ(r.operators[0].op, "edgetpu-custom-op");
  const auto& cpu = r.edgetpu.cpu_ops;
  ASSERT_EQ(cpu.size(), 48u);
  EXPECT_EQ(std::count(cpu.begin(), cpu.end(), "CONV_2D"), 14);
  EXPECT_EQ(std::count(cpu.begin(), cpu.end(), "DEPTHWISE_CONV_2D"), 14);
  EXPECT_EQ(std::count(cpu.begin(), cpu.end(), "DEQUANTIZE"), 2);
  EXPECT_EQ(cpu.back(), "TFLite_Detection_PostProcess");
  EXPECT_EQ(r.per_channel_weights, 48u);
}

TEST(RealModels, EdgeImpulseSsdPostprocessOptions) {
  LOCKSTEP_REQUIRE_ASSETS();
  auto path = Asset("detection/ei_ssd_mobilenet_v2_fpnlite_320_base_int8.tflite");
  ModelReport r = Inspect(ReadModelFile(path), path);
  ASSERT_TRUE(r.postprocess.has_value());
  const DetectionPostprocessOptions& o = r.postprocess->options;
  EXPECT_EQ(o.num_classes, 1);
  EXPECT_EQ(o.max_detections, 10);
  EXPECT_FALSE(o.use_regular_nms);
  EXPECT_FLOAT_EQ(o.nms_iou_threshold, 0.6f);
  EXPECT_FLOAT_EQ(o.nms_score_threshold, 0.0f);
  EXPECT_EQ(o.y_scale, 10.0f);
  EXPECT_EQ(o.x_scale, 10.0f);
  EXPECT_EQ(o.h_scale, 5.0f);
  EXPECT_EQ(o.w_scale, 5.0f);
}

}  // namespace
}  // namespace lockstep
