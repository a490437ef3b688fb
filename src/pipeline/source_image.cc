#include "lockstep/pipeline/source_image.h"

namespace lockstep {

Image DecodeSourceImage(const std::filesystem::path& file, const Spec& spec, int64_t max_pixels) {
  return DecodeImageFile(
      file, {.max_pixels = max_pixels, .apply_exif_orientation = spec.input.exif_orientation});
}

}  // namespace lockstep
