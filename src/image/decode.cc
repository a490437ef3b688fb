#include "lockstep/image/decode.h"

#include <png.h>
#include <turbojpeg.h>

#include <climits>
#include <csetjmp>
#include <cstring>
#include <memory>

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_FAILURE_USERMSG
#include <stb/stb_image.h>

#include "lockstep/core/error.h"
#include "lockstep/core/file_read.h"

namespace lockstep {
namespace {

enum class Format { kJpeg, kPng, kBmp, kUnknown };

Format Sniff(std::span<const uint8_t> b) {
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return Format::kJpeg;
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (b.size() >= 8 && std::memcmp(b.data(), kPng, 8) == 0) return Format::kPng;
  if (b.size() >= 2 && b[0] == 'B' && b[1] == 'M') return Format::kBmp;
  return Format::kUnknown;
}

// Width and height come from headers (up to 2^32 - 1 each), so their product is taken in 64-bit
// unsigned, where it cannot wrap, and compared before anything is allocated.
void CheckSize(int64_t w, int64_t h, const std::string& source, const DecodeOptions& options) {
  const std::string size = std::to_string(w) + "x" + std::to_string(h);
  if (w <= 0 || h <= 0) throw Error(source, "image size", "a positive width and height", size);
  const uint64_t pixels = uint64_t(w) * uint64_t(h);
  if (options.max_pixels < 0 || pixels > uint64_t(options.max_pixels))
    throw Error(source, "image size", "at most " + std::to_string(options.max_pixels) + " pixels",
                size + " = " + std::to_string(pixels),
                "raise the pixel limit only for images you trust (decompression bombs)");
  if (w > INT32_MAX || h > INT32_MAX)
    throw Error(source, "image size", "a width and height under 2^31", size);
}

// The offset just past the next marker's 0xFF (skipping entropy-coded data, byte stuffing,
// restart markers and any stray bytes, as libjpeg does), or `b.size()` if there is none.
size_t NextMarker(std::span<const uint8_t> b, size_t i) {
  for (; i + 1 < b.size(); ++i)
    if (b[i] == 0xFF && b[i + 1] != 0x00 && b[i + 1] != 0xFF && (b[i + 1] & 0xF8) != 0xD0)
      return i + 1;
  return b.size();
}

// Whether the stream reaches its EOI marker. libjpeg-turbo decodes a stream cut between
// progressive scans with only a warning, filling in grey; PIL refuses such a file as truncated,
// and so do we. Segments are skipped by their length, so an EXIF thumbnail's EOI does not count;
// bytes after the EOI (common in real files) are ignored.
bool ReachesEndOfImage(std::span<const uint8_t> b) {
  size_t i = NextMarker(b, 2);
  while (i < b.size()) {
    const uint8_t marker = b[i];
    if (marker == 0xD9) return true;
    if (marker == 0x01) {  // TEM: no length
      i = NextMarker(b, i + 1);
      continue;
    }
    if (i + 2 >= b.size()) return false;
    const size_t end = i + 1 + (size_t(b[i + 1]) << 8 | b[i + 2]);
    if (end > b.size()) return false;
    i = NextMarker(b, end);  // after SOS this walks the scan's entropy-coded data
  }
  return false;
}

Image DecodeJpeg(std::span<const uint8_t> bytes, const std::string& source,
                 const DecodeOptions& options) {
  std::unique_ptr<void, int (*)(tjhandle)> tj(tjInitDecompress(), tjDestroy);
  if (!tj) throw Error(source + ": cannot start the JPEG decoder");
  int w = 0, h = 0, subsamp = 0, colorspace = 0;
  auto* data = const_cast<unsigned char*>(bytes.data());
  auto size = static_cast<unsigned long>(bytes.size());
  if (tjDecompressHeader3(tj.get(), data, size, &w, &h, &subsamp, &colorspace) != 0)
    throw Error(source, "JPEG header", "a readable JPEG", tjGetErrorStr2(tj.get()));
  CheckSize(w, h, source, options);
  if (!ReachesEndOfImage(bytes))
    throw Error(source, "JPEG data", "a complete JPEG stream",
                "no end-of-image marker (a truncated file)");
  bool gray = colorspace == TJCS_GRAY;
  Image image(w, h, gray ? 1 : 3);
  // Default flags: the accurate integer IDCT and fancy upsampling, as cv2.imread and PIL use.
  if (tjDecompress2(tj.get(), data, size, image.pixels.data(), w, 0, h, gray ? TJPF_GRAY : TJPF_RGB,
                    0) != 0) {
    // Warnings about odd but complete streams are accepted, as PIL accepts them; a truncated
    // stream is not (libjpeg-turbo would fill the rest with grey).
    std::string what = tjGetErrorStr2(tj.get());
    if (tjGetErrorCode(tj.get()) == TJERR_FATAL || what.find("Premature end") != std::string::npos)
      throw Error(source, "JPEG data", "a complete JPEG stream", what);
  }
  if (options.apply_exif_orientation) image = ApplyOrientation(image, ExifOrientation(bytes));
  return image;
}

// libpng reports errors by longjmp; this frame holds no objects with destructors.
struct PngReader {
  std::span<const uint8_t> bytes;
  size_t offset = 0;
  char message[256] = "";
};

void PngRead(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
  if (n > r->bytes.size() - r->offset) png_error(png, "the stream ends early (truncated file)");
  std::memcpy(out, r->bytes.data() + r->offset, n);
  r->offset += n;
}

void PngError(png_structp png, png_const_charp msg) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
  std::snprintf(r->message, sizeof r->message, "%s", msg);
  png_longjmp(png, 1);
}

void PngWarning(png_structp, png_const_charp) {}

// Returns an empty message on success.
std::string DecodePngInto(PngReader& reader, Image& image, int64_t max_pixels) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, PngError, PngWarning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return "cannot start the PNG decoder";
  }
  std::vector<png_bytep> rows;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return reader.message[0] ? reader.message : "corrupt PNG";
  }
  png_set_read_fn(png, &reader, PngRead);
  png_read_info(png, info);
  png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  if (max_pixels < 0 ||
      uint64_t(w) * h > uint64_t(max_pixels)) {  // the caller checked IHDR; this guards odd layouts
    png_destroy_read_struct(&png, &info, nullptr);
    return "more pixels than the limit";
  }
  int color = png_get_color_type(png, info);
  // 16-bit samples keep their high byte, as PIL's convert and cv2.imread(IMREAD_COLOR) do.
  png_set_strip_16(png);
  png_set_packing(png);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  int channels = png_get_channels(png, info);
  image = Image(static_cast<int>(w), static_cast<int>(h), channels);
  rows.resize(h);
  for (png_uint_32 y = 0; y < h; ++y) rows[y] = image.row(static_cast<int>(y));
  png_read_image(png, rows.data());
  png_destroy_read_struct(&png, &info, nullptr);
  return {};
}

