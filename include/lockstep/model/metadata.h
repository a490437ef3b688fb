// The TFLite model metadata ("TFLITE_METADATA", schema M001) as plain values: what the model's
// author says about its inputs (normalization, image layout) and outputs (boxes, label files).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lockstep/model/model.h"

namespace lockstep {

// A file the metadata names; its bytes are in Model::associated_files under the same name.
struct MetadataFile {
  std::string name;
  std::string description;
  std::string type;  // "TENSOR_AXIS_LABELS", "TENSOR_VALUE_LABELS", ... (the schema's spelling)
  std::string locale;
  bool operator==(const MetadataFile&) const = default;
};

// (x - mean) / std per channel; one value means every channel.
struct Normalization {
  std::vector<float> mean, std;
  bool operator==(const Normalization&) const = default;
};

struct ImageLayout {
  std::string color_space;                // "RGB", "GRAYSCALE", "UNKNOWN"
  std::optional<uint32_t> width, height;  // the default size, when given
  bool operator==(const ImageLayout&) const = default;
};

struct BoundingBoxLayout {
  std::vector<uint32_t> index;  // order of the four values; empty: the type's default order
  std::string type;             // "BOUNDARIES", "UPPER_LEFT", "CENTER", "UNKNOWN"
  std::string coordinate_type;  // "RATIO" or "PIXEL"
  bool operator==(const BoundingBoxLayout&) const = default;
};

struct TensorMetadata {
  std::string name, description;
  std::optional<Normalization> normalization;
  std::optional<ImageLayout> image;
  std::optional<BoundingBoxLayout> bounding_box;
  std::optional<float> score_threshold;  // ScoreThresholdingOptions.global_score_threshold
  std::vector<float> stats_min, stats_max;
  std::vector<MetadataFile> associated_files;
  bool operator==(const TensorMetadata&) const = default;
};

struct ModelMetadata {
  std::string name, description, version, author, license, min_parser_version;
  std::vector<TensorMetadata> inputs, outputs;  // of the first subgraph, in subgraph order
  std::vector<MetadataFile> associated_files;   // the model's and the first subgraph's own
  std::vector<std::string> custom_metadata;     // names of the first subgraph's custom entries
  bool operator==(const ModelMetadata&) const = default;
};

// Verifies and decodes an M001 buffer. `source` names it in errors.
ModelMetadata ParseMetadata(std::span<const uint8_t> bytes, const std::string& source);

// The model's TFLITE_METADATA entry decoded, or nullopt when the model has none.
std::optional<ModelMetadata> ReadMetadata(const Model& model, const std::string& source);

// The class names the metadata points at: the first output's TENSOR_AXIS_LABELS file, else its
// TENSOR_VALUE_LABELS file (detectors put the label map on the classes output), else a
// model-level label file, read from Model::associated_files one label per line. Ultralytics
// exports name a Python-dict file instead; its `names` entry is read. Empty when nothing names
// labels; an Error when the named file is missing from the model.
std::vector<std::string> Labels(const Model& model, const ModelMetadata& metadata,
                                const std::string& source);

}  // namespace lockstep
