#include "engine/delegates.h"

#include <dlfcn.h>

#include <cstddef>

extern "C" {

// TF 2.9's xnnpack_delegate.h, which the C library exports but does not ship. The 2.9.0 library
// here copies only the first 8 bytes (num_threads, flags) into its delegate, and its
// TfLiteXNNPackDelegateOptionsDefault() returns {0, 0} in one register, so lockstep fills the
// options itself instead of calling it.
struct TfLiteXNNPackDelegateWeightsCache;
struct LockstepXnnpackOptions {
  int32_t num_threads;
  uint32_t flags;
  TfLiteXNNPackDelegateWeightsCache* weights_cache;
};
TfLiteDelegate* TfLiteXNNPackDelegateCreate(const LockstepXnnpackOptions* options);
void TfLiteXNNPackDelegateDelete(TfLiteDelegate* delegate);

}  // extern "C"

namespace lockstep::engine {

DelegatePtr CreateXnnpackDelegate(int threads, uint32_t flags) {
  LockstepXnnpackOptions options{threads, flags, nullptr};
  return DelegatePtr(TfLiteXNNPackDelegateCreate(&options),
                     DelegateDeleter{&TfLiteXNNPackDelegateDelete});
}

namespace {

// edgetpu_c.h of libedgetpu.
enum EdgeTpuDeviceType { kApexPci = 0, kApexUsb = 1 };
struct EdgeTpuDevice {
  EdgeTpuDeviceType type;
  const char* path;
};
struct EdgeTpuOption {
  const char* name;
  const char* value;
};
using ListDevicesFn = EdgeTpuDevice* (*)(size_t*);
using FreeDevicesFn = void (*)(EdgeTpuDevice*);
using CreateDelegateFn = TfLiteDelegate* (*)(EdgeTpuDeviceType, const char*, const EdgeTpuOption*,
                                             size_t);
using FreeDelegateFn = void (*)(TfLiteDelegate*);

struct EdgeTpuLibrary {
  void* handle = nullptr;
  std::string error;
  ListDevicesFn list_devices = nullptr;
  FreeDevicesFn free_devices = nullptr;
  CreateDelegateFn create_delegate = nullptr;
  FreeDelegateFn free_delegate = nullptr;
};

// Opened once and kept for the life of the process: the delegates it makes point into it.
const EdgeTpuLibrary& Library() {
  static const EdgeTpuLibrary lib = [] {
    EdgeTpuLibrary l;
    l.handle = dlopen("libedgetpu.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!l.handle) {
      const char* e = dlerror();
      l.error = e ? e : "dlopen failed";
      return l;
    }
    l.list_devices = reinterpret_cast<ListDevicesFn>(dlsym(l.handle, "edgetpu_list_devices"));
    l.free_devices = reinterpret_cast<FreeDevicesFn>(dlsym(l.handle, "edgetpu_free_devices"));
    l.create_delegate =
        reinterpret_cast<CreateDelegateFn>(dlsym(l.handle, "edgetpu_create_delegate"));
    l.free_delegate = reinterpret_cast<FreeDelegateFn>(dlsym(l.handle, "edgetpu_free_delegate"));
    if (!l.list_devices || !l.free_devices || !l.create_delegate || !l.free_delegate)
      l.error = "libedgetpu.so.1 lacks the edgetpu_* C functions";
    return l;
  }();
  return lib;
}

}  // namespace

EdgeTpuOpening OpenEdgeTpu() {
  EdgeTpuOpening out;
  const EdgeTpuLibrary& lib = Library();
  if (!lib.handle) {
    out.problem = "libedgetpu.so.1 was not found (" + lib.error + ")";
    return out;
  }
  out.library_found = true;
  if (!lib.error.empty()) {
    out.problem = lib.error;
    return out;
  }
  size_t count = 0;
  EdgeTpuDevice* devices = lib.list_devices(&count);
  if (!devices || count == 0) {
    if (devices) lib.free_devices(devices);
    out.problem = "no Edge TPU is attached (libedgetpu.so.1 found none)";
    return out;
  }
  EdgeTpuDeviceType type = devices[0].type;
  std::string path = devices[0].path ? devices[0].path : "";
  lib.free_devices(devices);
  out.device = std::string(type == kApexUsb ? "usb" : "pci") + ":" + path;
  TfLiteDelegate* d = lib.create_delegate(type, path.empty() ? nullptr : path.c_str(), nullptr, 0);
  if (!d) {
    out.problem = "libedgetpu.so.1 could not open the Edge TPU at " + out.device;
    return out;
  }
  out.delegate = DelegatePtr(d, DelegateDeleter{lib.free_delegate});
  return out;
}

}  // namespace lockstep::engine
