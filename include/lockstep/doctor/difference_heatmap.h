// Where two images of the same size differ, as a picture: per pixel the sum over channels of
// |a − b|, coloured on a perceptual scale (viridis: dark violet for 0 through teal to yellow for
// the largest difference), so a glance shows a pad band, a shifted edge or a global offset.
#pragma once

#include <cstddef>
#include <vector>

#include "lockstep/image/draw.h"
#include "lockstep/image/image.h"

namespace lockstep {

struct PixelDifference {
  int width = 0, height = 0, channels = 0;
  std::vector<int> sum;  // per pixel, row-major: Σ_c |a(x,y,c) − b(x,y,c)|, 0..255·channels
  int max = 0;
  size_t differing = 0;  // pixels whose sum is not 0
};

// `a` and `b` must have the same width, height and channel count (an Error naming them if not).
PixelDifference DiffPixels(const Image& a, const Image& b);

// The perceptual colour of t in [0,1] (clamped): viridis, interpolated between nine stops.
Rgb PerceptualColor(double t);

// One RGB pixel per difference: PerceptualColor(sum / scale_max). scale_max ≤ 0 colours every
// pixel as 0. Pixels where the images agree are exactly PerceptualColor(0).
Image DifferenceHeatmap(const PixelDifference& difference, int scale_max);

}  // namespace lockstep
