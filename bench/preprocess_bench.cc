// A decoded 1920x1080 RGB image to a 300x300 uint8 input quantized with scale 1/128 and zero
// point 128 ([-1,1] normalization), one thread: lockstep's fused opencv-dialect path against
// OpenCV as a user writes it (cv::resize INTER_LINEAR, then normalize and quantize with cv
// calls), and lockstep's fused pillow-dialect path against Pillow + numpy as a user writes it
// (bench/pillow_pipeline.py run by /usr/bin/python3 on the same image, timed there with best of N).
// Each comparison first checks that both give the same bytes.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>

#include "lockstep/pipeline/preprocess.h"

namespace {
using namespace lockstep;

const ModelInput kInput{.width = 300,
                        .height = 300,
                        .channels = 3,
                        .dtype = DType::kUInt8,
                        .scale = 0.0078125,
                        .zero_point = 128};

Image Photo() {
  // Smooth gradients plus noise: a camera frame's statistics matter little to these kernels.
  Image im(1920, 1080, 3);
  std::mt19937 rng(7);
  for (int y = 0; y < im.height; ++y)
    for (int x = 0; x < im.width; ++x)
      for (int c = 0; c < 3; ++c)
        im.at(x, y, c) = uint8_t((x * (c + 1) / 8 + y / 5 + int(rng() % 24)) & 0xff);
  return im;
}

Spec OpenCvSpec() {
  Spec s;  // stretch, opencv bilinear
  s.normalize.mean = {127.5, 127.5, 127.5};
  s.normalize.std = {127.5, 127.5, 127.5};
  s.tensor.rounding = Rounding::kHalfToEven;  // cv's rounding (cvRound) is half to even
  return s;
}

// What a user writes with OpenCV: resize, float, (x - 127.5) / 127.5, / scale, round, + zp.
cv::Mat OpenCvPipeline(const cv::Mat& rgb) {
  cv::Mat resized, f, q;
  cv::resize(rgb, resized, cv::Size(300, 300), 0, 0, cv::INTER_LINEAR);
  resized.convertTo(f, CV_32F);
  cv::subtract(f, cv::Scalar::all(127.5), f);
  cv::divide(f, cv::Scalar::all(127.5), f);
  cv::divide(f, cv::Scalar::all(0.0078125), f);
  f.convertTo(q, CV_32S);  // cvRound
  cv::add(q, cv::Scalar::all(128), q);
  q.convertTo(q, CV_8U);  // saturating
  return q;
}

size_t Mismatches() {
  Image image = Photo();
  cv::Mat rgb(image.height, image.width, CV_8UC3, image.pixels.data());
  cv::Mat cv_out = OpenCvPipeline(rgb);
  TensorData ours = Preprocess(image, OpenCvSpec(), kInput).tensor;
  size_t n = 0;
  for (size_t i = 0; i < ours.bytes.size(); ++i) n += ours.bytes[i] != cv_out.data[i];
  return n;
}

void BM_LockstepFusedOpenCvDialect(benchmark::State& state) {
  const Image image = Photo();
  const Spec spec = OpenCvSpec();
  for (auto _ : state) benchmark::DoNotOptimize(Preprocess(image, spec, kInput).tensor.bytes);
  state.counters["mismatched_bytes_vs_opencv"] = double(Mismatches());
}
BENCHMARK(BM_LockstepFusedOpenCvDialect)->Unit(benchmark::kMicrosecond);

void BM_OpenCvResizeNormalizeQuantize(benchmark::State& state) {
  cv::setNumThreads(1);
  Image image = Photo();
  cv::Mat rgb(image.height, image.width, CV_8UC3, image.pixels.data());
  for (auto _ : state) benchmark::DoNotOptimize(OpenCvPipeline(rgb).data);
}
BENCHMARK(BM_OpenCvResizeNormalizeQuantize)->Unit(benchmark::kMicrosecond);

// Pillow + numpy on the same image: bench/pillow_pipeline.py's best-of-`repeats` times (µs) and
// its tensor. `ok` is false when python3, Pillow or numpy is missing.
struct PillowRun {
  bool ok = false;
  double wall_us = 0, cpu_us = 0;
  std::vector<uint8_t> tensor;
};

PillowRun RunPillow(const Image& image, int repeats) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "lockstep_preprocess_bench";
  fs::create_directories(dir);
  const fs::path photo = dir / "photo.rgb", tensor = dir / "pillow_tensor.bin";
  std::ofstream(photo, std::ios::binary)
      .write(reinterpret_cast<const char*>(image.pixels.data()),
             std::streamsize(image.pixels.size()));
  const std::string command = "/usr/bin/python3 " LOCKSTEP_BENCH_DIR "/pillow_pipeline.py " +
                              photo.string() + " " + std::to_string(image.width) + " " +
                              std::to_string(image.height) + " " + tensor.string() + " " +
                              std::to_string(repeats);
  PillowRun run;
  if (FILE* p = popen(command.c_str(), "r")) {
    run.ok = std::fscanf(p, "%lf %lf", &run.wall_us, &run.cpu_us) == 2;
    run.ok = pclose(p) == 0 && run.ok;
  }
  std::ifstream in(tensor, std::ios::binary);
  run.tensor.assign(std::istreambuf_iterator<char>(in), {});
  return run;
}

Spec PillowSpec() {
  Spec spec = OpenCvSpec();  // np.round is half to even too
  spec.resize.dialect = ResizeDialect::kPillow;
  return spec;
}

void BM_LockstepFusedPillowDialect(benchmark::State& state) {
  const Image image = Photo();
  const Spec spec = PillowSpec();
  for (auto _ : state) benchmark::DoNotOptimize(Preprocess(image, spec, kInput).tensor.bytes);
  const PillowRun pillow = RunPillow(image, 1);
  if (!pillow.ok) return state.SkipWithError("bench/pillow_pipeline.py did not run");
  const TensorData ours = Preprocess(image, spec, kInput).tensor;
  size_t n = 0;  // every byte counts as mismatched when the sizes differ
  if (ours.bytes.size() != pillow.tensor.size())
    n = ours.bytes.size();
  else
    for (size_t i = 0; i < ours.bytes.size(); ++i) n += ours.bytes[i] != pillow.tensor[i];
  state.counters["mismatched_bytes_vs_pillow"] = double(n);
}
BENCHMARK(BM_LockstepFusedPillowDialect)->Unit(benchmark::kMicrosecond);

// Time here is Pillow + numpy's best CPU time over 20 runs inside python (the interpreter's start
// is not counted); the CPU column is only this process waiting.
void BM_PillowNumpyResizeNormalizeQuantize(benchmark::State& state) {
  const Image image = Photo();
  for (auto _ : state) {
    const PillowRun pillow = RunPillow(image, 20);
    if (!pillow.ok) return state.SkipWithError("bench/pillow_pipeline.py did not run");
    state.SetIterationTime(pillow.cpu_us * 1e-6);
    state.counters["best_wall_us"] = pillow.wall_us;
  }
}
BENCHMARK(BM_PillowNumpyResizeNormalizeQuantize)
    ->Unit(benchmark::kMicrosecond)
    ->UseManualTime()
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
