// The two delegates lockstep knows, behind one owning handle each: XNNPACK (linked into the TFLite
// C library, without a public header in 2.9) and the Edge TPU (libedgetpu.so.1, opened at run
// time so lockstep builds and runs where it is absent).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tensorflow/lite/c/common.h"

namespace lockstep::engine {

// TFLITE_XNNPACK_DELEGATE_FLAG_QS8 / _QU8 of TF 2.9's xnnpack_delegate.h.
inline constexpr uint32_t kXnnpackQS8 = 1;  // signed int8 ops, per-channel weights included
inline constexpr uint32_t kXnnpackQU8 = 2;  // uint8 ops

struct DelegateDeleter {
  void (*free)(TfLiteDelegate*) = nullptr;
  void operator()(TfLiteDelegate* d) const {
    if (d && free) free(d);
  }
};
using DelegatePtr = std::unique_ptr<TfLiteDelegate, DelegateDeleter>;

DelegatePtr CreateXnnpackDelegate(int threads, uint32_t flags);

// What opening the Edge TPU found: a delegate, or why there is none (in words for the user).
struct EdgeTpuOpening {
  DelegatePtr delegate;
  bool library_found = false;
  std::string problem;  // "libedgetpu.so.1 was not found (...)", "no Edge TPU is attached", ...
  std::string device;   // "usb:/sys/bus/usb/...", when one was opened
};
EdgeTpuOpening OpenEdgeTpu();

}  // namespace lockstep::engine
