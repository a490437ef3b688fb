// The engine on the real TFLite 2.9 runtime: every CPU model of the shared assets, XNNPACK against
// the builtin kernels, Edge TPU models without a TPU, ops TFLite lacks, and hand-built models whose
// outputs are computed by hand.
#include "lockstep/engine/engine.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "lockstep/core/error.h"
#include "lockstep/model/model_builder.h"
#include "lockstep/model/model_io.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;
using ::lockstep::testing::AssetsDir;
using ::lockstep::testing::ReadBytes;

struct Io {
  DType dtype;
  std::vector<int> shape;
};
struct Expected {
  std::vector<Io> inputs, outputs;
  int max_detections = -1;  // TFLite_Detection_PostProcess's max_det; -1: no such op
  int count_output = -1;    // which output holds the detection count
};

constexpr DType F32 = DType::kFloat32, U8 = DType::kUInt8, I8 = DType::kInt8;

// Inputs and outputs as MANIFEST.md states them (read there from the flatbuffers with flatc).
const std::map<std::string, Expected>& Manifest() {
  static const std::map<std::string, Expected> m = [] {
    std::map<std::string, Expected> e;
    Expected ssd10 = {{{U8, {1, 300, 300, 3}}},
                      {{F32, {1, 10, 4}}, {F32, {1, 10}}, {F32, {1, 10}}, {F32, {1}}},
                      10,
                      3};
    e["detection/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite"] = ssd10;
    e["detection/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29_no_metadata.tflite"] = ssd10;
    Expected mobiledet = ssd10;
    mobiledet.inputs = {{U8, {1, 320, 320, 3}}};
    e["detection/ssdlite_mobiledet_dog_vs_cat.tflite"] = mobiledet;
    // TF2 order: scores, boxes, count, classes.
    Expected tf2 = {{{U8, {1, 320, 320, 3}}},
                    {{F32, {1, 10}}, {F32, {1, 10, 4}}, {F32, {1}}, {F32, {1, 10}}},
                    10,
                    2};
    e["detection/frc_ssd_mobilenet_v2_fpnlite_320_detect_quant.tflite"] = tf2;
    tf2.inputs = {{I8, {1, 320, 320, 3}}};
    e["detection/ei_ssd_mobilenet_v2_fpnlite_320_base_int8.tflite"] = tf2;
    e["detection/traffic_model.tflite"] = {
        {{U8, {1, 256, 256, 3}}, {U8, {1, 8, 8, 320}}, {U8, {1, 8, 8, 320}}},
        {{F32, {1, 40, 4}},
         {F32, {1, 40}},
         {F32, {1, 40}},
         {F32, {1}},
         {U8, {1, 8, 8, 320}},
         {U8, {1, 8, 8, 320}}},
        40,
        3};
    Expected head = {{}, {{F32, {1, 20, 4}}, {F32, {1, 20}}, {F32, {1, 20}}, {F32, {1}}}, 20, 3};
    e["detection/ssd_mobilenet_v1_coco_quant_postprocess_head_layers.tflite"] = head;
    e["detection/mediapipe_mm_ssd_320_model_int8.tflite"] = {
        {{U8, {1, 320, 320, 3}}}, {{U8, {1, 19125, 4}}, {U8, {1, 19125, 3}}}};
    e["detection/face_detection_short_range.tflite"] = {{{F32, {1, 128, 128, 3}}},
                                                        {{F32, {1, 896, 16}}, {F32, {1, 896, 1}}}};
    e["detection/yolov8n_coco_int8.tflite"] = {{{I8, {1, 640, 640, 3}}}, {{I8, {1, 84, 8400}}}};
    e["detection/yolo11n_coco_int8.tflite"] = {{{I8, {1, 640, 640, 3}}}, {{I8, {1, 84, 8400}}}};
    e["detection/yolov5n_coco_int8.tflite"] = {{{U8, {1, 640, 640, 3}}}, {{U8, {1, 25200, 85}}}};
    e["detection/openmv_fomo_face_detection_int8.tflite"] = {{{I8, {1, 96, 96, 3}}},
                                                             {{I8, {1, 12, 12, 2}}}};
    for (int size : {128, 160, 192, 224}) {
      std::string name = size == 128   ? "mobilenet_v1_0.25_128_quant"
                         : size == 160 ? "mobilenet_v1_0.5_160_quant"
                         : size == 192 ? "mobilenet_v1_0.75_192_quant"
                                       : "mobilenet_v1_0.25_224_quant";
      e["classification/" + name + ".tflite"] = {{{U8, {1, size, size, 3}}}, {{U8, {1, 1001}}}};
    }
    Expected float_v1 = {{{F32, {1, 224, 224, 3}}}, {{F32, {1, 1001}}}};
    e["classification/mobilenet_v1_0.25_224_1_default_1.tflite"] = float_v1;
    e["classification/mobilenet_v1_0.25_224_1_metadata_1.tflite"] = float_v1;
    Expected v2 = {{{U8, {1, 224, 224, 3}}}, {{U8, {1, 1001}}}};
    e["classification/mobilenet_v2_1.0_224_quant.tflite"] = v2;
    e["classification/tf2_mobilenet_v2_1.0_224_ptq.tflite"] = v2;
    e["classification/apple_classifier.tflite"] = {{{U8, {1, 224, 224, 3}}}, {{U8, {1, 2}}}};
    return e;
  }();
  return m;
}

