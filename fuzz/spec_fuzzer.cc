// The pipeline spec: any text gives a spec or a lockstep::Error. A spec that parses must write
// back to text that parses to the same spec, check against a real model, and preprocess an
// image without a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lockstep/core/error.h"
#include "lockstep/core/json_text.h"
#include "lockstep/pipeline/preprocess.h"
#include "lockstep/pipeline/spec.h"
#include "lockstep/pipeline/spec_model.h"
#include "lockstep/synthetic/squares_detector.h"

namespace {

const lockstep::Model& Squares() {
  static const lockstep::Model model = lockstep::BuildSquaresDetector();
  return model;
}

// 40×30 RGB with every channel varying, so that channel order and geometry matter.
const lockstep::Image& Picture() {
  static const lockstep::Image image = [] {
    lockstep::Image im(40, 30, 3);
    for (size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = uint8_t(i * 7 % 251);
    return im;
  }();
  return image;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  lockstep::Spec spec;
  try {
    spec = lockstep::ParseSpecText(text, "fuzz.json");
  } catch (const lockstep::Error&) {
    return 0;
  }
  const std::string again = lockstep::JsonText(lockstep::ToJson(spec));
  if (lockstep::ToJson(lockstep::ParseSpecText(again, "again.json")) != lockstep::ToJson(spec))
    __builtin_trap();
  try {
    (void)lockstep::CheckSpec(spec, Squares(), "squares.tflite");
    const lockstep::ModelInput input = lockstep::ModelInputOf(Squares(), "squares.tflite");
    (void)lockstep::Preprocess(Picture(), spec, input);
  } catch (const lockstep::Error&) {
  }
  return 0;
}
