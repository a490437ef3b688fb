#include "lockstep/pipeline/spec.h"

#include <gtest/gtest.h>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {
using nlohmann::json;

std::string Problems(const json& j) {
  try {
    ParseSpec(j, "spec.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Spec, ParsesEveryFieldAndWritesTheSameJsonBack) {
  json j = json::parse(R"({
    "schema": "lockstep.pipeline/v1", "name": "yolo",
    "input": {"channel_order": "bgr", "exif_orientation": false},
    "geometry": {"mode": "letterbox", "placement": "center", "pad_value": 114,
                 "rounding": "ultralytics", "scale_up": true},
    "resize": {"dialect": "opencv", "interpolation": "bilinear"},
    "normalize": {"mean": [0, 0, 0], "std": 255},
    "tensor": {"width": 640, "height": 640, "layout": "nchw", "dtype": "int8",
               "scale": 0.00392156862745098, "zero_point": -128, "rounding": "truncate"},
    "output": {"decoder": "tflite_postprocess", "score_threshold": 0.25, "clamp_boxes": false,
               "labels": ["a", "b"]}})");
  Spec s = ParseSpec(j, "spec.json");
  EXPECT_EQ(s.input.channel_order, ChannelOrder::kBgr);
  EXPECT_EQ(s.geometry.mode, GeometryMode::kLetterbox);
  EXPECT_EQ(s.geometry.pad_value, (std::array<int, 3>{114, 114, 114}));
  EXPECT_EQ(s.normalize.std, (std::array<double, 3>{255, 255, 255}));
  EXPECT_EQ(s.tensor.layout, Layout::kNchw);
  EXPECT_EQ(s.tensor.dtype, DType::kInt8);
  EXPECT_EQ(s.tensor.zero_point, -128);
  EXPECT_EQ(s.tensor.rounding, Rounding::kTruncate);
  EXPECT_EQ(s.output.labels.size(), 2u);
  Spec again = ParseSpec(json::parse(ToJson(s).dump()), "again");
  EXPECT_EQ(ToJson(again), ToJson(s));
}

TEST(Spec, DefaultsAreStretchOpencvBilinearAndTheModelsQuantization) {
  Spec s = ParseSpec(json{{"schema", "lockstep.pipeline/v1"}}, "s");
  EXPECT_EQ(s.geometry.mode, GeometryMode::kStretch);
  EXPECT_EQ(s.resize.dialect, ResizeDialect::kOpenCV);
  EXPECT_EQ(s.resize.interpolation, Interpolation::kBilinear);
  EXPECT_FALSE(s.tensor.scale.has_value());
  EXPECT_EQ(s.tensor.rounding, Rounding::kHalfAwayFromZero);
}

TEST(Spec, ReportsEveryProblemWithItsPath) {
  json j = json::parse(R"({
    "schema": "lockstep.pipeline/v1",
    "geometry": {"mode": "letterbx", "pad_value": [1, 2], "colour": 3},
    "resize": {"dialect": "opencv", "interpolation": "bicubic", "antialias": true},
    "normalize": {"mean": "127.5", "std": [0, 1, 1]},
    "tensor": {"width": 0, "scale": 0.5}})");
  EXPECT_EQ(Problems(j),
            "spec.json: 9 problems in the pipeline spec\n"
            "  $.geometry.colour: expected one of the fields auto_stride, crop_fraction, "
            "inverse_pads, mode, pad_value, placement, rounding, scale_up, found an unknown "
            "field\n"
            "  $.geometry.mode: expected one of stretch, letterbox, center_crop, pad_only, found "
            "\"letterbx\"\n"
            "  $.geometry.pad_value: expected 1 or 3 values (one per channel), found 2 values\n"
            "  $.resize.interpolation: expected one of nearest, bilinear, area for dialect opencv, "
            "found \"bicubic\"\n"
            "  $.resize.antialias: expected antialias only with dialect tf (pillow always "
            "antialiases on downscale, opencv never does), found true with dialect opencv "
            "(contradictory fields)\n"
            "  $.normalize.mean: expected a number, found \"127.5\"\n"
            "  $.normalize.std[0]: expected a positive number, found 0\n"
            "  $.tensor.width: expected a size in 1..65536, found 0\n"
            "  $.tensor: expected scale and zero_point together (or neither: the model's), found "
            "only scale");
}

TEST(Spec, RejectsAWrongSchemaAndFieldsThatContradictTheMode) {
  EXPECT_EQ(Problems(json{{"schema", "lockstep.pipeline/v2"}}),
            "spec.json: 1 problem in the pipeline spec\n"
            "  $.schema: expected \"lockstep.pipeline/v1\", found \"lockstep.pipeline/v2\"");
  json j = {{"schema", "lockstep.pipeline/v1"},
            {"geometry", {{"mode", "stretch"}, {"crop_fraction", 0.875}}}};
  EXPECT_NE(Problems(j).find("$.geometry.crop_fraction: expected no crop_fraction for mode "
                             "stretch, found 0.875 (contradictory fields)"),
            std::string::npos);
  EXPECT_NE(Problems(json::array()).find("$: expected an object, found an array"),
            std::string::npos);
}

