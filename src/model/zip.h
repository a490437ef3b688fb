// The zip archive that TFLite's metadata writer appends after a model's flatbuffer (label maps
// and other associated files). Internal to the model room.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "lockstep/model/model.h"

namespace lockstep::zip {

// The files of the zip at the end of `file`, or none when `file` does not end with a zip
// End-Of-Central-Directory record. Stored and deflated entries; anything else, or a damaged
// archive, is a lockstep::Error naming `source`. A deflated entry over 16 MiB, or one that would
// take the expanded total past 64 MiB, is returned unexpanded (`expanded` false).
std::vector<AssociatedFile> ReadAppended(std::span<const uint8_t> file, const std::string& source);

// Appends a zip of `files` (stored entries) to `out`, with offsets counted from the start of
// `out`, so the whole result is a valid zip as well as a valid model.
void Append(const std::vector<AssociatedFile>& files, std::vector<uint8_t>& out);

}  // namespace lockstep::zip
