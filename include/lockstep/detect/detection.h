// One detected object: a class, its score and its box. The frame of the box is stated by whoever
// produces it: the decoders give boxes normalized to the model input ([0,1] when inside it,
// not clipped), and a Transform maps them to source pixels.
#pragma once

#include <string>
#include <vector>

#include "lockstep/image/image.h"
#include "lockstep/pipeline/geometry.h"

namespace lockstep {

struct Detection {
  int class_index = 0;  // 0-based, background excluded (as TFLite_Detection_PostProcess gives it)
  float score = 0;
  Box box;
};

// The same object in original-image pixels, with its label.
struct PixelDetection {
  int class_index = 0;  // 0-based, as the decoder gives it
  std::string label;    // the label of class_index, or "class N" when there is none
  float score = 0;
  Box box;  // original-image pixels, corners at integers (0..width, 0..height)
};

// A box normalized to the model input (the decoders' frame) → original-image pixels: scaled by
// the input size, then through the inverse geometry; clamped to the source image on request.
Box NormalizedToSourcePixels(const Box& normalized, const Transform& transform, bool clamp);

// The label of a class index: labels[i] when present, else "class i".
std::string LabelOf(const std::vector<std::string>& labels, int class_index);

// The decoded image in RGB with each detection drawn as a box labelled "label 0.87" in its
// class's colour, the best on top; lines and text grow with the image (as `lockstep detect
// --draw` writes them).
Image DrawDetections(const Image& decoded, const std::vector<PixelDetection>& detections);

}  // namespace lockstep
