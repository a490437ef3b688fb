// Resize/ResizeF: check the request once, then hand it to the dialect's own file.
#include <string>

#include "lockstep/core/error.h"
#include "lockstep/pipeline/resize.h"

namespace lockstep {
namespace {

bool Supported(ResizeDialect d, Interpolation i) {
  using I = Interpolation;
  switch (d) {
    case ResizeDialect::kOpenCV:
      return i == I::kNearest || i == I::kBilinear || i == I::kArea;
    case ResizeDialect::kPillow:
      return i == I::kNearest || i == I::kBilinear || i == I::kBicubic;
    case ResizeDialect::kTf:
      return i == I::kBilinear || i == I::kArea;
    case ResizeDialect::kTfLegacy:
      return i == I::kBilinear;
  }
  return false;
}

std::string SupportedList(ResizeDialect d) {
  std::string list;
  for (auto i : {Interpolation::kNearest, Interpolation::kBilinear, Interpolation::kArea,
                 Interpolation::kBicubic})
    if (Supported(d, i)) list += (list.empty() ? "" : ", ") + std::string(Name(i));
  return list;
}

void Check(const Image& image, int width, int height, const ResizeSpec& spec) {
  if (image.channels < 1 || image.channels > 4)
    throw Error("resize", "image.channels", "1 to 4", std::to_string(image.channels));
  if (image.width < 1 || image.height < 1)
    throw Error("resize", "image size", "at least 1x1",
                std::to_string(image.width) + "x" + std::to_string(image.height));
  if (image.pixels.size() != size_t(image.width) * image.height * image.channels)
    throw Error("resize", "image.pixels", "width*height*channels bytes",
                std::to_string(image.pixels.size()) + " bytes");
  if (width < 1 || height < 1)
    throw Error("resize", "output size", "at least 1x1",
                std::to_string(width) + "x" + std::to_string(height));
  if (!Supported(spec.dialect, spec.interpolation))
    throw Error(
        "resize", "resize.interpolation",
        "one of " + SupportedList(spec.dialect) + " for dialect " + std::string(Name(spec.dialect)),
        std::string(Name(spec.interpolation)));
  if (spec.antialias && spec.dialect != ResizeDialect::kTf)
    throw Error("resize", "resize.antialias",
                "false for dialect " + std::string(Name(spec.dialect)), "true",
                "only the tf dialect has an antialias switch");
  if (spec.align_corners && spec.dialect != ResizeDialect::kTfLegacy)
    throw Error("resize", "resize.align_corners",
                "false for dialect " + std::string(Name(spec.dialect)), "true",
                "only tf_legacy has align_corners");
}

}  // namespace

Image Resize(const Image& image, int width, int height, const ResizeSpec& spec) {
  Check(image, width, height, spec);
  switch (spec.dialect) {
    case ResizeDialect::kOpenCV:
      return ResizeOpenCV(image, width, height, spec.interpolation);
    case ResizeDialect::kPillow:
      return ResizePillow(image, width, height, spec.interpolation);
    default:
      throw Error("resize", "resize.dialect", "opencv or pillow for an 8-bit result",
                  std::string(Name(spec.dialect)), "tf dialects give floats: use ResizeF");
  }
}

void ResizeRows(const Image& image, int width, int height, const ResizeSpec& spec,
                const ResizedRowSink& row) {
  Check(image, width, height, spec);
  switch (spec.dialect) {
    case ResizeDialect::kOpenCV:
      return ResizeOpenCVRows(image, width, height, spec.interpolation, row);
    case ResizeDialect::kPillow:
      return ResizePillowRows(image, width, height, spec.interpolation, row);
    default:
      throw Error("resize", "resize.dialect", "opencv or pillow for an 8-bit result",
                  std::string(Name(spec.dialect)), "tf dialects give floats: use ResizeF");
  }
}

ImageF ResizeF(const Image& image, int width, int height, const ResizeSpec& spec) {
  Check(image, width, height, spec);
  switch (spec.dialect) {
    case ResizeDialect::kTf:
      return ResizeTf(image, width, height, spec.interpolation, spec.antialias);
    case ResizeDialect::kTfLegacy:
      return ResizeTfLegacy(image, width, height, spec.align_corners);
    default: {
      const Image r = Resize(image, width, height, spec);
      ImageF f(r.width, r.height, r.channels);
      for (size_t i = 0; i < r.pixels.size(); ++i) f.pixels[i] = r.pixels[i];
      return f;
    }
  }
}

}  // namespace lockstep
