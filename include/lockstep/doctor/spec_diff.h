// Two pipeline specs side by side: which fields differ, grouped into the units a person changes
// together (the normalization is one mean and std, not six numbers), and a spec with chosen
// units switched from one side to the other — the doctor's attribution runs those.
#pragma once

#include <string>
#include <vector>

#include "lockstep/pipeline/spec.h"

namespace lockstep {

// One leaf of the spec's JSON that differs: "$.normalize.mean[0]", as text on each side.
struct FieldDifference {
  std::string field;
  std::string training;
  std::string deployed;
};

// A unit of change: the fields a person sets together, named in the domain's words.
struct SpecDifference {
  std::string unit;  // "input.channel_order", "geometry", "resize", "normalize",
                     // "tensor.quantization", "tensor.rounding", "output.nms", ...
  std::vector<FieldDifference> fields;
};

// Every difference between the two specs' JSON (ToJson), leaf by leaf, grouped into units, in
// the order of the data flow. Empty when the specs describe the same pipeline.
std::vector<SpecDifference> DiffSpecs(const Spec& training, const Spec& deployed);

// `deployed` with the fields of `units` taken from `training` (the spec is re-parsed, so the
// result is a valid spec or an Error naming the unit).
Spec WithTrainingUnits(const Spec& deployed, const Spec& training,
                       const std::vector<std::string>& units);

}  // namespace lockstep
