#include "lockstep/pipeline/preprocess.h"

#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include "lockstep/core/error.h"
#include "lockstep/image/decode.h"
#include "lockstep/pipeline/resize.h"

namespace lockstep {
namespace {

bool IsFloatDialect(ResizeDialect d) {
  return d == ResizeDialect::kTf || d == ResizeDialect::kTfLegacy;
}

std::pair<int64_t, int64_t> Range(DType t) {
  return QuantizedDTypeRange(t).value_or(
      std::pair{std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()});
}

// numpy's astype from a float to an integer dtype without saturation, as Debian's numpy 1.24 does
// it on x86-64 (checked against it in the tests): truncation to int32 (cvttsd2si: NaN and values
// outside int32 give INT32_MIN), then the low bits of the dtype, so out-of-range values wrap.
int64_t WrapLikeAstype(double v, DType t) {
  const double r = std::trunc(v);
  const int32_t i = (std::isnan(r) || r < -2147483648.0 || r > 2147483647.0)
                        ? std::numeric_limits<int32_t>::min()
                        : int32_t(r);
  switch (t) {
    case DType::kUInt8:
      return uint8_t(uint32_t(i));
    case DType::kInt8:
      return int8_t(uint8_t(uint32_t(i)));
    case DType::kInt16:
      return int16_t(uint16_t(uint32_t(i)));
    default:
      return i;
  }
}

// Pillow's convert("L"): ITU-R 601-2 luma in 16-bit fixed point.
Image ToGray(const Image& rgb) {
  Image g(rgb.width, rgb.height, 1);
  for (size_t i = 0; i < g.pixels.size(); ++i) {
    const uint8_t* p = &rgb.pixels[i * rgb.channels];
    g.pixels[i] = uint8_t((p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16);
  }
  return g;
}

// `image` with the model's channel count: itself when it already fits (no copy), else converted
// into `storage`.
const Image& MatchChannels(const Image& image, int channels, Image& storage) {
  if (image.channels == channels) return image;
  storage = channels == 1 ? ToGray(ToRgb(image)) : ToRgb(image);
  return storage;
}

// The crop of `src`: itself when the crop is all of it (no copy), else copied into `storage`.
const Image& Crop(const Image& src, const Rect& r, Image& storage) {
  if (r.x == 0 && r.y == 0 && r.width == src.width && r.height == src.height) return src;
  storage = Image(r.width, r.height, src.channels);
  size_t row = size_t(r.width) * src.channels;
  for (int y = 0; y < r.height; ++y)
    std::copy_n(src.row(r.y + y) + size_t(r.x) * src.channels, row, storage.row(y));
  return storage;
}

// The normalized float of one 8-bit value, in float32 as numpy and TFLite compute it.
float Normalize(uint8_t v, int c, const NormalizeSpec& n) {
  return (float(v) - float(n.mean[size_t(c)])) / float(n.std[size_t(c)]);
}

TensorData Hwc(DType t, int h, int w, int c) { return TensorData(t, {h, w, c}); }

// Writes an HxWxC float image into the final tensor: quantized (or float) and laid out.
template <typename Get>
TensorData Finish(int h, int w, int c, const InputQuantization& q, Layout layout, Get value) {
  std::vector<int> shape =
      layout == Layout::kNhwc ? std::vector<int>{1, h, w, c} : std::vector<int>{1, c, h, w};
  TensorData out(q.dtype, shape);
  auto index = [&](int y, int x, int ch) {
    return layout == Layout::kNhwc ? (size_t(y) * w + x) * c + ch : (size_t(ch) * h + y) * w + x;
  };
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch) {
        size_t i = index(y, x, ch);
        double v = value(y, x, ch);
        switch (q.dtype) {
          case DType::kFloat32:
            out.as<float>()[i] = float(v);
            break;
          case DType::kUInt8:
            out.as<uint8_t>()[i] = uint8_t(QuantizeValue(v, q));
            break;
          case DType::kInt8:
            out.as<int8_t>()[i] = int8_t(QuantizeValue(v, q));
            break;
          case DType::kInt16:
            out.as<int16_t>()[i] = int16_t(QuantizeValue(v, q));
            break;
          default:
            break;
        }
      }
  return out;
}

// 8-bit pixels take 256 values per channel, so normalize + quantize is a table lookup per
// channel: the same QuantizeValue arithmetic, done 768 times instead of once per element. The
// writer takes the resized image row by row, so the resize can hand over each row as it is made.
class FusedWriter {
 public:
  FusedWriter(int w, int h, int c, const Spec& spec, const InputQuantization& q, bool bgr)
      : w_(w),
        h_(h),
        c_(c),
        nhwc_(spec.tensor.layout == Layout::kNhwc),
        dtype_(q.dtype),
        tensor_(q.dtype, nhwc_ ? std::vector<int>{1, h, w, c} : std::vector<int>{1, c, h, w}) {
    for (int ch = 0; ch < c; ++ch)
      for (int v = 0; v < 256; ++v)
        lut_[size_t(ch)][size_t(v)] =
            int16_t(QuantizeValue(Normalize(uint8_t(v), ch, spec.normalize), q));
    // Output channel ch reads source channel src_of_[ch] (reversed for a BGR model).
    src_of_ = {bgr ? 2 : 0, 1, bgr ? 0 : 2};
  }

