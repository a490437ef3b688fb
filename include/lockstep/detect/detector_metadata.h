// The anchors MediaPipe object detectors (Model Maker) keep in their TFLite metadata: a custom
// metadata entry named DETECTOR_METADATA holding an ObjectDetectorOptions flatbuffer
// (mediapipe/tasks/metadata/object_detector_metadata_schema.fbs, file identifier "V001").
#pragma once

#include <optional>
#include <string>

#include "lockstep/core/tensor_data.h"
#include "lockstep/model/model.h"

namespace lockstep {

inline constexpr const char* kDetectorMetadataName = "DETECTOR_METADATA";

// float32 [N,4] (y_center, x_center, h, w) from the entry's fixed anchors; nullopt when the model
// has no such entry. An entry that does not parse (offsets out of bounds, wrong identifier, no
// anchors) is an Error naming `source`.
std::optional<TensorData> MetadataAnchors(const Model& model, const std::string& source);

}  // namespace lockstep
