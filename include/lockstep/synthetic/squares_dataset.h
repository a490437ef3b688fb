// The demo's annotated image set, made here with no external file: solid-coloured squares on a
// textured background, with COCO annotations.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lockstep/eval/coco.h"
#include "lockstep/image/image.h"

namespace lockstep {

// The classes, in the detector's class-index order (COCO category ids 1, 2, 3).
std::vector<std::string> SquareLabels();

struct SquaresOptions {
  int images = 40;
  int width = 160, height = 112;  // not square, so letterbox and stretch differ
  uint64_t seed = 20261124;
};

// Images and their COCO annotations; images[i] is the file dataset.images[i].file_name.
struct SquaresDataset {
  CocoDataset dataset;
  std::vector<Image> images;  // RGB
};

// Deterministic for a given options value on every platform: its own random generator, integer
// arithmetic for every pixel. Squares are 14 to 38 pixels, 1 to 4 per image, at least 8 pixels
// apart and 2 pixels inside the border; their colour varies in saturation.
SquaresDataset GenerateSquares(const SquaresOptions& options = {});

// The PNG files into `images_dir` (created) and the annotations to `annotations`.
void WriteSquares(const SquaresDataset& squares, const std::filesystem::path& images_dir,
                  const std::filesystem::path& annotations);

}  // namespace lockstep
