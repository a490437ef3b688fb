// Runs a spec over the generated squares with the real Detector and scores it with COCOeval.
#pragma once

#include <filesystem>
#include <vector>

#include "lockstep/detect/detector.h"
#include "lockstep/eval/coco_eval.h"
#include "lockstep/synthetic/squares_dataset.h"
#include "lockstep/synthetic/squares_detector.h"
#include "lockstep/synthetic/squares_spec.h"

namespace lockstep::testing {

inline std::vector<CocoDetection> DetectSquares(const std::filesystem::path& model,
                                                const Spec& spec, const SquaresDataset& squares) {
  Detector detector = Detector::Create(model, spec, {.score_threshold = 0.0});
  std::vector<CocoDetection> out;
  for (size_t i = 0; i < squares.images.size(); ++i)
    for (const PixelDetection& d : detector.Detect(squares.images[i]).detections)
      out.push_back({squares.dataset.images[i].id,
                     d.class_index + 1,
                     {d.box.xmin, d.box.ymin, d.box.xmax - d.box.xmin, d.box.ymax - d.box.ymin},
                     d.score});
  return out;
}

inline CocoEvalResult EvaluateSquares(const std::filesystem::path& model, const Spec& spec,
                                      const SquaresDataset& squares) {
  return EvaluateBoxes(squares.dataset, DetectSquares(model, spec, squares));
}

}  // namespace lockstep::testing
