// The catalogue: every single-model pipeline mistake of FIELD-NOTES.md rows 12-35 that a spec can
// express, planted in the deployed spec (the training spec with that one mistake), must be named
// by the doctor with its code — and nothing else above info may be named. The real COCO SSD
// MobileNet v1 model (uint8 input, scale 1/128, zero point 128, TFLite_Detection_PostProcess).
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "lockstep/core/error.h"
#include "lockstep/doctor/doctor.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

json Letterboxed() {
  json t = testing::CocoSsdV1TrainingSpec();
  t["geometry"] = {{"mode", "letterbox"},
                   {"placement", "center"},
                   {"pad_value", {114, 114, 114}},
                   {"rounding", "ultralytics"}};
  return t;
}

DoctorReport Doctor(const fs::path& model, const json& training, const json& deployed) {
  DoctorInput in;
  in.model = model;
  in.training = ParseSpec(training, "training");
  in.deployed = ParseSpec(deployed, "deployed");
  return RunDoctor(in);
}

std::set<std::string> Named(const DoctorReport& r) {
  std::set<std::string> out;
  for (const Finding& f : r.findings)
    if (f.severity != Severity::kInfo) out.insert(f.code);
  return out;
}

const Finding* FindingOf(const DoctorReport& r, const std::string& code) {
  for (const Finding& f : r.findings)
    if (f.code == code) return &f;
  return nullptr;
}

struct Mistake {
  std::string name;  // test name
  std::string rows;  // FIELD-NOTES rows
  std::function<json()> training;
  std::function<void(json&)> plant;
  std::string code;
  Severity severity;
  std::set<std::string> also = {};  // what CheckSpec says of the same deployed field vs the model
  std::string training_value = "", deployed_value = "";  // when given, the finding's values
};

// gtest names a failing case by this, not by its bytes.
void PrintTo(const Mistake& m, std::ostream* os) { *os << m.name << " (rows " << m.rows << ")"; }

