#include "lockstep/image/encode.h"

#include <png.h>

#include <cstdio>

#include "lockstep/core/atomic_file.h"
#include "lockstep/core/error.h"

namespace lockstep {
namespace {

void PngAppend(png_structp png, png_bytep data, png_size_t n) {
  auto* out = static_cast<std::vector<uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}
void PngFlush(png_structp) {}

}  // namespace

std::vector<uint8_t> EncodePng(const Image& image) {
  if (image.width <= 0 || image.height <= 0 || image.channels < 1 || image.channels > 4 ||
      image.pixels.size() != size_t(image.width) * image.height * image.channels)
    throw Error("", "image", "a non-empty 1-4 channel image whose pixel count matches its size",
                std::to_string(image.width) + "x" + std::to_string(image.height) + "x" +
                    std::to_string(image.channels));
  std::vector<uint8_t> out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw Error("PNG encoder failed");
  }
  static const int kColor[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                               PNG_COLOR_TYPE_RGB_ALPHA};
  png_set_write_fn(png, &out, PngAppend, PngFlush);
  png_set_IHDR(png, info, image.width, image.height, 8, kColor[image.channels - 1],
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < image.height; ++y) png_write_row(png, image.row(y));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

void WritePngFile(const Image& image, const std::filesystem::path& path) {
  WriteFileAtomically(path, EncodePng(image));
}

}  // namespace lockstep
