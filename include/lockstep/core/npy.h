// numpy .npy files: the format `lockstep run` writes outputs in and reads inputs from, so a
// training script can np.load() what the device produced (and the other way round).
//
// Versions 1.0, 2.0 and 3.0 headers; C order only; little-endian dtypes u1 i1 u2 i2 u4 i4 u8 i8
// f2 f4 f8 b1. Anything else is a lockstep::Error naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "lockstep/core/tensor_data.h"

namespace lockstep {

// `source` names the bytes in error messages (usually the path).
TensorData ReadNpy(std::span<const uint8_t> bytes, const std::string& source);
TensorData ReadNpyFile(const std::filesystem::path& path);

// A version 1.0 file (2.0 when the header would not fit 1.0's 16-bit length).
std::vector<uint8_t> EncodeNpy(const TensorData& tensor);
// Writes to a temporary file beside `path` and renames it, so nothing is left half-written.
void WriteNpyFile(const TensorData& tensor, const std::filesystem::path& path);

// numpy's type string for a dtype ("<f4", "|u1"); throws lockstep::Error for types .npy cannot
// hold here (string, complex, resource, variant).
std::string NpyDescr(DType dtype);

}  // namespace lockstep
