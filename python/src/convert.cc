#include "convert.h"

#include <cstring>

#include "lockstep/core/error.h"
#include "lockstep/core/json_text.h"
#include "lockstep/core/utf8.h"
#include "lockstep/pipeline/spec_model.h"

namespace lockstep::python {

py::dtype NumpyDType(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return py::dtype("float32");
    case DType::kFloat16:
      return py::dtype("float16");
    case DType::kFloat64:
      return py::dtype("float64");
    case DType::kUInt8:
      return py::dtype("uint8");
    case DType::kInt8:
      return py::dtype("int8");
    case DType::kInt16:
      return py::dtype("int16");
    case DType::kUInt16:
      return py::dtype("uint16");
    case DType::kInt32:
      return py::dtype("int32");
    case DType::kUInt32:
      return py::dtype("uint32");
    case DType::kInt64:
      return py::dtype("int64");
    case DType::kUInt64:
      return py::dtype("uint64");
    case DType::kBool:
      return py::dtype("bool");
    default:
      throw Error("", "tensor", "a dtype numpy can hold", std::string(DTypeName(dtype)));
  }
}

DType LockstepDType(const py::dtype& dtype, const std::string& what) {
  // numpy's kind + size, so that platform aliases (intc, long, ...) map the same way.
  const char kind = dtype.kind();
  const auto size = dtype.itemsize();
  if (kind == 'f' && size == 2) return DType::kFloat16;
  if (kind == 'f' && size == 4) return DType::kFloat32;
  if (kind == 'f' && size == 8) return DType::kFloat64;
  if (kind == 'u' && size == 1) return DType::kUInt8;
  if (kind == 'u' && size == 2) return DType::kUInt16;
  if (kind == 'u' && size == 4) return DType::kUInt32;
  if (kind == 'u' && size == 8) return DType::kUInt64;
  if (kind == 'i' && size == 1) return DType::kInt8;
  if (kind == 'i' && size == 2) return DType::kInt16;
  if (kind == 'i' && size == 4) return DType::kInt32;
  if (kind == 'i' && size == 8) return DType::kInt64;
  if (kind == 'b' && size == 1) return DType::kBool;
  throw Error(what, "dtype", "a numeric numpy dtype", DTypeText(dtype));
}

namespace {

template <typename Owned>
py::array Wrap(Owned* owner, DType dtype, const std::vector<py::ssize_t>& shape, void* data) {
  // The capsule deletes the C++ value when numpy drops its last reference to the array.
  py::capsule base(owner, [](void* p) { delete static_cast<Owned*>(p); });
  return py::array(NumpyDType(dtype), shape, data, base);
}

}  // namespace

py::array ToArray(TensorData&& tensor) {
  std::vector<py::ssize_t> shape(tensor.shape.begin(), tensor.shape.end());
  if (tensor.bytes.empty()) return py::array(NumpyDType(tensor.dtype), shape);
  auto* owner = new TensorData(std::move(tensor));
  return Wrap(owner, owner->dtype, shape, owner->bytes.data());
}

py::array ToArray(Image&& image) {
  std::vector<py::ssize_t> shape = {image.height, image.width, image.channels};
  if (image.pixels.empty()) return py::array(py::dtype("uint8"), shape);
  auto* owner = new Image(std::move(image));
  return Wrap(owner, DType::kUInt8, shape, owner->pixels.data());
}

TensorData ToTensorData(const py::array& array, const std::string& what) {
  DType dtype = LockstepDType(array.dtype(), what);
  std::vector<int> shape(array.shape(), array.shape() + array.ndim());
  TensorData out(dtype, shape);
  // A C-contiguous view (numpy copies only when the array is strided or not native-endian).
  py::array dense = py::array::ensure(array, py::array::c_style);
  if (!dense) throw py::error_already_set();
  if (!out.bytes.empty()) std::memcpy(out.bytes.data(), dense.data(), out.bytes.size());
  return out;
}

