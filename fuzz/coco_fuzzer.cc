// The COCO readers and evaluation: a dataset and a results file (the input split at the first
// NUL byte) give statistics or a lockstep::Error, never a crash or a NaN statistic.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lockstep/core/error.h"
#include "lockstep/eval/coco.h"
#include "lockstep/eval/coco_eval.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t split = text.find('\0');
  try {
    lockstep::CocoDataset dataset = lockstep::ParseCocoDataset(text.substr(0, split), "fuzz.json");
    (void)lockstep::CocoDatasetJson(dataset);
    if (split == std::string_view::npos) return 0;
    std::vector<lockstep::CocoDetection> detections =
        lockstep::ParseCocoResults(text.substr(split + 1), "results.json", dataset);
    (void)lockstep::CocoResultsJson(detections);
    lockstep::CocoEvalResult result = lockstep::EvaluateBoxes(dataset, detections);
    for (double s : result.stats)
      if (std::isnan(s)) __builtin_trap();
  } catch (const lockstep::Error&) {
  }
  return 0;
}
