// COCO box evaluation alone (evaluate + accumulate + summarize, no JSON) on COCO128's real
// annotations with ~2,900 synthetic detections (tests/eval/synthetic.h, seed 2017: jittered,
// dropped and duplicated boxes, 15 false positives per image, tied scores).
// Run: build/coco_eval_bench. It writes those detections to
// $LOCKSTEP_BENCH_RESULTS (default <temp>/lockstep_coco128_detections.json) so the numpy oracle
// can be timed on the same input:
//   /usr/bin/python3 tests/eval/oracle/numpy_cocoeval.py
//     ../shared/assets/datasets/coco128/annotations/instances_train2017.json
//     <that file> --repeat 5      (one command line; prints "seconds": best of 5)
#include <benchmark/benchmark.h>

#include "bench_assets.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include "../tests/eval/synthetic.h"
#include "lockstep/eval/coco_eval.h"

namespace {

namespace fs = std::filesystem;

void EvaluateCoco128(benchmark::State& state) {
  fs::path gt = Asset("datasets/coco128/annotations/instances_train2017.json");
  if (!fs::is_regular_file(gt)) {
    state.SkipWithError(("missing " + gt.string()).c_str());
    return;
  }
  lockstep::CocoDataset dataset = lockstep::ReadCocoDataset(gt);
  std::vector<lockstep::CocoDetection> detections =
      lockstep::synthetic::DetectionsFrom(dataset, 2017, 0.85, 15);
  const char* out = std::getenv("LOCKSTEP_BENCH_RESULTS");
  fs::path results =
      out ? fs::path(out) : fs::temp_directory_path() / "lockstep_coco128_detections.json";
  lockstep::WriteCocoResults(results, detections);

  lockstep::CocoEvalResult result;
  for (auto _ : state) {
    result = lockstep::EvaluateBoxes(dataset, detections);
    // The whole object: this benchmark version's DoNotOptimize(double&) scrambles the value.
    benchmark::DoNotOptimize(result);
  }
  const double ap = result.stats[0];
  state.counters["detections"] = double(detections.size());
  state.SetLabel("AP " + std::to_string(ap) + ", detections written to " + results.string());
}
BENCHMARK(EvaluateCoco128)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
