// One detected object: a class, its score and its box. The frame of the box is stated by whoever
// produces it: the decoders give boxes normalized to the model input ([0,1] when inside it,
// not clipped), and a Transform maps them to source pixels.
#pragma once

#include "lockstep/geometry.h"

namespace lockstep {

struct Detection {
  int class_index = 0;  // 0-based, background excluded (as TFLite_Detection_PostProcess gives it)
  float score = 0;
  Box box;
};

}  // namespace lockstep
