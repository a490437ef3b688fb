// The doctor room: stage tensors compared with fingerprints of the likely cause, two specs
// diffed into units, a detector run over an annotated set, and (once src/doctor/doctor.cc is in
// the library, LOCKSTEP_PY_DOCTOR) the doctor itself with its findings as Python objects.
#include <pybind11/stl.h>

#include "bindings.h"
#include "lockstep/core/error.h"
#include "lockstep/core/json_text.h"
#include "lockstep/doctor/spec_diff.h"
#include "lockstep/doctor/tensor_compare.h"
#include "lockstep/eval/coco.h"
#include "lockstep/pipeline/source_image.h"
#include "lockstep/pipeline/spec_model.h"
#include "lockstep/run/dataset_run.h"
#ifdef LOCKSTEP_PY_DOCTOR
#include "lockstep/doctor/doctor.h"
#include "lockstep/doctor/doctor_html.h"
#endif

namespace lockstep::python {
namespace {

StageKind StageOf(const std::string& name) {
  std::string names;
  for (StageKind k : {StageKind::kResized, StageKind::kNormalized, StageKind::kQuantized,
                      StageKind::kRawOutput, StageKind::kBoxes}) {
    if (Name(k) == name) return k;
    names += (names.empty() ? "" : ", ") + std::string(Name(k));
  }
  throw Error("", "stage", "one of " + names, "\"" + name + "\"");
}

py::dict StatsDict(const DifferenceStats& s) {
  py::dict d;
  d["elements"] = s.elements;
  d["differing"] = s.differing;
  d["non_finite"] = s.non_finite;
  d["max_abs_diff"] = s.max_abs_diff;
  d["mean_diff"] = s.mean_diff;
  d["mean_abs_diff"] = s.mean_abs_diff;
  return d;
}

py::list FingerprintList(const std::vector<Fingerprint>& fingerprints) {
  py::list out;
  for (const Fingerprint& f : fingerprints) {
    py::dict d;
    d["code"] = f.code;
    d["description"] = f.description;
    d["evidence"] = f.evidence;
    out.append(d);
  }
  return out;
}

py::dict ComparisonDict(const TensorComparison& c) {
  py::dict d;
  d["stage"] = std::string(Name(c.stage));
  d["same_shape"] = c.same_shape;
  d["equal"] = c.equal;
  d["stats"] = StatsDict(c.stats);
  d["fingerprints"] = FingerprintList(c.fingerprints);
  return d;
}

py::list DifferenceList(const std::vector<SpecDifference>& differences) {
  py::list out;
  for (const SpecDifference& u : differences) {
    py::list fields;
    for (const FieldDifference& f : u.fields) {
      py::dict d;
      d["field"] = f.field;
      d["training"] = f.training;
      d["deployed"] = f.deployed;
      fields.append(d);
    }
    py::dict d;
    d["unit"] = u.unit;
    d["fields"] = fields;
    out.append(d);
  }
  return out;
}

#ifdef LOCKSTEP_PY_DOCTOR
// The file a spec came from (named in the report, as the CLI names its --*-spec files).
std::optional<std::string> SpecFileName(const py::handle& value) {
  auto path = AsPath(value);
  if (!path ||
      (py::isinstance<py::str>(value) && path->find_first_not_of(" \t\r\n") != std::string::npos &&
       (*path)[path->find_first_not_of(" \t\r\n")] == '{'))
    return std::nullopt;
  return path;
}

std::optional<std::filesystem::path> OptionalPath(const py::handle& value, const char* what) {
  if (value.is_none()) return std::nullopt;
  return RequirePath(value, what);
}
#endif

}  // namespace

namespace {

// lockstep.compare_tensors: another pipeline's stage tensor explained.
void BindCompareTensors(py::module_& m) {
  m.def(
      "compare_tensors",
      [](const py::array& reference, const py::array& other, const std::string& stage,
         const py::handle& spec, const py::handle& model, const py::handle& image) {
        TensorData ref = ToTensorData(reference, "reference");
        TensorData oth = ToTensorData(other, "other");
        CompareContext context;
        std::optional<Spec> s;
        if (!spec.is_none()) s = AsSpec(spec, "spec");
        if (s) context.spec = &*s;
        Image source;
        if (!model.is_none()) {
          ModelInput input = AsModelInput(model);
          InputQuantization q = ResolveQuantization(s ? *s : Spec{}, input);
          if (q.dtype != DType::kFloat32) {
            context.scale = q.scale;
            context.zero_point = q.zero_point;
          }
          context.input_width = s && s->tensor.width ? s->tensor.width : input.width;
          context.input_height = s && s->tensor.height ? s->tensor.height : input.height;
        }
        if (!image.is_none()) {
          if (auto path = AsPath(image))
            source = DecodeSourceImage(*path, s ? *s : Spec{});
          else
            source = ToImage(py::reinterpret_borrow<py::array>(image), "rgb", "image");
          context.source = &source;
        }
        TensorComparison c;
        {
          py::gil_scoped_release unlocked;
          c = CompareTensors(ref, oth, StageOf(stage), context);
        }
        return ComparisonDict(c);
      },
      py::arg("reference"), py::arg("other"), py::arg("stage"), py::arg("spec") = py::none(),
      py::arg("model") = py::none(), py::arg("image") = py::none(),
      "Compares another pipeline's stage tensor with lockstep's (`reference`) and names the "
      "likely cause of a difference (\"normalization_range\", \"channels_swapped\", "
      "\"zero_point_offset\", ...). stage: resized, normalized, quantized, raw_outputs or "
      "boxes. spec/model/image (the reference's spec, the model, the source image: path or RGB "
      "array) let fingerprints test their hypotheses exactly. Returns {stage, same_shape, equal, "
      "stats, fingerprints}.");
}

// lockstep.diff_specs: two specs' differences by unit.
void BindDiffSpecs(py::module_& m) {
  m.def(
      "diff_specs",
      [](const py::handle& training, const py::handle& deployed) {
        return DifferenceList(
            DiffSpecs(AsSpec(training, "training spec"), AsSpec(deployed, "deployed spec")));
      },
      py::arg("training"), py::arg("deployed"),
      "Every difference between two specs, grouped into the units a person changes together "
      "(\"geometry\", \"normalize\", \"tensor.quantization\", ...), in data-flow order: "
      "[{unit, fields: [{field, training, deployed}]}]. Empty when they describe one pipeline.");
}

// lockstep.run_dataset: a detector over an annotated set, as `lockstep eval`.
void BindRunDataset(py::module_& m) {
  m.def(
      "run_dataset",
      [](const py::handle& model, const py::handle& spec, const py::handle& annotations,
         const py::handle& images, size_t max_images, int threads, double score_threshold) {
        std::shared_ptr<const ModelFile> file = AsModelFile(model);
        Spec s = spec.is_none() ? SpecFromModel(*file) : AsSpec(spec, "spec");
        EvalSet set = LoadEvalSet(RequirePath(annotations, "annotations"),
                                  RequirePath(images, "images"), max_images);
        DatasetRunOptions options;
        options.threads = threads;
        options.score_threshold = score_threshold;
        DatasetRun run;
        {
          py::gil_scoped_release unlocked;
          run = RunDataset(std::move(file), s, set, options);
        }
        py::dict out;
        out["detections"] = FromJson(CocoResultsJson(run.detections));
        out["annotations"] = FromJson(CocoDatasetJson(set.dataset));
        out["findings"] = run.findings;
        out["labels"] = run.labels.labels;
        out["label_origin"] = run.labels.origin;
        out["dropped"] = run.dropped;
        return out;
      },
      py::arg("model"), py::arg("spec"), py::arg("annotations"), py::arg("images"),
      py::arg("max_images") = 0, py::arg("threads") = 1, py::arg("score_threshold") = 0.0,
      "Runs a detector over an annotated image set as `lockstep eval` does (images checked "
      "first, one interpreter per thread, classes mapped to categories by label name): "
      "{detections (COCO results), annotations (the images kept), findings, labels, "
      "label_origin, dropped}. Feed both to lockstep.evaluate.");
}

#ifdef LOCKSTEP_PY_DOCTOR
// lockstep.DoctorReport: the doctor's answer.
void BindDoctorReport(py::module_& m) {
  py::class_<DoctorReport>(m, "DoctorReport",
                           "The doctor's answer: aligned or not, the findings, the first stage "
                           "that diverges, what it costs.")
      .def_readonly("aligned", &DoctorReport::aligned, "False when a finding has error severity.")
      .def_readonly("findings", &DoctorReport::findings,
                    "Findings; `expected` is the training side's value, `found` the deployed.")
      .def_property_readonly(
          "differences", [](const DoctorReport& r) { return DifferenceList(r.differences); },
          "The two specs' differences, by unit.")
      .def_readonly("first_divergence", &DoctorReport::first_divergence,
                    "The first stage that differs; empty when none does (or no images).")
      .def_readonly("images", &DoctorReport::images, "Images the pipelines ran on.")
      .def_readonly("training_eval", &DoctorReport::training_eval,
                    "COCO statistics of the training pipeline (with annotations), else None.")
      .def_readonly("deployed_eval", &DoctorReport::deployed_eval,
                    "COCO statistics of the deployed pipeline (with annotations), else None.")
      .def_property_readonly(
          "stages",
          [](const DoctorReport& r) {
            py::list out;
            for (const StageReport& s : r.stages) {
              py::dict d;
              d["stage"] = s.stage;
              d["images"] = s.images;
              d["images_differing"] = s.images_differing;
              d["equal"] = s.equal();
              d["stats"] = StatsDict(s.stats);
              d["fingerprints"] = FingerprintList(s.fingerprints);
              d["note"] = s.note;
              out.append(d);
            }
            return out;
          },
          "The pipelines compared stage by stage over the images.")
      .def_property_readonly(
          "external",
          [](const DoctorReport& r) {
            py::list out;
            for (const ExternalComparison& e : r.external) {
              py::dict d = ComparisonDict(e.comparison);
              d["file"] = e.file.string();
              out.append(d);
            }
            return out;
          },
          "Stage tensors from elsewhere (stage_tensors) compared with lockstep's.")
      .def(
          "to_dict", [](const DoctorReport& r) { return FromJson(JsonText(DoctorJson(r))); },
          "The report as `lockstep doctor --json` writes it.")
      .def("summary", &DoctorSummary, "The terminal summary (about 40 lines).")
      .def(
          "write_html",
          [](const DoctorReport& r, const py::handle& path) {
            WriteDoctorHtml(RequirePath(path, "path"), r);
          },
          py::arg("path"), "The self-contained HTML report.")
      .def("__repr__", [](const DoctorReport& r) {
        return "<DoctorReport " + std::string(r.aligned ? "aligned" : "misaligned") + ", " +
               std::to_string(r.findings.size()) + " findings" +
               (r.first_divergence.empty() ? "" : ", first divergence " + r.first_divergence) + ">";
      });
}

// lockstep.doctor: as `lockstep doctor`.
void BindRunDoctor(py::module_& m) {
  m.def(
      "doctor",
      [](const py::handle& model, const py::handle& training, const py::handle& deployed,
         const py::handle& images, const py::handle& annotations, size_t max_images,
         const py::handle& stage_tensors, size_t sample_images, bool attribution, bool what_ifs,
         int threads, double min_agreement, double max_ap_drop, size_t shapley_orders) {
        DoctorInput in;
        in.model = RequirePath(model, "model");
        in.training = AsSpec(training, "training spec");
        if (auto p = SpecFileName(training)) in.training_source = *p;
        if (!deployed.is_none()) {
          in.deployed = AsSpec(deployed, "deployed spec");
          if (auto p = SpecFileName(deployed)) in.deployed_source = *p;
        }
        in.gate.min_agreement = min_agreement;
        in.gate.max_ap_drop = max_ap_drop;
        in.images = OptionalPath(images, "images");
        in.annotations = OptionalPath(annotations, "annotations");
        in.max_images = max_images;
        in.stage_tensors = OptionalPath(stage_tensors, "stage_tensors");
        in.sample_images = sample_images;
        in.attribution = attribution;
        in.shapley_orders = std::max<size_t>(2, shapley_orders);
        in.what_ifs = what_ifs;
        in.run.threads = threads;
        py::gil_scoped_release unlocked;
        return RunDoctor(in);
      },
      py::arg("model"), py::arg("training"), py::arg("deployed") = py::none(),
      py::arg("images") = py::none(), py::arg("annotations") = py::none(),
      py::arg("max_images") = 0, py::arg("stage_tensors") = py::none(),
      py::arg("sample_images") = 3, py::arg("attribution") = true, py::arg("what_ifs") = true,
      py::arg("threads") = 1, py::arg("min_agreement") = GateOptions{}.min_agreement,
      py::arg("max_ap_drop") = GateOptions{}.max_ap_drop,
      py::arg("shapley_orders") = DoctorInput{}.shapley_orders,
      "Is it the model or the pipeline? Checks the training and deployed specs against each "
      "other and the model; with images, runs both stage by stage and names the first stage "
      "that diverges; with annotations, what it costs in COCO AP and which field explains it. "
      "A difference is an error when its measured cost passes the gate (detection agreement "
      "below min_agreement, or an AP drop above max_ap_drop, both fractions). With "
      "stage_tensors (a folder of <image file name>.<stage>.npy dumped by the deployed "
      "pipeline), explains them against the training spec; deployed may then be None. With more "
      "than 4 differing units, fair shares are sampled from shapley_orders random orders. As "
      "`lockstep doctor`.");
}

#endif

}  // namespace

void BindDoctor(py::module_& m) {
  BindCompareTensors(m);
  BindDiffSpecs(m);
  BindRunDataset(m);
#ifdef LOCKSTEP_PY_DOCTOR
  BindDoctorReport(m);
  BindRunDoctor(m);
#endif
}

}  // namespace lockstep::python
