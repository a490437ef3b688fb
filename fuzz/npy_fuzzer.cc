// The .npy reader: any bytes give a tensor or a lockstep::Error, never a crash.
#include <cstddef>
#include <cstdint>
#include <span>

#include "lockstep/core/error.h"
#include "lockstep/core/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    lockstep::TensorData t = lockstep::ReadNpy(std::span(data, size), "fuzz.npy");
    // What was read must encode back to a file that reads as the same tensor.
    std::vector<uint8_t> again = lockstep::EncodeNpy(t);
    lockstep::TensorData back = lockstep::ReadNpy(again, "again.npy");
    if (back.shape != t.shape || back.bytes != t.bytes) __builtin_trap();
  } catch (const lockstep::Error&) {
  }
  return 0;
}
