// Image resizing in the exact arithmetic of the libraries models are trained with ("dialects"):
// OpenCV 4.6 cv::resize, Pillow 9.4 Image.resize (8-bit results, byte for byte), and TensorFlow's
// tf.image.resize / tf.compat.v1.image.resize_bilinear (float results).
#pragma once

#include <cstdint>
#include <functional>

#include "lockstep/image/image.h"
#include "lockstep/pipeline/spec.h"

namespace lockstep {

// The 8-bit dialects (opencv, pillow). `width`, `height` ≥ 1; channels 1..4. Unsupported
// combinations (e.g. pillow + area, or a float dialect) throw lockstep::Error naming the field.
Image Resize(const Image& image, int width, int height, const ResizeSpec& spec);

// Receives a resized image one row at a time: row y (0..height-1, in order) as width*channels
// bytes, valid only during the call.
using ResizedRowSink = std::function<void(int y, const uint8_t* pixels)>;

// Resize() one row at a time, the same bytes, for callers that transform each row as it comes
// (the fused quantizer) instead of holding the resized image.
void ResizeRows(const Image& image, int width, int height, const ResizeSpec& spec,
                const ResizedRowSink& row);

// Any dialect as floats: tf and tf_legacy compute in float32 and never round; the 8-bit dialects
// are their Resize() result widened to float.
ImageF ResizeF(const Image& image, int width, int height, const ResizeSpec& spec);

// The dialects one by one (Resize/ResizeF validate, then call these).
// cv::resize with INTER_NEAREST, INTER_LINEAR or INTER_AREA on CV_8UC{1,2,3,4}.
Image ResizeOpenCV(const Image& image, int width, int height, Interpolation interpolation);
void ResizeOpenCVRows(const Image& image, int width, int height, Interpolation interpolation,
                      const ResizedRowSink& row);
// Image.resize with NEAREST, BILINEAR or BICUBIC on mode L, LA, RGB or RGBA.
Image ResizePillow(const Image& image, int width, int height, Interpolation interpolation);
void ResizePillowRows(const Image& image, int width, int height, Interpolation interpolation,
                      const ResizedRowSink& row);
// tf.image.resize: bilinear (half-pixel centers; antialias → scale_and_translate "triangle") or
// area (resize_area; TensorFlow ignores antialias for area).
ImageF ResizeTf(const Image& image, int width, int height, Interpolation interpolation,
                bool antialias);
// tf.compat.v1.image.resize_bilinear, half_pixel_centers=False.
ImageF ResizeTfLegacy(const Image& image, int width, int height, bool align_corners);

}  // namespace lockstep
