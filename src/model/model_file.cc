#include "lockstep/model/model_file.h"

#include <utility>

#include "lockstep/core/error.h"
#include "lockstep/model/model_io.h"

namespace lockstep {
ModelFile::ModelFile(std::vector<uint8_t> bytes, std::string source)
    : bytes_(std::move(bytes)), source_(std::move(source)), model_(ReadModel(bytes_, source_)) {}

const std::optional<ModelMetadata>& ModelFile::metadata() const {
  std::call_once(metadata_once_, [this] {
    try {
      metadata_ = ReadMetadata(model_, source_);
    } catch (...) {
      metadata_error_ = std::current_exception();
    }
  });
  if (metadata_error_) std::rethrow_exception(metadata_error_);
  return metadata_;
}

std::shared_ptr<const ModelFile> LoadModelFile(const std::filesystem::path& path) {
  return LoadModelBytes(ReadModelFileBytes(path), path.string());
}

std::shared_ptr<const ModelFile> LoadModelBytes(std::vector<uint8_t> bytes, std::string source) {
  return std::make_shared<const ModelFile>(std::move(bytes), std::move(source));
}

}  // namespace lockstep
