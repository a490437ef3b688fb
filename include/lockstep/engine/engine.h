// The engine room: a model loaded into the real TensorFlow Lite runtime (its C API), set up once
// and invoked many times. Builtin kernels by default; XNNPACK and the Edge TPU on request, with
// an honest account (EngineInfo) of which kernels actually ran and why.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "lockstep/core/tensor_data.h"
#include "lockstep/engine/tensor_view.h"
#include "lockstep/model/model.h"
#include "lockstep/model/model_file.h"

namespace lockstep {

struct EngineOptions {
  int threads = 1;
  // Ask for the XNNPACK delegate. It takes float and signed int8 ops (flag QS8); uint8 ops only
  // where this TFLite's QU8 support accepts the whole model, else they stay on builtin kernels.
  bool xnnpack = false;
  // Ask for the Edge TPU (libedgetpu.so.1). A model compiled for the Edge TPU asks for it anyway.
  bool edgetpu = false;
};

enum class Delegate { kNone, kXnnpack, kEdgeTpu };

// What was set up, in facts a person can check.
struct EngineInfo {
  std::string source;          // the file (or the name given to the bytes)
  std::string tflite_version;  // TfLiteVersion()
  int threads = 1;
  Delegate delegate = Delegate::kNone;   // the delegate that took ops, if any
  uint32_t xnnpack_flags = 0;            // flags of the XNNPACK delegate in use (1 QS8, 2 QU8)
  size_t op_count = 0;                   // operators of the main subgraph
  size_t delegated_ops = 0;              // of those, how many the delegate took
  std::vector<std::string> builtin_ops;  // ops left on the builtin kernels, in execution order
  // Fallbacks and why, for a person to read ("XNNPACK could not take ... : <TFLite's words>").
  std::vector<std::string> notes;

  // "builtin kernels (65 ops)", "XNNPACK (QS8) took 63 of 65 ops; builtin: DEQUANTIZE, ..."
  std::string KernelSummary() const;
};

class Engine {
 public:
  // Refuses what TFLite cannot run (Edge TPU models without a TPU) before handing the model
  // over, creates the interpreter and allocates its tensors. Every failure is a lockstep::Error
  // naming the file, with TFLite's own words where TFLite refused. The Engine keeps `model`
  // alive and TFLite reads its bytes in place: engines on one ModelFile share them.
  static Engine Load(std::shared_ptr<const ModelFile> model, const EngineOptions& options = {});
  // Conveniences: load the file (or take the bytes), then Load.
  static Engine Load(const std::filesystem::path& path, const EngineOptions& options = {});
  static Engine Load(std::vector<uint8_t> bytes, const std::string& source,
                     const EngineOptions& options = {});

  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  ~Engine();

  const EngineInfo& info() const;
  const Model& model() const;
  const std::shared_ptr<const ModelFile>& model_file() const;

  size_t input_count() const;
  size_t output_count() const;
  TensorView input(size_t i) const;
  TensorView output(size_t i) const;
  std::vector<TensorView> inputs() const;
  std::vector<TensorView> outputs() const;

  // Copy-in helpers: exactly the tensor's byte size; with TensorData also its dtype and shape.
  // `source` names the data in error messages.
  void SetInput(size_t i, std::span<const uint8_t> bytes, const std::string& source = {});
  void SetInput(size_t i, const TensorData& data, const std::string& source = {});

  void Invoke();

  // An owned copy of an output (or input) tensor.
  TensorData CopyOutput(size_t i) const;

 private:
  struct State;
  explicit Engine(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The deterministic stand-in for real input: SplitMix64 seeded with kGeneratedInputSeed + the
// input's index. 8- and 16-bit integers span their full range, wider integers [0, 255], floats
// are uniform in [-1, 1), bools 0 or 1. Same model, same bytes, on every machine.
inline constexpr uint64_t kGeneratedInputSeed = 0x6c6f636b73746570;  // "lockstep"
TensorData GeneratedInput(const TensorView& input, size_t input_index);

// The model's image input: a [1,H,W,C] tensor with C 1 or 3. A lockstep::Error naming the file
// when the model has no such input (a non-image model where an image model is needed).
TensorView RequireImageInput(const Engine& engine);

std::string_view DelegateName(Delegate d);

}  // namespace lockstep
