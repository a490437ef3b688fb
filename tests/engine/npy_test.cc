// .npy reading and writing, checked by hand-made bytes and against numpy itself both ways.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "lockstep/core/error.h"
#include "lockstep/core/npy.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

using ::lockstep::testing::ReadBytes;
using ::lockstep::testing::ScratchDir;
using ::lockstep::testing::WriteBytes;

std::string Python(const std::string& script, const std::filesystem::path& dir) {
  return testing::RunPythonScript(script, dir);
}

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

// A v1.0 file with the given header text, padded as numpy pads it, then `data`.
std::vector<uint8_t> Handmade(std::string header, const std::vector<uint8_t>& data) {
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string prefix = "\x93NUMPY";
  prefix += char(1);
  prefix += char(0);
  prefix += char(header.size() & 0xff);
  prefix += char(header.size() >> 8);
  std::string all = prefix + header;
  all.append(data.begin(), data.end());
  std::vector<uint8_t> out(all.begin(), all.end());
  return out;
}

std::string MessageOf(const std::vector<uint8_t>& bytes) {
  try {
    ReadNpy(bytes, "x.npy");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Npy, ReadsAHandmadeFile) {
  std::vector<uint8_t> data = {1, 0, 2, 0, 0xff, 0xff};  // int16 1, 2, -1
  TensorData t = ReadNpy(
      Handmade("{'descr': '<i2', 'fortran_order': False, 'shape': (1, 3), }", data), "x.npy");
  EXPECT_EQ(t.dtype, DType::kInt16);
  EXPECT_EQ(t.shape, (std::vector<int>{1, 3}));
  auto v = t.as<int16_t>();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], 1);
  EXPECT_EQ(v[1], 2);
  EXPECT_EQ(v[2], -1);
}

TEST(Npy, KeysInAnyOrderAndScalars) {
  TensorData t = ReadNpy(
      Handmade("{\"shape\": (), \"fortran_order\": False, \"descr\": \"<f4\"}", {0, 0, 0x80, 0x3f}),
      "x.npy");
  EXPECT_EQ(t.dtype, DType::kFloat32);
  EXPECT_TRUE(t.shape.empty());
  EXPECT_EQ(t.as<float>()[0], 1.0f);
}

TEST(Npy, EncodesWhatNumpyWrites) {
  TensorData t(DType::kUInt8, {2});
  t.bytes = {7, 9};
  std::vector<uint8_t> bytes = EncodeNpy(t);
  ASSERT_EQ(bytes.size(), 128u + 2u);  // header padded to a multiple of 64 bytes, as numpy does
  std::string header(bytes.begin() + 10, bytes.begin() + 128);
  EXPECT_EQ(header.substr(0, header.find('}') + 1),
            "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }");
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(ReadNpy(bytes, "x.npy"), t);
}

TEST(Npy, RefusesBadFiles) {
  std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  std::vector<uint8_t> eight(8, 0);
  EXPECT_NE(MessageOf(Bytes("PK\x03\x04 not numpy at all")).find("x.npy: npy magic"),
            std::string::npos);
  EXPECT_NE(MessageOf({}).find("an empty file"), std::string::npos);
  EXPECT_NE(MessageOf(Handmade("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", eight))
                .find("fortran_order: expected False (C order), found True"),
            std::string::npos);
  EXPECT_NE(MessageOf(Handmade("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", eight))
                .find("big-endian '>f4'"),
            std::string::npos);
  EXPECT_NE(MessageOf(Handmade("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", eight))
                .find("'<c8'"),
            std::string::npos);
  EXPECT_NE(MessageOf(Handmade(good, std::vector<uint8_t>(7, 0)))
                .find("npy data: expected 8 bytes for shape (2) <f4, found 7 bytes"),
            std::string::npos);
  EXPECT_NE(MessageOf(Handmade(good, std::vector<uint8_t>(12, 0))).find("found 12 bytes"),
            std::string::npos);
  EXPECT_NE(
      MessageOf(Handmade("{'descr': '<f4', 'shape': (2,), }", eight)).find("a 'fortran_order' key"),
      std::string::npos);
  EXPECT_NE(MessageOf(Handmade("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", eight))
                .find("npy header"),
            std::string::npos);
  EXPECT_NE(MessageOf(Handmade("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}", eight))
                .find("True or False"),
            std::string::npos);
  EXPECT_NE(MessageOf(Handmade("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", eight))
                .find("a dimension"),
            std::string::npos);
  std::vector<uint8_t> truncated = Handmade(good, eight);
  truncated.resize(40);
  EXPECT_NE(MessageOf(truncated).find("truncated"), std::string::npos);
  std::vector<uint8_t> v9 = Handmade(good, eight);
  v9[6] = 9;
  EXPECT_NE(MessageOf(v9).find("npy version: expected 1.0, 2.0 or 3.0, found 9.0"),
            std::string::npos);
}

