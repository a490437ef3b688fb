#include <flatbuffers/flexbuffers.h>
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "lockstep/core/error.h"
#include "lockstep/model/postprocess_options.h"

namespace lockstep {
namespace {

// The options the TF object-detection exporter writes for SSD MobileNet v1 COCO, as a FlexBuffer
// map; `edit` may change the map before it is finished.
std::vector<uint8_t> Options(const std::function<void(flexbuffers::Builder&)>& edit = {},
                             bool with_defaults = true) {
  flexbuffers::Builder b;
  b.Map([&] {
    b.Int("max_detections", 10);
    b.Int("max_classes_per_detection", 1);
    if (with_defaults) {
      b.Int("detections_per_class", 100);
      b.Bool("use_regular_nms", true);
    }
    b.Float("nms_score_threshold", 1e-8f);
    b.Float("nms_iou_threshold", 0.6f);
    b.Int("num_classes", 90);
    b.Float("y_scale", 10.0f);
    b.Float("x_scale", 10.0f);
    b.Float("h_scale", 5.0f);
    b.Float("w_scale", 5.0f);
    b.Bool("_output_quantized", true);
    if (edit) edit(b);
  });
  b.Finish();
  return b.GetBuffer();
}

std::vector<uint8_t> Without(const std::string& key) {
  flexbuffers::Builder b;
  std::vector<uint8_t> full = Options();
  flexbuffers::Map m = flexbuffers::GetRoot(full).AsMap();
  b.Map([&] {
    for (size_t i = 0; i < m.size(); ++i) {
      std::string k = m.Keys()[i].AsKey();
      if (k == key) continue;
      flexbuffers::Reference v = m.Values()[i];
      if (v.IsBool())
        b.Bool(k.c_str(), v.AsBool());
      else if (v.IsFloat())
        b.Double(k.c_str(), v.AsDouble());
      else
        b.Int(k.c_str(), v.AsInt64());
    }
  });
  b.Finish();
  return b.GetBuffer();
}

TEST(Postprocess, DecodesEveryOption) {
  DetectionPostprocessOptions o = ParseDetectionPostprocessOptions(Options(), "m.tflite");
  EXPECT_EQ(o.max_detections, 10);
  EXPECT_EQ(o.max_classes_per_detection, 1);
  EXPECT_EQ(o.detections_per_class, 100);
  EXPECT_TRUE(o.use_regular_nms);
  EXPECT_FLOAT_EQ(o.nms_score_threshold, 1e-8f);
  EXPECT_FLOAT_EQ(o.nms_iou_threshold, 0.6f);
  EXPECT_EQ(o.num_classes, 90);
  EXPECT_EQ(o.y_scale, 10.0f);
  EXPECT_EQ(o.x_scale, 10.0f);
  EXPECT_EQ(o.h_scale, 5.0f);
  EXPECT_EQ(o.w_scale, 5.0f);
}

TEST(Postprocess, OptionalKeysTakeTheKernelDefaults) {
  DetectionPostprocessOptions o =
      ParseDetectionPostprocessOptions(Options({}, /*with_defaults=*/false), "m");
  EXPECT_EQ(o.detections_per_class, 100);
  EXPECT_FALSE(o.use_regular_nms);
}

TEST(Postprocess, IntegersWrittenAsFloatsAndFloatsAsIntegersAreNumbers) {
  // Some exporters write every value as a float, or the scales as integers.
  flexbuffers::Builder b;
  b.Map([&] {
    b.Double("max_detections", 20.0);
    b.Double("max_classes_per_detection", 1.0);
    b.Double("nms_score_threshold", 0.3);
    b.Double("nms_iou_threshold", 0.6);
    b.Double("num_classes", 3.0);
    b.Int("y_scale", 10);
    b.Int("x_scale", 10);
    b.Int("h_scale", 5);
    b.Int("w_scale", 5);
  });
  b.Finish();
  DetectionPostprocessOptions o = ParseDetectionPostprocessOptions(b.GetBuffer(), "m");
  EXPECT_EQ(o.max_detections, 20);
  EXPECT_EQ(o.num_classes, 3);
  EXPECT_EQ(o.h_scale, 5.0f);
  EXPECT_FLOAT_EQ(o.nms_score_threshold, 0.3f);
}

TEST(Postprocess, EachRequiredKeyMissingIsAnErrorNamingIt) {
  for (const char* key :
       {"max_detections", "max_classes_per_detection", "nms_score_threshold", "nms_iou_threshold",
        "num_classes", "y_scale", "x_scale", "h_scale", "w_scale"}) {
    try {
      ParseDetectionPostprocessOptions(Without(key), "m.tflite");
      ADD_FAILURE() << "accepted options without " << key;
    } catch (const Error& e) {
      EXPECT_EQ(e.file(), "m.tflite");
      EXPECT_EQ(e.field(),
                std::string("TFLite_Detection_PostProcess custom_options[\"") + key + "\"]");
      EXPECT_EQ(e.found(), "no such key");
    }
  }
}

TEST(Postprocess, WrongTypesAndValuesAreErrors) {
  auto fails = [](const std::vector<uint8_t>& bytes, const std::string& found) {
    try {
      ParseDetectionPostprocessOptions(bytes, "m");
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.found(), found) << e.what();
    }
  };
  // A later duplicate key is not allowed in a FlexBuffer map, so replace via Without + add.
  auto with = [](const std::string& key, const std::function<void(flexbuffers::Builder&)>& add) {
    std::vector<uint8_t> base = Without(key);
    flexbuffers::Map m = flexbuffers::GetRoot(base).AsMap();
    flexbuffers::Builder b;
    b.Map([&] {
      for (size_t i = 0; i < m.size(); ++i) {
        std::string k = m.Keys()[i].AsKey();
        flexbuffers::Reference v = m.Values()[i];
        if (v.IsBool())
          b.Bool(k.c_str(), v.AsBool());
        else if (v.IsFloat())
          b.Double(k.c_str(), v.AsDouble());
        else
          b.Int(k.c_str(), v.AsInt64());
      }
      add(b);
    });
    b.Finish();
    return b.GetBuffer();
  };
  fails(with("num_classes", [](auto& b) { b.String("num_classes", "90"); }), "a string");
  fails(with("num_classes", [](auto& b) { b.Int("num_classes", 0); }), "0");
  fails(with("max_detections", [](auto& b) { b.Int("max_detections", -5); }), "-5");
  fails(with("y_scale", [](auto& b) { b.Float("y_scale", 0.0f); }), "0.000000");
  fails(with("nms_iou_threshold", [](auto& b) { b.Float("nms_iou_threshold", 1.5f); }), "1.500000");
  fails(with("x_scale", [](auto& b) { b.Vector("x_scale", [&] { b.Int(1); }); }), "a vector");
}

TEST(Postprocess, NotAMapAndGarbageAreErrors) {
  flexbuffers::Builder b;
  b.Vector([&] { b.Int(1); });
  b.Finish();
  EXPECT_THROW(ParseDetectionPostprocessOptions(b.GetBuffer(), "m"), Error);
  EXPECT_THROW(ParseDetectionPostprocessOptions(std::vector<uint8_t>{}, "m"), Error);
  std::vector<uint8_t> garbage = {0xde, 0xad, 0xbe, 0xef, 0x7f, 0x01};
  EXPECT_THROW(ParseDetectionPostprocessOptions(garbage, "m"), Error);
}

TEST(Postprocess, DamagedOptionsNeverCrash) {
  std::vector<uint8_t> bytes = Options();
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_THROW(ParseDetectionPostprocessOptions(std::span(bytes).first(n), "m"), Error) << n;
  }
  std::mt19937 rng(11);
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> bad = bytes;
    for (int k = 0; k < 2; ++k) bad[rng() % bad.size()] = static_cast<uint8_t>(rng());
    try {
      ParseDetectionPostprocessOptions(bad, "m");
    } catch (const Error&) {
    }
  }
}

