// Image files to pixels with the codecs the training side uses (libjpeg-turbo, libpng), so the
// decoded bytes equal what cv2.imread and PIL produce for the same file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "lockstep/image/image.h"

namespace lockstep {

struct DecodeOptions {
  // Refuse images with more pixels than this before decoding them (decompression bombs).
  int64_t max_pixels = 100'000'000;
  // Rotate/flip JPEGs by their EXIF orientation, as PIL's ImageOps.exif_transpose and
  // cv2.imread do.
  bool apply_exif_orientation = true;
};

// Decodes JPEG, PNG or BMP (recognised by content, not name) to 8-bit pixels with the file's own
// channel count: 1 (gray), 3 (RGB) or 4 (RGBA). `source` names the bytes in errors.
Image DecodeImage(std::span<const uint8_t> bytes, const std::string& source,
                  const DecodeOptions& options = {});
Image DecodeImageFile(const std::filesystem::path& path, const DecodeOptions& options = {});

// The EXIF orientation tag (1..8) of a JPEG's APP1 segment; 1 when absent or unreadable.
int ExifOrientation(std::span<const uint8_t> jpeg);
// The same for a file (errors name it).
int ExifOrientationOfFile(const std::filesystem::path& path);
// Applies an EXIF orientation (1..8) to pixels.
Image ApplyOrientation(const Image& image, int orientation);

}  // namespace lockstep
