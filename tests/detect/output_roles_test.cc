// Output roles on the real detectors. The oracle is the op's own wiring: TFLite_Detection_
// PostProcess always writes boxes, classes, scores, count in that order, so the graph position
// of each of its output tensors is the right answer; the rules must find it without using it.
#include "lockstep/detect/output_roles.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "lockstep/core/error.h"
#include "lockstep/engine/engine.h"
#include "lockstep/model/metadata.h"
#include "lockstep/model/model_builder.h"
#include "lockstep/model/model_io.h"
#include "lockstep/model/postprocess_options.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

struct Invoked {
  Engine engine;
  std::vector<size_t> wiring;  // positions of the op's boxes, classes, scores, count
};

Invoked Invoke(Model model, const std::string& name) {
  const DetectionPostprocess op = *FindDetectionPostprocess(model, name);
  std::vector<size_t> wiring;
  const auto& outs = model.subgraphs[0].outputs;
  for (int32_t t : op.outputs)
    wiring.push_back(size_t(std::find(outs.begin(), outs.end(), t) - outs.begin()));
  Engine engine = Engine::Load(WriteModel(model), name);
  for (size_t i = 0; i < engine.input_count(); ++i)
    engine.SetInput(i, GeneratedInput(engine.input(i), i));
  engine.Invoke();
  return Invoked{std::move(engine), wiring};
}

DetectionOutputRoles Assign(const Invoked& run, const std::string& name) {
  const Model& model = run.engine.model();
  return AssignDetectionOutputRoles(model, ReadMetadata(model, name), run.engine.outputs(), name);
}

void ExpectWiring(const DetectionOutputRoles& r, const Invoked& run, const std::string& name) {
  EXPECT_EQ(r.boxes, run.wiring[0]) << name << ": " << r.reason;
  EXPECT_EQ(r.classes, run.wiring[1]) << name << ": " << r.reason;
  EXPECT_EQ(r.scores, run.wiring[2]) << name << ": " << r.reason;
  EXPECT_EQ(r.count, run.wiring[3]) << name << ": " << r.reason;
}

struct Expected {
  const char* file;
  OutputRoleRule rule;
  std::vector<size_t> positions;  // boxes, classes, scores, count among the model's outputs
};

TEST(OutputRoles, RealDetectorsGetTheirOpsWiring) {
  LOCKSTEP_REQUIRE_ASSETS();
  const std::vector<Expected> models = {
      {"coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite",
       OutputRoleRule::kMetadataNames,
       {0, 1, 2, 3}},
      {"coco_ssd_mobilenet_v1_1.0_quant_2018_06_29_no_metadata.tflite",
       OutputRoleRule::kShapesAndValues,
       {0, 1, 2, 3}},
      // TF2 exports: outputs ordered scores, boxes, count, classes.
      {"frc_ssd_mobilenet_v2_fpnlite_320_detect_quant.tflite",
       OutputRoleRule::kSignatureNames,
       {1, 3, 0, 2}},
      {"ei_ssd_mobilenet_v2_fpnlite_320_base_int8.tflite",
       OutputRoleRule::kSignatureNames,
       {1, 3, 0, 2}},
      {"ssd_mobilenet_v1_coco_quant_postprocess_head_layers.tflite",
       OutputRoleRule::kShapesAndValues,
       {0, 1, 2, 3}},
      {"ssdlite_mobiledet_dog_vs_cat.tflite", OutputRoleRule::kShapesAndValues, {0, 1, 2, 3}},
      // An LSTM tracker: outputs 4 and 5 are its state, not detections.
      {"traffic_model.tflite", OutputRoleRule::kShapesAndValues, {0, 1, 2, 3}},
  };
  for (const Expected& m : models) {
    const auto path = LOCKSTEP_ASSET("models/detection/" + std::string(m.file));
    const Invoked run = Invoke(ReadModelFile(path), m.file);
    const DetectionOutputRoles r = Assign(run, m.file);
    EXPECT_EQ(r.rule, m.rule) << m.file << ": " << r.reason;
    EXPECT_EQ((std::vector<size_t>{r.boxes, r.classes, r.scores, r.count}), m.positions) << m.file;
    ExpectWiring(r, run, m.file);
    // Read in these roles, the detections are well-formed: classes in range, scores sorted.
    const auto outputs = run.engine.outputs();
    const PostprocessOutputs read = ReadPostprocessOutputs(outputs, r, m.file);
    const auto options = FindDetectionPostprocess(run.engine.model(), m.file)->options;
    const std::vector<Detection> d = ToDetections(read, -1e9f);
    EXPECT_FALSE(d.empty()) << m.file;
    for (size_t i = 0; i < d.size(); ++i) {
      EXPECT_GE(d[i].class_index, 0) << m.file;
      EXPECT_LT(d[i].class_index, options.num_classes) << m.file;
      if (i) {
        EXPECT_LE(d[i].score, d[i - 1].score) << m.file;
      }
    }
    std::printf("%s: %s\n", m.file, r.reason.c_str());
  }
}