  // Row y of the resized (or placed) image, w * c bytes.
  void Row(int y, const uint8_t* src) {
    if (dtype_ == DType::kUInt8)
      Store(y, src, tensor_.as<uint8_t>().data());
    else if (dtype_ == DType::kInt8)
      Store(y, src, reinterpret_cast<int8_t*>(tensor_.bytes.data()));
    else
      Store(y, src, tensor_.as<int16_t>().data());
  }

  TensorData Take() { return std::move(tensor_); }

 private:
  template <typename T>
  void Store(int y, const uint8_t* src, T* out) const {
    const size_t plane = size_t(w_) * h_, c = size_t(c_);
    if (c_ == 3 && nhwc_) {
      // Locals, not members: stores through a byte pointer may alias anything, which would
      // make the compiler reload every member each pixel.
      const int16_t *l0 = lut_[0].data(), *l1 = lut_[1].data(), *l2 = lut_[2].data();
      const int s0 = src_of_[0], s1 = src_of_[1], s2 = src_of_[2];
      T* dst = out + size_t(y) * w_ * 3;
      const uint8_t* const end = src + size_t(w_) * 3;
      for (; src != end; src += 3, dst += 3) {
        const T a = T(l0[src[s0]]), b = T(l1[src[s1]]), d = T(l2[src[s2]]);
        dst[0] = a;
        dst[1] = b;
        dst[2] = d;
      }
      return;
    }
    for (int ch = 0; ch < c_; ++ch) {
      const auto& l = lut_[size_t(ch)];
      const size_t from = c_ == 1 ? 0 : size_t(src_of_[size_t(ch)]);
      for (int x = 0; x < w_; ++x) {
        const size_t p = size_t(y) * w_ + x;
        out[nhwc_ ? p * c + size_t(ch) : size_t(ch) * plane + p] = T(l[src[size_t(x) * c + from]]);
      }
    }
  }

