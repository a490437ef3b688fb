#include "lockstep/model/metadata.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "lockstep/core/error.h"
#include "metadata_generated.h"

namespace lockstep {
namespace {

namespace md = tflite_metadata;

struct Spec {
  std::vector<float> mean = {127.5f}, std = {127.5f};
  size_t inputs = 1;
  std::string identifier = "M001";
};

// An M001 buffer shaped like the one in coco_ssd_mobilenet_v1 (image input with normalization,
// boxes / classes / scores / count outputs, the label map on the classes output).
std::vector<uint8_t> BuildMetadata(const Spec& spec = {}) {
  flatbuffers::FlatBufferBuilder b;
  auto size = md::CreateImageSize(b, 300, 300);
  auto image = md::CreateImageProperties(b, md::ColorSpaceType::RGB, size);
  auto image_content = md::CreateContent(b, md::ContentProperties::ImageProperties, image.Union());
  auto norm = md::CreateNormalizationOptionsDirect(b, &spec.mean, &spec.std);
  std::vector<flatbuffers::Offset<md::ProcessUnit>> units = {
      md::CreateProcessUnit(b, md::ProcessUnitOptions::NormalizationOptions, norm.Union())};
  std::vector<float> lo = {0}, hi = {255};
  auto stats = md::CreateStatsDirect(b, &hi, &lo);
  std::vector<flatbuffers::Offset<md::TensorMetadata>> inputs;
  for (size_t i = 0; i < spec.inputs; ++i)
    inputs.push_back(md::CreateTensorMetadataDirect(b, "image", "Input image to be detected.",
                                                    nullptr, image_content, &units, stats));

  std::vector<uint32_t> order = {1, 0, 3, 2};
  auto box = md::CreateBoundingBoxPropertiesDirect(b, &order, md::BoundingBoxType::BOUNDARIES,
                                                   md::CoordinateType::RATIO);
  auto box_content =
      md::CreateContent(b, md::ContentProperties::BoundingBoxProperties, box.Union());
  auto threshold = md::CreateScoreThresholdingOptions(b, 0.5f);
  std::vector<flatbuffers::Offset<md::ProcessUnit>> score_units = {md::CreateProcessUnit(
      b, md::ProcessUnitOptions::ScoreThresholdingOptions, threshold.Union())};
  std::vector<flatbuffers::Offset<md::AssociatedFile>> label_files = {
      md::CreateAssociatedFileDirect(b, "labelmap.txt", "Labels for objects.",
                                     md::AssociatedFileType::TENSOR_VALUE_LABELS, "en")};
  std::vector<flatbuffers::Offset<md::TensorMetadata>> outputs = {
      md::CreateTensorMetadataDirect(b, "location", nullptr, nullptr, box_content),
      md::CreateTensorMetadataDirect(b, "category", nullptr, nullptr, 0, nullptr, 0, &label_files),
      md::CreateTensorMetadataDirect(b, "score", nullptr, nullptr, 0, &score_units),
      md::CreateTensorMetadataDirect(b, "number of detections")};
  std::vector<flatbuffers::Offset<md::SubGraphMetadata>> subgraphs = {
      md::CreateSubGraphMetadataDirect(b, nullptr, nullptr, &inputs, &outputs)};
  std::vector<flatbuffers::Offset<md::AssociatedFile>> model_files = {
      md::CreateAssociatedFileDirect(b, "readme.txt", nullptr,
                                     md::AssociatedFileType::DESCRIPTIONS)};
  auto root = md::CreateModelMetadataDirect(b, "ObjectDetector", "Finds objects.", "v1", &subgraphs,
                                            "TensorFlow", "Apache", &model_files, "1.0.0");
  b.Finish(root, spec.identifier.c_str());
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

// A model whose only interesting part is its metadata entry and appended files.
Model ModelWith(std::vector<uint8_t> metadata, size_t inputs = 1, size_t outputs = 4) {
  Model m;
  m.buffers = {{}, std::move(metadata)};
  m.metadata = {{"min_runtime_version", 0}, {"TFLITE_METADATA", 1}};
  Subgraph sg;
  for (size_t i = 0; i < inputs + outputs; ++i) sg.tensors.push_back({});
  for (size_t i = 0; i < inputs; ++i) sg.inputs.push_back(static_cast<int32_t>(i));
  for (size_t i = 0; i < outputs; ++i) sg.outputs.push_back(static_cast<int32_t>(inputs + i));
  m.subgraphs = {sg};
  return m;
}

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

TEST(Metadata, DecodesEveryFieldLockstepUses) {
  ModelMetadata m = ParseMetadata(BuildMetadata(), "m.tflite");
  EXPECT_EQ(m.name, "ObjectDetector");
  EXPECT_EQ(m.description, "Finds objects.");
  EXPECT_EQ(m.version, "v1");
  EXPECT_EQ(m.author, "TensorFlow");
  EXPECT_EQ(m.license, "Apache");
  EXPECT_EQ(m.min_parser_version, "1.0.0");
  ASSERT_EQ(m.inputs.size(), 1u);
  const TensorMetadata& in = m.inputs[0];
  EXPECT_EQ(in.name, "image");
  ASSERT_TRUE(in.normalization.has_value());
  EXPECT_EQ(in.normalization->mean, std::vector<float>{127.5f});
  EXPECT_EQ(in.normalization->std, std::vector<float>{127.5f});
  ASSERT_TRUE(in.image.has_value());
  EXPECT_EQ(in.image->color_space, "RGB");
  EXPECT_EQ(in.image->width, 300u);
  EXPECT_EQ(in.image->height, 300u);
  EXPECT_EQ(in.stats_min, std::vector<float>{0});
  EXPECT_EQ(in.stats_max, std::vector<float>{255});
  ASSERT_EQ(m.outputs.size(), 4u);
  ASSERT_TRUE(m.outputs[0].bounding_box.has_value());
  EXPECT_EQ(m.outputs[0].bounding_box->index, (std::vector<uint32_t>{1, 0, 3, 2}));
  EXPECT_EQ(m.outputs[0].bounding_box->type, "BOUNDARIES");
  EXPECT_EQ(m.outputs[0].bounding_box->coordinate_type, "RATIO");
  EXPECT_FALSE(m.outputs[0].normalization.has_value());
  ASSERT_EQ(m.outputs[1].associated_files.size(), 1u);
  EXPECT_EQ(m.outputs[1].associated_files[0],
            (MetadataFile{"labelmap.txt", "Labels for objects.", "TENSOR_VALUE_LABELS", "en"}));
  EXPECT_EQ(m.outputs[2].score_threshold, 0.5f);
  ASSERT_EQ(m.associated_files.size(), 1u);
  EXPECT_EQ(m.associated_files[0].type, "DESCRIPTIONS");
}

TEST(Metadata, WrongIdentifierIsAnErrorNamingIt) {
  Spec spec;
  spec.identifier = "M002";
  try {
    ParseMetadata(BuildMetadata(spec), "m.tflite");
    FAIL() << "accepted identifier M002";
  } catch (const Error& e) {
    EXPECT_EQ(e.file(), "m.tflite");
    EXPECT_EQ(e.field(), "metadata \"TFLITE_METADATA\"");
    EXPECT_EQ(e.expected(), "file identifier \"M001\"");
    EXPECT_EQ(e.found(), "\"M002\"");
  }
}

TEST(Metadata, TooShortAndCorruptBuffersAreErrors) {
  EXPECT_THROW(ParseMetadata(std::vector<uint8_t>{1, 2, 3}, "m"), Error);
  std::vector<uint8_t> bytes = BuildMetadata();
  // The root offset pointing past the end.
  std::vector<uint8_t> bad = bytes;
  bad[0] = 0xff;
  bad[1] = 0xff;
  try {
    ParseMetadata(bad, "m.tflite");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fail verification"), std::string::npos) << e.what();
  }
}

// Every prefix and many random corruptions decode or fail with an Error; none crash (the suite
// also runs under ASan/UBSan).
TEST(Metadata, DamagedBuffersNeverCrash) {
  std::vector<uint8_t> bytes = BuildMetadata();
  size_t errors = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    try {
      ParseMetadata(std::span(bytes).first(n), "m");
    } catch (const Error&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, bytes.size() / 2);  // truncating a flatbuffer mostly breaks it
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::vector<uint8_t> bad = bytes;
    for (int k = 0; k < 3; ++k) bad[rng() % bad.size()] = static_cast<uint8_t>(rng());
    try {
      ParseMetadata(bad, "m");
    } catch (const Error&) {
    }
  }
}

TEST(Metadata, ZeroStdIsAnErrorNamingTheField) {
  Spec spec;
  spec.std = {0.0f};
  try {
    ParseMetadata(BuildMetadata(spec), "m.tflite");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(),
              "subgraph_metadata[0].input_tensor_metadata[0].process_units[0].options.std");
  }
  spec.std = {1, 2};
  spec.mean = {1, 2, 3};
  EXPECT_THROW(ParseMetadata(BuildMetadata(spec), "m"), Error);
  spec.mean = {};
  EXPECT_THROW(ParseMetadata(BuildMetadata(spec), "m"), Error);
  spec.mean = {127.5f};  // one mean for every channel, per-channel std: allowed
  EXPECT_EQ(ParseMetadata(BuildMetadata(spec), "m").inputs[0].normalization->std.size(), 2u);
}

TEST(Metadata, ReadMetadataFindsTheEntryOrReportsNone) {
  Model m = ModelWith(BuildMetadata());
  auto md = ReadMetadata(m, "m.tflite");
  ASSERT_TRUE(md.has_value());
  EXPECT_EQ(md->name, "ObjectDetector");
  m.metadata.pop_back();
  EXPECT_FALSE(ReadMetadata(m, "m.tflite").has_value());
}

TEST(Metadata, TensorCountMustMatchTheSubgraph) {
  Spec spec;
  spec.inputs = 2;
  try {
    ReadMetadata(ModelWith(BuildMetadata(spec)), "m.tflite");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "metadata subgraph_metadata[0].input_tensor_metadata");
    EXPECT_EQ(e.found(), "2");
  }
}