TEST(Npy, ReadsWhatNumpyWrites) {
  auto dir = ScratchDir();
  Python(R"(
import numpy as np, os
d = os.path.dirname(os.path.abspath(__file__))
np.save(os.path.join(d, 'f4.npy'), np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8 - 1)
np.save(os.path.join(d, 'i1.npy'), np.array([[-128, -1, 0, 127]], dtype=np.int8))
np.save(os.path.join(d, 'u1.npy'), np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1))
np.save(os.path.join(d, 'i8.npy'), np.array([-(2**40), 5], dtype=np.int64))
np.save(os.path.join(d, 'f8.npy'), np.array(3.25, dtype=np.float64))
np.save(os.path.join(d, 'f2.npy'), np.array([0.5, -2.0], dtype=np.float16))
np.save(os.path.join(d, 'b1.npy'), np.array([True, False, True]))
np.save(os.path.join(d, 'i2.npy'), np.array([-300, 300], dtype=np.int16))
np.save(os.path.join(d, 'i4.npy'), np.array([[-70000], [70000]], dtype=np.int32))
np.save(os.path.join(d, 'fortran.npy'), np.asfortranarray(np.zeros((2, 3), np.float32)))
np.save(os.path.join(d, 'big.npy'), np.zeros(3, dtype='>f4'))
np.lib.format.write_array(open(os.path.join(d, 'v2.npy'), 'wb'),
                          np.array([1, 2, 3], np.int32), version=(2, 0))
)",
         dir);
  TensorData f4 = ReadNpyFile(dir / "f4.npy");
  EXPECT_EQ(f4.dtype, DType::kFloat32);
  EXPECT_EQ(f4.shape, (std::vector<int>{2, 3, 4}));
  for (int i = 0; i < 24; ++i) EXPECT_EQ(f4.as<float>()[size_t(i)], float(i) / 8 - 1);
  TensorData i1 = ReadNpyFile(dir / "i1.npy");
  EXPECT_EQ(i1.dtype, DType::kInt8);
  EXPECT_EQ(i1.as<int8_t>()[0], -128);
  EXPECT_EQ(i1.as<int8_t>()[3], 127);
  TensorData u1 = ReadNpyFile(dir / "u1.npy");
  EXPECT_EQ(u1.shape, (std::vector<int>{1, 16, 16, 1}));
  for (int i = 0; i < 256; ++i) EXPECT_EQ(u1.bytes[size_t(i)], i);
  TensorData i8 = ReadNpyFile(dir / "i8.npy");
  EXPECT_EQ(i8.dtype, DType::kInt64);
  EXPECT_EQ(i8.as<int64_t>()[0], -(int64_t(1) << 40));
  TensorData f8 = ReadNpyFile(dir / "f8.npy");
  EXPECT_TRUE(f8.shape.empty());
  EXPECT_EQ(f8.as<double>()[0], 3.25);
  TensorData f2 = ReadNpyFile(dir / "f2.npy");
  EXPECT_EQ(f2.dtype, DType::kFloat16);
  EXPECT_EQ(f2.bytes, (std::vector<uint8_t>{0x00, 0x38, 0x00, 0xc0}));  // 0.5, -2.0 as IEEE half
  TensorData b1 = ReadNpyFile(dir / "b1.npy");
  EXPECT_EQ(b1.dtype, DType::kBool);
  EXPECT_EQ(b1.bytes, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(ReadNpyFile(dir / "i2.npy").as<int16_t>()[0], -300);
  EXPECT_EQ(ReadNpyFile(dir / "i4.npy").as<int32_t>()[1], 70000);
  EXPECT_EQ(ReadNpyFile(dir / "v2.npy").as<int32_t>()[2], 3);
  try {
    ReadNpyFile(dir / "fortran.npy");
    ADD_FAILURE() << "Fortran order accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fortran.npy: npy fortran_order"), std::string::npos);
  }
  EXPECT_THROW(ReadNpyFile(dir / "big.npy"), Error);
  EXPECT_THROW(ReadNpyFile(dir / "missing.npy"), Error);
}