  int w_, h_, c_;
  bool nhwc_;
  DType dtype_;
  TensorData tensor_;
  std::array<std::array<int16_t, 256>, 3> lut_{};
  std::array<int, 3> src_of_{};
};

TensorData FusedLookup(const Image& placed, const Spec& spec, const InputQuantization& q,
                       bool bgr) {
  FusedWriter writer(placed.width, placed.height, placed.channels, spec, q, bgr);
  for (int y = 0; y < placed.height; ++y) writer.Row(y, placed.row(y));
  return writer.Take();
}

// The tensor every path fills: its size, the channel order and the input quantization.
struct Target {
  int w = 0, h = 0, c = 0;
  bool bgr = false;
  InputQuantization q;
  // The source channel of tensor channel ch.
  int channel(int ch) const { return bgr ? 2 - ch : ch; }
};

void Trace(Preprocessed& out, const PreprocessOptions& options, std::string name, TensorData data) {
  if (options.trace) out.trace.push_back({std::move(name), std::move(data)});
}

// tf.image.resize returns floats: resize, pad, then normalize without rounding to 8 bits.
void PreprocessFloatDialect(const Image& image, const Spec& spec, const Target& target,
                            const PreprocessOptions& options, Preprocessed& out) {
  const int w = target.w, h = target.h, c = target.c;
  const Transform& t = out.transform;
  Image cropped;
  ImageF content =
      ResizeF(Crop(image, t.crop, cropped), t.content.width, t.content.height, spec.resize);
  ImageF canvas(w, h, c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch) {
        bool inside = x >= t.content.x && x < t.content.x + t.content.width && y >= t.content.y &&
                      y < t.content.y + t.content.height;
        canvas.pixels[(size_t(y) * w + x) * c + ch] =
            inside ? content.at(x - t.content.x, y - t.content.y, ch)
                   : float(spec.geometry.pad_value[size_t(ch)]);
      }
  if (options.trace) {
    TensorData d = Hwc(DType::kFloat32, h, w, c);
    std::memcpy(d.bytes.data(), canvas.pixels.data(), d.bytes.size());
    Trace(out, options, "resized", std::move(d));
  }
  auto norm = [&](int y, int x, int ch) {
    int src = target.channel(ch);
    return (canvas.at(x, y, src) - float(spec.normalize.mean[size_t(ch)])) /
           float(spec.normalize.std[size_t(ch)]);
  };
  if (options.trace)
    Trace(out, options, "normalized", Finish(h, w, c, {DType::kFloat32}, Layout::kNhwc, norm));
  out.tensor = Finish(h, w, c, target.q, spec.tensor.layout, norm);
  if (options.trace) Trace(out, options, "quantized", out.tensor);
}

// Stretched content fills the tensor: each resized row goes straight through the lookup, the
// resized image never exists whole.
void PreprocessRowByRow(const Image& image, const Spec& spec, const Target& target,
                        Preprocessed& out) {
  FusedWriter writer(target.w, target.h, target.c, spec, target.q, target.bgr);
  Image cropped;
  ResizeRows(Crop(image, out.transform.crop, cropped), target.w, target.h, spec.resize,
             [&](int y, const uint8_t* row) { writer.Row(y, row); });
  out.tensor = writer.Take();
}

// 8-bit dialects: the resized image placed on its canvas, then normalized and quantized.
void PreprocessPlaced(const Image& image, const Spec& spec, const Target& target,
                      const PreprocessOptions& options, Preprocessed& out) {
  const int w = target.w, h = target.h, c = target.c;
  Image placed = PlaceResized(image, spec, out.transform);
  if (options.trace) {
    TensorData d = Hwc(DType::kUInt8, h, w, c);
    for (size_t i = 0; i < placed.pixels.size(); ++i)
      d.bytes[i] = placed.pixels[i - i % c + size_t(target.channel(int(i % c)))];
    Trace(out, options, "resized", std::move(d));
  }
  auto norm = [&](int y, int x, int ch) {
    return double(Normalize(placed.at(x, y, target.channel(ch)), ch, spec.normalize));
  };
  if (options.trace)
    Trace(out, options, "normalized", Finish(h, w, c, {DType::kFloat32}, Layout::kNhwc, norm));
  if (options.fused && target.q.dtype != DType::kFloat32) {
    out.tensor = FusedLookup(placed, spec, target.q, target.bgr);
  } else {
    out.tensor = Finish(h, w, c, target.q, spec.tensor.layout, norm);
  }
  if (options.trace) Trace(out, options, "quantized", out.tensor);
}

}  // namespace

InputQuantization ResolveQuantization(const Spec& spec, const ModelInput& input) {
  InputQuantization q;
  q.dtype = spec.tensor.dtype.value_or(input.dtype);
  q.rounding = spec.tensor.rounding;
  q.saturate = spec.tensor.saturate;
  if (q.dtype == DType::kFloat32) return q;
  q.scale = spec.tensor.scale.value_or(input.scale);
  q.zero_point = spec.tensor.zero_point.value_or(input.zero_point);
  if (!(q.scale > 0))
    throw Error("", "tensor.scale",
                "a positive input scale for a " + std::string(DTypeName(q.dtype)) + " input",
                "none in the model or the spec");
  return q;
}

int64_t QuantizeValue(double real, const InputQuantization& q) {
  // The input is a float32 tensor value and the scale a float32 from the model. TFLite 2.9's
  // QUANTIZE kernel divides them in double (its params hold a double scale); numpy pipelines
  // divide in float32. The two differ at exact half steps, so each rounding mode keeps its own.
  const float value = float(real), scale = float(q.scale);
  const float x = value / scale;
  double r = 0;
  switch (q.rounding) {
    case Rounding::kHalfAwayFromZero:
      r = std::round(double(value) / double(scale)) + double(q.zero_point);
      break;
    case Rounding::kHalfToEven:
      r = double(std::nearbyint(x)) + double(q.zero_point);
      break;
    // Truncating pipelines cast after adding the zero point: astype(x / scale + zp).
    case Rounding::kTruncate:
      r = std::trunc(x + float(q.zero_point));
      break;
  }
  if (!q.saturate) return WrapLikeAstype(r, q.dtype);
  // Clamp in double: a tiny scale makes r far beyond int64, where the cast is undefined.
  auto [lo, hi] = Range(q.dtype);
  if (std::isnan(r)) return lo;
  return int64_t(std::clamp(r, double(lo), double(hi)));
}

Image PlaceResized(const Image& image, const Spec& spec, const Transform& t) {
  Image cropped;
  Image content =
      Resize(Crop(image, t.crop, cropped), t.content.width, t.content.height, spec.resize);
  if (t.content == Rect{0, 0, t.target_width, t.target_height}) return content;
  Image canvas(t.target_width, t.target_height, image.channels);
  for (size_t i = 0; i < canvas.pixels.size(); ++i)
    canvas.pixels[i] = uint8_t(spec.geometry.pad_value[std::min<size_t>(i % image.channels, 2)]);
  size_t row = size_t(content.width) * image.channels;
  for (int y = 0; y < content.height; ++y)
    std::copy_n(content.row(y), row,
                canvas.row(t.content.y + y) + size_t(t.content.x) * image.channels);
  return canvas;
}

Preprocessed Preprocess(const Image& decoded, const Spec& spec, const ModelInput& input,
                        const PreprocessOptions& options) {
  if (input.channels != 1 && input.channels != 3)
    throw Error("", "model input", "1 or 3 channels", std::to_string(input.channels));
  Target target;
  target.w = spec.tensor.width ? spec.tensor.width : input.width;
  target.h = spec.tensor.height ? spec.tensor.height : input.height;
  target.c = input.channels;
  target.q = ResolveQuantization(spec, input);
  Image converted;
  const Image& image = MatchChannels(decoded, target.c, converted);
  target.bgr = target.c == 3 && spec.input.channel_order == ChannelOrder::kBgr;

  Preprocessed out;
  out.transform = ComputeTransform(spec.geometry, image.width, image.height, target.w, target.h);
  if (options.trace) {
    TensorData d = Hwc(DType::kUInt8, image.height, image.width, target.c);
    d.bytes = image.pixels;
    Trace(out, options, "decoded", std::move(d));
  }
  if (IsFloatDialect(spec.resize.dialect))
    PreprocessFloatDialect(image, spec, target, options, out);
  else if (options.fused && !options.trace && target.q.dtype != DType::kFloat32 &&
           out.transform.content == Rect{0, 0, target.w, target.h})
    PreprocessRowByRow(image, spec, target, out);
  else
    PreprocessPlaced(image, spec, target, options, out);
  return out;
}

}  // namespace lockstep
