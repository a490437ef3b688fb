// Bad .tflite input: every case is one lockstep::Error naming the file, the field and what was
// found, and nothing crashes (the suite also runs under ASan+UBSan).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "lockstep/core/error.h"
#include "lockstep/model/model_builder.h"
#include "lockstep/model/model_io.h"
#include "support/test_support.h"
#include "tflite_generated.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;
namespace fb = lockstep::tflite;
using flatbuffers::Offset;

// The message of the lockstep::Error that reading `bytes` throws ("" when it reads fine).
std::string ReadError(const std::vector<uint8_t>& bytes, const std::string& source = "bad.tflite") {
  try {
    ReadModel(bytes, source);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string WriteError(const Model& m) {
  try {
    WriteModel(m);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "in: " << (text)

// A hand-made flatbuffer, written with the generated API (not lockstep's writer), so it can hold
// what the writer refuses to produce.
struct Craft {
  uint32_t tensor_buffer = 0;
  int32_t op_input = 0;
  int8_t tensor_type = 0;
  uint32_t opcode_index = 0;
  bool sparse = false;
  uint64_t buffer_offset = 0;
  uint8_t options_type = 0;  // raw BuiltinOptions union value of the op
  uint32_t metadata_buffer = 0;
  bool with_metadata = false;

  std::vector<uint8_t> Bytes() const {
    flatbuffers::FlatBufferBuilder f;
    std::vector<Offset<fb::Buffer>> buffers = {
        fb::CreateBuffer(f, 0, buffer_offset, buffer_offset ? 8 : 0)};
    std::vector<Offset<fb::Tensor>> tensors;
    for (int i = 0; i < 2; ++i) {
      std::vector<int32_t> shape = {1, 4};
      tensors.push_back(fb::CreateTensor(
          f, f.CreateVector(shape), static_cast<fb::TensorType>(i == 1 ? tensor_type : 0),
          i == 0 ? tensor_buffer : 0, f.CreateString(i == 0 ? "t0" : "t1"), 0, false,
          sparse && i == 1 ? fb::CreateSparsityParameters(f) : 0));
    }
    Offset<void> options;
    if (options_type) {  // an empty table stands in for any options type
      auto start = f.StartTable();
      options = Offset<void>(f.EndTable(start));
    }
    std::vector<int32_t> in = {0, op_input}, out = {1};
    std::vector<Offset<fb::Operator>> ops = {
        fb::CreateOperator(f, opcode_index, f.CreateVector(in), f.CreateVector(out),
                           static_cast<fb::BuiltinOptions>(options_type), options)};
    std::vector<int32_t> sg_in = {0}, sg_out = {1};
    std::vector<Offset<fb::SubGraph>> sgs = {
        fb::CreateSubGraph(f, f.CreateVector(tensors), f.CreateVector(sg_in),
                           f.CreateVector(sg_out), f.CreateVector(ops))};
    std::vector<Offset<fb::OperatorCode>> codes = {fb::CreateOperatorCode(f, 0, 0, 1, 0)};  // ADD
    std::vector<Offset<fb::Metadata>> md;
    if (with_metadata) md.push_back(fb::CreateMetadata(f, f.CreateString("m"), metadata_buffer));
    auto model = fb::CreateModel(f, 3, f.CreateVector(codes), f.CreateVector(sgs), 0,
                                 f.CreateVector(buffers), 0, md.empty() ? 0 : f.CreateVector(md));
    fb::FinishModelBuffer(f, model);
    return {f.GetBufferPointer(), f.GetBufferPointer() + f.GetSize()};
  }
};

TEST(ModelErrors, CraftedBaselineReads) {
  Model m = ReadModel(Craft{}.Bytes(), "good.tflite");
  EXPECT_EQ(OperatorName(m, m.subgraphs[0].operators[0]), "ADD");
  EXPECT_EQ(m.subgraphs[0].tensors.size(), 2u);
}

TEST(ModelErrors, MissingFile) {
  fs::path p = testing::ScratchDir() / "nope.tflite";
  try {
    ReadModelFile(p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_HAS(e.what(), p.string());
    EXPECT_HAS(e.what(), "no such file");
  }
}

TEST(ModelErrors, EmptyAndTinyFiles) {
  fs::path p = testing::ScratchDir() / "empty.tflite";
  testing::WriteBytes(p, {});
  try {
    ReadModelFile(p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_HAS(e.what(), p.string() + ": file: expected a TFLite model");
    EXPECT_HAS(e.what(), "found an empty file");
  }
  EXPECT_HAS(ReadError({1, 2, 3}), "bad.tflite: file: ");
  EXPECT_HAS(ReadError({1, 2, 3}), "found 3 bytes");
}

TEST(ModelErrors, WrongIdentifier) {
  std::vector<uint8_t> bytes = Craft{}.Bytes();
  std::memcpy(bytes.data() + 4, "ABCD", 4);
  std::string e = ReadError(bytes);
  EXPECT_HAS(e, "bad.tflite: file identifier (bytes 4..7): expected \"TFL3\", found \"ABCD\"");
}

TEST(ModelErrors, RandomBytes) {
  uint32_t state = 12345;
  for (size_t size : {16u, 100u, 4096u}) {
    std::vector<uint8_t> bytes(size);
    for (auto& b : bytes) b = static_cast<uint8_t>((state = state * 1664525u + 1013904223u) >> 24);
    EXPECT_HAS(ReadError(bytes), "bad.tflite: file identifier");
    std::memcpy(bytes.data() + 4, "TFL3", 4);  // right identifier, garbage behind it
    EXPECT_HAS(ReadError(bytes), "bad.tflite: flatbuffer: expected a TFLite model");
  }
}

TEST(ModelErrors, Truncated) {
  std::vector<uint8_t> bytes = Craft{}.Bytes();
  for (size_t n : {bytes.size() / 2, bytes.size() - 1, size_t{12}}) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
    std::string e = ReadError(cut);
    EXPECT_HAS(e, "bad.tflite: flatbuffer: ");
    EXPECT_HAS(e, "fails flatbuffer verification (" + std::to_string(n) + " bytes)");
  }
}

TEST(ModelErrors, OutOfRangeIndices) {
  Craft c;
  c.tensor_buffer = 7;
  EXPECT_HAS(ReadError(c.Bytes()),
             "bad.tflite: subgraphs[0].tensors[0].buffer: expected an index into buffers (1 "
             "buffers) (0..0), found 7");
  c = {};
  c.op_input = 5;
  EXPECT_HAS(ReadError(c.Bytes()),
             "bad.tflite: subgraphs[0].operators[0].inputs[1]: expected an "
             "index into subgraphs[0].tensors (2 tensors) (0..1, or -1), found 5");
  c.op_input = -1;  // an absent optional input is fine
  EXPECT_EQ(ReadError(c.Bytes()), "");
  c.op_input = -2;
  EXPECT_HAS(ReadError(c.Bytes()), "found -2");
  c = {};
  c.opcode_index = 3;
  EXPECT_HAS(ReadError(c.Bytes()),
             "subgraphs[0].operators[0].opcode_index: expected an index into "
             "operator_codes (1 codes) (0..0), found 3");
  c = {};
  c.with_metadata = true;
  c.metadata_buffer = 2;
  EXPECT_HAS(ReadError(c.Bytes()), "metadata[0].buffer: expected an index into buffers");
}

TEST(ModelErrors, UnknownTensorType) {
  Craft c;
  c.tensor_type = 42;
  EXPECT_HAS(
      ReadError(c.Bytes()),
      "bad.tflite: subgraphs[0].tensors[1].type: expected a TensorType lockstep knows (0..16), "
      "found 42");
}

TEST(ModelErrors, UnsupportedLayouts) {
  Craft c;
  c.sparse = true;
  EXPECT_HAS(ReadError(c.Bytes()),
             "bad.tflite: subgraphs[0].tensors[1].sparsity: expected a dense "
             "tensor, found sparsity parameters");
  c = {};
  c.buffer_offset = 4096;
  EXPECT_HAS(ReadError(c.Bytes()),
             "bad.tflite: buffers[0].offset: expected data inside the "
             "flatbuffer, found data stored outside it at offset 4096");
}

// An options type outside lockstep's schema is read as "BuiltinOptions#N" and cannot be written.
TEST(ModelErrors, UnknownOptionsTypeReadsButDoesNotWrite) {
  Craft c;
  c.options_type = 120;  // UnsortedSegmentMinOptions: not in lockstep's schema
  Model m = ReadModel(c.Bytes(), "x.tflite");
  EXPECT_EQ(m.subgraphs[0].operators[0].builtin_options.type, "BuiltinOptions#120");
  EXPECT_TRUE(m.subgraphs[0].operators[0].builtin_options.fields.empty());
  std::string e = WriteError(m);
  EXPECT_HAS(e,
             "model: subgraphs[0].operators[0].builtin_options.type: expected a BuiltinOptions "
             "table in lockstep's TFLite schema, found \"BuiltinOptions#120\"");
  EXPECT_HAS(e, "the ADD op's options cannot be written");
  c.options_type = 11;  // AddOptions, empty table
  EXPECT_EQ(ReadModel(c.Bytes(), "x.tflite").subgraphs[0].operators[0].builtin_options.type,
            "AddOptions");
}

TEST(ModelErrors, WriterRefusesBadOptionsAndIndices) {
  ModelBuilder b;
  int x = b.AddTensor("x", DType::kFloat32, {1});
  b.AddBuiltinOp("ADD", {x, x}, {x}, {"AddOptions", {{"fused_activation", int64_t{0}}}});
  EXPECT_HAS(WriteError(b.Build()),
             "model: subgraphs[0].operators[0].builtin_options."
             "fused_activation: expected a field of AddOptions, found no such field");
  ModelBuilder b2;
  x = b2.AddTensor("x", DType::kFloat32, {1});
  b2.AddBuiltinOp("ADD", {x, x}, {x}, {"AddOptions", {{"fused_activation_function", 1.5}}});
  EXPECT_HAS(WriteError(b2.Build()),
             "fused_activation_function: expected an integer, found a number");
  ModelBuilder b3;
  x = b3.AddTensor("x", DType::kFloat32, {1});
  b3.AddBuiltinOp("ADD", {x, x}, {x},
                  {"AddOptions", {{"fused_activation_function", int64_t{300}}}});
  EXPECT_HAS(WriteError(b3.Build()), "fused_activation_function: expected a value in the range");
  ModelBuilder b4;
  x = b4.AddTensor("x", DType::kFloat32, {1}, std::nullopt, 9);
  b4.AddBuiltinOp("ADD", {x, 4}, {x});
  EXPECT_HAS(WriteError(b4.Build()),
             "model: subgraphs[0].tensors[0].buffer: expected an index into buffers");
  try {
    WriteModelFile(b4.Build(), testing::ScratchDir() / "out.tflite");
    FAIL();
  } catch (const Error& e) {
    EXPECT_HAS(e.what(), "out.tflite: subgraphs[0].tensors[0].buffer");
  }
  EXPECT_FALSE(fs::exists(testing::ScratchDir() / "out.tflite"));
}

TEST(ModelErrors, DamagedAppendedZip) {
  LOCKSTEP_REQUIRE_ASSETS();
  std::vector<uint8_t> bytes = testing::ReadBytes(LOCKSTEP_ASSET(testing::kCocoSsdV1));
  // The label map is a stored entry: damage its first byte so its CRC-32 no longer matches.
  Model m = ReadModel(bytes, "coco.tflite");
  ASSERT_EQ(m.associated_files.size(), 1u);
  std::string needle = "person\nbicycle\n";
  auto it = std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end());
  ASSERT_NE(it, bytes.end());
  *it = '!';
  std::string e = ReadError(bytes, "coco.tflite");
  EXPECT_HAS(e,
             "coco.tflite: associated files (zip appended to the model)[\"labelmap.txt\"].crc32: "
             "expected 0x");
}

// Flip every 97th byte of a real small model, one at a time (two ways): each variant is either
// read as a Model or refused with an Error naming the file; never a crash.
TEST(ModelErrors, BitFlipFuzzOverRealModel) {
  LOCKSTEP_REQUIRE_ASSETS();
  std::vector<uint8_t> original = testing::ReadBytes(LOCKSTEP_ASSET(
      "models/detection/ssd_mobilenet_v1_coco_quant_postprocess_head_layers.tflite"));
  ASSERT_EQ(original.size(), 15928u);
  int errors = 0, models = 0;
  for (uint8_t mask : {uint8_t{0xff}, uint8_t{0x04}}) {
    for (size_t at = 0; at < original.size(); at += 97) {
      std::vector<uint8_t> bytes = original;
      bytes[at] ^= mask;
      try {
        Model m = ReadModel(bytes, "flipped.tflite");
        ++models;
        try {
          ReadModel(WriteModel(m), "rewritten");  // what reads must write and read back
        } catch (const Error& e) {
          EXPECT_HAS(e.what(), "model: ");
        }
      } catch (const Error& e) {
        ++errors;
        EXPECT_EQ(std::string(e.what()).rfind("flipped.tflite: ", 0), 0u) << e.what();
      }
    }
  }
  EXPECT_EQ(errors + models, 2 * 165);
  EXPECT_GT(errors, 0);
  EXPECT_GT(models, 0);
  std::printf("bit flips: %d refused with an Error, %d still valid models\n", errors, models);
}

}  // namespace
}  // namespace lockstep
