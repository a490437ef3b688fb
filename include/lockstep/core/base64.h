// Base64 (RFC 4648, standard alphabet, '=' padding): how self-contained reports embed images as
// data: URIs, and how tests take them out again.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lockstep {

std::string Base64Encode(std::span<const uint8_t> bytes);

// Padding required (length a multiple of 4); no whitespace. Errors name `source`.
std::vector<uint8_t> Base64Decode(std::string_view text, const std::string& source);

}  // namespace lockstep
