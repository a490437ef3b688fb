// The image decoders (JPEG, PNG, BMP by content; EXIF): any bytes give pixels or a
// lockstep::Error, never a crash, a hang or pixels that disagree with the size.
#include <cstddef>
#include <cstdint>
#include <span>

#include "lockstep/core/error.h"
#include "lockstep/image/decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  (void)lockstep::ExifOrientation(bytes);
  lockstep::DecodeOptions options;
  options.max_pixels = 4'000'000;  // keeps a fuzzed header from asking for gigabytes
  try {
    lockstep::Image image = lockstep::DecodeImage(bytes, "fuzz.img", options);
    if (image.width < 1 || image.height < 1 ||
        image.pixels.size() != size_t(image.width) * size_t(image.height) * size_t(image.channels))
      __builtin_trap();
  } catch (const lockstep::Error&) {
  }
  return 0;
}
