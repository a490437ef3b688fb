// The opencv dialect against Debian's OpenCV 4.6 cv::resize, byte for byte.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "lockstep/core/error.h"
#include "lockstep/pipeline/resize.h"
#include "pipeline/resize_sweep.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

using testing::Describe;
using testing::FirstDifference;

Image ViaOpenCV(const Image& in, int w, int h, int flag) {
  cv::Mat src(in.height, in.width, CV_8UC(in.channels), const_cast<uint8_t*>(in.pixels.data()));
  cv::Mat dst;
  cv::resize(src, dst, cv::Size(w, h), 0, 0, flag);
  Image out(w, h, in.channels);
  for (int y = 0; y < h; ++y)
    std::copy(dst.ptr<uint8_t>(y), dst.ptr<uint8_t>(y) + size_t(w) * in.channels, out.row(y));
  return out;
}

Image Ours(const Image& in, int w, int h, Interpolation i) {
  ResizeSpec spec;
  spec.dialect = ResizeDialect::kOpenCV;
  spec.interpolation = i;
  return Resize(in, w, h, spec);
}

struct Case {
  Interpolation interpolation;
  int flag;
};
const Case kCases[] = {{Interpolation::kBilinear, cv::INTER_LINEAR},
                       {Interpolation::kNearest, cv::INTER_NEAREST},
                       {Interpolation::kArea, cv::INTER_AREA}};

void PrintTo(const Case& c, std::ostream* os) { *os << Name(c.interpolation); }

class OpenCVResize : public ::testing::TestWithParam<Case> {};

TEST_P(OpenCVResize, MatchesCvResizeOnRandomImages) {
  int pairs = 0;
  for (const auto& p : testing::ResizeSweep())
    for (int c : {1, 2, 3, 4}) {
      const Image in = testing::RandomImage(p.sw, p.sh, c, 1234u + p.sw * 7 + p.dh + c);
      const std::string diff = FirstDifference(Ours(in, p.dw, p.dh, GetParam().interpolation),
                                               ViaOpenCV(in, p.dw, p.dh, GetParam().flag));
      EXPECT_EQ(diff, "") << Describe(p, c);
      ++pairs;
    }
  EXPECT_EQ(pairs, 4 * static_cast<int>(testing::ResizeSweep().size()));
}

TEST_P(OpenCVResize, MatchesCvResizeOnRealPhotos) {
  LOCKSTEP_REQUIRE_ASSETS();
  for (const char* name :
       {"images/coral/grace_hopper.bmp", "images/coral/cat_720p.jpg", "images/coral/parrot.jpg"}) {
    cv::Mat bgr = cv::imread(LOCKSTEP_ASSET(name).string(), cv::IMREAD_COLOR);
    ASSERT_FALSE(bgr.empty()) << name;
    ASSERT_TRUE(bgr.isContinuous());
    Image in(bgr.cols, bgr.rows, 3);
    std::copy(bgr.data, bgr.data + in.pixels.size(), in.pixels.begin());
    for (auto [w, h] : {std::pair{300, 300}, {320, 320}, {224, 224}}) {
      EXPECT_EQ(FirstDifference(Ours(in, w, h, GetParam().interpolation),
                                ViaOpenCV(in, w, h, GetParam().flag)),
                "")
          << name << " -> " << w << "x" << h;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Filters, OpenCVResize, ::testing::ValuesIn(kCases),
                         [](const auto& p) { return std::string(Name(p.param.interpolation)); });

TEST(OpenCVResizeHand, TwoByTwoShrinkRoundsHalfUpLikeOpenCVsBoxFilter) {
  // Exact 2x INTER_LINEAR becomes INTER_AREA: (1+2+3+4+2)>>2 = 3 (the mean 2.5 rounds up).
  Image in(2, 2, 1);
  in.pixels = {1, 2, 3, 4};
  EXPECT_EQ(Ours(in, 1, 1, Interpolation::kBilinear).pixels, std::vector<uint8_t>{3});
}

TEST(OpenCVResizeHand, ResizeFWidensThe8BitResult) {
  const Image in = testing::RandomImage(9, 7, 3, 5);
  const Image bytes = Ours(in, 4, 5, Interpolation::kBilinear);
  ResizeSpec spec;  // opencv, bilinear
  const ImageF f = ResizeF(in, 4, 5, spec);
  ASSERT_EQ(f.pixels.size(), bytes.pixels.size());
  for (size_t i = 0; i < f.pixels.size(); ++i) EXPECT_EQ(f.pixels[i], bytes.pixels[i]);
}

TEST(OpenCVResizeHand, UnsupportedInterpolationNamesTheField) {
  ResizeSpec spec;
  spec.dialect = ResizeDialect::kOpenCV;
  spec.interpolation = Interpolation::kBicubic;
  try {
    Resize(Image(4, 4, 3), 2, 2, spec);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "resize: resize.interpolation: expected one of nearest, bilinear, area for "
              "dialect opencv, found bicubic");
  }
  EXPECT_THROW(Resize(Image(4, 4, 3), 0, 2, ResizeSpec{}), Error);
  EXPECT_THROW(Resize(Image(4, 4, 5), 2, 2, ResizeSpec{}), Error);
  spec.dialect = ResizeDialect::kTf;
  spec.interpolation = Interpolation::kBilinear;
  EXPECT_THROW(Resize(Image(4, 4, 3), 2, 2, spec), Error);
}

}  // namespace
}  // namespace lockstep