Model DetectorHead(std::vector<uint8_t> options) {
  Model m;
  m.operator_codes = {{6, "", 1}, {32, "TFLite_Detection_PostProcess", 1}};
  Subgraph sg;
  sg.tensors.resize(8);
  Operator dequantize;
  dequantize.opcode_index = 0;
  dequantize.inputs = {0};
  dequantize.outputs = {1};
  Operator nms;
  nms.opcode_index = 1;
  nms.inputs = {2, 1, 3};
  nms.outputs = {4, 5, 6, 7};
  nms.custom_options = std::move(options);
  sg.operators = {dequantize, nms};
  m.subgraphs = {sg};
  return m;
}

TEST(Postprocess, FindsTheOpAndItsTensors) {
  auto found = FindDetectionPostprocess(DetectorHead(Options()), "m.tflite");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->subgraph, 0u);
  EXPECT_EQ(found->operator_index, 1u);
  EXPECT_EQ(found->inputs, (std::vector<int32_t>{2, 1, 3}));
  EXPECT_EQ(found->outputs, (std::vector<int32_t>{4, 5, 6, 7}));
  EXPECT_EQ(found->options.num_classes, 90);

  Model none = DetectorHead(Options());
  none.operator_codes[1].custom_code = "SomethingElse";
  EXPECT_FALSE(FindDetectionPostprocess(none, "m").has_value());
}

TEST(Postprocess, BadOptionsInAModelNameTheOperator) {
  try {
    FindDetectionPostprocess(DetectorHead(Without("num_classes")), "m.tflite");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), "m.tflite");
    EXPECT_EQ(
        e.field(),
        "subgraphs[0].operators[1] TFLite_Detection_PostProcess custom_options[\"num_classes\"]");
  }
}

}  // namespace
}  // namespace lockstep