void FeedGenerated(Engine& engine) {
  for (size_t i = 0; i < engine.input_count(); ++i)
    engine.SetInput(i, GeneratedInput(engine.input(i), i));
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool EdgeTpuRuntimePresent() {
  void* h = dlopen("libedgetpu.so.1", RTLD_NOW | RTLD_LOCAL);
  if (h) dlclose(h);
  return h != nullptr;
}

TEST(Engine, EveryCpuModelOfTheAssetsRunsWithTheManifestsShapes) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path models = AssetsDir() / "models";
  int ran = 0;
  for (const auto& entry : fs::recursive_directory_iterator(models)) {
    if (entry.path().extension() != ".tflite") continue;
    std::string rel = fs::relative(entry.path(), models).generic_string();
    if (rel.find("_edgetpu") != std::string::npos) continue;
    SCOPED_TRACE(rel);
    if (rel == "classification/person_detect_int8.tflite") {
      // A TFLite Micro model: TFLite 2.9 refuses its per-channel quantization on axis 3.
      std::string m = ErrorOf([&] { Engine::Load(entry.path()); });
      EXPECT_NE(m.find("person_detect_int8.tflite: "), std::string::npos) << m;
      EXPECT_NE(m.find("TFLite: quantized_dimension must be in range [0, 1). Was 3"),
                std::string::npos)
          << m;
      continue;
    }
    auto it = Manifest().find(rel);
    ASSERT_NE(it, Manifest().end()) << "a model the manifest table here does not know";
    const Expected& want = it->second;
    Engine engine = Engine::Load(entry.path());
    EXPECT_EQ(engine.info().delegate, Delegate::kNone);
    EXPECT_EQ(engine.info().delegated_ops, 0u);
    EXPECT_EQ(engine.info().op_count, engine.model().subgraphs[0].operators.size());
    if (!want.inputs.empty()) {
      ASSERT_EQ(engine.input_count(), want.inputs.size());
      for (size_t i = 0; i < want.inputs.size(); ++i) {
        EXPECT_EQ(engine.input(i).dtype, want.inputs[i].dtype) << "input " << i;
        EXPECT_EQ(engine.input(i).shape, want.inputs[i].shape) << "input " << i;
      }
    } else {
      EXPECT_EQ(engine.input_count(), 12u);  // the head layers: 6 box + 6 class inputs
    }
    FeedGenerated(engine);
    engine.Invoke();
    ++ran;
    ASSERT_EQ(engine.output_count(), want.outputs.size());
    for (size_t i = 0; i < want.outputs.size(); ++i) {
      TensorView out = engine.output(i);
      EXPECT_EQ(out.dtype, want.outputs[i].dtype) << "output " << i;
      EXPECT_EQ(out.shape, want.outputs[i].shape) << "output " << i;
      EXPECT_EQ(out.bytes.size(), out.element_count() * DTypeSize(out.dtype));
    }
    if (want.max_detections >= 0) {
      float count = engine.output(size_t(want.count_output)).as<float>()[0];
      EXPECT_GE(count, 0.0f);
      EXPECT_LE(count, float(want.max_detections));
      EXPECT_EQ(count, float(int(count)));
    }
  }
  EXPECT_EQ(ran, int(Manifest().size()));
}

