// The binary (reflection) form of src/model/schema/tflite.fbs, embedded at build time by
// cmake/Schemas.cmake. The model reader and writer use it to handle builtin option tables
// generically, by field name.
#pragma once

#include <cstdint>
#include <span>

namespace lockstep::schema {

std::span<const uint8_t> tflite_bfbs();

}  // namespace lockstep::schema
