// TensorFlow's resizes in float32, as its CPU kernels compute them:
// - resize_bilinear (tf.image.resize bilinear: half-pixel centers; tf.compat.v1 legacy: src =
//   dst*in/out, or align_corners: src = dst*(in-1)/(out-1)), lerped top, bottom, then between;
// - scale_and_translate with the triangle kernel (tf.image.resize bilinear, antialias=True):
//   kernel widened by in/out when shrinking, weights normalized over the clamped span,
//   rows first, then columns;
// - resize_area (tf.image.resize area, with or without antialias — TensorFlow ignores the flag
//   for area): each output cell's box average, cells cut at fractional source positions.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "lockstep/pipeline/resize.h"

namespace lockstep {
namespace {

struct Lerp {
  int lower, upper;
  float frac;
};

float Scale(int in, int out, bool align_corners) {
  return align_corners && out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1)
                                  : static_cast<float>(in) / static_cast<float>(out);
}

std::vector<Lerp> LerpAxis(int in, int out, float scale, bool half_pixel) {
  std::vector<Lerp> axis(out);
  for (int i = 0; i < out; ++i) {
    const float src =
        half_pixel ? (static_cast<float>(i) + 0.5f) * scale - 0.5f : static_cast<float>(i) * scale;
    const float f = std::floor(src);
    axis[i].lower = std::max(static_cast<int>(f), 0);
    axis[i].upper = std::min(static_cast<int>(std::ceil(src)), in - 1);
    axis[i].frac = src - f;
  }
  return axis;
}

ImageF Bilinear(const Image& in, int w, int h, bool align_corners, bool half_pixel) {
  const int cn = in.channels;
  const auto xs = LerpAxis(in.width, w, Scale(in.width, w, align_corners), half_pixel);
  const auto ys = LerpAxis(in.height, h, Scale(in.height, h, align_corners), half_pixel);
  ImageF out(w, h, cn);
  float* d = out.pixels.data();
  for (int y = 0; y < h; ++y) {
    const uint8_t* top = in.row(ys[y].lower);
    const uint8_t* bottom = in.row(ys[y].upper);
    for (int x = 0; x < w; ++x) {
      const int l = xs[x].lower * cn, u = xs[x].upper * cn;
      for (int c = 0; c < cn; ++c) {
        const float tl = top[l + c], tr = top[u + c], bl = bottom[l + c], br = bottom[u + c];
        const float t = tl + (tr - tl) * xs[x].frac;
        const float b = bl + (br - bl) * xs[x].frac;
        *d++ = t + (b - t) * ys[y].frac;
      }
    }
  }
  return out;
}

// One axis of scale_and_translate (translation 0): start and normalized weights per output.
struct Span {
  int start = 0;
  std::vector<float> weights;
};

std::vector<Span> TriangleSpans(int in, int out) {
  const float scale = static_cast<float>(out) / static_cast<float>(in);
  const float inv_scale = static_cast<float>(1.0 / scale);
  const float kernel_scale = std::max(inv_scale, 1.0f);  // antialias: widen when shrinking
  const float radius = 1.0f * kernel_scale;
  std::vector<Span> spans(out);
  for (int x = 0; x < out; ++x) {
    const float sample = (static_cast<float>(x) + 0.5f) * inv_scale;
    if (sample < 0 || sample > static_cast<float>(in)) continue;  // empty span
    int start = static_cast<int>(std::ceil(sample - radius - 0.5f));
    int end = static_cast<int>(std::floor(sample + radius - 0.5f));
    start = std::clamp(start, 0, in - 1);
    end = std::clamp(end, 0, in - 1) + 1;
    float total = 0.0f;
    std::vector<float> w;
    for (int s = start; s < end; ++s) {
      const float pos = static_cast<float>(s) + 0.5f - sample;
      const float v = std::max(0.0f, 1.0f - std::abs(pos * (1.0f / kernel_scale)));
      total += v;
      w.push_back(v);
    }
    if (std::abs(total) >= 1000.0f * std::numeric_limits<float>::min()) {
      const float inv_total = 1.0f / total;
      for (auto& v : w) v *= inv_total;
    } else {
      std::fill(w.begin(), w.end(), 0.0f);
    }
    spans[x] = {start, std::move(w)};
  }
  return spans;
}

ImageF Triangle(const Image& in, int w, int h) {
  const int cn = in.channels;
  const auto rows = TriangleSpans(in.height, h);
  const auto cols = TriangleSpans(in.width, w);
  const size_t in_row = size_t(in.width) * cn;
  std::vector<float> mid(size_t(h) * in_row, 0.0f);  // rows first: h x in.width
  for (int y = 0; y < h; ++y) {
    float* d = &mid[size_t(y) * in_row];
    for (size_t i = 0; i < rows[y].weights.size(); ++i) {
      const uint8_t* s = in.row(rows[y].start + static_cast<int>(i));
      const float wgt = rows[y].weights[i];
      for (size_t x = 0; x < in_row; ++x) d[x] += wgt * static_cast<float>(s[x]);
    }
  }
  ImageF out(w, h, cn);
  for (int y = 0; y < h; ++y) {
    const float* s = &mid[size_t(y) * in_row];
    float* d = &out.pixels[size_t(y) * w * cn];
    for (int x = 0; x < w; ++x)
      for (size_t i = 0; i < cols[x].weights.size(); ++i)
        for (int c = 0; c < cn; ++c)
          d[x * cn + c] += cols[x].weights[i] * s[(cols[x].start + i) * cn + c];
  }
  return out;
}

// resize_area: output cell [i*scale, (i+1)*scale) covers source pixels with the overlap length
// as weight (TensorFlow's case analysis, in float); per output, each source row is summed across
// the cell's columns, weighted by its row overlap, and the total times 1/(scale_y*scale_x).
struct AreaTap {
  int index;
  float weight;
};
std::vector<std::vector<AreaTap>> AreaAxis(int in, int out) {
  const float scale = Scale(in, out, false);
  std::vector<std::vector<AreaTap>> axis(out);
  for (int i = 0; i < out; ++i) {
    const float a = static_cast<float>(i) * scale, b = static_cast<float>(i + 1) * scale;
    const int start = static_cast<int>(std::floor(a)), end = static_cast<int>(std::ceil(b));
    for (int s = start; s < end; ++s) {
      const float lo = static_cast<float>(s), hi = static_cast<float>(s + 1);
      const float wgt = lo < a ? (hi > b ? scale : hi - a) : (hi > b ? b - lo : 1.0f);
      axis[i].push_back({std::clamp(s, 0, in - 1), wgt});
    }
  }
  return axis;
}

ImageF Area(const Image& in, int w, int h) {
  const int cn = in.channels;
  const auto xs = AreaAxis(in.width, w);
  const auto ys = AreaAxis(in.height, h);
  const float norm =
      static_cast<float>(1.0 / (Scale(in.height, h, false) * Scale(in.width, w, false)));
  ImageF out(w, h, cn);
  float* d = out.pixels.data();
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < cn; ++c) {
        float sum = 0.0f;
        for (const auto& ty : ys[y]) {
          const uint8_t* s = in.row(ty.index);
          float sum_y = 0.0f;
          for (const auto& tx : xs[x])
            sum_y += static_cast<float>(s[tx.index * cn + c]) * tx.weight;
          sum += sum_y * ty.weight;
        }
        *d++ = sum * norm;
      }
  return out;
}

}  // namespace

ImageF ResizeTf(const Image& in, int w, int h, Interpolation interpolation, bool antialias) {
  if (interpolation == Interpolation::kArea) return Area(in, w, h);
  return antialias ? Triangle(in, w, h) : Bilinear(in, w, h, false, true);
}

ImageF ResizeTfLegacy(const Image& in, int w, int h, bool align_corners) {
  return Bilinear(in, w, h, align_corners, false);
}

}  // namespace lockstep
