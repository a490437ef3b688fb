// Where the source image lands in the model input: a Transform computed from the spec's geometry,
// whose inverse maps model coordinates back to original pixels with the same integers the
// forward step used (a float pad against an integer pad shifts boxes by pixels, FIELD-NOTES
// #27-28).
#pragma once

#include "lockstep/pipeline/spec.h"

namespace lockstep {

struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
  bool operator==(const Rect&) const = default;
};

struct Point {
  double x = 0, y = 0;
};

struct Box {
  double xmin = 0, ymin = 0, xmax = 0, ymax = 0;
};

// Intersection over union of two corner boxes; 0 when the union is empty.
double Iou(const Box& a, const Box& b);

struct Transform {
  int source_width = 0, source_height = 0;  // the decoded image
  int target_width = 0, target_height = 0;  // the model input
  Rect crop;     // the part of the source that is resized (all of it but for center_crop)
  Rect content;  // where the resized crop lands in the target; the rest is pad
  // The content's exact origin in the target: content.x/y, except for MediaPipe's fractional pads.
  double origin_x = 0, origin_y = 0;
  // Target pixels per source pixel. Usually content/crop, but a letterbox keeps its ratio r
  // (Ultralytics' scale_boxes divides by r, not by the rounded size).
  double scale_x = 1, scale_y = 1;
  // What the inverse takes away beyond the origin: 0, except for a deployed side that un-maps
  // boxes with the unrounded pads (W - w*r)/2 while the forward step placed them at integers
  // (geometry.inverse_pads float): then Inverse is not Forward's exact inverse, by design.
  double inverse_shift_x = 0, inverse_shift_y = 0;

  // Source pixel coordinates → target pixel coordinates (continuous, corners at integers).
  Point Forward(Point p) const;
  // Target → source, the inverse of Forward.
  Point Inverse(Point p) const;
  Box Inverse(const Box& b) const;
  bool operator==(const Transform&) const = default;
};

// The transform the spec's geometry gives for a source image of the given size into a
// target_width × target_height input. Errors name the spec field (e.g. pad_only with an image
// larger than the input).
Transform ComputeTransform(const GeometrySpec& geometry, int source_width, int source_height,
                           int target_width, int target_height);

}  // namespace lockstep
