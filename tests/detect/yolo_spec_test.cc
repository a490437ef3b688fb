// The YOLO parts of the pipeline spec: parsing, defaults, round trips, errors; what spec
// from-model derives for the YOLO exports; CheckSpec and the Detector on heads that do not fit;
// class names from Ultralytics YAML.
#include <gtest/gtest.h>

#include <string>

#include "lockstep/core/error.h"
#include "lockstep/detect/detector.h"
#include "lockstep/detect/yolo_labels.h"
#include "lockstep/model/model_io.h"
#include "lockstep/pipeline/spec.h"
#include "lockstep/pipeline/spec_model.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

using nlohmann::json;

json Base() { return json{{"schema", kSpecSchema}}; }

std::string ProblemsOf(const json& j) {
  try {
    ParseSpec(j, "s.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(YoloSpec, DefaultsAreUltralytics) {
  json j = Base();
  j["output"] = {{"decoder", "yolov5"}};
  Spec s = ParseSpec(j, "s.json");
  EXPECT_DOUBLE_EQ(s.output.yolo.confidence, 0.25);
  EXPECT_DOUBLE_EQ(YoloIouThreshold(s.output), 0.45);
  EXPECT_EQ(s.output.yolo.max_detections, 300);
  EXPECT_FALSE(s.output.yolo.class_agnostic);
  j["output"]["decoder"] = "yolov8";
  EXPECT_DOUBLE_EQ(YoloIouThreshold(ParseSpec(j, "s.json").output), 0.7);
}

TEST(YoloSpec, RoundTrips) {
  json j = Base();
  j["geometry"] = {{"mode", "letterbox"}, {"pad_value", 114}, {"auto_stride", 32}};
  j["output"] = {{"decoder", "yolov8"},
                 {"yolo",
                  {{"confidence", 0.001},
                   {"iou_threshold", 0.6},
                   {"class_agnostic", true},
                   {"multi_label", true},
                   {"max_detections", 100},
                   {"max_candidates", 5000},
                   {"box_units", "pixels"}}}};
  const Spec s = ParseSpec(j, "s.json");
  EXPECT_EQ(s.geometry.auto_stride, 32);
  EXPECT_EQ(s.output.yolo.box_units, BoxUnits::kPixels);
  EXPECT_EQ(s.output.yolo.max_candidates, 5000);
  const auto out = ToJson(s);
  EXPECT_EQ(out["geometry"]["auto_stride"], 32);
  EXPECT_EQ(out["output"]["yolo"]["iou_threshold"], 0.6);
  EXPECT_EQ(out["output"]["yolo"]["box_units"], "pixels");
  const Spec again = ParseSpec(json::parse(out.dump()), "again.json");
  EXPECT_EQ(again.output.yolo, s.output.yolo);
  EXPECT_EQ(again.geometry.auto_stride, 32);
  EXPECT_EQ(ToJson(again), out);
  // The implied IoU is written out, so the JSON says what runs.
  json d = Base();
  d["output"] = {{"decoder", "yolov5"}};
  EXPECT_EQ(ToJson(ParseSpec(d, "d.json"))["output"]["yolo"]["iou_threshold"], 0.45);
  EXPECT_FALSE(ToJson(ParseSpec(Base(), "b.json"))["output"].contains("yolo"));
}

TEST(YoloSpec, ErrorsNameTheField) {
  json j = Base();
  j["output"] = {{"decoder", "ssd_raw"}, {"yolo", {{"confidence", 0.3}}}};
  EXPECT_NE(ProblemsOf(j).find("$.output.yolo: expected decoder yolov5 or yolov8"),
            std::string::npos);
  j["output"] = {{"decoder", "yolov8"},
                 {"yolo", {{"confidence", 1.5}, {"iou", 0.5}, {"box_units", "cm"}}}};
  const std::string p = ProblemsOf(j);
  EXPECT_NE(p.find("3 problems"), std::string::npos) << p;
  EXPECT_NE(p.find("$.output.yolo.confidence"), std::string::npos);
  EXPECT_NE(p.find("$.output.yolo.iou: expected one of the fields"), std::string::npos);
  EXPECT_NE(p.find("$.output.yolo.box_units: expected one of auto, normalized, pixels"),
            std::string::npos);
  j["output"] = {{"decoder", "yolo11"}};
  EXPECT_NE(ProblemsOf(j).find("yolov8 also reads YOLO11's head"), std::string::npos);
  j = Base();
  j["geometry"] = {{"mode", "stretch"}, {"auto_stride", 32}};
  EXPECT_NE(ProblemsOf(j).find("$.geometry.auto_stride: expected no auto_stride for mode stretch"),
            std::string::npos);
}

const char* kDir = "models/detection/";

TEST(YoloSpec, FromModelDerivesUltralyticsPipeline) {
  LOCKSTEP_REQUIRE_ASSETS();
  for (auto [file, decoder, labels_fact] :
       {std::tuple{"yolov5n_coco_int8.tflite", "yolov5", false},
        std::tuple{"yolov8n_coco_int8.tflite", "yolov8", true},
        std::tuple{"yolo11n_coco_int8.tflite", "yolov8", true},
        std::tuple{"yolov8n_coco_int8_edgetpu.tflite", "yolov8", true},
        std::tuple{"yolov5n_coco_int8_edgetpu.tflite", "yolov5", false}}) {
    SCOPED_TRACE(file);
    const std::string path = (testing::AssetsDir() / kDir / file).string();
    const Spec s = SpecFromModel(ReadModelFile(path), path);
    EXPECT_EQ(Name(s.output.decoder), decoder);
    EXPECT_EQ(s.geometry.mode, GeometryMode::kLetterbox);
    EXPECT_EQ(s.geometry.pad_value, (std::array<int, 3>{114, 114, 114}));
    EXPECT_EQ(s.normalize.std, (std::array<double, 3>{255, 255, 255}));
    int decoder_marks = 0;
    for (const Provenance& p : s.provenance) {
      if (p.field == "$.output.decoder") {
        ++decoder_marks;
        EXPECT_TRUE(p.fact) << p.reason;
      }
      if (p.field == "$.output.labels") {
        EXPECT_EQ(p.fact, labels_fact) << p.reason;
      }
      if (p.field == "$.geometry") {
        EXPECT_FALSE(p.fact);
      }
    }
    EXPECT_EQ(decoder_marks, 1);
    EXPECT_FALSE(HasErrors(CheckSpec(s, ReadModelFile(path), path)));
  }
}

std::vector<std::string> Codes(const std::vector<Finding>& fs) {
  std::vector<std::string> c;
  for (auto& f : fs) c.push_back(f.code);
  return c;
}

TEST(YoloSpec, CheckSpecAndDetectorRefuseWhatDoesNotFit) {
  LOCKSTEP_REQUIRE_ASSETS();
  const std::string path = (testing::AssetsDir() / kDir / "yolov8n_coco_int8.tflite").string();
  const Model model = ReadModelFile(path);
  Spec s = SpecFromModel(model, path);
  s.output.decoder = Decoder::kYolov5;
  auto codes = Codes(CheckSpec(s, model, path));
  EXPECT_NE(std::find(codes.begin(), codes.end(), "yolo_decoder_mismatch"), codes.end());
  EXPECT_THROW(Detector::Create(path, s), Error);
  s.output.decoder = Decoder::kTflitePostprocess;
  for (const Finding& f : CheckSpec(s, model, path))
    if (f.code == "decoder_without_postprocess") {
      EXPECT_EQ(f.expected.substr(0, 7), "yolov8 ");
    }
  s.output.decoder = Decoder::kYolov8;
  s.geometry.auto_stride = 32;
  codes = Codes(CheckSpec(s, model, path));
  EXPECT_NE(std::find(codes.begin(), codes.end(), "letterbox_auto_static_input"), codes.end());
  try {
    Detector::Create(path, s);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "$.geometry.auto_stride");
  }
  // An SSD with its op: a YOLO decoder does not fit.
  const std::string ssd =
      (testing::AssetsDir() / kDir / "coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite").string();
  s = Spec{};
  s.output.decoder = Decoder::kYolov8;
  codes = Codes(CheckSpec(s, ReadModelFile(ssd), ssd));
  EXPECT_NE(std::find(codes.begin(), codes.end(), "yolo_decoder_mismatch"), codes.end());
}

TEST(YoloLabels, UltralyticsYamlForms) {
  EXPECT_EQ(*UltralyticsYamlNames("stride: 32\nnames:\n  0: person\n  1: 'traffic light'\n"
                                  "imgsz:\n- 640\n",
                                  "m.yaml"),
            (std::vector<std::string>{"person", "traffic light"}));
  EXPECT_EQ(*UltralyticsYamlNames("names:\n  - cat\n  - \"hot dog\"\nnc: 2\n", "d.yaml"),
            (std::vector<std::string>{"cat", "hot dog"}));
  EXPECT_EQ(*UltralyticsYamlNames("nc: 2\nnames: [cat, 'dog']\n", "d.yaml"),
            (std::vector<std::string>{"cat", "dog"}));
  EXPECT_FALSE(UltralyticsYamlNames("nc: 2\n", "d.yaml"));
  EXPECT_THROW(UltralyticsYamlNames("names:\n  0: a\n  2: c\n", "gap.yaml"), Error);
}

TEST(YoloLabels, TheAssetsMetadataYamlGivesCoco80) {
  LOCKSTEP_REQUIRE_ASSETS();
  auto labels = ReadLabelFile(testing::AssetsDir() / kDir / "yolov8n_coco_int8_metadata.yaml");
  ASSERT_EQ(labels.size(), 80u);
  EXPECT_EQ(labels[0], "person");
  EXPECT_EQ(labels[9], "traffic light");
  EXPECT_EQ(labels[79], "toothbrush");
}

}  // namespace
}  // namespace lockstep
