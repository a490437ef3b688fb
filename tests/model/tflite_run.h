// Runs model bytes in the real TensorFlow Lite runtime (C API, builtin kernels, one thread):
// the independent oracle for the model writer and builder tests.
#pragma once

#include <tensorflow/lite/c/c_api.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace lockstep::testing {

struct TfliteRun {
  bool loaded = false;  // the interpreter was created and its tensors allocated
  std::vector<std::vector<uint8_t>> outputs;  // raw bytes of each output
  std::vector<std::vector<int32_t>> output_shapes;
};

// Fills every input with a deterministic pattern unless `inputs` gives its bytes.
inline TfliteRun RunTflite(const std::vector<uint8_t>& model,
                           const std::vector<std::vector<uint8_t>>& inputs = {}) {
  TfliteRun run;
  TfLiteModel* m = TfLiteModelCreate(model.data(), model.size());
  if (!m) return run;
  TfLiteInterpreterOptions* opts = TfLiteInterpreterOptionsCreate();
  TfLiteInterpreterOptionsSetNumThreads(opts, 1);
  TfLiteInterpreter* it = TfLiteInterpreterCreate(m, opts);
  if (it && TfLiteInterpreterAllocateTensors(it) == kTfLiteOk) {
    run.loaded = true;
    for (int i = 0; i < TfLiteInterpreterGetInputTensorCount(it); ++i) {
      TfLiteTensor* t = TfLiteInterpreterGetInputTensor(it, i);
      std::vector<uint8_t> bytes(TfLiteTensorByteSize(t));
      if (static_cast<size_t>(i) < inputs.size()) {
        bytes = inputs[static_cast<size_t>(i)];
      } else if (TfLiteTensorType(t) == kTfLiteFloat32) {
        for (size_t k = 0; k * 4 < bytes.size(); ++k) {
          float v = static_cast<float>((k * 37 + static_cast<size_t>(i) * 11) % 200) / 100.f - 1.f;
          std::memcpy(bytes.data() + k * 4, &v, 4);
        }
      } else {
        for (size_t k = 0; k < bytes.size(); ++k)
          bytes[k] = static_cast<uint8_t>((k * 31 + 7 + static_cast<size_t>(i)) % 251);
      }
      if (TfLiteTensorCopyFromBuffer(t, bytes.data(), bytes.size()) != kTfLiteOk)
        run.loaded = false;
    }
    if (run.loaded && TfLiteInterpreterInvoke(it) == kTfLiteOk) {
      for (int i = 0; i < TfLiteInterpreterGetOutputTensorCount(it); ++i) {
        const TfLiteTensor* t = TfLiteInterpreterGetOutputTensor(it, i);
        std::vector<uint8_t> bytes(TfLiteTensorByteSize(t));
        TfLiteTensorCopyToBuffer(t, bytes.data(), bytes.size());
        run.outputs.push_back(std::move(bytes));
        std::vector<int32_t> shape;
        for (int d = 0; d < TfLiteTensorNumDims(t); ++d) shape.push_back(TfLiteTensorDim(t, d));
        run.output_shapes.push_back(std::move(shape));
      }
    } else {
      run.loaded = false;
    }
  }
  if (it) TfLiteInterpreterDelete(it);
  TfLiteInterpreterOptionsDelete(opts);
  TfLiteModelDelete(m);
  return run;
}

template <typename T>
std::vector<T> As(const std::vector<uint8_t>& bytes) {
  std::vector<T> out(bytes.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * sizeof(T));
  return out;
}

}  // namespace lockstep::testing
