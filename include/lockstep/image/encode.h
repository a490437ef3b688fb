// PNG encoding, for drawn results and traces; JPEG encoding, to reproduce pipelines that
// re-encode their frames.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "lockstep/image/image.h"

namespace lockstep {

std::vector<uint8_t> EncodePng(const Image& image);
// Writes a temp file beside `path` and renames it, so nothing is left half-written.
void WritePngFile(const Image& image, const std::filesystem::path& path);

// How a JPEG stores its two chroma planes: full resolution, halved horizontally, or halved both
// ways (what PIL and cv2.imwrite use by default).
enum class JpegSubsampling { k444, k422, k420 };

// Baseline JPEG with libjpeg-turbo: the standard IJG tables scaled by `quality` (1..100), the
// same tables PIL's and OpenCV's encoders write for the same quality. Gray images stay gray.
std::vector<uint8_t> EncodeJpeg(const Image& image, int quality,
                                JpegSubsampling subsampling = JpegSubsampling::k420);

}  // namespace lockstep