Image DecodePng(std::span<const uint8_t> bytes, const std::string& source,
                const DecodeOptions& options) {
  // Check the pixel limit from the IHDR chunk before libpng allocates anything.
  if (bytes.size() >= 24) {
    auto be32 = [&](size_t i) {
      return int64_t(bytes[i]) << 24 | int64_t(bytes[i + 1]) << 16 | int64_t(bytes[i + 2]) << 8 |
             int64_t(bytes[i + 3]);
    };
    CheckSize(be32(16), be32(20), source, options);
  }
  PngReader reader{bytes};
  Image image;
  std::string message = DecodePngInto(reader, image, options.max_pixels);
  if (!message.empty()) throw Error(source, "PNG data", "a valid PNG", message);
  return image;
}

Image DecodeBmp(std::span<const uint8_t> bytes, const std::string& source,
                const DecodeOptions& options) {
  int w = 0, h = 0, c = 0;
  auto len = static_cast<int>(std::min<size_t>(bytes.size(), INT32_MAX));
  if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &c))
    throw Error(source, "BMP header", "a readable BMP", stbi_failure_reason());
  CheckSize(w, h, source, options);
  // stb_image fills a short pixel array with zeros; a truncated file must be an error instead.
  if (bytes.size() >= 34) {
    auto le = [&](size_t i, int n) {
      uint32_t v = 0;
      for (int k = n - 1; k >= 0; --k) v = v << 8 | bytes[i + size_t(k)];
      return v;
    };
    uint32_t off_bits = le(10, 4), bpp = le(28, 2), compression = le(30, 4);
    if (compression == 0 || compression == 3) {
      uint64_t stride = (uint64_t(w) * bpp + 31) / 32 * 4;
      uint64_t need = uint64_t(off_bits) + stride * uint64_t(h);
      if (bytes.size() < need)
        throw Error(source, "BMP data", std::to_string(need) + " bytes",
                    std::to_string(bytes.size()) + " (truncated file)");
    }
  }
  std::unique_ptr<stbi_uc, void (*)(void*)> data(
      stbi_load_from_memory(bytes.data(), len, &w, &h, &c, 0), stbi_image_free);
  if (!data) throw Error(source, "BMP data", "a valid BMP", stbi_failure_reason());
  // stb expands palettes to RGB; a palette whose entries are all gray is an 8-bit gray image.
  Image image(w, h, c);
  std::memcpy(image.pixels.data(), data.get(), image.pixels.size());
  if (c == 3) {
    bool gray = true;
    for (size_t i = 0; gray && i < image.pixels.size(); i += 3)
      gray = image.pixels[i] == image.pixels[i + 1] && image.pixels[i] == image.pixels[i + 2];
    if (gray && bytes.size() > 30 && bytes[28] == 8) {
      Image g(w, h, 1);
      for (size_t i = 0; i < g.pixels.size(); ++i) g.pixels[i] = image.pixels[3 * i];
      return g;
    }
  }
  return image;
}

}  // namespace

