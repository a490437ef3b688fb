// The _lockstep extension: lockstep.Error, findings, and each room's bindings.
#include <pybind11/stl.h>

#include "bindings.h"
#include "lockstep/core/error.h"
#include "lockstep/core/finding.h"

namespace lockstep::python {

void BindErrors(py::module_& m) {
  // Heap-held so that no Python object is released after the interpreter has finalized.
  static auto* error_type = new py::object(py::exception<Error>(m, "Error", PyExc_ValueError));
  error_type->attr("__doc__") =
      "A bad input (file, field, what was expected, what was found), with the CLI's message. "
      "A ValueError; attributes file, field, expected, found.";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      py::object instance = (*error_type)(e.what());
      instance.attr("file") = e.file();
      instance.attr("field") = e.field();
      instance.attr("expected") = e.expected();
      instance.attr("found") = e.found();
      PyErr_SetObject(error_type->ptr(), instance.ptr());
    }
  });

  py::class_<Finding>(m, "Finding",
                      "One thing a check found: a stable code, severity, the field, both values, "
                      "what it costs and how to fix it.")
      .def_readonly("code", &Finding::code)
      .def_property_readonly(
          "severity", [](const Finding& f) { return std::string(SeverityName(f.severity)); },
          "\"info\", \"warning\" or \"error\".")
      .def_readonly("field", &Finding::field)
      .def_readonly("expected", &Finding::expected)
      .def_readonly("found", &Finding::found)
      .def_readonly("consequence", &Finding::consequence)
      .def_readonly("fix", &Finding::fix)
      .def("__repr__", [](const Finding& f) {
        return "<Finding " + std::string(SeverityName(f.severity)) + " " + f.code + " at " +
               f.field + ": expected " + f.expected + ", found " + f.found + ">";
      });
}

}  // namespace lockstep::python

PYBIND11_MODULE(_lockstep, m) {
  namespace lp = lockstep::python;
  m.doc() =
      "lockstep's C++ pipeline for Python: specs, preprocessing, models, detection, COCO "
      "evaluation and the doctor. Import `lockstep`, not this module.";
  lp::BindErrors(m);
  lp::BindPipeline(m);
  lp::BindRun(m);
  lp::BindEval(m);
  lp::BindDoctor(m);
}
