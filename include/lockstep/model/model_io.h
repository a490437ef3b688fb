// Reading and writing .tflite files. Every buffer is verified before any field is read; a bad
// file is a lockstep::Error naming the file and what is wrong with it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "lockstep/model/model.h"

namespace lockstep {

// `source` names the bytes in error messages (usually the path).
Model ReadModel(std::span<const uint8_t> bytes, const std::string& source);
// The file's bytes, unparsed; errors name the file (missing, a directory, unreadable).
std::vector<uint8_t> ReadModelFileBytes(const std::filesystem::path& path);
Model ReadModelFile(const std::filesystem::path& path);

// The flatbuffer (identifier "TFL3") followed by a zip of model.associated_files, if any.
std::vector<uint8_t> WriteModel(const Model& model);
// Writes to a temporary file beside `path` and renames it, so nothing is left half-written.
void WriteModelFile(const Model& model, const std::filesystem::path& path);

}  // namespace lockstep
