#include "lockstep/model/yolo_head.h"

namespace lockstep {
namespace {

// Cells of the stride 8, 16 and 32 grids Ultralytics' Detect layers predict on.
int GridCells(int width, int height) {
  int cells = 0;
  for (int stride : {8, 16, 32})
    cells += ((width + stride - 1) / stride) * ((height + stride - 1) / stride);
  return cells;
}

std::string Shape(int a, int b) {
  return "[1," + std::to_string(a) + "," + std::to_string(b) + "]";
}

}  // namespace

std::string_view Name(YoloHeadKind kind) { return kind == YoloHeadKind::kV5 ? "yolov5" : "yolov8"; }

std::optional<YoloHead> YoloHeadOfShape(const std::vector<int32_t>& s, int input_width,
                                        int input_height) {
  if (s.size() != 3 || s[0] != 1) return std::nullopt;
  const int a = s[1], b = s[2];
  const int cells = input_width > 0 && input_height > 0 ? GridCells(input_width, input_height) : 0;
  // v5: [1, N, 5+C] with N = 3 anchors per cell; v8: [1, 4+C, N] with N = one per cell.
  const bool v5_grid = cells > 0 && a == 3 * cells && b >= 6;
  const bool v8_grid = cells > 0 && b == cells && a >= 5;
  if (v5_grid || v8_grid) {
    YoloHead h;
    h.grid_matches_input = true;
    if (v5_grid) {
      h.kind = YoloHeadKind::kV5, h.candidates = a, h.classes = b - 5;
      h.reason = "output " + Shape(a, b) + ": " + std::to_string(a) +
                 " candidates = 3 anchors x the stride 8/16/32 cells of the " +
                 std::to_string(input_width) + "x" + std::to_string(input_height) +
                 " input, rows of cx, cy, w, h, objectness and " + std::to_string(b - 5) +
                 " class scores (YOLOv5 head)";
    } else {
      h.kind = YoloHeadKind::kV8, h.candidates = b, h.classes = a - 4;
      h.reason = "output " + Shape(a, b) + ": " + std::to_string(b) +
                 " candidates = the stride 8/16/32 cells of the " + std::to_string(input_width) +
                 "x" + std::to_string(input_height) + " input, columns of cx, cy, w, h and " +
                 std::to_string(a - 4) + " class scores (YOLOv8/YOLO11 head)";
    }
    return h;
  }
  // Proportions only: many more candidates than values per candidate.
  YoloHead h;
  if (a > 8 * b && b >= 6) {
    h.kind = YoloHeadKind::kV5, h.candidates = a, h.classes = b - 5;
  } else if (b > 8 * a && a >= 5) {
    h.kind = YoloHeadKind::kV8, h.candidates = b, h.classes = a - 4;
  } else {
    return std::nullopt;
  }
  h.reason = "output " + Shape(a, b) + " looks like a " + std::string(Name(h.kind)) +
             " head by its proportions, but " + std::to_string(h.candidates) +
             " candidates do not match the stride 8/16/32 grids of the input (" +
             std::to_string(cells) + " cells): confirm";
  return h;
}

std::optional<YoloHead> YoloHeadOf(const Model& model) {
  if (model.subgraphs.empty()) return std::nullopt;
  const Subgraph& g = model.subgraphs[0];
  if (g.outputs.size() != 1 || g.inputs.empty()) return std::nullopt;
  auto tensor = [&g](int32_t i) -> const Tensor* {
    return i >= 0 && size_t(i) < g.tensors.size() ? &g.tensors[size_t(i)] : nullptr;
  };
  const Tensor* in = tensor(g.inputs[0]);
  const Tensor* out = tensor(g.outputs[0]);
  if (!in || !out) return std::nullopt;
  int w = 0, h = 0;
  const auto& s = in->shape;
  if (s.size() == 4 && (s[3] == 1 || s[3] == 3))
    h = s[1], w = s[2];
  else if (s.size() == 4 && (s[1] == 1 || s[1] == 3))
    h = s[2], w = s[3];
  return YoloHeadOfShape(out->shape, w, h);
}

}  // namespace lockstep