TEST(Labels, ReadsTheLabelFileOneLabelPerLine) {
  Model m = ModelWith(BuildMetadata());
  m.associated_files = {{"readme.txt", Bytes("not labels\n")},
                        {"labelmap.txt", Bytes("person\r\nbicycle\n???\n\ncar\n")}};
  ModelMetadata md = *ReadMetadata(m, "m");
  // "???" placeholders and empty lines keep their index: class id i is line i.
  EXPECT_EQ(Labels(m, md, "m"), (std::vector<std::string>{"person", "bicycle", "???", "", "car"}));
}

TEST(Labels, AxisLabelsWinOverValueLabels) {
  ModelMetadata md;
  md.outputs.resize(2);
  md.outputs[0].associated_files = {{"values.txt", "", "TENSOR_VALUE_LABELS", ""}};
  md.outputs[1].associated_files = {{"axis.txt", "", "TENSOR_AXIS_LABELS", ""}};
  Model m;
  m.associated_files = {{"values.txt", Bytes("v")}, {"axis.txt", Bytes("a\nb")}};
  EXPECT_EQ(Labels(m, md, "m"), (std::vector<std::string>{"a", "b"}));
}

TEST(Labels, MissingFileIsAnErrorNoLabelFileIsEmpty) {
  Model m = ModelWith(BuildMetadata());
  ModelMetadata md = *ReadMetadata(m, "m.tflite");
  try {
    Labels(m, md, "m.tflite");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "associated file \"labelmap.txt\"");
    EXPECT_EQ(e.found(), "no associated files");
  }
  md.outputs[1].associated_files.clear();
  EXPECT_TRUE(Labels(m, md, "m.tflite").empty());
}

TEST(Labels, UltralyticsDictGivesItsNames) {
  ModelMetadata md;
  md.outputs.resize(1);
  md.outputs[0].associated_files = {{"temp_meta.txt", "", "TENSOR_AXIS_LABELS", ""}};
  Model m;
  m.associated_files = {
      {"temp_meta.txt",
       Bytes("{'description': 'x', 'stride': 32, 'names': {0: 'person', 1: \"dog's toy\", "
             "2: 'traffic light'}, 'imgsz': [640, 640]}")}};
  EXPECT_EQ(Labels(m, md, "m"), (std::vector<std::string>{"person", "dog's toy", "traffic light"}));
  // Keys out of order: not a names dict lockstep understands, so the raw line is the label.
  m.associated_files[0].content = Bytes("{'names': {1: 'a', 0: 'b'}}");
  EXPECT_EQ(Labels(m, md, "m").size(), 1u);
}

}  // namespace
}  // namespace lockstep