TEST(Engine, TensorViewsCarryTheModelsQuantization) {
  LOCKSTEP_REQUIRE_ASSETS();
  Engine ssd = Engine::Load(LOCKSTEP_ASSET(testing::kCocoSsdV1));
  TensorView in = ssd.input(0);
  EXPECT_EQ(in.name, "normalized_input_image_tensor");
  ASSERT_TRUE(in.quantization.has_value());
  EXPECT_EQ(in.quantization->scale, std::vector<float>{0.0078125f});
  EXPECT_EQ(in.quantization->zero_point, std::vector<int64_t>{128});
  EXPECT_FALSE(ssd.output(0).quantization.has_value());  // float boxes
  EXPECT_EQ(in.as<uint8_t>().size(), 300u * 300u * 3u);
  std::string m = ErrorOf([&] { (void)in.as<float>(); });
  EXPECT_NE(m.find("expected float32, found uint8"), std::string::npos) << m;

  Engine yolo = Engine::Load(LOCKSTEP_ASSET("models/detection/yolov8n_coco_int8.tflite"));
  ASSERT_TRUE(yolo.input(0).quantization.has_value());
  EXPECT_NEAR(yolo.input(0).quantization->scale[0], 0.018658f, 1e-6f);
  EXPECT_EQ(yolo.input(0).quantization->zero_point[0], -14);
  EXPECT_EQ(yolo.output(0).quantization->zero_point[0], -128);
}

TEST(Engine, GeneratedInputIsTheDocumentedSplitMix64) {
  LOCKSTEP_REQUIRE_ASSETS();
  Engine engine =
      Engine::Load(LOCKSTEP_ASSET("models/classification/mobilenet_v1_0.25_128_quant.tflite"));
  TensorData a = GeneratedInput(engine.input(0), 0);
  // SplitMix64 (Vigna) by hand: state += 0x9e3779b97f4a7c15, then the two xor-shift-multiply
  // rounds; uint8 elements take the low byte of each 64-bit output.
  uint64_t state = kGeneratedInputSeed;
  for (size_t i = 0; i < 64; ++i) {
    state += 0x9e3779b97f4a7c15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    EXPECT_EQ(a.bytes[i], uint8_t(z & 0xff)) << i;
  }
  EXPECT_EQ(a, GeneratedInput(engine.input(0), 0));
  EXPECT_NE(a, GeneratedInput(engine.input(0), 1));
}

TEST(Engine, TwoRunsGiveTheSameBytes) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path path = LOCKSTEP_ASSET(testing::kCocoSsdV1);
  std::vector<std::vector<uint8_t>> first;
  for (int round = 0; round < 2; ++round) {
    Engine engine = Engine::Load(path);
    FeedGenerated(engine);
    engine.Invoke();
    for (size_t i = 0; i < engine.output_count(); ++i) {
      TensorData out = engine.CopyOutput(i);
      if (round == 0)
        first.push_back(out.bytes);
      else
        EXPECT_EQ(out.bytes, first[i]) << "output " << i;
    }
  }
  // And a second invocation of the same engine.
  Engine engine = Engine::Load(path);
  FeedGenerated(engine);
  engine.Invoke();
  engine.Invoke();
  EXPECT_EQ(engine.CopyOutput(0).bytes, first[0]);
}