std::vector<Mistake> Catalogue() {
  return {
      {"UnitRangeForMinusOneToOne",
       "16 18 19",
       testing::CocoSsdV1TrainingSpec,
       [](json& d) {
         d["normalize"] = {{"mean", {0, 0, 0}}, {"std", {255, 255, 255}}};
       },
       "normalization_range",
       Severity::kError,
       {"normalization_vs_metadata"},
       "[-1,1]",
       "[0,1]"},
      {"RawPixelsIntoQuantizedInput",
       "17 19",
       testing::CocoSsdV1TrainingSpec,
       [](json& d) {
         d["normalize"] = {{"mean", {0, 0, 0}}, {"std", {1, 1, 1}}};
       },
       "normalization_range",
       Severity::kError,
       {"normalization_vs_metadata"},
       "[-1,1]",
       "0..255 (raw pixels)"},
      {"ImageNetMeanStdForMinusOneToOne",
       "18",
       testing::CocoSsdV1TrainingSpec,
       [](json& d) {
         d["normalize"] = {{"mean", {123.675, 116.28, 103.53}}, {"std", {58.395, 57.12, 57.375}}};
       },
       "normalization_range",
       Severity::kError,
       {"normalization_vs_metadata"}},
      {"BgrForRgb",
       "21 22",
       testing::CocoSsdV1TrainingSpec,
       [](json& d) { d["input"]["channel_order"] = "bgr"; },
       "channel_order",
       Severity::kError,
       {},
       "rgb",
       "bgr"},
      {"OpenCvResizeForTf1", "22 23 25", testing::CocoSsdV1TrainingSpec,
       [](json& d) {
         d["resize"] = {{"dialect", "opencv"}, {"interpolation", "bilinear"}};
       },
       "resize_dialect", Severity::kWarning},
      {"PillowResizeForTf1", "23", testing::CocoSsdV1TrainingSpec,
       [](json& d) {
         d["resize"] = {{"dialect", "pillow"}, {"interpolation", "bilinear"}};
       },
       "resize_dialect", Severity::kWarning},
      {"AlignCornersForHalfPixel", "25", testing::CocoSsdV1TrainingSpec,
       [](json& d) { d["resize"]["align_corners"] = true; }, "half_pixel", Severity::kWarning},
      {"NoAntialiasForAntialias", "24 26",
       [] {
         json t = testing::CocoSsdV1TrainingSpec();
         t["resize"] = {{"dialect", "tf"}, {"interpolation", "bilinear"}, {"antialias", true}};
         return t;
       },
       [](json& d) { d["resize"]["antialias"] = false; }, "antialias", Severity::kWarning},
      {"BilinearForBicubic", "26",
       [] {
         json t = testing::CocoSsdV1TrainingSpec();
         t["resize"] = {{"dialect", "pillow"}, {"interpolation", "bicubic"}};
         return t;
       },
       [](json& d) { d["resize"]["interpolation"] = "bilinear"; }, "interpolation",
       Severity::kWarning},
      {"LetterboxForStretch", "29", testing::CocoSsdV1TrainingSpec,
       [](json& d) {
         d["geometry"] = {{"mode", "letterbox"}};
       },
       "geometry_mode", Severity::kError},
      {"StretchForLetterbox", "29", Letterboxed,
       [](json& d) {
         d["geometry"] = {{"mode", "stretch"}};
       },
       "geometry_mode", Severity::kError},
      {"TopLeftForCenteredLetterbox",
       "30 (pycoral set_resized_input)",
       Letterboxed,
       [](json& d) { d["geometry"]["placement"] = "top_left"; },
       "letterbox_placement",
       Severity::kError,
       {},
       "center",
       "top_left"},
      {"PadZeroForPad114",
       "pycoral fill(0)",
       Letterboxed,
       [](json& d) {
         d["geometry"]["pad_value"] = {0, 0, 0};
       },
       "pad_value",
       Severity::kWarning,
       {},
       "114",
       "0"},
      {"TruncatedLetterboxSize", "27", Letterboxed,
       [](json& d) { d["geometry"]["rounding"] = "pycoral"; }, "letterbox_rounding",
       Severity::kWarning},
      {"FloatPadsForIntegerPads", "28", Letterboxed,
       [](json& d) { d["geometry"]["rounding"] = "mediapipe"; }, "letterbox_rounding",
       Severity::kWarning},
      {"Int8DataInUint8Input",
       "12 13 14 15",
       testing::CocoSsdV1TrainingSpec,
       [](json& d) {
         d["tensor"] = {{"dtype", "int8"}};
       },
       "input_dtype",
       Severity::kError,
       {"input_dtype_mismatch"},
       "",
       "int8, scale 0.0078125, zero point 128 (the model's)"},
      {"ZeroPointIgnored",
       "12 15 17",
       testing::CocoSsdV1TrainingSpec,
       [](json& d) {
         d["tensor"] = {{"scale", 0.0078125}, {"zero_point", 0}};
       },
       "zero_point_ignored",
       Severity::kError,
       {"input_zero_point_mismatch"},
       "128",
       "0"},
      {"WrongInputScale",
       "16 17",
       testing::CocoSsdV1TrainingSpec,
       [](json& d) {
         d["tensor"] = {{"scale", 1.0 / 255}, {"zero_point", 128}};
       },
       "input_scale",
       Severity::kError,
       {"input_scale_mismatch"}},
      {"TruncationForRounding",
       "pycoral/Ultralytics astype",
       testing::CocoSsdV1TrainingSpec,
       [](json& d) {
         d["tensor"] = {{"rounding", "truncate"}};
       },
       "rounding",
       Severity::kWarning,
       {},
       "half_away_from_zero",
       "truncate"},
      {"NchwForNhwc",
       "layout",
       testing::CocoSsdV1TrainingSpec,
       [](json& d) {
         d["tensor"] = {{"layout", "nchw"}};
       },
       "layout",
       Severity::kError,
       {"layout_mismatch"}},
      {"BoxesNotClamped", "33", testing::CocoSsdV1TrainingSpec,
       [](json& d) { d["output"]["clamp_boxes"] = false; }, "clamp_boxes", Severity::kWarning},
      {"ExifIgnored", "orientation", testing::CocoSsdV1TrainingSpec,
       [](json& d) {
         d["input"] = {{"exif_orientation", false}};
       },
       "exif_orientation", Severity::kWarning},
  };
}

class Catalogue_ : public ::testing::TestWithParam<Mistake> {};

