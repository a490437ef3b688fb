// Internal to the doctor room: how an AP gap is shared among the spec units that differ, and the
// fix list that leads the report. Pure functions over a value per subset of units (the AP with
// those units switched back to training), so they are tested on hand-computed games.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "lockstep/doctor/doctor.h"

namespace lockstep::doctor {

// v(mask): the value with the units in `mask` switched (bit i: unit i). Called once per subset
// the estimate needs; the caller caches.
using SubsetValue = std::function<double(uint32_t)>;

// Exact Shapley values: each unit's marginal value averaged over every order (2^n subsets).
std::vector<double> ExactShapley(size_t units, const SubsetValue& value);

// Shapley values estimated from `orders` random orders of the units, each followed by its reverse
// (antithetic pairs: an additive game is then exact). `half_width` is the 95% interval of each
// mean over the pairs (normal approximation; 0 with one pair). Deterministic for a seed.
struct ShapleyEstimate {
  std::vector<double> value, half_width;
  size_t orders = 0;
};
ShapleyEstimate SampleShapley(size_t units, size_t orders, uint32_t seed, const SubsetValue& value);

// The units ranked by what fixing each recovers, largest first: the fair (Shapley) share of the
// AP gap when known, else the unit fixed alone; when no unit fixed alone recovers anything (the
// deployed AP near 0), by the reverse ablation (what each unit alone costs the training
// pipeline, in AP or, without annotations, in detections matched).
std::vector<FixStep> RankFixes(const DoctorReport& report);

}  // namespace lockstep::doctor
