// Reading an input file whole, safely: only a regular file is read (a directory, a device such
// as /dev/zero or a FIFO is refused without blocking), a file over a cap is refused before any
// byte is read, and every read error is an Error naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lockstep {

// Caps per kind of input, far above any real file of that kind.
inline constexpr uint64_t kMaxModelFileBytes = uint64_t{2} << 30;   // .tflite: 2 GiB
inline constexpr uint64_t kMaxTensorFileBytes = uint64_t{2} << 30;  // .npy / raw input tensors
inline constexpr uint64_t kMaxImageFileBytes = uint64_t{256} << 20;
inline constexpr uint64_t kMaxJsonFileBytes = uint64_t{256} << 20;  // COCO annotations, results
inline constexpr uint64_t kMaxSpecFileBytes = uint64_t{64} << 20;   // pipeline specs
inline constexpr uint64_t kMaxLabelFileBytes = uint64_t{64} << 20;  // label files, data.yaml

// The bytes of the regular file `path`. `what` names the kind of file with its article
// ("a .tflite model file"); errors read "PATH: expected WHAT, found no such file" (a directory,
// a FIFO, a device, permission denied, N bytes, over the cap ...).
std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path, uint64_t max_bytes,
                                   const std::string& what);
// The same, as text.
std::string ReadFileText(const std::filesystem::path& path, uint64_t max_bytes,
                         const std::string& what);

}  // namespace lockstep