TEST_P(Catalogue_, NamesThePlantedMistakeAndNothingElse) {
  const Mistake& m = GetParam();
  fs::path model = LOCKSTEP_ASSET(testing::kCocoSsdV1);
  if (model.empty()) GTEST_SKIP() << "no shared assets";
  json training = m.training();
  json deployed = training;
  m.plant(deployed);
  DoctorReport r = Doctor(model, training, deployed);
  std::set<std::string> expected = m.also;
  expected.insert(m.code);
  EXPECT_EQ(Named(r), expected) << "rows " << m.rows;
  const Finding* f = FindingOf(r, m.code);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, m.severity);
  EXPECT_EQ(f->field.rfind("$.", 0), 0u) << f->field;
  EXPECT_FALSE(f->consequence.empty());
  EXPECT_FALSE(f->fix.empty());
  if (!m.training_value.empty()) {
    EXPECT_EQ(f->expected, m.training_value);
  }
  if (!m.deployed_value.empty()) {
    EXPECT_EQ(f->found, m.deployed_value);
  }
  EXPECT_EQ(r.aligned, m.severity != Severity::kError)
      << "aligned is false exactly when an error is named";
  // The same spec on both sides: the difference, not the spec, was named. (A spec that cannot
  // feed the model is refused as a training spec, naming its field.)
  try {
    DoctorReport same = Doctor(model, deployed, deployed);
    for (const Finding& g : same.findings) {
      EXPECT_NE(g.code, m.code) << "named with identical specs";
    }
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(f->field), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(FieldNotes, Catalogue_, ::testing::ValuesIn(Catalogue()),
                         [](const auto& p) { return p.param.name; });

TEST(DoctorCatalogue, IdenticalSpecsAreAlignedWithOnlyModelFacts) {
  fs::path model = LOCKSTEP_ASSET(testing::kCocoSsdV1);
  if (model.empty()) GTEST_SKIP() << "no shared assets";
  DoctorReport r =
      Doctor(model, testing::CocoSsdV1TrainingSpec(), testing::CocoSsdV1TrainingSpec());
  EXPECT_TRUE(r.aligned);
  EXPECT_TRUE(Named(r).empty());
  EXPECT_TRUE(r.differences.empty());
  std::set<std::string> info;
  for (const Finding& f : r.findings) info.insert(f.code);
  EXPECT_EQ(info, (std::set<std::string>{"input_quantization", "edgetpu_compiled",
                                         "postprocess_options", "output_roles"}));
  const Finding* pp = FindingOf(r, "postprocess_options");
  ASSERT_NE(pp, nullptr);
  // MANIFEST: 90 classes, max_det 10, fast NMS.
  EXPECT_NE(pp->expected.find("fast (class-agnostic) NMS"), std::string::npos) << pp->expected;
  EXPECT_NE(pp->expected.find("max 10 detections, 90 classes"), std::string::npos) << pp->expected;
  EXPECT_NE(FindingOf(r, "edgetpu_compiled")->expected.find("not compiled"), std::string::npos);
}

TEST(DoctorCatalogue, TheThreeClassicMistakesTogetherAreEachNamed) {
  fs::path model = LOCKSTEP_ASSET(testing::kCocoSsdV1);
  if (model.empty()) GTEST_SKIP() << "no shared assets";
  json d = testing::CocoSsdV1TrainingSpec();
  d["normalize"] = {{"mean", {0, 0, 0}}, {"std", {255, 255, 255}}};
  d["input"] = {{"channel_order", "bgr"}};
  d["geometry"] = {{"mode", "letterbox"}};
  DoctorReport r = Doctor(model, testing::CocoSsdV1TrainingSpec(), d);
  EXPECT_FALSE(r.aligned);
  EXPECT_EQ(Named(r), (std::set<std::string>{"channel_order", "geometry_mode",
                                             "normalization_range", "normalization_vs_metadata"}));
  ASSERT_EQ(r.differences.size(), 3u);
  EXPECT_TRUE(r.stages.empty());  // no images: static checks only
}

// Rows 31, 32, 35 (fast vs regular NMS) and 34 (labels that map classes elsewhere) need a
// decoder the spec controls: the MediaPipe Model Maker SSD with a raw head, anchors from its
// metadata.
json RawSsd() {
  return {
      {"schema", "lockstep.pipeline/v1"},
      {"normalize", {{"mean", {127.5, 127.5, 127.5}}, {"std", {127.5, 127.5, 127.5}}}},
      {"output",
       {{"decoder", "ssd_raw"}, {"anchors", {{"source", "metadata"}}}, {"score_threshold", 0.0}}}};
}

TEST(DoctorCatalogue, RegularNmsForFastNms) {
  fs::path model = LOCKSTEP_ASSET("models/detection/mediapipe_mm_ssd_320_model_int8.tflite");
  if (model.empty()) GTEST_SKIP() << "no shared assets";
  json d = RawSsd();
  d["output"]["nms"] = {{"use_regular_nms", true}};
  DoctorReport r = Doctor(model, RawSsd(), d);
  EXPECT_EQ(Named(r), std::set<std::string>{"nms_mode"});
  EXPECT_EQ(FindingOf(r, "nms_mode")->expected, "fast (class-agnostic)");
  EXPECT_EQ(FindingOf(r, "nms_mode")->found, "regular (per class)");
  EXPECT_TRUE(r.aligned);  // a warning: it costs accuracy, it does not break the pipeline
  // Another IoU threshold is NMS too, but not its mode.
  json iou = RawSsd();
  iou["output"]["nms"] = {{"iou_threshold", 0.6}};
  EXPECT_EQ(Named(Doctor(model, RawSsd(), iou)), std::set<std::string>{"nms"});
}

TEST(DoctorCatalogue, LabelsThatMoveClasses) {
  fs::path model = LOCKSTEP_ASSET("models/detection/mediapipe_mm_ssd_320_model_int8.tflite");
  if (model.empty()) GTEST_SKIP() << "no shared assets";
  json d = RawSsd();
  d["output"]["labels"] = {"target", "basket"};
  DoctorReport r = Doctor(model, RawSsd(), d);
  EXPECT_EQ(Named(r), std::set<std::string>{"labels"});
  EXPECT_EQ(FindingOf(r, "labels")->expected, "the model's metadata");
  EXPECT_EQ(FindingOf(r, "labels")->found, "target, basket (2 labels)");
  EXPECT_FALSE(r.aligned);
}

DoctorInput EdgeTpuInput(const fs::path& model) {
  json t = {{"schema", "lockstep.pipeline/v1"},
            {"normalize", {{"mean", {0, 0, 0}}, {"std", {255, 255, 255}}}},
            {"output", {{"labels", {"note", "robot", "test"}}}}};
  DoctorInput in;
  in.model = model;
  in.training = ParseSpec(t, "t");
  in.deployed = in.training;
  return in;
}

// No Edge TPU here: the compiled model's facts come from the file, and the images run on its CPU
// twin (the same name without _edgetpu, beside it), which the report names.
TEST(DoctorCatalogue, EdgeTpuModelRunsOnItsCpuTwin) {
  fs::path model = LOCKSTEP_ASSET(
      "models/detection/frc_ssd_mobilenet_v2_fpnlite_320_detect_quant_edgetpu.tflite");
  fs::path images = LOCKSTEP_ASSET("datasets/coco128/train2017");
  if (model.empty() || images.empty()) GTEST_SKIP() << "no shared assets";
  DoctorInput in = EdgeTpuInput(model);
  in.images = images;
  in.max_images = 2;
  DoctorReport r = RunDoctor(in);
  const Finding* f = FindingOf(r, "edgetpu_compiled");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->expected.find("compiled for the Edge TPU: 1 segment"), std::string::npos);
  EXPECT_EQ(fs::path(r.model_run).filename(),
            "frc_ssd_mobilenet_v2_fpnlite_320_detect_quant.tflite");
  ASSERT_NE(FindingOf(r, "edgetpu_cpu_twin"), nullptr);
  EXPECT_EQ(r.images, 2u);
  EXPECT_EQ(r.stages.size(), 6u);
  EXPECT_NE(DoctorSummary(r).find("ran on its CPU twin"), std::string::npos);
}

