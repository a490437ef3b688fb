// The pillow dialect against Debian's Pillow 9.4 Image.resize (run by /usr/bin/python3 through
// tests/pipeline/oracle/pillow_resize.py), byte for byte.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "lockstep/core/error.h"
#include "lockstep/pipeline/resize.h"
#include "pipeline/resize_sweep.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;
using testing::Describe;
using testing::FirstDifference;

const fs::path kOracle = fs::path(__FILE__).parent_path() / "oracle" / "pillow_resize.py";

struct Job {
  Image in;
  int w, h;
  Interpolation interpolation;
  std::string label;
};

// Runs every job through Pillow in one Python process; returns the results in order.
std::vector<Image> ViaPillow(const std::vector<Job>& jobs) {
  const fs::path dir = testing::ScratchDir();
  std::ofstream list(dir / "jobs.txt");
  for (size_t i = 0; i < jobs.size(); ++i) {
    const auto& j = jobs[i];
    const fs::path in = dir / ("in" + std::to_string(i) + ".raw");
    testing::WriteBytes(in, j.in.pixels);
    list << in.string() << ' ' << j.in.width << ' ' << j.in.height << ' ' << j.in.channels << ' '
         << j.w << ' ' << j.h << ' ' << Name(j.interpolation) << ' '
         << (dir / ("out" + std::to_string(i) + ".raw")).string() << '\n';
  }
  list.close();
  const std::string cmd =
      "/usr/bin/python3 '" + kOracle.string() + "' '" + (dir / "jobs.txt").string() + "'";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  char version[64] = {};
  const bool got = std::fgets(version, sizeof version, pipe) != nullptr;
  const int status = pclose(pipe);
  if (status != 0 || !got) throw std::runtime_error("pillow oracle failed: " + cmd);
  EXPECT_EQ(std::string(version), "9.4.0\n") << "the oracle is not Debian's Pillow 9.4";
  std::vector<Image> out;
  for (size_t i = 0; i < jobs.size(); ++i) {
    Image im(jobs[i].w, jobs[i].h, jobs[i].in.channels);
    im.pixels = testing::ReadBytes(dir / ("out" + std::to_string(i) + ".raw"));
    out.push_back(std::move(im));
  }
  return out;
}

void ExpectAllMatch(const std::vector<Job>& jobs) {
  const auto expected = ViaPillow(jobs);
  ResizeSpec spec;
  spec.dialect = ResizeDialect::kPillow;
  for (size_t i = 0; i < jobs.size(); ++i) {
    spec.interpolation = jobs[i].interpolation;
    EXPECT_EQ(FirstDifference(Resize(jobs[i].in, jobs[i].w, jobs[i].h, spec), expected[i]), "")
        << jobs[i].label << " " << Name(jobs[i].interpolation);
  }
}

struct Filter {
  Interpolation interpolation;
};
void PrintTo(const Filter& f, std::ostream* os) { *os << Name(f.interpolation); }

class PillowResize : public ::testing::TestWithParam<Filter> {};

TEST_P(PillowResize, MatchesImageResizeOnRandomImages) {
  std::vector<Job> jobs;
  for (const auto& p : testing::ResizeSweep())
    for (int c : {1, 2, 3, 4})
      jobs.push_back({testing::RandomImage(p.sw, p.sh, c, 99u + p.sw * 5 + p.dw + c), p.dw, p.dh,
                      GetParam().interpolation, Describe(p, c)});
  ASSERT_EQ(jobs.size(), 4 * testing::ResizeSweep().size());
  ExpectAllMatch(jobs);
}

TEST_P(PillowResize, MatchesImageResizeOnRealPhotos) {
  LOCKSTEP_REQUIRE_ASSETS();
  std::vector<Job> jobs;
  for (const char* name :
       {"images/coral/grace_hopper.bmp", "images/coral/cat_720p.jpg", "images/coral/parrot.jpg"}) {
    cv::Mat bgr = cv::imread(LOCKSTEP_ASSET(name).string(), cv::IMREAD_COLOR), rgb;
    ASSERT_FALSE(bgr.empty()) << name;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    Image in(rgb.cols, rgb.rows, 3);
    std::copy(rgb.data, rgb.data + in.pixels.size(), in.pixels.begin());
    for (auto [w, h] : {std::pair{300, 300}, {320, 320}, {224, 224}})
      jobs.push_back({in, w, h, GetParam().interpolation, name});
  }
  ExpectAllMatch(jobs);
}

INSTANTIATE_TEST_SUITE_P(Filters, PillowResize,
                         ::testing::Values(Filter{Interpolation::kBilinear},
                                           Filter{Interpolation::kNearest},
                                           Filter{Interpolation::kBicubic}),
                         [](const auto& p) { return std::string(Name(p.param.interpolation)); });

TEST(PillowResizeHand, AreaIsNotAPillowFilter) {
  ResizeSpec spec;
  spec.dialect = ResizeDialect::kPillow;
  spec.interpolation = Interpolation::kArea;
  EXPECT_THROW(Resize(Image(4, 4, 3), 2, 2, spec), Error);
}

}  // namespace
}  // namespace lockstep
