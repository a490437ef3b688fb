#include "lockstep/spec.h"

#include <gtest/gtest.h>

#include "lockstep/error.h"

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
            "  $.geometry.colour: expected one of the fields crop_fraction, mode, pad_value, "
            "placement, rounding, scale_up, found an unknown field\n"
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

}  // namespace
}  // namespace lockstep
