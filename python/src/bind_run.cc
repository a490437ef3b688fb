// Running models: lockstep.Engine (the real TFLite runtime on a tensor) and lockstep.Detector
// (image → detections in source pixels).
#include <pybind11/stl.h>

#include <memory>
#include <mutex>

#include "bindings.h"
#include "lockstep/core/error.h"
#include "lockstep/detect/detector.h"
#include "lockstep/engine/engine.h"
#include "lockstep/image/decode.h"
#include "lockstep/pipeline/spec_model.h"

namespace lockstep::python {
namespace {

py::dict ViewInfo(const TensorView& v) {
  py::dict d;
  d["name"] = v.name;
  d["dtype"] = std::string(DTypeName(v.dtype));
  d["shape"] = v.shape;
  d["scale"] = py::none();
  d["zero_point"] = py::none();
  if (v.quantization && v.quantization->scale.size() == 1) {
    d["scale"] = double(v.quantization->scale[0]);
    d["zero_point"] = v.quantization->zero_point.empty() ? 0 : v.quantization->zero_point[0];
  } else if (v.quantization && !v.quantization->scale.empty()) {
    d["scale"] = v.quantization->scale;
    d["zero_point"] = v.quantization->zero_point;
  }
  return d;
}

// An Engine is one interpreter: Python threads that share one take turns at setting its inputs
// and invoking it (waiting without the GIL).
struct SharedEngine : Engine {
  explicit SharedEngine(Engine&& e) : Engine(std::move(e)) {}
  std::mutex running;
};

py::list RunEngine(SharedEngine& engine, const py::handle& inputs) {
  std::vector<py::array> arrays;
  if (py::isinstance<py::array>(inputs)) {
    arrays.push_back(py::reinterpret_borrow<py::array>(inputs));
  } else if (py::isinstance<py::list>(inputs) || py::isinstance<py::tuple>(inputs)) {
    for (const py::handle& a : inputs) {
      if (!py::isinstance<py::array>(a))
        throw Error(engine.info().source, "inputs", "numpy arrays", TypeName(a));
      arrays.push_back(py::reinterpret_borrow<py::array>(a));
    }
  } else {
    throw Error(engine.info().source, "inputs", "a numpy array or a list of them",
                TypeName(inputs));
  }
  if (arrays.size() != engine.input_count())
    throw Error(engine.info().source, "inputs",
                std::to_string(engine.input_count()) + " input tensor(s)",
                std::to_string(arrays.size()));
  std::vector<TensorData> tensors;
  for (size_t i = 0; i < arrays.size(); ++i)
    tensors.push_back(ToTensorData(arrays[i], "input " + std::to_string(i)));
  std::vector<TensorData> outputs;
  {
    py::gil_scoped_release unlocked;
    std::lock_guard<std::mutex> turn(engine.running);
    for (size_t i = 0; i < tensors.size(); ++i)
      engine.SetInput(i, tensors[i], "input " + std::to_string(i));
    engine.Invoke();
    for (size_t i = 0; i < engine.output_count(); ++i) outputs.push_back(engine.CopyOutput(i));
  }
  py::list out;
  for (TensorData& t : outputs) out.append(ToArray(std::move(t)));
  return out;
}

py::tuple BoxTuple(const Box& b) { return py::make_tuple(b.xmin, b.ymin, b.xmax, b.ymax); }

py::dict DetectionDict(const PixelDetection& d) {
  py::dict out;
  out["class_index"] = d.class_index;
  out["label"] = d.label;
  out["score"] = double(d.score);
  out["box"] = py::make_tuple(d.box.xmin, d.box.ymin, d.box.xmax, d.box.ymax);
  return out;
}

}  // namespace

namespace {

// lockstep.Engine: a tensor in, the outputs out, on the real runtime.
void BindEngine(py::module_& m) {
  py::class_<SharedEngine>(m, "Engine",
                           "A model loaded into the real TensorFlow Lite runtime (builtin kernels; "
                           "XNNPACK or the Edge TPU on request), set up once, invoked many times.")
      .def(py::init([](const py::handle& model, int threads, bool xnnpack, bool edgetpu) {
             std::shared_ptr<const ModelFile> file = AsModelFile(model);
             py::gil_scoped_release unlocked;
             return std::make_unique<SharedEngine>(Engine::Load(
                 std::move(file), {.threads = threads, .xnnpack = xnnpack, .edgetpu = edgetpu}));
           }),
           py::arg("model"), py::arg("threads") = 1, py::arg("xnnpack") = false,
           py::arg("edgetpu") = false)
      .def_property_readonly(
          "inputs",
          [](const SharedEngine& e) {
            py::list l;
            for (const TensorView& v : e.inputs()) l.append(ViewInfo(v));
            return l;
          },
          "Input tensors as dicts (name, dtype, shape, scale, zero_point).")
      .def_property_readonly(
          "outputs",
          [](const SharedEngine& e) {
            py::list l;
            for (const TensorView& v : e.outputs()) l.append(ViewInfo(v));
            return l;
          },
          "Output tensors as dicts (name, dtype, shape, scale, zero_point).")
      .def_property_readonly(
          "info",
          [](const SharedEngine& e) {
            const EngineInfo& i = e.info();
            py::dict d;
            d["source"] = i.source;
            d["tflite_version"] = i.tflite_version;
            d["threads"] = i.threads;
            d["delegate"] = std::string(DelegateName(i.delegate));
            d["op_count"] = i.op_count;
            d["delegated_ops"] = i.delegated_ops;
            d["builtin_ops"] = i.builtin_ops;
            d["notes"] = i.notes;
            d["kernels"] = i.KernelSummary();
            return d;
          },
          "What was set up: TFLite version, delegate, which ops ran where, fallback notes.")
      .def("run", &RunEngine, py::arg("inputs"),
           "Sets the input tensor(s) (an array or a list, exact dtype and shape), invokes, and "
           "returns every output as an array (owned copies).");
}

// lockstep.Detection: one object in source pixels.
void BindDetection(py::module_& m) {
  py::class_<PixelDetection>(m, "Detection", "One detected object, its box in source pixels.")
      .def_readonly("class_index", &PixelDetection::class_index, "0-based, as the decoder gives.")
      .def_readonly("label", &PixelDetection::label, "The label, or \"class N\".")
      .def_readonly("score", &PixelDetection::score)
      .def_property_readonly(
          "box", [](const PixelDetection& d) { return BoxTuple(d.box); },
          "(xmin, ymin, xmax, ymax) in source pixels, corners at integers.")
      .def("to_dict", &DetectionDict, "As one entry of `lockstep detect --json`.")
      .def("__repr__", [](const PixelDetection& d) {
        return "<Detection " + d.label + " " + py::repr(py::float_(d.score)).cast<std::string>() +
               " " + py::repr(BoxTuple(d.box)).cast<std::string>() + ">";
      });
}

// lockstep.Detections as arrays: boxes, scores, class indices, labels.
void AddDetectionArrays(py::class_<ImageDetections>& c) {
  c.def_property_readonly(
       "boxes",
       [](const ImageDetections& r) {
         std::vector<Box> boxes;
         for (const PixelDetection& d : r.detections) boxes.push_back(d.box);
         return BoxArray(boxes);
       },
       "[N,4] float64 (xmin, ymin, xmax, ymax) in source pixels.")
      .def_property_readonly(
          "scores",
          [](const ImageDetections& r) {
            py::array_t<float> a(py::ssize_t(r.detections.size()));
            for (size_t i = 0; i < r.detections.size(); ++i)
              a.mutable_data()[i] = r.detections[i].score;
            return a;
          },
          "[N] float32.")
      .def_property_readonly(
          "class_indices",
          [](const ImageDetections& r) {
            py::array_t<int32_t> a(py::ssize_t(r.detections.size()));
            for (size_t i = 0; i < r.detections.size(); ++i)
              a.mutable_data()[i] = r.detections[i].class_index;
            return a;
          },
          "[N] int32.")
      .def_property_readonly("labels", [](const ImageDetections& r) {
        std::vector<std::string> l;
        for (const auto& d : r.detections) l.push_back(d.label);
        return l;
      });
}

// lockstep.Detections: an image's detections, as a sequence and as arrays.
void BindDetections(py::module_& m) {
  py::class_<ImageDetections> c(m, "Detections",
                                "An image's detections (best first) in source pixels, the "
                                "image's size and the Transform that mapped them.");
  c.def_readonly("width", &ImageDetections::width)
      .def_readonly("height", &ImageDetections::height)
      .def_readonly("transform", &ImageDetections::transform)
      .def_readonly("detections", &ImageDetections::detections)
      .def("__len__", [](const ImageDetections& r) { return r.detections.size(); })
      .def("__getitem__",
           [](const ImageDetections& r, py::ssize_t i) {
             py::ssize_t n = py::ssize_t(r.detections.size());
             if (i < 0) i += n;
             if (i < 0 || i >= n) throw py::index_error("detection index out of range");
             return r.detections[size_t(i)];
           })
      .def("__getitem__",
           [](const ImageDetections& r, const py::slice& slice) {
             size_t start = 0, stop = 0, step = 0, length = 0;
             if (!slice.compute(r.detections.size(), &start, &stop, &step, &length))
               throw py::error_already_set();
             std::vector<PixelDetection> out;
             for (size_t i = 0; i < length; ++i, start += step) out.push_back(r.detections[start]);
             return out;
           })
      .def(
          "__iter__",
          [](const ImageDetections& r) {
            return py::make_iterator(r.detections.begin(), r.detections.end());
          },
          py::keep_alive<0, 1>());
  AddDetectionArrays(c);
  c.def(
       "to_dict",
       [](const ImageDetections& r) {
         py::dict out;
         out["width"] = r.width;
         out["height"] = r.height;
         py::list dets;
         for (const auto& d : r.detections) dets.append(DetectionDict(d));
         out["detections"] = dets;
         return out;
       },
       "As a line of `lockstep detect --json`, without the image name.")
      .def("__repr__", [](const ImageDetections& r) {
        return "<Detections " + std::to_string(r.detections.size()) + " in " +
               std::to_string(r.width) + "x" + std::to_string(r.height) + ">";
      });
}

// A Detector is one interpreter, which must not run two images at once; Python threads that
// share one take turns (the GIL is released while they wait and run).
struct SharedDetector : Detector {
  explicit SharedDetector(Detector&& d) : Detector(std::move(d)) {}
  std::mutex running;
};

// lockstep.Detector, and the box mapping it applies.
void BindDetector(py::module_& m) {
  py::class_<SharedDetector>(m, "Detector",
                             "Image → detections in source pixels: the model loaded once, the "
                             "spec checked against it, output roles and labels resolved. One "
                             "Detector is one interpreter: threads sharing one take turns, so "
                             "use one per thread to run in parallel.")
      .def(py::init([](const py::handle& model, const py::handle& spec, int threads, bool xnnpack,
                       std::optional<double> score_threshold, std::optional<bool> clamp) {
             std::shared_ptr<const ModelFile> file = AsModelFile(model);
             Spec s = spec.is_none() ? SpecFromModel(*file) : AsSpec(spec, "spec");
             py::gil_scoped_release unlocked;
             return std::make_unique<SharedDetector>(
                 Detector::Create(std::move(file), s,
                                  {.threads = threads,
                                   .xnnpack = xnnpack,
                                   .score_threshold = score_threshold,
                                   .clamp = clamp}));
           }),
           py::arg("model"), py::arg("spec") = py::none(), py::arg("threads") = 1,
           py::arg("xnnpack") = false, py::arg("score_threshold") = py::none(),
           py::arg("clamp") = py::none(),
           "model: the .tflite path or a lockstep.Model. spec: a Spec, dict, JSON text or path; "
           "None derives it from the model (as `lockstep detect` without --spec). "
           "score_threshold and clamp override the spec's output settings.")
      .def(
          "detect",
          [](SharedDetector& d, const py::handle& image, const std::string& channel_order,
             int64_t max_pixels) {
            if (auto path = AsPath(image)) {
              py::gil_scoped_release unlocked;
              std::lock_guard<std::mutex> turn(d.running);
              return d.DetectFile(*path, max_pixels);
            }
            Image source;
            if (py::isinstance<py::array>(image)) {
              source = ToImage(py::reinterpret_borrow<py::array>(image), channel_order, "image");
            } else {
              throw Error("", "image", "a path or a numpy uint8 array (HxWx3)", TypeName(image));
            }
            py::gil_scoped_release unlocked;
            std::lock_guard<std::mutex> turn(d.running);
            return d.Detect(source);
          },
          py::arg("image"), py::arg("channel_order") = "rgb",
          py::arg("max_pixels") = DecodeOptions{}.max_pixels,
          "Detections for an image path (decoded by the library) or a uint8 HxWx3 array in "
          "`channel_order` (\"rgb\" or \"bgr\"): preprocess → invoke → decode → inverse "
          "geometry, as `lockstep detect`.")
      .def_property_readonly("spec", &Detector::spec, "The spec it runs.")
      .def_property_readonly(
          "labels", [](const SharedDetector& d) { return d.labels().labels; }, "The class labels.")
      .def_property_readonly(
          "label_origin", [](const SharedDetector& d) { return d.labels().origin; },
          "Where the labels came from (\"model metadata\", \"label file X\", ...).")
      .def_property_readonly("findings", &Detector::findings,
                             "What the spec check found that did not stop the detector.")
      .def_property_readonly("score_threshold", &Detector::score_threshold)
      .def_property_readonly(
          "kernels", [](const SharedDetector& d) { return d.engine_info().KernelSummary(); },
          "Which kernels run the model.");

  m.def(
      "normalized_to_source_pixels",
      [](const py::array& boxes, const Transform& transform, bool clamp) {
        std::vector<Box> out = ToBoxes(boxes, "boxes");
        for (Box& b : out) b = NormalizedToSourcePixels(b, transform, clamp);
        return BoxArray(out);
      },
      py::arg("boxes"), py::arg("transform"), py::arg("clamp") = true,
      "[N,4] boxes (xmin, ymin, xmax, ymax) normalized to the model input (the decoders' "
      "frame) → source pixels through the inverse geometry, clamped to the image on request.");
}

}  // namespace

void BindRun(py::module_& m) {
  BindEngine(m);
  BindDetection(m);
  BindDetections(m);
  BindDetector(m);
}

}  // namespace lockstep::python