// int8 under XNNPACK (QS8) against the builtin kernels: the same model, the same input.
void ExpectWithinOneStep(const fs::path& path, double min_exact_fraction) {
  Engine builtin = Engine::Load(path);
  EngineOptions x;
  x.xnnpack = true;
  Engine xnn = Engine::Load(path, x);
  EXPECT_EQ(xnn.info().delegate, Delegate::kXnnpack) << xnn.info().KernelSummary();
  EXPECT_TRUE(xnn.info().xnnpack_flags & 1u);
  EXPECT_GT(xnn.info().delegated_ops, xnn.info().op_count / 2) << xnn.info().KernelSummary();
  FeedGenerated(builtin);
  FeedGenerated(xnn);
  builtin.Invoke();
  xnn.Invoke();
  auto a = builtin.output(0).as<int8_t>();
  auto b = xnn.output(0).as<int8_t>();
  ASSERT_EQ(a.size(), b.size());
  size_t exact = 0, off_by_one = 0, worse = 0;
  int max_diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    int d = std::abs(int(a[i]) - int(b[i]));
    (d == 0 ? exact : d == 1 ? off_by_one : worse)++;
    max_diff = std::max(max_diff, d);
  }
  std::printf("%s: %zu elements, %zu exact, %zu off by one step, %zu more (max %d steps)\n",
              path.filename().c_str(), a.size(), exact, off_by_one, worse, max_diff);
  EXPECT_GE(double(exact) / double(a.size()), min_exact_fraction);
  // Most elements within one step; a few may differ more where a later op scales a one-step
  // difference up (YOLOv8's box rows are multiplied by the stride).
  EXPECT_GE(double(exact + off_by_one) / double(a.size()), 0.98);
}

TEST(Engine, XnnpackInt8StaysWithinOneQuantizationStepOfTheBuiltinKernels) {
  LOCKSTEP_REQUIRE_ASSETS();
  ExpectWithinOneStep(LOCKSTEP_ASSET("models/detection/openmv_fomo_face_detection_int8.tflite"),
                      0.9);
  ExpectWithinOneStep(LOCKSTEP_ASSET("models/detection/yolov8n_coco_int8.tflite"), 0.95);
  ExpectWithinOneStep(LOCKSTEP_ASSET("models/detection/yolo11n_coco_int8.tflite"), 0.95);
}

TEST(Engine, Uint8ModelUnderXnnpackFallsBackAndSaysSo) {
  LOCKSTEP_REQUIRE_ASSETS();
  fs::path path = LOCKSTEP_ASSET(testing::kCocoSsdV1);
  EngineOptions x;
  x.xnnpack = true;
  Engine xnn = Engine::Load(path, x);
  const EngineInfo& info = xnn.info();
  EXPECT_EQ(info.delegate, Delegate::kNone);
  EXPECT_EQ(info.delegated_ops, 0u);
  ASSERT_EQ(info.notes.size(), 1u);
  EXPECT_NE(info.notes[0].find("XNNPACK took none of this model's ops"), std::string::npos);
  EXPECT_NE(info.notes[0].find("with QU8 TFLite refused the model: failed to delegate"),
            std::string::npos)
      << info.notes[0];
  EXPECT_NE(info.notes[0].find("builtin kernels"), std::string::npos);
  EXPECT_EQ(info.KernelSummary(), "builtin kernels (64 ops)");
  // Same kernels, same bytes.
  Engine builtin = Engine::Load(path);
  FeedGenerated(builtin);
  FeedGenerated(xnn);
  builtin.Invoke();
  xnn.Invoke();
  for (size_t i = 0; i < builtin.output_count(); ++i)
    EXPECT_EQ(builtin.CopyOutput(i), xnn.CopyOutput(i));
}

TEST(Engine, XnnpackTakesUint8OpsWhereThisTfliteAcceptsQU8) {
  LOCKSTEP_REQUIRE_ASSETS();
  EngineOptions x;
  x.xnnpack = true;
  x.threads = 2;
  Engine e =
      Engine::Load(LOCKSTEP_ASSET("models/classification/tf2_mobilenet_v2_1.0_224_ptq.tflite"), x);
  EXPECT_EQ(e.info().delegate, Delegate::kXnnpack);
  EXPECT_EQ(e.info().xnnpack_flags, 3u);
  EXPECT_TRUE(e.info().notes.empty());
  EXPECT_EQ(e.info().op_count, 68u);
  EXPECT_EQ(e.info().delegated_ops, 64u);
  EXPECT_EQ(e.info().builtin_ops,
            (std::vector<std::string>{"QUANTIZE", "RESHAPE", "SOFTMAX", "QUANTIZE"}));
  FeedGenerated(e);
  e.Invoke();
}

