#include "lockstep/model/model_file.h"

#include <fstream>
#include <iterator>
#include <utility>

#include "lockstep/core/error.h"
#include "lockstep/model/model_io.h"

namespace lockstep {
namespace {

std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error(path.string(), "", "a .tflite model file", "no such file");
  if (std::filesystem::is_directory(path, ec))
    throw Error(path.string(), "", "a .tflite model file", "a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path.string(), "", "a readable .tflite model file", "no read access");
  std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw Error(path.string(), "", "a readable file", "a read error");
  return bytes;
}

}  // namespace

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
  return LoadModelBytes(ReadFileBytes(path), path.string());
}

std::shared_ptr<const ModelFile> LoadModelBytes(std::vector<uint8_t> bytes, std::string source) {
  return std::make_shared<const ModelFile>(std::move(bytes), std::move(source));
}

}  // namespace lockstep
