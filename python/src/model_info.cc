#include <pybind11/stl.h>

#include "bindings.h"
#include "lockstep/core/error.h"

namespace lockstep::python {

py::list TensorInfos(const Model& model, bool inputs) {
  py::list out;
  if (model.subgraphs.empty()) return out;
  const Subgraph& g = model.subgraphs[0];
  for (int32_t index : inputs ? g.inputs : g.outputs) {
    if (index < 0 || size_t(index) >= g.tensors.size()) continue;
    const Tensor& t = g.tensors[size_t(index)];
    py::dict d;
    d["name"] = t.name;
    d["dtype"] = std::string(DTypeName(t.dtype));
    d["shape"] = t.shape;
    d["scale"] = py::none();
    d["zero_point"] = py::none();
    if (t.quantization && !t.quantization->scale.empty()) {
      const Quantization& q = *t.quantization;
      if (q.per_channel()) {
        d["scale"] = q.scale;
        d["zero_point"] = q.zero_point;
      } else {
        d["scale"] = double(q.scale[0]);
        d["zero_point"] = q.zero_point.empty() ? 0 : q.zero_point[0];
      }
    }
    out.append(d);
  }
  return out;
}

std::pair<double, int64_t> OutputQuantization(const ModelFile& file, int index) {
  const auto& outputs = file.model().subgraphs.at(0).outputs;
  if (index < 0 || size_t(index) >= outputs.size())
    throw Error(file.source(), "output", "an output index below " + std::to_string(outputs.size()),
                std::to_string(index));
  const Tensor& t = file.model().subgraphs[0].tensors.at(size_t(outputs[size_t(index)]));
  if (!t.quantization || t.quantization->scale.size() != 1)
    throw Error(file.source(), "output " + std::to_string(index) + " ('" + t.name + "')",
                "a per-tensor quantized output",
                t.quantization ? "per-channel quantization" : std::string(DTypeName(t.dtype)));
  const Quantization& q = *t.quantization;
  return {double(q.scale[0]), q.zero_point.empty() ? 0 : q.zero_point[0]};
}

std::vector<Box> ToBoxes(const py::array& boxes, const std::string& what) {
  if (boxes.ndim() != 2 || boxes.shape(1) != 4)
    throw Error(what, "shape", "[N,4] (xmin, ymin, xmax, ymax)",
                boxes.ndim() == 2 ? "[" + std::to_string(boxes.shape(0)) + "," +
                                        std::to_string(boxes.shape(1)) + "]"
                                  : std::to_string(boxes.ndim()) + " dimensions");
  auto b = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(boxes);
  if (!b) throw py::error_already_set();
  std::vector<Box> out(size_t(boxes.shape(0)));
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = {b.data()[4 * i], b.data()[4 * i + 1], b.data()[4 * i + 2], b.data()[4 * i + 3]};
  return out;
}

py::array BoxArray(const std::vector<Box>& boxes) {
  py::array_t<double> out({py::ssize_t(boxes.size()), py::ssize_t(4)});
  auto o = out.mutable_unchecked<2>();
  for (size_t i = 0; i < boxes.size(); ++i) {
    o(py::ssize_t(i), 0) = boxes[i].xmin;
    o(py::ssize_t(i), 1) = boxes[i].ymin;
    o(py::ssize_t(i), 2) = boxes[i].xmax;
    o(py::ssize_t(i), 3) = boxes[i].ymax;
  }
  return out;
}

py::array InverseBoxes(const Transform& transform, const py::array& boxes) {
  std::vector<Box> out = ToBoxes(boxes, "boxes");
  for (Box& b : out) b = transform.Inverse(b);
  return BoxArray(out);
}

}  // namespace lockstep::python
