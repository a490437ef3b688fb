// Which raw YOLO head a model ends in, told from the shape of its output: YOLOv5's [1, N, 5+C]
// (cx, cy, w, h, objectness, C class scores per candidate) or YOLOv8/YOLO11's [1, 4+C, N]
// (cx, cy, w, h, C class scores; no objectness). Ultralytics exports carry no NMS, so every
// candidate of every grid cell comes out: N counts the cells of the stride 8, 16 and 32 grids
// (times 3 anchors for v5), which is how a head is told from any other [1, A, B] tensor.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lockstep/model/model.h"

namespace lockstep {

enum class YoloHeadKind { kV5, kV8 };

struct YoloHead {
  YoloHeadKind kind = YoloHeadKind::kV8;
  int candidates = 0;  // N
  int classes = 0;     // C
  // True when N is exactly the cell count of the stride 8/16/32 grids of the input (times 3
  // anchors for v5); false when only the shape's proportions suggest a head.
  bool grid_matches_input = false;
  std::string reason;  // for a person: which facts decided
  bool operator==(const YoloHead&) const = default;
};

// The head a [1, A, B] output shape means, for an input of input_width × input_height pixels;
// nullopt when the shape is no YOLO head. A shape that fits both layouts is read as the one
// whose candidate count matches the input's grids.
std::optional<YoloHead> YoloHeadOfShape(const std::vector<int32_t>& output_shape, int input_width,
                                        int input_height);

// The model's head: its single output, read with YoloHeadOfShape against its first input (NHWC
// or NCHW). nullopt when the model has more than one output or the shape is no head.
std::optional<YoloHead> YoloHeadOf(const Model& model);

std::string_view Name(YoloHeadKind kind);  // "yolov5", "yolov8"

}  // namespace lockstep