TEST(Engine, EdgeTpuModelWithoutTheRuntimeIsRefusedBeforeTflite) {
  LOCKSTEP_REQUIRE_ASSETS();
  if (EdgeTpuRuntimePresent()) GTEST_SKIP() << "libedgetpu.so.1 is installed here";
  fs::path tpu = LOCKSTEP_ASSET("models/classification/mobilenet_v1_0.25_128_quant_edgetpu.tflite");
  std::string m = ErrorOf([&] { Engine::Load(tpu); });
  EXPECT_EQ(m.find(tpu.string() + ": edgetpu-custom-op: "), 0u) << m;
  EXPECT_NE(m.find("compiled for the Edge TPU"), std::string::npos) << m;
  EXPECT_NE(m.find("libedgetpu.so.1 was not found"), std::string::npos) << m;
  EXPECT_NE(
      m.find("CPU twin " + (tpu.parent_path() / "mobilenet_v1_0.25_128_quant.tflite").string()),
      std::string::npos)
      << m;
  // No twin beside it: the hint says what to look for.
  std::string seg = ErrorOf([&] {
    Engine::Load(LOCKSTEP_ASSET(
        "models/detection/ssd_mobilenet_v1_coco_quant_postprocess_segment_0_of_2_edgetpu.tflite"));
  });
  EXPECT_NE(seg.find("usually the same name without _edgetpu"), std::string::npos) << seg;
  EXPECT_NE(seg.find("ssd_mobilenet_v1_coco_quant_postprocess_segment_0_of_2.tflite is not beside "
                     "it"),
            std::string::npos)
      << seg;
  // Asking for the Edge TPU on a CPU model without the runtime is refused as well.
  EngineOptions o;
  o.edgetpu = true;
  std::string cpu = ErrorOf([&] {
    Engine::Load(LOCKSTEP_ASSET("models/classification/mobilenet_v1_0.25_128_quant.tflite"), o);
  });
  EXPECT_NE(cpu.find("--edgetpu: expected libedgetpu.so.1"), std::string::npos) << cpu;
}

// A float model small enough to compute by hand: out = in + [10, 20, 30, 40].
Model AddModel() {
  ModelBuilder b;
  std::vector<float> k = {10, 20, 30, 40};
  int32_t in = b.AddTensor("in", DType::kFloat32, {1, 4});
  int32_t c = b.AddTensor("k", DType::kFloat32, {1, 4}, std::nullopt, b.AddBuffer(ToBytes(k)));
  int32_t out = b.AddTensor("out", DType::kFloat32, {1, 4});
  b.AddBuiltinOp("ADD", {in, c}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  return b.Build();
}

TEST(Engine, HandBuiltModelGivesHandComputedOutputs) {
  Engine e = Engine::Load(WriteModel(AddModel()), "add.tflite");
  ASSERT_EQ(e.input_count(), 1u);
  EXPECT_EQ(e.input(0).name, "in");
  TensorData in(DType::kFloat32, {1, 4});
  auto v = in.as<float>();
  v[0] = 1.5f;
  v[1] = -2.0f;
  v[2] = 0.0f;
  v[3] = 100.25f;
  e.SetInput(0, in);
  e.Invoke();
  auto out = e.output(0).as<float>();
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0], 11.5f);
  EXPECT_EQ(out[1], 18.0f);
  EXPECT_EQ(out[2], 30.0f);
  EXPECT_EQ(out[3], 140.25f);
  EXPECT_EQ(e.info().KernelSummary(), "builtin kernels (1 op)");
  EXPECT_EQ(e.info().builtin_ops, std::vector<std::string>{"ADD"});

  // Under XNNPACK the ADD is delegated, and the sum is the same.
  EngineOptions x;
  x.xnnpack = true;
  Engine ex = Engine::Load(WriteModel(AddModel()), "add.tflite", x);
  EXPECT_EQ(ex.info().delegate, Delegate::kXnnpack);
  EXPECT_EQ(ex.info().delegated_ops, 1u);
  EXPECT_TRUE(ex.info().builtin_ops.empty());
  EXPECT_EQ(ex.info().KernelSummary(), "XNNPACK (QS8+QU8) took 1 of 1 op");
  ex.SetInput(0, in);
  ex.Invoke();
  EXPECT_EQ(ex.output(0).as<float>()[3], 140.25f);
}

