// An 8-bit image in memory: interleaved channels, rows packed without padding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace lockstep {

using std::size_t;

struct Image {
  int width = 0;
  int height = 0;
  int channels = 3;             // 1 (gray), 3 (RGB or BGR, as the spec says), 4 (RGBA)
  std::vector<uint8_t> pixels;  // height * width * channels

  Image() = default;
  Image(int w, int h, int c) : width(w), height(h), channels(c), pixels(size_t(w) * h * c) {}

  uint8_t* row(int y) { return pixels.data() + size_t(y) * width * channels; }
  const uint8_t* row(int y) const { return pixels.data() + size_t(y) * width * channels; }
  uint8_t& at(int x, int y, int c) { return pixels[(size_t(y) * width + x) * channels + c]; }
  uint8_t at(int x, int y, int c) const { return pixels[(size_t(y) * width + x) * channels + c]; }
  bool operator==(const Image&) const = default;
};

// A float image (the output of dialects that do not round back to 8 bits, e.g. tf.image.resize).
struct ImageF {
  int width = 0;
  int height = 0;
  int channels = 3;
  std::vector<float> pixels;

  ImageF() = default;
  ImageF(int w, int h, int c) : width(w), height(h), channels(c), pixels(size_t(w) * h * c) {}
  float at(int x, int y, int c) const { return pixels[(size_t(y) * width + x) * channels + c]; }
};

// 3-channel RGB: gray is replicated, alpha dropped (as PIL's convert("RGB") and cv2.imread).
Image ToRgb(const Image& image);

}  // namespace lockstep
