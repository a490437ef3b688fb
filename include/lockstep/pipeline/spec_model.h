// Specs and models together: what a model's input asks for, a spec derived from a model (each
// field marked fact or assumption), and a spec checked against a model.
#pragma once

#include <string>
#include <vector>

#include "lockstep/core/finding.h"
#include "lockstep/model/model.h"
#include "lockstep/model/model_file.h"
#include "lockstep/pipeline/preprocess.h"
#include "lockstep/pipeline/spec.h"

namespace lockstep {

// The first input of the first subgraph, which must be an image: [1,H,W,C] (or [1,C,H,W]) with
// C of 1 or 3. Anything else is an Error naming the model and the tensor.
ModelInput ModelInputOf(const Model& model, const std::string& source);

// The float range [lo, hi] the input quantization can represent; nullopt for float inputs.
std::optional<std::pair<double, double>> QuantizedRange(const ModelInput& input);

// A spec for the model: input size, dtype and quantization from the tensor; normalization from
// the metadata's NormalizationOptions when present, else from the float range the input
// quantization implies (scale 1/128, zp 128 → [-1,1); scale 1/255, zp 0 → [0,1]).
// Spec::provenance marks each field as a fact of the model or an assumption to confirm.
Spec SpecFromModel(const ModelFile& model);
Spec SpecFromModel(const Model& model, const std::string& source);

// What in `spec` disagrees with `model`. A finding marked blocking means the spec cannot feed
// the model at all; 8-bit twins (uint8 data for int8) block unless reinterpret_8bit_input.
std::vector<Finding> CheckSpec(const Spec& spec, const ModelFile& model,
                               bool reinterpret_8bit_input = false);
std::vector<Finding> CheckSpec(const Spec& spec, const Model& model, const std::string& source,
                               bool reinterpret_8bit_input = false);

}  // namespace lockstep
