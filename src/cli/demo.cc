// lockstep demo [--out DIR]: the main job of a fresh clone, with no external files. Until the
// doctor lands it builds a small detection head with lockstep's own model writer, inspects it and
// runs it on TensorFlow Lite.
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "lockstep/engine.h"
#include "lockstep/inspect.h"
#include "lockstep/model_builder.h"
#include "lockstep/model_io.h"

namespace lockstep::cli {
namespace {

// Four anchors, two classes plus background; the box encodings put anchor 0 on a box twice its
// height and anchor 2 on one shifted right by half its width.
Model DetectionHead() {
  ModelBuilder b;
  const std::vector<float> anchors = {0.25f, 0.25f, 0.5f, 0.5f, 0.25f, 0.75f, 0.5f, 0.5f,
                                      0.75f, 0.25f, 0.5f, 0.5f, 0.75f, 0.75f, 0.5f, 0.5f};
  int32_t boxes = b.AddTensor("box_encodings", DType::kFloat32, {1, 4, 4});
  int32_t scores = b.AddTensor("class_predictions", DType::kFloat32, {1, 4, 3});
  int32_t anchor =
      b.AddTensor("anchors", DType::kFloat32, {4, 4}, std::nullopt, b.AddBuffer(ToBytes(anchors)));
  std::vector<int32_t> outs = {b.AddTensor("detection_boxes", DType::kFloat32, {1, 4, 4}),
                               b.AddTensor("detection_classes", DType::kFloat32, {1, 4}),
                               b.AddTensor("detection_scores", DType::kFloat32, {1, 4}),
                               b.AddTensor("num_detections", DType::kFloat32, {1})};
  b.AddCustomOp("TFLite_Detection_PostProcess", {boxes, scores, anchor}, outs,
                FlexbufferMap({{"max_detections", int64_t{4}},
                               {"max_classes_per_detection", int64_t{1}},
                               {"detections_per_class", int64_t{100}},
                               {"use_regular_nms", false},
                               {"nms_score_threshold", 0.3},
                               {"nms_iou_threshold", 0.5},
                               {"num_classes", int64_t{2}},
                               {"y_scale", 10.0},
                               {"x_scale", 10.0},
                               {"h_scale", 5.0},
                               {"w_scale", 5.0}}));
  b.SetInputs({boxes, scores});
  b.SetOutputs(outs);
  b.SetDescription("lockstep demo detection head");
  return b.Build();
}

}  // namespace

void AddDemoCommand(CLI::App& app, int& exit_code) {
  auto out = std::make_shared<std::string>("lockstep-demo");
  auto* cmd =
      app.add_subcommand("demo", "Build a small model with lockstep's writer, inspect it, run it");
  cmd->add_option("--out", *out, "folder for the generated files");
  cmd->callback([out, &exit_code] {
    std::filesystem::create_directories(*out);
    std::filesystem::path path = std::filesystem::path(*out) / "detection_head.tflite";
    WriteModelFile(DetectionHead(), path);
    std::cout << "Wrote " << path.string() << " with lockstep's model writer.\n\n"
              << ToText(Inspect(ReadModelFile(path), path.string())) << "\n";

    Engine engine = Engine::Load(path);
    // y, x, h, w encodings (scaled by 10, 10, 5, 5) and [background, class 0, class 1] scores.
    std::vector<float> enc = {0, 0, 3.4657f, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0};
    std::vector<float> cls = {0, 0.9f, 0.1f, 0, 0.2f, 0.1f, 0, 0.1f, 0.8f, 0, 0.1f, 0.1f};
    engine.SetInput(0, ToBytes(enc));
    engine.SetInput(1, ToBytes(cls));
    engine.Invoke();
    auto b = engine.output(0).as<float>(), c = engine.output(1).as<float>(),
         s = engine.output(2).as<float>();
    int n = int(engine.output(3).as<float>()[0]);
    std::cout << "TensorFlow Lite ran it: " << n << " detections\n";
    for (int i = 0; i < n; ++i)
      std::cout << "  class " << c[size_t(i)] << " score " << s[size_t(i)]
                << " box (ymin, xmin, ymax, xmax) " << b[size_t(4 * i)] << ", "
                << b[size_t(4 * i + 1)] << ", " << b[size_t(4 * i + 2)] << ", "
                << b[size_t(4 * i + 3)] << "\n";
    exit_code = 0;
  });
}

}  // namespace lockstep::cli