TEST(Spec, SsdRawFieldsParseAndRoundTrip) {
  json j = json::parse(
      R"({"schema": "lockstep.pipeline/v1",
    "output": {"decoder": "ssd_raw", "score_threshold": 0.5,
    "anchors": {"source": "generator", "num_layers": 4, "min_scale": 0.1484375, "max_scale": 0.75, "input_width": 128, "input_height": 128, "strides": [8, 16, 16, 16], "aspect_ratios": [1.0], "fixed_anchor_size": true},
    "box_scales": [128, 128, 128, 128], "nms": {"iou_threshold": 0.3, "max_detections": 5, "use_regular_nms": true, "detections_per_class": 7}, "background_class": false, "score_activation": "sigmoid"}})");
  Spec s = ParseSpec(j, "spec.json");
  const OutputSpec& o = s.output;
  EXPECT_EQ(o.anchors.source, AnchorSource::kGenerator);
  EXPECT_EQ(o.anchors.generator.num_layers, 4);
  EXPECT_EQ(o.anchors.generator.min_scale, 0.1484375f);
  EXPECT_EQ(o.anchors.generator.strides, (std::vector<int>{8, 16, 16, 16}));
  EXPECT_TRUE(o.anchors.generator.fixed_anchor_size);
  EXPECT_EQ(o.anchors.generator.anchor_offset_x, 0.5f);  // MediaPipe's default
  EXPECT_EQ(o.anchors.generator.interpolated_scale_aspect_ratio, 1.0f);
  EXPECT_EQ(o.box_scales, (std::array<double, 4>{128, 128, 128, 128}));
  EXPECT_EQ(o.nms.iou_threshold, 0.3);
  EXPECT_EQ(o.nms.max_detections, 5);
  EXPECT_TRUE(o.nms.use_regular_nms);
  EXPECT_EQ(o.nms.detections_per_class, 7);
  EXPECT_FALSE(o.background_class);
  EXPECT_EQ(o.score_activation, ScoreActivation::kSigmoid);
  Spec again = ParseSpec(json::parse(ToJson(s).dump()), "again");
  EXPECT_EQ(again.output.anchors, o.anchors);
  EXPECT_EQ(again.output.nms, o.nms);
  EXPECT_EQ(ToJson(again), ToJson(s));

  // The defaults: the model's constant anchors and TF OD API scales.
  Spec d = ParseSpec(json{{"schema", kSpecSchema}, {"output", {{"decoder", "ssd_raw"}}}}, "d");
  EXPECT_EQ(d.output.anchors.source, AnchorSource::kConstant);
  EXPECT_EQ(d.output.box_scales, (std::array<double, 4>{10, 10, 5, 5}));
  EXPECT_EQ(d.output.nms.iou_threshold, 0.5);
  EXPECT_EQ(d.output.nms.max_detections, 100);
  EXPECT_FALSE(d.output.nms.use_regular_nms);
  EXPECT_TRUE(d.output.background_class);
  EXPECT_EQ(d.output.score_activation, ScoreActivation::kNone);
  EXPECT_EQ(ToJson(d)["output"]["anchors"], (nlohmann::ordered_json{{"source", "constant"}}));
}

TEST(Spec, SsdRawFieldsReportEveryProblemWithItsPath) {
  json j = json::parse(
      R"({"schema": "lockstep.pipeline/v1",
    "output": {"decoder": "ssd_raw",
    "anchors": {"source": "generator", "tensor": "anchors", "min_scale": 0, "max_scale": 0.75, "strides": [8, 16], "num_layers": 3, "aspect_ratios": []},
    "box_scales": [10, 10, 5], "nms": {"iou_threshold": 1.5, "max_detections": 0, "soft": true}, "background_class": 1, "score_activation": "softmax"}})");
  EXPECT_EQ(Problems(j),
            "spec.json: 10 problems in the pipeline spec\n"
            "  $.output.box_scales: expected an array of 4 numbers (positive: y, x, h, w), "
            "found [10,10,5]\n"
            "  $.output.background_class: expected true or false, found 1\n"
            "  $.output.score_activation: expected one of none, sigmoid, found \"softmax\"\n"
            "  $.output.nms.soft: expected one of the fields detections_per_class, "
            "iou_threshold, max_detections, use_regular_nms, found an unknown field\n"
            "  $.output.nms.iou_threshold: expected an IoU in (0, 1], found 1.5\n"
            "  $.output.nms.max_detections: expected a count >= 1, found 0\n"
            "  $.output.anchors.tensor: expected source constant (a constant's name), found "
            "source generator (contradictory fields)\n"
            "  $.output.anchors.min_scale: expected a positive scale, found 0\n"
            "  $.output.anchors.strides: expected 3 strides (one per layer, num_layers), found 2\n"
            "  $.output.anchors.aspect_ratios: expected a non-empty array of numbers (positive "
            "ratios), found []");

  // Generator fields with constant anchors, and ssd_raw fields with another decoder.
  json c = {{"output", {{"decoder", "ssd_raw"}, {"anchors", {{"strides", {8}}}}}}};
  EXPECT_NE(Problems(c).find("$.output.anchors.strides: expected source generator (a generator "
                             "field), found source constant (contradictory fields)"),
            std::string::npos);
  json t = {{"output", {{"decoder", "tflite_postprocess"}, {"box_scales", {10, 10, 5, 5}}}}};
  EXPECT_NE(Problems(t).find("$.output.box_scales: expected decoder ssd_raw (the field only "
                             "applies to it), found decoder tflite_postprocess (contradictory "
                             "fields)"),
            std::string::npos);
  json g = {{"output", {{"decoder", "ssd_raw"}, {"anchors", {{"source", "generator"}}}}}};
  const std::string missing = Problems(g);
  EXPECT_NE(missing.find("$.output.anchors.num_layers: expected a layer count >= 1, found nothing"),
            std::string::npos);
  EXPECT_NE(missing.find("$.output.anchors.strides: expected one stride per layer, found nothing"),
            std::string::npos);
  EXPECT_NE(
      Problems(json{{"output", {{"decoder", "ssd_raw"}, {"anchors", {{"source", "file"}}}}}})
          .find("$.output.anchors.source: expected one of constant, generator, metadata, found "
                "\"file\""),
      std::string::npos);
}

}  // namespace
}  // namespace lockstep