Image DecodeImage(std::span<const uint8_t> bytes, const std::string& source,
                  const DecodeOptions& options) {
  if (bytes.empty()) throw Error(source, "", "an image file", "an empty file");
  switch (Sniff(bytes)) {
    case Format::kJpeg:
      return DecodeJpeg(bytes, source, options);
    case Format::kPng:
      return DecodePng(bytes, source, options);
    case Format::kBmp:
      return DecodeBmp(bytes, source, options);
    case Format::kUnknown:
      break;
  }
  throw Error(source, "file signature", "a JPEG, PNG or BMP image", "unknown leading bytes");
}

Image DecodeImageFile(const std::filesystem::path& path, const DecodeOptions& options) {
  const std::vector<uint8_t> bytes = ReadFileBytes(path, kMaxImageFileBytes, "an image file");
  return DecodeImage(bytes, path.string(), options);
}

int ExifOrientation(std::span<const uint8_t> jpeg) {
  // Walk the JPEG markers to APP1 "Exif\0\0", then the TIFF IFD0 for tag 0x0112.
  size_t i = 2;
  while (i + 4 <= jpeg.size() && jpeg[i] == 0xFF) {
    uint8_t marker = jpeg[i + 1];
    if (marker == 0xDA || marker == 0xD9) break;  // image data: no more metadata segments
    size_t len = size_t(jpeg[i + 2]) << 8 | jpeg[i + 3];
    if (len < 2 || i + 2 + len > jpeg.size()) break;
    const uint8_t* seg = jpeg.data() + i + 4;
    size_t n = len - 2;
    if (marker == 0xE1 && n >= 14 && std::memcmp(seg, "Exif\0\0", 6) == 0) {
      const uint8_t* t = seg + 6;
      size_t tn = n - 6;
      bool le = t[0] == 'I' && t[1] == 'I';
      if (!le && !(t[0] == 'M' && t[1] == 'M')) return 1;
      auto u16 = [&](size_t o) -> unsigned {
        return o + 2 > tn ? 0 : le ? t[o] | t[o + 1] << 8 : t[o] << 8 | t[o + 1];
      };
      auto u32 = [&](size_t o) -> size_t {
        return o + 4 > tn ? tn
               : le       ? size_t(u16(o)) | size_t(u16(o + 2)) << 16
                          : size_t(u16(o)) << 16 | size_t(u16(o + 2));
      };
      size_t ifd = u32(4);
      unsigned count = u16(ifd);
      for (unsigned k = 0; k < count; ++k) {
        size_t e = ifd + 2 + 12 * size_t(k);
        if (e + 12 > tn) break;
        if (u16(e) == 0x0112) {
          unsigned v = u16(e + 8);
          return v >= 1 && v <= 8 ? static_cast<int>(v) : 1;
        }
      }
      return 1;
    }
    i += 2 + len;
  }
  return 1;
}

int ExifOrientationOfFile(const std::filesystem::path& path) {
  return ExifOrientation(ReadFileBytes(path, kMaxImageFileBytes, "an image file"));
}

Image ApplyOrientation(const Image& src, int orientation) {
  if (orientation <= 1 || orientation > 8) return src;
  bool transpose = orientation >= 5;
  int w = transpose ? src.height : src.width, h = transpose ? src.width : src.height;
  Image out(w, h, src.channels);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      // (sx, sy): the source pixel shown at (x, y) after the EXIF transform.
      int sx = 0, sy = 0;
      switch (orientation) {
        case 2:
          sx = src.width - 1 - x;
          sy = y;
          break;
        case 3:
          sx = src.width - 1 - x;
          sy = src.height - 1 - y;
          break;
        case 4:
          sx = x;
          sy = src.height - 1 - y;
          break;
        case 5:
          sx = y;
          sy = x;
          break;
        case 6:
          sx = y;
          sy = src.height - 1 - x;
          break;
        case 7:
          sx = src.width - 1 - y;
          sy = src.height - 1 - x;
          break;
        case 8:
          sx = src.width - 1 - y;
          sy = x;
          break;
      }
      std::memcpy(&out.pixels[(size_t(y) * w + x) * src.channels],
                  &src.pixels[(size_t(sy) * src.width + sx) * src.channels], src.channels);
    }
  return out;
}

}  // namespace lockstep
