// A .tflite file loaded once: its bytes, the Model parsed from them and its TFLite metadata
// (parsed when first asked for). Shared as std::shared_ptr<const ModelFile> by every Engine,
// Detector and spec derivation that needs the model, so a process reads each file once and
// hands TFLite the same bytes (MediaPipe's ModelResources).
#pragma once

#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "lockstep/model/metadata.h"
#include "lockstep/model/model.h"

namespace lockstep {

class ModelFile {
 public:
  // Verifies and parses `bytes` (ReadModel); `source` names them in errors (usually the path).
  ModelFile(std::vector<uint8_t> bytes, std::string source);
  ModelFile(const ModelFile&) = delete;
  ModelFile& operator=(const ModelFile&) = delete;

  const std::string& source() const { return source_; }
  std::span<const uint8_t> bytes() const { return bytes_; }
  const Model& model() const { return model_; }
  // The TFLITE_METADATA entry decoded (ReadMetadata), or nullopt when the model has none. Parsed
  // on the first call, once across threads; bad metadata is an Error on every call, so that
  // users who never ask for the metadata never fail on it.
  const std::optional<ModelMetadata>& metadata() const;

 private:
  std::vector<uint8_t> bytes_;
  std::string source_;
  Model model_;
  mutable std::once_flag metadata_once_;
  mutable std::optional<ModelMetadata> metadata_;
  mutable std::exception_ptr metadata_error_;
};

// Reads the file once. Errors name the file: missing, a directory, unreadable, not a model.
std::shared_ptr<const ModelFile> LoadModelFile(const std::filesystem::path& path);
// A model already in memory (written by lockstep, received over the wire).
std::shared_ptr<const ModelFile> LoadModelBytes(std::vector<uint8_t> bytes, std::string source);

}  // namespace lockstep
