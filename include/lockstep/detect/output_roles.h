// Which of a detector's outputs are the boxes, classes, scores and count of its
// TFLite_Detection_PostProcess op. Converters order them differently (TF1: boxes, classes,
// scores, count; TF2: scores, boxes, count, classes) and readers that trust position misread
// them, so the roles come from names the model carries, else from shapes and values.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lockstep/detect/postprocess_outputs.h"
#include "lockstep/engine/tensor_view.h"
#include "lockstep/model/metadata.h"
#include "lockstep/model/model.h"

namespace lockstep {

enum class OutputRoleRule {
  kMetadataNames,    // TFLite metadata output names ("location(s)", "category"/"classes", ...)
  kSignatureNames,   // TF2 signature output_0..3 = count, scores, classes, boxes (libcoral's map)
  kShapesAndValues,  // [1,M,4] boxes, 1 element count, integral classes, the other scores
};

struct DetectionOutputRoles {
  // Positions among the model's outputs (Engine::output(i)).
  size_t boxes = 0, classes = 0, scores = 0, count = 0;
  OutputRoleRule rule = OutputRoleRule::kShapesAndValues;
  std::string reason;  // for a person: which names or facts decided
};

// The roles, or why no rule could tell them on these values (the count was 0, classes and
// scores looked alike): another input may decide.
struct OutputRoleDecision {
  std::optional<DetectionOutputRoles> roles;
  std::string undecided;  // why, when roles is nullopt
};

// `outputs` are the model's outputs after an Invoke (runtime shapes: TF2 files may store empty
// shapes; the values rule reads the data). When the model has a TFLite_Detection_PostProcess op,
// only its four outputs are candidates (LSTM trackers also output their state). Outputs that
// cannot be a detector's (their number, no postprocess op's four) are an Error.
OutputRoleDecision DecideDetectionOutputRoles(const Model& model,
                                              const std::optional<ModelMetadata>& metadata,
                                              const std::vector<TensorView>& outputs,
                                              const std::string& source);

// The same, with undecided roles an Error too (field "detection outputs").
DetectionOutputRoles AssignDetectionOutputRoles(const Model& model,
                                                const std::optional<ModelMetadata>& metadata,
                                                const std::vector<TensorView>& outputs,
                                                const std::string& source);

std::string_view OutputRoleRuleName(OutputRoleRule rule);

// The op's four outputs read in their roles (see ReadPostprocessOutputs).
PostprocessOutputs ReadPostprocessOutputs(const std::vector<TensorView>& outputs,
                                          const DetectionOutputRoles& roles,
                                          const std::string& source);

}  // namespace lockstep