TEST(OutputRoles, ShapesAndValuesAloneAgreeWithTheNames) {
  LOCKSTEP_REQUIRE_ASSETS();
  // Without metadata and signatures the last rule must reach the same answer (the TF2 files
  // store empty output shapes, so this also checks that runtime shapes are used).
  for (const char* file : {"coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite",
                           "frc_ssd_mobilenet_v2_fpnlite_320_detect_quant.tflite",
                           "ei_ssd_mobilenet_v2_fpnlite_320_base_int8.tflite"}) {
    Model model = ReadModelFile(LOCKSTEP_ASSET("models/detection/" + std::string(file)));
    EXPECT_TRUE(!model.signature_defs.empty() || model.metadata_buffer("TFLITE_METADATA"));
    model.signature_defs.clear();
    model.metadata.clear();
    const Invoked run = Invoke(model, file);
    const DetectionOutputRoles r = Assign(run, file);
    EXPECT_EQ(r.rule, OutputRoleRule::kShapesAndValues) << file;
    ExpectWiring(r, run, file);
  }
}

// A one-op detector whose outputs are listed in the TF2 order and carry no names; its score
// threshold decides whether anything is detected.
Model OneOpDetector(float score_threshold) {
  ModelBuilder b;
  const int n = 8;
  std::vector<float> anchors;
  for (int i = 0; i < n; ++i)
    anchors.insert(anchors.end(), {0.1f * float(i + 1), 0.5f, 0.2f, 0.2f});
  const int32_t boxes = b.AddTensor("raw_boxes", DType::kFloat32, {1, n, 4});
  const int32_t scores = b.AddTensor("raw_scores", DType::kFloat32, {1, n, 4});
  const int32_t anc =
      b.AddTensor("anchors", DType::kFloat32, {n, 4}, std::nullopt, b.AddBuffer(ToBytes(anchors)));
  const int32_t o0 = b.AddTensor("a", DType::kFloat32, {1, 5, 4});
  const int32_t o1 = b.AddTensor("b", DType::kFloat32, {1, 5});
  const int32_t o2 = b.AddTensor("c", DType::kFloat32, {1, 5});
  const int32_t o3 = b.AddTensor("d", DType::kFloat32, {1});
  b.AddCustomOp(kDetectionPostprocessOp, {boxes, scores, anc}, {o0, o1, o2, o3},
                FlexbufferMap({{"max_detections", int64_t(5)},
                               {"max_classes_per_detection", int64_t(1)},
                               {"nms_score_threshold", double(score_threshold)},
                               {"nms_iou_threshold", 0.5},
                               {"num_classes", int64_t(3)},
                               {"y_scale", 10.0},
                               {"x_scale", 10.0},
                               {"h_scale", 5.0},
                               {"w_scale", 5.0}}));
  b.SetInputs({boxes, scores});
  b.SetOutputs({o2, o0, o3, o1});  // scores, boxes, count, classes
  return b.Build();
}

TEST(OutputRoles, ValuesTellClassesFromScores) {
  const Invoked run = Invoke(OneOpDetector(-1.0f), "one_op.tflite");  // everything passes
  const DetectionOutputRoles r = Assign(run, "one_op.tflite");
  EXPECT_EQ(r.rule, OutputRoleRule::kShapesAndValues);
  EXPECT_EQ((std::vector<size_t>{r.boxes, r.classes, r.scores, r.count}),
            (std::vector<size_t>{1, 3, 0, 2}))
      << r.reason;
}

TEST(OutputRoles, NoDetectionsAndNoNamesIsAnError) {
  const Invoked run = Invoke(OneOpDetector(2.0f), "one_op.tflite");  // nothing passes
  try {
    Assign(run, "one_op.tflite");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), "one_op.tflite");
    EXPECT_EQ(e.field(), "detection outputs");
    EXPECT_NE(std::string(e.what()).find("count is 0"), std::string::npos) << e.what();
  }
}

TEST(OutputRoles, RuleNames) {
  EXPECT_EQ(OutputRoleRuleName(OutputRoleRule::kMetadataNames), "metadata names");
  EXPECT_EQ(OutputRoleRuleName(OutputRoleRule::kSignatureNames), "signature names");
  EXPECT_EQ(OutputRoleRuleName(OutputRoleRule::kShapesAndValues), "shapes and values");
}

}  // namespace
}  // namespace lockstep