TEST(Engine, CopyInChecksSizeDtypeAndShape) {
  Engine e = Engine::Load(WriteModel(AddModel()), "add.tflite");
  std::vector<uint8_t> twelve(12, 0);
  std::string m = ErrorOf([&] { e.SetInput(0, twelve, "in.bin"); });
  EXPECT_EQ(m, "in.bin: input 0 'in': expected 16 bytes (float32[1,4]), found 12 bytes");
  TensorData wrong(DType::kUInt8, {1, 4});
  m = ErrorOf([&] { e.SetInput(0, wrong, "in.npy"); });
  EXPECT_EQ(m, "in.npy: input 0 'in': expected float32[1,4], found uint8[1,4]");
  TensorData shape(DType::kFloat32, {4});
  m = ErrorOf([&] { e.SetInput(0, shape, "in.npy"); });
  EXPECT_EQ(m, "in.npy: input 0 'in': expected float32[1,4], found float32[4]");
  m = ErrorOf([&] { (void)e.input(1); });
  EXPECT_NE(m.find("input 1: expected an index below 1"), std::string::npos) << m;
}

TEST(Engine, AnOpThisTfliteLacksIsNamed) {
  ModelBuilder b;
  int32_t in = b.AddTensor("in", DType::kFloat32, {1, 4});
  int32_t out = b.AddTensor("out", DType::kFloat32, {1, 4});
  b.AddCustomOp("LockstepNoSuchOp", {in}, {out});
  b.SetInputs({in});
  b.SetOutputs({out});
  std::vector<uint8_t> bytes = WriteModel(b.Build());
  for (bool xnnpack : {false, true}) {
    EngineOptions o;
    o.xnnpack = xnnpack;
    std::string m = ErrorOf([&] { Engine::Load(bytes, "custom.tflite", o); });
    EXPECT_EQ(m.find("custom.tflite: operator LockstepNoSuchOp: expected an op TensorFlow Lite "
                     "2.9.0 can run, found custom op 'LockstepNoSuchOp', which this TFLite lacks"),
              0u)
        << m;
  }
}

// A TFLite_Detection_PostProcess op over 2 anchors and 2 classes with the given options.
std::vector<uint8_t> PostprocessModel(std::vector<uint8_t> options) {
  ModelBuilder b;
  int32_t boxes = b.AddTensor("boxes", DType::kFloat32, {1, 2, 4});
  int32_t scores = b.AddTensor("scores", DType::kFloat32, {1, 2, 3});
  std::vector<float> anchor_values = {0.5f, 0.5f, 1, 1, 0.25f, 0.25f, 0.5f, 0.5f};
  int32_t anchors = b.AddTensor("anchors", DType::kFloat32, {2, 4}, std::nullopt,
                                b.AddBuffer(ToBytes(anchor_values)));
  std::vector<int32_t> outs = {b.AddTensor("detection_boxes", DType::kFloat32, {1, 2, 4}),
                               b.AddTensor("detection_classes", DType::kFloat32, {1, 2}),
                               b.AddTensor("detection_scores", DType::kFloat32, {1, 2}),
                               b.AddTensor("num_detections", DType::kFloat32, {1})};
  b.AddCustomOp("TFLite_Detection_PostProcess", {boxes, scores, anchors}, outs, std::move(options));
  b.SetInputs({boxes, scores});
  b.SetOutputs(outs);
  return WriteModel(b.Build());
}

