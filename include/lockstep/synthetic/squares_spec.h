// The squares detector's training pipeline spec, and the classic deployment mistakes planted
// into it (what `lockstep demo` measures and diagnoses).
#pragma once

#include <string>
#include <vector>

#include "lockstep/pipeline/spec.h"

namespace lockstep {

// The pipeline the detector was built for: stretch, OpenCV bilinear, [-1,1], labels in the spec.
Spec SquaresTrainingSpec();

// One classic deployment mistake planted into the training spec.
struct PlantedMistake {
  std::string name;         // "normalize_0_1", "letterbox", "zero_point_ignored"
  std::string description;  // for a person: "[0,1] normalization instead of [-1,1]"
  Spec spec;                // the deployed spec with only this mistake
};

// The three classic mistakes, one at a time.
std::vector<PlantedMistake> ClassicMistakes(const Spec& training);
// The three classic mistakes planted together into `training`.
Spec WithAllMistakes(const Spec& training);

}  // namespace lockstep
