// 1920x1080 RGB → 300x300 bilinear: lockstep's opencv dialect (a portable re-derivation that
// gives the same bytes) against cv::resize INTER_LINEAR itself.
#include <benchmark/benchmark.h>

#include <opencv2/imgproc.hpp>
#include <random>

#include "lockstep/pipeline/resize.h"

namespace {

lockstep::Image Photo() {
  lockstep::Image im(1920, 1080, 3);
  std::mt19937 rng(7);
  for (auto& p : im.pixels) p = static_cast<uint8_t>(rng() & 0xff);
  return im;
}

void BM_LockstepOpenCVBilinear(benchmark::State& state) {
  const lockstep::Image in = Photo();
  lockstep::ResizeSpec spec;  // opencv, bilinear
  for (auto _ : state) benchmark::DoNotOptimize(lockstep::Resize(in, 300, 300, spec));
}
BENCHMARK(BM_LockstepOpenCVBilinear)->Unit(benchmark::kMicrosecond);

void BM_CvResizeInterLinear(benchmark::State& state) {
  lockstep::Image in = Photo();
  cv::Mat src(in.height, in.width, CV_8UC3, in.pixels.data()), dst;
  for (auto _ : state) {
    cv::resize(src, dst, cv::Size(300, 300), 0, 0, cv::INTER_LINEAR);
    benchmark::DoNotOptimize(dst.data);
  }
}
BENCHMARK(BM_CvResizeInterLinear)->Unit(benchmark::kMicrosecond);

void BM_CvResizeInterLinearOneThread(benchmark::State& state) {
  const int threads = cv::getNumThreads();
  cv::setNumThreads(1);
  lockstep::Image in = Photo();
  cv::Mat src(in.height, in.width, CV_8UC3, in.pixels.data()), dst;
  for (auto _ : state) {
    cv::resize(src, dst, cv::Size(300, 300), 0, 0, cv::INTER_LINEAR);
    benchmark::DoNotOptimize(dst.data);
  }
  cv::setNumThreads(threads);
}
BENCHMARK(BM_CvResizeInterLinearOneThread)->Unit(benchmark::kMicrosecond);

void BM_LockstepPillowBilinear(benchmark::State& state) {
  const lockstep::Image in = Photo();
  lockstep::ResizeSpec spec;
  spec.dialect = lockstep::ResizeDialect::kPillow;
  for (auto _ : state) benchmark::DoNotOptimize(lockstep::Resize(in, 300, 300, spec));
}
BENCHMARK(BM_LockstepPillowBilinear)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
