// PNG encoding, for drawn results and traces.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "lockstep/image/image.h"

namespace lockstep {

std::vector<uint8_t> EncodePng(const Image& image);
// Writes a temp file beside `path` and renames it, so nothing is left half-written.
void WritePngFile(const Image& image, const std::filesystem::path& path);

}  // namespace lockstep
