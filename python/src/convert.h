// Conversions between Python values and the library's value types: numpy arrays for tensors and
// images (zero-copy out, through a capsule that owns the C++ buffer), paths, JSON.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "lockstep/core/tensor_data.h"
#include "lockstep/image/image.h"
#include "lockstep/model/model.h"
#include "lockstep/model/model_file.h"
#include "lockstep/pipeline/preprocess.h"
#include "lockstep/pipeline/spec.h"

namespace lockstep::python {

namespace py = pybind11;

// The numpy dtype of a lockstep dtype; Error for types numpy cannot hold here.
py::dtype NumpyDType(DType dtype);
// The lockstep dtype of a numpy array's dtype; Error naming `what` when there is none.
DType LockstepDType(const py::dtype& dtype, const std::string& what);

// Takes ownership of the tensor's bytes: the array points into them, no copy.
py::array ToArray(TensorData&& tensor);
// HxWxC uint8, no copy.
py::array ToArray(Image&& image);
// A dense copy of any numeric array (C order), with its dtype.
TensorData ToTensorData(const py::array& array, const std::string& what);

// An HxWx3 (RGB or BGR, as `channel_order` says), HxWx4 (RGBA/BGRA) or HxW / HxWx1 (gray) uint8
// array → an Image in RGB order. Anything else is an Error naming `what`.
Image ToImage(const py::array& array, const std::string& channel_order, const std::string& what);

// "uint8", "float32": numpy's name of a dtype; the type name of a Python value.
std::string DTypeText(const py::dtype& dtype);
std::string TypeName(const py::handle& value);

// str or os.PathLike → the path (its file-system bytes); nullopt for anything else. Also how
// JSON text given as a str is read: a str with a lone surrogate is an Error.
std::optional<std::string> AsPath(const py::handle& value);
std::string RequirePath(const py::handle& value, const std::string& what);

// Python values (dict, list, ...) ⇄ JSON, through Python's json module (exact for doubles).
// NaN, Infinity, lone surrogates and what ParseJsonText refuses are Errors naming `what`.
nlohmann::json ToJson(const py::handle& value, const std::string& what);
py::object FromJson(const std::string& text);

// A spec from a Spec, a dict, a JSON string or a path ("spec" names it in errors).
Spec AsSpec(const py::handle& value, const std::string& what);

// A loaded model from a lockstep.Model (shared, not read again) or a model path (read now).
std::shared_ptr<const ModelFile> AsModelFile(const py::handle& value);

// What a model's input asks for: from a Model, a ModelInput, or a model path.
ModelInput AsModelInput(const py::handle& value);

}  // namespace lockstep::python
