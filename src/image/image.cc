#include "lockstep/image/image.h"

namespace lockstep {

Image ToRgb(const Image& image) {
  if (image.channels == 3) return image;
  Image rgb(image.width, image.height, 3);
  size_t n = size_t(image.width) * image.height;
  for (size_t i = 0; i < n; ++i)
    for (int c = 0; c < 3; ++c)
      rgb.pixels[3 * i + c] = image.pixels[i * image.channels + (image.channels == 1 ? 0 : c)];
  return rgb;
}

}  // namespace lockstep