// Issue 13 #12: TFLite's kernel reads these options unchecked and crashes on missing or corrupt
// ones; lockstep refuses them before TFLite sees the model.
TEST(Engine, BrokenPostprocessOptionsAreRefusedBeforeTflite) {
  std::vector<std::pair<std::string, FlexValue>> good = {{"max_detections", int64_t{2}},
                                                         {"max_classes_per_detection", int64_t{1}},
                                                         {"nms_score_threshold", 0.1},
                                                         {"nms_iou_threshold", 0.5},
                                                         {"num_classes", int64_t{2}},
                                                         {"y_scale", 10.0},
                                                         {"x_scale", 10.0},
                                                         {"h_scale", 5.0},
                                                         {"w_scale", 5.0}};
  EXPECT_NO_THROW(Engine::Load(PostprocessModel(FlexbufferMap(good)), "good.tflite"));

  auto without_num_classes = good;
  without_num_classes.erase(without_num_classes.begin() + 4);
  std::vector<uint8_t> garbage(64, 0xA5);
  const std::pair<std::vector<uint8_t>, std::string> cases[] = {
      {{}, "expected a FlexBuffer map, found no custom options"},
      {garbage, "expected a well-formed FlexBuffer, found 64 bytes that fail verification"},
      {FlexbufferMap(without_num_classes),
       "custom_options[\"num_classes\"]: expected a number, found no such key"}};
  for (const auto& [options, expected] : cases) {
    std::string m = ErrorOf([&] { Engine::Load(PostprocessModel(options), "pp.tflite"); });
    EXPECT_EQ(m.find("pp.tflite: subgraphs[0].operators[0] TFLite_Detection_PostProcess "
                     "custom_options"),
              0u)
        << m;
    EXPECT_NE(m.find(expected), std::string::npos) << m;
  }
}

TEST(Engine, RequireImageInputFindsTheImageOrSaysThereIsNone) {
  LOCKSTEP_REQUIRE_ASSETS();
  Engine traffic = Engine::Load(LOCKSTEP_ASSET("models/detection/traffic_model.tflite"));
  EXPECT_EQ(RequireImageInput(traffic).shape, (std::vector<int>{1, 256, 256, 3}));
  Engine head = Engine::Load(LOCKSTEP_ASSET(
      "models/detection/ssd_mobilenet_v1_coco_quant_postprocess_head_layers.tflite"));
  std::string m = ErrorOf([&] { RequireImageInput(head); });
  EXPECT_NE(
      m.find("inputs: expected an image input [1,H,W,C] with C 1 or 3, found uint8[1,19,19,12]"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("this is not an image model"), std::string::npos);
  Engine add = Engine::Load(WriteModel(AddModel()), "add.tflite");
  m = ErrorOf([&] { RequireImageInput(add); });
  EXPECT_EQ(m,
            "add.tflite: inputs: expected an image input [1,H,W,C] with C 1 or 3, found "
            "float32[1,4]; this is not an image model");
}

TEST(Engine, BadFilesAreErrorsNamingTheFile) {
  std::string m = ErrorOf([] { Engine::Load(fs::path("/nonexistent/model.tflite")); });
  EXPECT_EQ(m, "/nonexistent/model.tflite: expected a .tflite model file, found no such file");
  m = ErrorOf([] { Engine::Load(std::vector<uint8_t>{}, "empty.tflite"); });
  EXPECT_EQ(m, "empty.tflite: expected a .tflite model, found an empty file");
  std::vector<uint8_t> noise(5000);
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = uint8_t((i * 2654435761u) >> 13);
  m = ErrorOf([&] { Engine::Load(noise, "noise.tflite"); });
  EXPECT_EQ(m.find("noise.tflite: "), 0u) << m;
  EngineOptions zero;
  zero.threads = 0;
  m = ErrorOf([&] { Engine::Load(WriteModel(AddModel()), "add.tflite", zero); });
  EXPECT_EQ(m, "add.tflite: threads: expected 1 to 64, found 0");
}

}  // namespace
}  // namespace lockstep
