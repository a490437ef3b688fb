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
