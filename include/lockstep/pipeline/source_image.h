// A pipeline's source image: an image file decoded as the spec says (EXIF orientation applied
// or not, input.exif_orientation), in RGB or gray as the file holds it. Every run decodes
// through here, so the two pipelines of a comparison never differ in how a file is read unless
// their specs do.
#pragma once

#include <cstdint>
#include <filesystem>

#include "lockstep/image/decode.h"
#include "lockstep/image/image.h"
#include "lockstep/pipeline/spec.h"

namespace lockstep {

// Errors name the file (DecodeImageFile); images over max_pixels are refused.
Image DecodeSourceImage(const std::filesystem::path& file, const Spec& spec,
                        int64_t max_pixels = DecodeOptions{}.max_pixels);

}  // namespace lockstep
