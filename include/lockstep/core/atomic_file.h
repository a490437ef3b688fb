// Writing an output file so that it is either complete or absent: bytes go to a temporary file in
// the target's folder (unnamed where the file system allows, so even a killed process leaves
// nothing behind; otherwise a name unique to this process, call and a random salt, so concurrent
// writers never share one), every write and the close are checked, and the file is then renamed
// over the target.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace lockstep {

// Every failure (no such folder, no permission, disk full, file size limit, rename refused) is a
// lockstep::Error naming `path` and the reason, and no temporary file is left behind.
void WriteFileAtomically(const std::filesystem::path& path, std::span<const uint8_t> bytes);
void WriteFileAtomically(const std::filesystem::path& path, std::string_view text);

// Creates the output folder `path` (and its parents) unless it exists. An Error naming the folder,
// `what` (the option, e.g. "--draw") and the reason: permission denied, a read-only file system,
// a file where a folder should be, no space left.
void CreateOutputFolder(const std::filesystem::path& path, const std::string& what);

}  // namespace lockstep