// Without the twin, the static checks still run; images cannot, and the error says why.
TEST(DoctorCatalogue, EdgeTpuModelWithoutTwinChecksStaticallyOnly) {
  fs::path model = LOCKSTEP_ASSET(
      "models/detection/frc_ssd_mobilenet_v2_fpnlite_320_detect_quant_edgetpu.tflite");
  fs::path images = LOCKSTEP_ASSET("datasets/coco128/train2017");
  if (model.empty() || images.empty()) GTEST_SKIP() << "no shared assets";
  const fs::path lone = testing::ScratchDir() / "edgetpu_lone" / model.filename();
  fs::create_directories(lone.parent_path());
  fs::copy_file(model, lone, fs::copy_options::overwrite_existing);
  DoctorInput in = EdgeTpuInput(lone);
  DoctorReport r = RunDoctor(in);
  EXPECT_TRUE(r.model_run.empty());
  ASSERT_NE(FindingOf(r, "edgetpu_compiled"), nullptr);
  const Finding* f = FindingOf(r, "edgetpu_not_runnable");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->found.find("libedgetpu.so.1"), std::string::npos) << f->found;
  in.images = images;
  in.max_images = 1;
  try {
    RunDoctor(in);
    ADD_FAILURE() << "images ran on a compiled model without an Edge TPU or its twin";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not beside it"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lockstep
