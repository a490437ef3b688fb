// Specs, models' input facts, images and preprocessing: lockstep.Spec, lockstep.Model,
// lockstep.preprocess and the stage functions.
#include <pybind11/operators.h>
#include <pybind11/stl.h>

#include <cstring>

#include "bindings.h"
#include "convert.h"
#include "lockstep/core/error.h"
#include "lockstep/core/json_text.h"
#include "lockstep/image/decode.h"
#include "lockstep/pipeline/geometry.h"
#include "lockstep/pipeline/quantize.h"
#include "lockstep/pipeline/source_image.h"
#include "lockstep/pipeline/spec_model.h"

namespace lockstep::python {
namespace {

std::string Text(std::string_view s) { return std::string(s); }

py::tuple RectTuple(const Rect& r) { return py::make_tuple(r.x, r.y, r.width, r.height); }

// The decoded image of a path (as the spec says) or the RGB image of an array.
Image SourceImage(const py::handle& image, const std::string& channel_order, const Spec& spec,
                  int64_t max_pixels) {
  if (auto path = AsPath(image)) {
    py::gil_scoped_release unlocked;
    return DecodeSourceImage(*path, spec, max_pixels);
  }
  if (!py::isinstance<py::array>(image))
    throw Error("", "image", "a path or a numpy uint8 array (HxWx3)", TypeName(image));
  return ToImage(py::reinterpret_borrow<py::array>(image), channel_order, "image");
}

Spec SpecOrDerived(const py::handle& spec, const py::handle& model) {
  if (!spec.is_none()) return AsSpec(spec, "spec");
  if (py::isinstance<ModelInput>(model))
    throw Error("", "spec", "a spec (or a Model or model path to derive one from)",
                "None with a ModelInput");
  return SpecFromModel(*AsModelFile(model));
}

struct PreprocessResult {
  py::array tensor;
  Transform transform;
  py::dict stages;
};

py::array Quantize(const py::array& values, const py::handle& model, const py::handle& spec) {
  const InputQuantization q = RequireQuantized(
      ResolveQuantization(spec.is_none() ? Spec{} : AsSpec(spec, "spec"), AsModelInput(model)));
  if (values.dtype().kind() != 'f')
    throw Error("values", "dtype", "floats (the normalized tensor)", DTypeText(values.dtype()));
  auto reals = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(values);
  std::vector<int> shape(values.shape(), values.shape() + values.ndim());
  return ToArray(QuantizeTensor({reals.data(), size_t(reals.size())}, shape, q));
}

}  // namespace

py::array Dequantize(const py::array& values, double scale, int64_t zero_point) {
  if (values.dtype().kind() != 'i' && values.dtype().kind() != 'u')
    throw Error("values", "dtype", "integers (a quantized tensor)", DTypeText(values.dtype()));
  auto q = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(values);
  std::vector<int> shape(values.shape(), values.shape() + values.ndim());
  std::vector<float> reals = DequantizeValues({q.data(), size_t(q.size())}, scale, zero_point);
  TensorData out(DType::kFloat32, shape);
  if (!reals.empty()) std::memcpy(out.bytes.data(), reals.data(), out.bytes.size());
  return ToArray(std::move(out));
}

namespace {

// lockstep.Spec, its provenance, and the spec a model implies.
void BindSpec(py::module_& m) {
  py::class_<Provenance>(m, "Provenance",
                         "Where one field of a derived spec comes from: read from the model "
                         "(a fact) or assumed (to confirm with the training script).")
      .def_readonly("field", &Provenance::field, "JSON path, e.g. \"$.normalize.mean\".")
      .def_readonly("fact", &Provenance::fact, "True: read from the model; False: an assumption.")
      .def_readonly("reason", &Provenance::reason, "Why the value is what it is.")
      .def("__repr__", [](const Provenance& p) {
        return "<Provenance " + p.field + (p.fact ? " fact: " : " assumption: ") + p.reason + ">";
      });

  py::class_<Spec>(m, "Spec",
                   "A pipeline spec (schema \"lockstep.pipeline/v1\"): everything between an "
                   "image file and the model's input tensor, and between its outputs and boxes "
                   "in image pixels. Validated exactly as the CLI validates spec files.")
      .def(py::init([](const py::handle& value, const std::string& source) {
             if (py::isinstance<py::str>(value) || py::isinstance<py::dict>(value) ||
                 py::isinstance<Spec>(value))
               return AsSpec(value, source);
             if (auto path = AsPath(value)) return ReadSpecFile(*path);
             return AsSpec(value, source);
           }),
           py::arg("spec"), py::arg("source") = "spec",
           "Spec(dict | JSON text | path | Spec, source=\"spec\"): parses and validates; every "
           "problem is listed in one lockstep.Error whose message names `source` (or the file) "
           "and each JSON path.")
      .def_static(
          "from_dict",
          [](const py::dict& d, const std::string& source) {
            return ParseSpec(ToJson(d, source), source);
          },
          py::arg("spec"), py::arg("source") = "spec", "A spec from a dict (the JSON's shape).")
      .def_static(
          "from_json",
          [](const py::str& text, const std::string& source) { return AsSpec(text, source); },
          py::arg("text"), py::arg("source") = "spec", "A spec from JSON text.")
      .def_static(
          "from_file",
          [](const py::handle& path) { return ReadSpecFile(RequirePath(path, "path")); },
          py::arg("path"), "A spec from a JSON file (errors name the file, as in the CLI).")
      .def(
          "to_dict", [](const Spec& s) { return FromJson(JsonText(ToJson(s))); },
          "The spec as a dict, fields in the order of the data flow (schema first).")
      .def(
          "to_json", [](const Spec& s, int indent) { return JsonText(ToJson(s), indent); },
          py::arg("indent") = 2, "The spec as JSON text (what `lockstep spec from-model` writes).")
      .def_property_readonly(
          "name", [](const Spec& s) { return s.name; }, "The spec's name.")
      .def_property_readonly(
          "provenance", [](const Spec& s) { return s.provenance; },
          "For a spec derived from a model: each field marked fact or assumption (else empty).")
      .def("__eq__",
           [](const Spec& a, const py::handle& b) {
             return py::isinstance<Spec>(b) && ToJson(a) == ToJson(b.cast<Spec>());
           })
      .def("__repr__", [](const Spec& s) { return "lockstep.Spec(" + JsonText(ToJson(s)) + ")"; });

  m.def(
      "spec_from_model", [](const py::handle& model) { return SpecFromModel(*AsModelFile(model)); },
      py::arg("model"),
      "The spec a model implies (as `lockstep spec from-model`): size, dtype and quantization "
      "from the input tensor, normalization from the metadata or the quantized range. "
      "Spec.provenance says which fields are facts and which are assumptions.");
}

// lockstep.Model (a loaded .tflite file) and the input facts it gives.
void BindModel(py::module_& m) {
  py::class_<ModelInput>(m, "ModelInput", "What a model's image input asks for.")
      .def_readonly("width", &ModelInput::width)
      .def_readonly("height", &ModelInput::height)
      .def_readonly("channels", &ModelInput::channels)
      .def_property_readonly(
          "layout", [](const ModelInput& i) { return Text(Name(i.layout)); },
          "\"nhwc\" or \"nchw\".")
      .def_property_readonly(
          "dtype", [](const ModelInput& i) { return Text(DTypeName(i.dtype)); },
          "numpy's name of the element type.")
      .def_readonly("scale", &ModelInput::scale, "Input quantization scale; 0: not quantized.")
      .def_readonly("zero_point", &ModelInput::zero_point)
      .def("__repr__", [](const ModelInput& i) {
        return "<ModelInput " + std::string(DTypeName(i.dtype)) + " " + std::to_string(i.width) +
               "x" + std::to_string(i.height) + "x" + std::to_string(i.channels) +
               " scale=" + py::repr(py::float_(i.scale)).cast<std::string>() +
               " zero_point=" + std::to_string(i.zero_point) + ">";
      });

  py::class_<ModelFile, std::shared_ptr<ModelFile>>(
      m, "Model",
      "A .tflite file, read and verified once: its input facts, its tensors, its derived spec. "
      "(Running it is lockstep.Engine's job; Engine and Detector given a Model share its bytes.)")
      .def(py::init([](const py::handle& path) {
             return std::const_pointer_cast<ModelFile>(AsModelFile(path));
           }),
           py::arg("path"))
      .def_property_readonly("path", &ModelFile::source)
      .def_property_readonly(
          "input", [](const ModelFile& f) { return ModelInputOf(f.model(), f.source()); },
          "The image input (lockstep.Error when the model has none).")
      .def_property_readonly(
          "inputs", [](const ModelFile& f) { return TensorInfos(f.model(), true); },
          "The main subgraph's inputs as dicts (name, dtype, shape, scale, zero_point).")
      .def_property_readonly(
          "outputs", [](const ModelFile& f) { return TensorInfos(f.model(), false); },
          "The main subgraph's outputs as dicts (name, dtype, shape, scale, zero_point).")
      .def(
          "spec", [](const ModelFile& f) { return SpecFromModel(f); },
          "The spec derived from the model (as lockstep.spec_from_model).")
      .def(
          "check",
          [](const ModelFile& f, const py::handle& spec) {
            return CheckSpec(AsSpec(spec, "spec"), f);
          },
          py::arg("spec"),
          "What in `spec` disagrees with the model, as Findings (as `lockstep spec check`).")
      .def("__repr__", [](const ModelFile& f) { return "<lockstep.Model " + f.source() + ">"; });
}

// Where the image lands in the model input, and back.
void BindTransform(py::module_& m) {
  py::class_<Transform>(m, "Transform",
                        "Where the source image lands in the model input; its inverse maps "
                        "model coordinates back to source pixels with the forward step's "
                        "integers.")
      .def_readonly("source_width", &Transform::source_width)
      .def_readonly("source_height", &Transform::source_height)
      .def_readonly("target_width", &Transform::target_width)
      .def_readonly("target_height", &Transform::target_height)
      .def_property_readonly(
          "crop", [](const Transform& t) { return RectTuple(t.crop); },
          "(x, y, width, height) of the source part that is resized.")
      .def_property_readonly(
          "content", [](const Transform& t) { return RectTuple(t.content); },
          "(x, y, width, height) where the resized crop lands; the rest is pad.")
      .def_readonly("origin_x", &Transform::origin_x)
      .def_readonly("origin_y", &Transform::origin_y)
      .def_readonly("scale_x", &Transform::scale_x, "Target pixels per source pixel.")
      .def_readonly("scale_y", &Transform::scale_y)
      .def(
          "forward",
          [](const Transform& t, double x, double y) {
            Point p = t.Forward({x, y});
            return py::make_tuple(p.x, p.y);
          },
          py::arg("x"), py::arg("y"), "Source pixel coordinates → model input coordinates.")
      .def(
          "inverse",
          [](const Transform& t, double x, double y) {
            Point p = t.Inverse(Point{x, y});
            return py::make_tuple(p.x, p.y);
          },
          py::arg("x"), py::arg("y"), "Model input coordinates → source pixel coordinates.")
      .def(
          "inverse_boxes",
          [](const Transform& t, const py::array& boxes) { return InverseBoxes(t, boxes); },
          py::arg("boxes"),
          "[N,4] (xmin, ymin, xmax, ymax) in model input pixels → source pixels (float64).")
      .def(py::self == py::self)
      .def("__repr__", [](const Transform& t) {
        return "<Transform " + std::to_string(t.source_width) + "x" +
               std::to_string(t.source_height) + " -> " + std::to_string(t.target_width) + "x" +
               std::to_string(t.target_height) + ", content (" + std::to_string(t.content.x) + "," +
               std::to_string(t.content.y) + ") " + std::to_string(t.content.width) + "x" +
               std::to_string(t.content.height) + ">";
      });

  m.def(
      "compute_transform",
      [](const py::handle& spec, int source_width, int source_height, int target_width,
         int target_height) {
        return ComputeTransform(AsSpec(spec, "spec").geometry, source_width, source_height,
                                target_width, target_height);
      },
      py::arg("spec"), py::arg("source_width"), py::arg("source_height"), py::arg("target_width"),
      py::arg("target_height"),
      "The Transform the spec's geometry gives for a source image into the model input.");
}

// Decoding and preprocessing as the library runs them.
void BindPreprocess(py::module_& m) {
  m.def(
      "decode_image",
      [](const py::handle& path, bool exif_orientation, int64_t max_pixels) {
        std::string p = RequirePath(path, "path");
        Image image;
        {
          py::gil_scoped_release unlocked;
          image = DecodeImageFile(
              p, {.max_pixels = max_pixels, .apply_exif_orientation = exif_orientation});
        }
        return ToArray(std::move(image));
      },
      py::arg("path"), py::arg("exif_orientation") = true,
      py::arg("max_pixels") = DecodeOptions{}.max_pixels,
      "Decodes a JPEG, PNG or BMP as the library does (libjpeg-turbo, libpng): HxWxC uint8 in "
      "RGB order with the file's channel count (1, 3 or 4).");

  py::class_<PreprocessResult>(m, "Preprocessed",
                               "The exact input tensor, where the image landed, and the stages.")
      .def_readonly("tensor", &PreprocessResult::tensor,
                    "[1,H,W,C] (or [1,C,H,W]) in the model's dtype: the bytes the device gets.")
      .def_readonly("transform", &PreprocessResult::transform)
      .def_readonly("stages", &PreprocessResult::stages,
                    "With trace=True: decoded (HxWxC uint8, RGB), resized (HxWxC, the model's "
                    "channel order), normalized ([1,H,W,C] float32), quantized (the tensor) as "
                    "arrays, in order; else empty.");

  m.def(
      "preprocess",
      [](const py::handle& image, const py::handle& spec, const py::handle& model,
         const std::string& channel_order, bool trace, bool reference, int64_t max_pixels) {
        ModelInput input = AsModelInput(model);
        Spec s = SpecOrDerived(spec, model);
        Image source = SourceImage(image, channel_order, s, max_pixels);
        Preprocessed p;
        {
          py::gil_scoped_release unlocked;
          p = Preprocess(source, s, input, {.trace = trace, .fused = !reference});
        }
        PreprocessResult out{ToArray(std::move(p.tensor)), p.transform, {}};
        for (Stage& stage : p.trace)
          out.stages[py::str(stage.name)] = ToArray(std::move(stage.data));
        return out;
      },
      py::arg("image"), py::arg("spec"), py::arg("model"), py::arg("channel_order") = "rgb",
      py::arg("trace") = false, py::arg("reference") = false,
      py::arg("max_pixels") = DecodeOptions{}.max_pixels,
      "The exact input tensor the model gets for an image, as `lockstep preprocess`.\n\n"
      "image: a path (decoded by the library, EXIF as the spec says) or a uint8 array HxWx3 "
      "(HxWx4, HxW) whose channel order `channel_order` states (\"rgb\" for PIL, \"bgr\" for "
      "cv2). spec: a Spec, dict, JSON text or path; None derives it from the model. model: a "
      "Model, a ModelInput or a path. trace: also return every stage. reference: compute every "
      "stage in float (no fused lookup; same result).");

  m.def(
      "place_resized",
      [](const py::handle& image, const py::handle& spec, const Transform& transform,
         const std::string& channel_order) {
        Spec s = AsSpec(spec, "spec");
        Image source = SourceImage(image, channel_order, s, DecodeOptions{}.max_pixels);
        Image placed;
        {
          py::gil_scoped_release unlocked;
          placed = PlaceResized(source, s, transform);
        }
        return ToArray(std::move(placed));
      },
      py::arg("image"), py::arg("spec"), py::arg("transform"), py::arg("channel_order") = "rgb",
      "The geometry and resize stages alone (8-bit dialects): the HxW image placed on the pad "
      "canvas, in RGB order.");
}

// The input quantization and the value conversions through it.
void BindQuantization(py::module_& m) {
  py::class_<InputQuantization>(m, "InputQuantization",
                                "The input quantization that applies: the spec's override, "
                                "else the model's.")
      .def_property_readonly("dtype",
                             [](const InputQuantization& q) { return Text(DTypeName(q.dtype)); })
      .def_readonly("scale", &InputQuantization::scale)
      .def_readonly("zero_point", &InputQuantization::zero_point)
      .def_property_readonly("rounding",
                             [](const InputQuantization& q) { return Text(Name(q.rounding)); });

  m.def(
      "input_quantization",
      [](const py::handle& model, const py::handle& spec) {
        return ResolveQuantization(spec.is_none() ? Spec{} : AsSpec(spec, "spec"),
                                   AsModelInput(model));
      },
      py::arg("model"), py::arg("spec") = py::none(),
      "The input quantization that applies to `model` (a Model, ModelInput or path) under "
      "`spec` (None: the model's, rounding half away from zero).");

  m.def("quantize", &Quantize, py::arg("values"), py::arg("model"), py::arg("spec") = py::none(),
        "Normalized floats → the model input's integers, with the library's rounding and "
        "saturation (the spec's tensor overrides when given).");

  m.def(
      "dequantize",
      [](const py::array& values, const py::handle& model, const py::handle& spec,
         std::optional<int> output) {
        if (output) {
          auto [scale, zero_point] = OutputQuantization(*AsModelFile(model), *output);
          return Dequantize(values, scale, zero_point);
        }
        const InputQuantization q = RequireQuantized(ResolveQuantization(
            spec.is_none() ? Spec{} : AsSpec(spec, "spec"), AsModelInput(model)));
        return Dequantize(values, q.scale, q.zero_point);
      },
      py::arg("values"), py::arg("model"), py::arg("spec") = py::none(),
      py::arg("output") = py::none(),
      "Integers → floats, real = scale * (q - zero_point) as TFLite's DEQUANTIZE: with the "
      "input's quantization, or output tensor `output`'s when given.");
}

}  // namespace

void BindPipeline(py::module_& m) {
  BindSpec(m);
  BindModel(m);
  BindTransform(m);
  BindPreprocess(m);
  BindQuantization(m);
}

}  // namespace lockstep::python