Image ToImage(const py::array& array, const std::string& channel_order, const std::string& what) {
  if (channel_order != "rgb" && channel_order != "bgr")
    throw Error(what, "channel_order", "\"rgb\" or \"bgr\"", "\"" + channel_order + "\"");
  if (array.dtype().kind() != 'u' || array.dtype().itemsize() != 1)
    throw Error(what, "dtype", "uint8 pixels (an HxWx3 image)", DTypeText(array.dtype()));
  const auto ndim = array.ndim();
  const int channels = ndim == 3 ? int(array.shape(2)) : 1;
  if ((ndim != 2 && ndim != 3) || (channels != 1 && channels != 3 && channels != 4)) {
    std::vector<int> shape(array.shape(), array.shape() + ndim);
    throw Error(what, "shape", "HxWx3 (or HxWx4, HxW, HxWx1)", ShapeText(shape));
  }
  if (array.shape(0) == 0 || array.shape(1) == 0)
    throw Error(what, "shape", "a non-empty image",
                std::to_string(array.shape(0)) + "x" + std::to_string(array.shape(1)));
  py::array dense = py::array::ensure(array, py::array::c_style);
  if (!dense) throw py::error_already_set();
  Image image(int(array.shape(1)), int(array.shape(0)), channels);
  std::memcpy(image.pixels.data(), dense.data(), image.pixels.size());
  if (channel_order == "bgr" && channels >= 3)
    for (size_t i = 0; i < image.pixels.size(); i += size_t(channels))
      std::swap(image.pixels[i], image.pixels[i + 2]);
  return image;
}

std::string DTypeText(const py::dtype& dtype) {
  return py::str(static_cast<const py::handle&>(dtype)).cast<std::string>();
}

std::string TypeName(const py::handle& value) {
  return py::type::of(value).attr("__name__").cast<std::string>();
}

namespace {

// The bytes of a str or os.PathLike as the file system sees them (os.fsencode: undecodable file
// names round-trip); a str no encoding can hold (a lone surrogate) is an Error, not a TypeError.
std::string FsBytes(const py::handle& value) {
  try {
    return py::module_::import("os").attr("fsencode")(value).cast<std::string>();
  } catch (py::error_already_set& e) {
    throw Error("", "text", "a str encodable as UTF-8", Utf8Prefix(e.what(), 160));
  }
}

}  // namespace

std::optional<std::string> AsPath(const py::handle& value) {
  if (py::isinstance<py::str>(value)) return FsBytes(value);
  py::object pathlike = py::module_::import("os").attr("PathLike");
  if (py::isinstance(value, pathlike)) return FsBytes(value);
  return std::nullopt;
}

std::string RequirePath(const py::handle& value, const std::string& what) {
  if (auto path = AsPath(value)) return *path;
  throw Error("", what, "a path (str or os.PathLike)", TypeName(value));
}

nlohmann::json ToJson(const py::handle& value, const std::string& what) {
  std::string text;
  try {
    // allow_nan=False: NaN and Infinity are not JSON; encoding to UTF-8 refuses lone surrogates.
    py::object dumps = py::module_::import("json").attr("dumps");
    py::str dumped = dumps(value, py::arg("allow_nan") = false, py::arg("ensure_ascii") = false);
    text = py::bytes(dumped.attr("encode")("utf-8")).cast<std::string>();
  } catch (py::error_already_set& e) {
    throw Error("", what, "JSON values (dict, list, str, finite numbers, bool, None)",
                Utf8Prefix(e.what(), 160));
  }
  return ParseJsonText(text, what);
}

py::object FromJson(const std::string& text) {
  return py::module_::import("json").attr("loads")(text);
}

Spec AsSpec(const py::handle& value, const std::string& what) {
  if (py::isinstance<Spec>(value)) return value.cast<Spec>();
  if (py::isinstance<py::dict>(value)) return ParseSpec(ToJson(value, what), what);
  if (auto text = AsPath(value)) {
    size_t first = text->find_first_not_of(" \t\r\n");
    if (first != std::string::npos && (*text)[first] == '{' && py::isinstance<py::str>(value))
      return ParseSpec(ParseJsonText(*text, what), what);
    return ReadSpecFile(*text);
  }
  throw Error("", what, "a Spec, a dict, a JSON string or a spec file path", TypeName(value));
}

std::shared_ptr<const ModelFile> AsModelFile(const py::handle& value) {
  if (py::isinstance<ModelFile>(value)) return value.cast<std::shared_ptr<ModelFile>>();
  std::string path = RequirePath(value, "model");
  py::gil_scoped_release unlocked;
  return LoadModelFile(path);
}

ModelInput AsModelInput(const py::handle& value) {
  if (py::isinstance<ModelInput>(value)) return value.cast<ModelInput>();
  std::shared_ptr<const ModelFile> model = AsModelFile(value);
  return ModelInputOf(model->model(), model->source());
}

}  // namespace lockstep::python
