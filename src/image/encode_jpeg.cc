#include <turbojpeg.h>

#include <memory>
#include <string>

#include "lockstep/core/error.h"
#include "lockstep/image/encode.h"

namespace lockstep {

std::vector<uint8_t> EncodeJpeg(const Image& image, int quality, JpegSubsampling subsampling) {
  if (image.width <= 0 || image.height <= 0 || (image.channels != 1 && image.channels != 3) ||
      image.pixels.size() != size_t(image.width) * image.height * image.channels)
    throw Error("", "image", "a non-empty gray or RGB image whose pixel count matches its size",
                std::to_string(image.width) + "x" + std::to_string(image.height) + "x" +
                    std::to_string(image.channels));
  if (quality < 1 || quality > 100)
    throw Error("", "JPEG quality", "1..100", std::to_string(quality));
  std::unique_ptr<void, int (*)(tjhandle)> tj(tjInitCompress(), tjDestroy);
  if (!tj) throw Error("cannot start the JPEG encoder");
  int samp = image.channels == 1                    ? TJSAMP_GRAY
             : subsampling == JpegSubsampling::k444 ? TJSAMP_444
             : subsampling == JpegSubsampling::k422 ? TJSAMP_422
                                                    : TJSAMP_420;
  unsigned char* jpeg = nullptr;  // allocated by libjpeg-turbo, freed with tjFree
  unsigned long size = 0;
  // The accurate integer DCT, libjpeg's default that PIL and OpenCV keep (TurboJPEG would pick
  // the fast one): with it the bytes equal theirs for the same quality and subsampling.
  int failed = tjCompress2(tj.get(), image.pixels.data(), image.width, 0, image.height,
                           image.channels == 1 ? TJPF_GRAY : TJPF_RGB, &jpeg, &size, samp, quality,
                           TJFLAG_ACCURATEDCT);
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> owned(jpeg, tjFree);
  if (failed) throw Error("", "JPEG encoding", "an encoded image", tjGetErrorStr2(tj.get()));
  return std::vector<uint8_t>(jpeg, jpeg + size);
}

}  // namespace lockstep
