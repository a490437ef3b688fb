// Invoke latency of the real models on the builtin kernels and XNNPACK, 1 and 2 threads.
// Run: build/engine_bench [--benchmark_filter=CocoSsd]; the shared assets come from
// LOCKSTEP_ASSETS or ../shared/assets beside the source tree.
#include <benchmark/benchmark.h>

#include "bench_assets.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include "lockstep/engine/engine.h"

namespace {

namespace fs = std::filesystem;

void InvokeModel(benchmark::State& state, const std::string& relative) {
  fs::path path = Asset(relative);
  if (!fs::is_regular_file(path)) {
    state.SkipWithError(("missing " + path.string()).c_str());
    return;
  }
  lockstep::EngineOptions options;
  options.xnnpack = state.range(0) != 0;
  options.threads = int(state.range(1));
  lockstep::Engine engine = lockstep::Engine::Load(path, options);
  for (size_t i = 0; i < engine.input_count(); ++i)
    engine.SetInput(i, lockstep::GeneratedInput(engine.input(i), i));
  engine.Invoke();  // XNNPACK packs its weights on the first run
  for (auto _ : state) engine.Invoke();
  state.SetLabel(engine.info().KernelSummary());
}

void BM_CocoSsdMobilenetV1Quant(benchmark::State& state) {
  InvokeModel(state, "models/detection/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite");
}
void BM_Tf2MobilenetV2Ptq(benchmark::State& state) {
  InvokeModel(state, "models/classification/tf2_mobilenet_v2_1.0_224_ptq.tflite");
}

BENCHMARK(BM_CocoSsdMobilenetV1Quant)
    ->ArgNames({"xnnpack", "threads"})
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Tf2MobilenetV2Ptq)
    ->ArgNames({"xnnpack", "threads"})
    ->ArgsProduct({{0, 1}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
