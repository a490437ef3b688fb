// Writing an output file so that it is either complete or absent: bytes go to a temporary file
// beside the target (a name unique to this process and call, so concurrent writers never share
// one), which is closed with its errors checked and then renamed over the target.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace lockstep {

// Every failure (no such folder, no permission, disk full, rename refused) is a lockstep::Error
// naming `path`, and the temporary file is gone afterwards.
void WriteFileAtomically(const std::filesystem::path& path, std::span<const uint8_t> bytes);
void WriteFileAtomically(const std::filesystem::path& path, std::string_view text);

}  // namespace lockstep
