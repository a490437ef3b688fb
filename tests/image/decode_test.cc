#include "lockstep/image/decode.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include "lockstep/core/error.h"
#include "lockstep/image/encode.h"
#include "support/test_support.h"

namespace lockstep {
namespace {
namespace fs = std::filesystem;
using testing::ReadBytes;
using testing::ScratchDir;

const fs::path kOracles = fs::path(__FILE__).parent_path() / "oracle";

void Python(const std::string& args) {
  std::string cmd = "/usr/bin/python3 " + args;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// Images made by PIL for these tests (and the oracle's outputs), once per process.
fs::path Generated() {
  static fs::path dir = [] {
    const char* tmp = std::getenv("LOCKSTEP_TMP");
    fs::path d =
        (tmp ? fs::path(tmp) : fs::temp_directory_path()) / ("decode-" + std::to_string(getpid()));
    fs::create_directories(d);
    std::string cmd =
        "/usr/bin/python3 " + (kOracles / "make_images.py").string() + " " + d.string();
    if (std::system(cmd.c_str()) != 0) ADD_FAILURE() << cmd;
    return d;
  }();
  return dir;
}

// What PIL (or cv2) decodes from `file`, via the oracle script.
Image Oracle(const std::string& mode, const fs::path& file) {
  fs::path out = Generated() / (file.filename().string() + "." + mode + ".raw");
  Python((kOracles / "decode_oracle.py").string() + " " + mode + " " + file.string() + " " +
         out.string());
  std::ifstream in(out, std::ios::binary);
  Image image;
  in >> image.width >> image.height >> image.channels;
  in.get();
  image.pixels.resize(size_t(image.width) * image.height * image.channels);
  in.read(reinterpret_cast<char*>(image.pixels.data()), std::streamsize(image.pixels.size()));
  return image;
}

void ExpectSame(const Image& ours, const Image& oracle, const std::string& what) {
  ASSERT_EQ(ours.width, oracle.width) << what;
  ASSERT_EQ(ours.height, oracle.height) << what;
  ASSERT_EQ(ours.channels, oracle.channels) << what;
  size_t diff = 0;
  for (size_t i = 0; i < ours.pixels.size(); ++i) diff += ours.pixels[i] != oracle.pixels[i];
  EXPECT_EQ(diff, 0u) << what << ": bytes differ from the oracle";
}

TEST(Decode, GeneratedFilesMatchPillowByteForByte) {
  for (const char* name :
       {"rgb.png", "gray.png", "rgba.png", "palette.png", "rgb.bmp", "smooth.jpg", "gray.jpg"}) {
    fs::path f = Generated() / name;
    ExpectSame(DecodeImageFile(f), Oracle("pil", f), name);
  }
}

TEST(Decode, JpegMatchesOpenCvImread) {
  fs::path f = Generated() / "smooth.jpg";
  ExpectSame(DecodeImageFile(f), Oracle("cv2", f), "smooth.jpg");
}

TEST(Decode, ExifOrientationMatchesPillowExifTranspose) {
  for (int o = 1; o <= 8; ++o) {
    fs::path f = Generated() / ("exif" + std::to_string(o) + ".jpg");
    EXPECT_EQ(ExifOrientation(ReadBytes(f)), o);
    Image ours = DecodeImageFile(f);
    if (o >= 5) {
      EXPECT_EQ(ours.width, 61) << "orientation " << o << " swaps width and height";
    }
    ExpectSame(ours, Oracle("pil_exif", f), "orientation " + std::to_string(o));
    Image raw = DecodeImageFile(f, {.apply_exif_orientation = false});
    ExpectSame(raw, Oracle("pil", f), "orientation ignored " + std::to_string(o));
  }
}

TEST(Decode, RealAssetsMatchPillow) {
  LOCKSTEP_REQUIRE_ASSETS();
  for (const char* rel : {"datasets/coco128/train2017/000000000009.jpg", "images/coral/cat.bmp",
                          "images/tflm/person.bmp", "images/tflite_support/sparrow.png",
                          "images/tflite_support/burger-224.png", "images/coral/rgb6X4.bmp"}) {
    fs::path f = LOCKSTEP_ASSET(rel);
    ExpectSame(DecodeImageFile(f), Oracle("pil", f), rel);
  }
  EXPECT_EQ(DecodeImageFile(LOCKSTEP_ASSET("images/tflm/person.bmp")).channels, 1);
  EXPECT_EQ(DecodeImageFile(LOCKSTEP_ASSET("images/tflite_support/sparrow.png")).channels, 4);
}

TEST(Decode, ToRgbReplicatesGrayAndDropsAlpha) {
  Image g(2, 1, 1);
  g.pixels = {10, 200};
  EXPECT_EQ(ToRgb(g).pixels, (std::vector<uint8_t>{10, 10, 10, 200, 200, 200}));
  Image a(1, 1, 4);
  a.pixels = {1, 2, 3, 4};
  EXPECT_EQ(ToRgb(a).pixels, (std::vector<uint8_t>{1, 2, 3}));
}

std::string ErrorOf(std::span<const uint8_t> bytes, const DecodeOptions& options = {}) {
  try {
    DecodeImage(bytes, "bad.img", options);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Decode, CorruptFilesAreErrorsNamingTheFile) {
  EXPECT_EQ(ErrorOf({}), "bad.img: expected an image file, found an empty file");
  std::vector<uint8_t> junk(1000);
  std::mt19937 rng(3);
  for (auto& b : junk) b = uint8_t(rng());
  EXPECT_EQ(
      ErrorOf(junk),
      "bad.img: file signature: expected a JPEG, PNG or BMP image, found unknown leading bytes");
  for (const char* name : {"smooth.jpg", "rgb.png", "rgb.bmp"}) {
    auto bytes = ReadBytes(Generated() / name);
    for (size_t keep : {size_t(4), size_t(40), bytes.size() / 2}) {
      std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + long(keep));
      std::string m = ErrorOf(cut);
      EXPECT_EQ(m.rfind("bad.img: ", 0), 0u) << name << " cut at " << keep << ": " << m;
    }
    // Flip bytes one at a time: a clean error or an image, never a crash.
    for (size_t i = 0; i < bytes.size(); i += 7) {
      auto flipped = bytes;
      flipped[i] ^= 0x5A;
      std::string m = ErrorOf(flipped);
      EXPECT_TRUE(m == "no error" || m.rfind("bad.img: ", 0) == 0) << m;
    }
  }
}

TEST(Decode, RefusesImagesBeyondThePixelLimitBeforeDecoding) {
  auto png = ReadBytes(Generated() / "rgb.png");  // 53x37
  EXPECT_EQ(ErrorOf(png, {.max_pixels = 1000}),
            "bad.img: image size: expected at most 1000 pixels, found 53x37 = 1961; raise the "
            "pixel limit only for images you trust (decompression bombs)");
  // A PNG header claiming 100000 x 100000 pixels with no data behind it.
  png[16] = 0, png[17] = 1, png[18] = 0x86, png[19] = 0xA0;
  png[20] = 0, png[21] = 1, png[22] = 0x86, png[23] = 0xA0;
  EXPECT_NE(ErrorOf(png).find("expected at most 100000000 pixels, found 100000x100000"),
            std::string::npos);
  auto jpg = ReadBytes(Generated() / "smooth.jpg");
  EXPECT_NE(ErrorOf(jpg, {.max_pixels = 100}).find("found 83x61"), std::string::npos);
}

// An IHDR of 0xFFFFFFFF x 0xFFFFFFFF: the product does not fit in int64; it must be compared
// unwrapped and refused by the pixel limit (not passed on to libpng).
TEST(Decode, RefusesAHeaderOfFourBillionSquaredPixels) {
  auto png = ReadBytes(Generated() / "rgb.png");
  for (size_t i = 16; i < 24; ++i) png[i] = 0xFF;
  EXPECT_EQ(ErrorOf(png),
            "bad.img: image size: expected at most 100000000 pixels, found 4294967295x4294967295 "
            "= 18446744065119617025; raise the pixel limit only for images you trust "
            "(decompression bombs)");
  EXPECT_NE(ErrorOf(png, {.max_pixels = INT64_MAX}).find("image size"), std::string::npos);
}

// A progressive JPEG cut between two scans: libjpeg-turbo would decode it with a warning and grey
// where the later scans were; PIL refuses it as truncated, and so do we.
TEST(Decode, RefusesAProgressiveJpegCutBetweenScans) {
  const fs::path dir = ScratchDir();
  testing::RunPythonScript(R"(
import os, numpy as np
from PIL import Image
os.chdir(os.path.dirname(os.path.abspath(__file__)))
y, x = np.mgrid[0:48, 0:64]
a = np.stack([x * 4, y * 5, (x + y) * 2], -1).astype('uint8')
Image.fromarray(a).save('progressive.jpg', 'JPEG', progressive=True, quality=90)
Image.fromarray(a).save('baseline.jpg', 'JPEG', quality=90)
)",
                           dir);
  const auto progressive = ReadBytes(dir / "progressive.jpg");
  EXPECT_EQ(DecodeImageFile(dir / "progressive.jpg").width, 64);
  EXPECT_EQ(DecodeImageFile(dir / "baseline.jpg").height, 48);
  std::vector<size_t> scans;  // offsets of the SOS markers
  for (size_t i = 2; i + 1 < progressive.size(); ++i)
    if (progressive[i] == 0xFF && progressive[i + 1] == 0xDA) scans.push_back(i);
  ASSERT_GE(scans.size(), 3u);
  for (size_t k = 1; k < scans.size(); ++k) {
    std::vector<uint8_t> cut(progressive.begin(), progressive.begin() + long(scans[k]));
    EXPECT_EQ(ErrorOf(cut),
              "bad.img: JPEG data: expected a complete JPEG stream, found no "
              "end-of-image marker (a truncated file)")
        << "cut before scan " << k;
  }
  // Bytes after the end-of-image marker (common in real files) are no reason to refuse.
  auto trailing = ReadBytes(dir / "baseline.jpg");
  trailing.insert(trailing.end(), {0x00, 0x12, 0xFF, 0x34});
  EXPECT_EQ(ErrorOf(trailing), "no error");
}

// Every real JPEG of the assets (some with trailing bytes or libjpeg warnings) still decodes.
TEST(Decode, EveryRealJpegOfTheAssetsDecodes) {
  LOCKSTEP_REQUIRE_ASSETS();
  size_t jpegs = 0;
  for (const char* rel : {"datasets/coco128/train2017", "images"})
    for (const auto& e : fs::recursive_directory_iterator(LOCKSTEP_ASSET(rel))) {
      std::string ext = e.path().extension().string();
      if (ext != ".jpg" && ext != ".jpeg" && ext != ".JPG") continue;
      ++jpegs;
      try {
        DecodeImageFile(e.path());
      } catch (const Error& error) {
        ADD_FAILURE() << error.what();
      }
    }
  EXPECT_GE(jpegs, 128u);
}

TEST(Encode, PngRoundTripsThroughOurDecoder) {
  Image im(5, 3, 3);
  for (size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = uint8_t(i * 17);
  fs::path f = ScratchDir() / "x.png";
  WritePngFile(im, f);
  EXPECT_EQ(DecodeImageFile(f), im);
  ExpectSame(Oracle("pil", f), im, "PIL reads what we wrote");
}

}  // namespace
}  // namespace lockstep
