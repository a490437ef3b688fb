// The doctor's checks that need no image: each spec against the model, the training spec against
// the deployed one (one finding per differing cause), and facts of the model.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lockstep/core/finding.h"
#include "lockstep/doctor/spec_diff.h"
#include "lockstep/model/model.h"
#include "lockstep/pipeline/preprocess.h"
#include "lockstep/pipeline/spec.h"

namespace lockstep::doctor {

// The findings one differing unit stands for, named by cause ("normalization_range",
// "channel_order", ...): expected is the training value, found the deployed one.
std::vector<Finding> DifferenceFindings(const SpecDifference& difference, const Spec& training,
                                        const Spec& deployed, const ModelInput& input);

// "[-1,1]", "[0,1]", "0..255 (raw pixels)", "mean (123.7, 116.3, 103.5) std (...)".
std::string NormalizationText(const NormalizeSpec& n);

// CheckSpec on both specs (the training spec's own disagreements with the model are prefixed
// "training_"), the differences' findings, and model facts as info findings.
std::vector<Finding> StaticFindings(const Model& model, const std::string& model_source,
                                    const Spec& training, const Spec& deployed,
                                    const std::vector<SpecDifference>& differences);

// Whether the Detector can run `spec` on the model at all (size, layout, decoder): a CheckSpec
// finding that blocks it; empty when it can run (an 8-bit dtype swap runs reinterpreted).
std::optional<Finding> Blocking(const std::vector<Finding>& check_spec_findings);

}  // namespace lockstep::doctor