TEST(Npy, NumpyLoadsWhatWeWrite) {
  auto dir = ScratchDir();
  TensorData f(DType::kFloat32, {2, 2});
  auto fv = f.as<float>();
  fv[0] = 1.5f;
  fv[1] = -0.25f;
  fv[2] = 1e-7f;
  fv[3] = 65504.0f;
  WriteNpyFile(f, dir / "f.npy");
  TensorData s(DType::kInt8, {3});
  s.as<int8_t>()[0] = -128;
  s.as<int8_t>()[1] = 0;
  s.as<int8_t>()[2] = 127;
  WriteNpyFile(s, dir / "s.npy");
  TensorData scalar(DType::kInt64, {});
  scalar.as<int64_t>()[0] = -5;
  WriteNpyFile(scalar, dir / "scalar.npy");
  TensorData big(DType::kUInt8, {1, 300, 300, 3});
  for (size_t i = 0; i < big.bytes.size(); ++i) big.bytes[i] = uint8_t(i * 7);
  WriteNpyFile(big, dir / "big.npy");
  // No temporary file is left behind.
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(entry.path().string().find(".tmp-"), std::string::npos) << entry.path();
  std::string out = Python(R"(
import numpy as np, os, io
d = os.path.dirname(os.path.abspath(__file__))
# Byte for byte what np.save writes, for the same arrays.
for name, arr in [('s.npy', np.array([-128, 0, 127], np.int8)),
                  ('scalar.npy', np.array(-5, np.int64)),
                  ('f.npy', np.array([[1.5, -0.25], [1e-7, 65504.0]], np.float32))]:
    b = io.BytesIO(); np.save(b, arr)
    assert open(os.path.join(d, name), 'rb').read() == b.getvalue(), name
f = np.load(os.path.join(d, 'f.npy'))
assert f.dtype == np.float32 and f.shape == (2, 2), (f.dtype, f.shape)
assert f.tolist() == [[1.5, -0.25], [np.float32(1e-7).item(), 65504.0]], f.tolist()
s = np.load(os.path.join(d, 's.npy'))
assert s.dtype == np.int8 and s.tolist() == [-128, 0, 127]
c = np.load(os.path.join(d, 'scalar.npy'))
assert c.dtype == np.int64 and c.shape == () and int(c) == -5
b = np.load(os.path.join(d, 'big.npy'))
assert b.shape == (1, 300, 300, 3) and b.dtype == np.uint8
assert (b.reshape(-1) == (np.arange(b.size, dtype=np.uint64) * 7 % 256).astype(np.uint8)).all()
print('ok')
)",
                           dir);
  EXPECT_EQ(out, "ok\n");
}

}  // namespace
}  // namespace lockstep
