// COCO box evaluation: lockstep.evaluate (pycocotools' COCOeval semantics, 12 statistics) and the
// checked class index → category id map.
#include <pybind11/stl.h>

#include "bindings.h"
#include "lockstep/core/error.h"
#include "lockstep/core/json_text.h"
#include "lockstep/eval/category_map.h"
#include "lockstep/eval/coco.h"
#include "lockstep/eval/coco_eval.h"

namespace lockstep::python {
namespace {

// Annotations from a path, a dict (the JSON's shape) or JSON text.
CocoDataset AsDataset(const py::handle& value) {
  if (py::isinstance<py::dict>(value))
    return ParseCocoDataset(JsonText(ToJson(value, "annotations")), "annotations");
  if (auto path = AsPath(value)) {
    if (py::isinstance<py::str>(value) && path->find_first_not_of(" \t\r\n") != std::string::npos &&
        (*path)[path->find_first_not_of(" \t\r\n")] == '{')
      return ParseCocoDataset(*path, "annotations");
    return ReadCocoDataset(*path);
  }
  throw Error("", "annotations", "a COCO annotations path, dict or JSON text", TypeName(value));
}

std::vector<CocoDetection> AsDetections(const py::handle& value, const CocoDataset& dataset,
                                        const std::string& source) {
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value))
    return ParseCocoResults(JsonText(ToJson(value, source)), source, dataset);
  if (auto path = AsPath(value)) {
    if (py::isinstance<py::str>(value) && path->find_first_not_of(" \t\r\n") != std::string::npos &&
        (*path)[path->find_first_not_of(" \t\r\n")] == '[')
      return ParseCocoResults(*path, source, dataset);
    return ReadCocoResults(*path, dataset);
  }
  throw Error("", source, "a COCO results path, list of dicts or JSON text", TypeName(value));
}

py::array Doubles(const std::vector<double>& v, std::vector<py::ssize_t> shape) {
  py::array_t<double> a(shape);
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

}  // namespace

void BindEval(py::module_& m) {
  m.attr("COCO_STAT_NAMES") =
      py::cast(std::vector<std::string>(kCocoStatNames.begin(), kCocoStatNames.end()));
  py::class_<CocoEvalResult>(m, "CocoEval",
                             "COCO box statistics with pycocotools' COCOeval semantics.")
      .def_property_readonly(
          "stats",
          [](const CocoEvalResult& r) {
            py::dict d;
            for (size_t i = 0; i < r.stats.size(); ++i) d[kCocoStatNames[i]] = r.stats[i];
            return d;
          },
          "{\"AP\", \"AP50\", ..., \"ARl\"}: COCOeval.stats as fractions, -1 when nothing to "
          "average.")
      .def_property_readonly(
          "stats_array",
          [](const CocoEvalResult& r) {
            return Doubles({r.stats.begin(), r.stats.end()}, {py::ssize_t(r.stats.size())});
          },
          "The 12 statistics in COCOeval.stats order, float64.")
      .def_property_readonly(
          "precision",
          [](const CocoEvalResult& r) {
            return Doubles(r.precision, {py::ssize_t(r.T()), py::ssize_t(r.R()), py::ssize_t(r.K()),
                                         py::ssize_t(r.A()), py::ssize_t(r.M())});
          },
          "COCOeval.eval['precision']: [T,R,K,A,M], -1 where a category has no ground truth.")
      .def_property_readonly(
          "recall",
          [](const CocoEvalResult& r) {
            return Doubles(r.recall, {py::ssize_t(r.T()), py::ssize_t(r.K()), py::ssize_t(r.A()),
                                      py::ssize_t(r.M())});
          },
          "COCOeval.eval['recall']: [T,K,A,M].")
      .def_readonly("category_ids", &CocoEvalResult::category_ids, "The K axis, ascending.")
      .def_readonly("category_ap", &CocoEvalResult::category_ap,
                    "AP@[.5:.95] per category (area all, maxDets 100); -1 without ground truth.")
      .def_property_readonly("iou_thresholds",
                             [](const CocoEvalResult& r) { return r.params.iou_thresholds; })
      .def_property_readonly("max_dets", [](const CocoEvalResult& r) { return r.params.max_dets; })
      .def("__repr__", [](const CocoEvalResult& r) {
        return "<CocoEval AP=" + py::repr(py::float_(r.stats[0])).cast<std::string>() +
               " AP50=" + py::repr(py::float_(r.stats[1])).cast<std::string>() + ">";
      });

  m.def(
      "evaluate",
      [](const py::handle& annotations, const py::handle& detections, const std::string& source) {
        CocoDataset dataset = AsDataset(annotations);
        std::vector<CocoDetection> dets = AsDetections(detections, dataset, source);
        py::gil_scoped_release unlocked;
        return EvaluateBoxes(dataset, dets, {}, source);
      },
      py::arg("annotations"), py::arg("detections"), py::arg("source") = "detections",
      "COCO box evaluation (evaluate + accumulate + summarize of pycocotools' COCOeval, "
      "iouType bbox). annotations: a COCO instances path, dict or JSON text. detections: a "
      "results path, JSON text or list of {image_id, category_id, bbox [x,y,w,h], score}.");

  m.def(
      "category_ids_by_name",
      [](const std::vector<std::string>& labels, const py::handle& annotations,
         const std::string& labels_source) {
        CocoDataset dataset = AsDataset(annotations);
        std::string dataset_source = AsPath(annotations).value_or("annotations");
        return CategoryMapByName(
                   labels, dataset.categories, labels_source,
                   py::isinstance<py::dict>(annotations) ? "annotations" : dataset_source)
            .category_ids;
      },
      py::arg("labels"), py::arg("annotations"), py::arg("labels_source") = "labels",
      "Class index → COCO category id by label name (None for placeholder labels such as "
      "\"???\"), checked as `lockstep eval` checks it: a label naming no category is an Error.");
}

}  // namespace lockstep::python
