// The .tflite reader and what reads a model (metadata and its appended zip, inspect, the Edge TPU
// check, the spec a model implies): any bytes give results or a lockstep::Error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "lockstep/core/error.h"
#include "lockstep/core/json_text.h"
#include "lockstep/model/edgetpu_check.h"
#include "lockstep/model/inspect.h"
#include "lockstep/model/model_io.h"
#include "lockstep/pipeline/spec_model.h"

namespace {

template <typename F>
void Either(F&& f) {
  try {
    f();
  } catch (const lockstep::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lockstep::Model model;
  try {
    model = lockstep::ReadModel(std::span(data, size), "fuzz.tflite");
  } catch (const lockstep::Error&) {
    return 0;
  }
  // Each reader on its own: one refusing must not hide a crash in another.
  Either([&] {
    lockstep::ModelReport r = lockstep::Inspect(model, "fuzz.tflite");
    (void)lockstep::ToText(r);
    (void)lockstep::JsonText(lockstep::ToJson(r));
  });
  Either([&] {
    (void)lockstep::JsonText(lockstep::ToJson(lockstep::CheckEdgeTpu(model, "fuzz.tflite")));
  });
  Either([&] {
    lockstep::Spec spec = lockstep::SpecFromModel(model, "fuzz.tflite");
    (void)lockstep::CheckSpec(spec, model, "fuzz.tflite");
  });
  Either([&] { (void)lockstep::WriteModel(model); });
  return 0;
}
