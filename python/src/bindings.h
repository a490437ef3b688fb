// The module's parts, one function per room, and the helpers they share.
#pragma once

#include <pybind11/pybind11.h>

#include <utility>

#include "convert.h"
#include "lockstep/pipeline/geometry.h"

namespace lockstep::python {

void BindErrors(py::module_& m);
void BindPipeline(py::module_& m);
void BindRun(py::module_& m);
void BindEval(py::module_& m);
void BindDoctor(py::module_& m);

// The main subgraph's inputs (or outputs) as dicts: name, dtype, shape, scale, zero_point.
py::list TensorInfos(const Model& model, bool inputs);
// Output `index`'s per-tensor (scale, zero_point); Error when it is not quantized per tensor.
std::pair<double, int64_t> OutputQuantization(const ModelFile& model, int index);
// real = scale * (q - zero_point), float32, as TFLite's DEQUANTIZE.
py::array Dequantize(const py::array& values, double scale, int64_t zero_point);
// [N,4] boxes (xmin, ymin, xmax, ymax) through Transform::Inverse.
py::array InverseBoxes(const Transform& transform, const py::array& boxes);
// Boxes → an [N,4] float64 array (xmin, ymin, xmax, ymax).
py::array BoxArray(const std::vector<Box>& boxes);
// [N,4] float64 array → boxes; Error naming `what` for another shape.
std::vector<Box> ToBoxes(const py::array& boxes, const std::string& what);

}  // namespace lockstep::python
