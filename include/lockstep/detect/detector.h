// Image to detections in original-image pixels, in three phases: Create (load the model into the
// Engine, check the spec against it, resolve the output roles and the labels: once), then Detect
// per image (preprocess → invoke → decode → inverse geometry). One Detector is one interpreter:
// use one per thread.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lockstep/core/finding.h"
#include "lockstep/detect/output_roles.h"
#include "lockstep/engine/engine.h"
#include "lockstep/image/decode.h"
#include "lockstep/image/image.h"
#include "lockstep/model/model_file.h"
#include "lockstep/pipeline/geometry.h"
#include "lockstep/pipeline/preprocess.h"
#include "lockstep/pipeline/spec.h"

namespace lockstep {

struct DetectorOptions {
  int threads = 1;  // interpreter threads
  bool xnnpack = false;
  std::optional<double> score_threshold;  // overrides spec.output.score_threshold
  std::optional<bool> clamp;              // overrides spec.output.clamp_boxes
  // Output roles decided elsewhere (e.g. by the first of several Detectors on one model), so
  // that every copy reads the outputs the same way. nullopt: decide them here.
  std::optional<DetectionOutputRoles> roles;
  // A spec whose tensor.dtype is the other 8-bit type (uint8 data for an int8 model, or int8 for
  // uint8) runs with the bytes copied as they are, as a device does, instead of being refused;
  // without a tensor.zero_point the data is quantized for the other type's twin (zero point ±128).
  bool reinterpret_8bit_input = false;
};

// What one Detect produced on the way (Detect with a trace).
struct DetectTrace {
  std::vector<Stage> stages;        // Preprocess's trace: decoded, resized, normalized, quantized
  TensorData input;                 // the tensor fed to the model
  std::vector<TensorData> outputs;  // the raw output tensors, in the model's order
};

struct ImageDetections {
  int width = 0, height = 0;               // of the decoded image
  std::vector<PixelDetection> detections;  // in the decoder's order (best first)
  Transform transform;                     // source ⇄ model input
};

// Where the labels came from, for a person.
struct LabelSource {
  std::vector<std::string> labels;
  std::string origin;  // "spec output.labels", "label file X", "model metadata", "none"
};

class Detector {
 public:
  // Errors (lockstep::Error) name the model or spec: not an image model, a spec whose tensor
  // cannot feed the model (size, layout, dtype) or whose decoder does not fit it, an unsupported
  // decoder, outputs whose roles cannot be told; for ssd_raw, outputs or anchors that do not
  // fit (an anchor count other than the outputs' N names both). Other disagreements with the model
  // (normalization, quantization) run, so their cost can be measured, and are kept in findings().
  // The Detector's Engine keeps `model` alive; Detectors on one ModelFile share its bytes.
  static Detector Create(std::shared_ptr<const ModelFile> model, const Spec& spec,
                         const DetectorOptions& options = {});
  // Convenience: loads the file, then Create.
  static Detector Create(const std::filesystem::path& model, const Spec& spec,
                         const DetectorOptions& options = {});

  Detector(Detector&&) noexcept;
  Detector& operator=(Detector&&) noexcept;
  ~Detector();

  // `decoded` as DecodeImageFile gives it (gray, RGB or RGBA; the spec says what the model wants).
  ImageDetections Detect(const Image& decoded);
  // The same, keeping every stage in `trace` (when not null).
  ImageDetections Detect(const Image& decoded, DetectTrace* trace);
  // A model input made elsewhere (another pipeline's tensor: the model's dtype and element
  // count, a missing batch axis allowed), run and decoded as this spec says, boxes mapped back
  // by `transform` to a width x height source. Errors name `source`.
  ImageDetections DetectInput(const TensorData& input, const Transform& transform, int width,
                              int height, const std::string& source);
  // An image file decoded as the spec says (DecodeSourceImage), then Detect.
  ImageDetections DetectFile(const std::filesystem::path& file,
                             int64_t max_pixels = DecodeOptions{}.max_pixels);
  // The decoding alone, for callers that keep the image (to draw on, to compare).
  Image DecodeFile(const std::filesystem::path& file,
                   int64_t max_pixels = DecodeOptions{}.max_pixels) const;

  const Spec& spec() const;
  const EngineInfo& engine_info() const;
  const LabelSource& labels() const;
  // What CheckSpec found that did not stop the detector; callers show it.
  const std::vector<Finding>& findings() const;
  // The output roles; nullopt until decided (when the generated probe input gave no detection
  // to tell classes from scores, the first image decides).
  const std::optional<DetectionOutputRoles>& roles() const;
  double score_threshold() const;

 private:
  struct State;
  explicit Detector(std::unique_ptr<State> state);
  ImageDetections InvokeAndDecode(const Transform& transform, int width, int height,
                                  DetectTrace* trace);
  std::unique_ptr<State> state_;
};

// One label per line; trailing '\r' and a final empty line dropped. Errors name the file.
std::vector<std::string> ReadLabelFile(const std::filesystem::path& path);

}  // namespace lockstep
