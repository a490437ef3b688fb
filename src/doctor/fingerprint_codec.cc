// Hypotheses about codecs between the camera and the model: a YUV round trip that decodes with
// another colour matrix or range than it encoded with, or halves the chroma resolution (4:2:0,
// 4:2:2); and a JPEG re-encoding, of the stage's image or of the source before preprocessing.
// Each round trip is rebuilt here from the standard definitions (BT.601 and BT.709 coefficients,
// the limited 16..235 / 16..240 ranges) or with libjpeg-turbo, applied to lockstep's pixels and
// compared with the other's.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "doctor/fingerprint.h"
#include "lockstep/image/decode.h"
#include "lockstep/image/encode.h"

namespace lockstep::fingerprint {
namespace {

// ---- YUV ------------------------------------------------------------------------------------

struct Matrix {
  const char* name;
  double kr, kb;
};
constexpr Matrix kBt601{"BT.601", 0.299, 0.114};
constexpr Matrix kBt709{"BT.709", 0.2126, 0.0722};

struct YuvFormat {
  Matrix matrix;
  bool limited;  // Y 16..235, Cb/Cr 16..240; else full 0..255
};

std::string FormatName(const YuvFormat& f) {
  return std::string(f.matrix.name) + (f.limited ? " limited range" : " full range");
}

enum class Chroma { k444, k422, k420 };
enum class Decimation { kAverage, kTopLeft };  // a block's chroma: its mean, or its first pixel
enum class Upsampling { kNearest, kLinear };   // back to full size: repeated, or interpolated

struct RoundTrip {
  YuvFormat encode, decode;
  Chroma chroma = Chroma::k444;
  Decimation decimation = Decimation::kAverage;
  Upsampling upsampling = Upsampling::kNearest;
};

// Rounded half up and saturated, as 8-bit planes and pixels store a value (floor, unlike
// std::round, inlines: the search rounds some forty million values).
double Byte(double v) { return std::clamp(std::floor(v + 0.5), 0.0, 255.0); }

// Planes of 8-bit Y, Cb, Cr at full size, as the encoder's format stores them.
std::array<std::vector<double>, 3> Encode(const std::vector<double>& rgb, const YuvFormat& f) {
  const double kr = f.matrix.kr, kb = f.matrix.kb, kg = 1 - kr - kb;
  size_t n = rgb.size() / 3;
  std::array<std::vector<double>, 3> yuv;
  for (auto& plane : yuv) plane.resize(n);
  for (size_t i = 0; i < n; ++i) {
    double r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
    double y = kr * r + kg * g + kb * b;
    double cb = (b - y) / (2 * (1 - kb)), cr = (r - y) / (2 * (1 - kr));  // -127.5..127.5
    if (f.limited) y = 16 + y * 219 / 255, cb = cb * 224 / 255, cr = cr * 224 / 255;
    yuv[0][i] = Byte(y), yuv[1][i] = 128 + cb, yuv[2][i] = 128 + cr;
  }
  return yuv;
}

// A chroma plane reduced by fx×fy blocks (8-bit) and brought back to full size.
std::vector<double> Resample(const std::vector<double>& plane, int h, int w, int fx, int fy,
                             const RoundTrip& t) {
  if (fx == 1 && fy == 1) {
    std::vector<double> out(plane.size());
    std::transform(plane.begin(), plane.end(), out.begin(), Byte);
    return out;
  }
  int sw = (w + fx - 1) / fx, sh = (h + fy - 1) / fy;
  std::vector<double> small(size_t(sw) * sh);
  for (int by = 0; by < sh; ++by)
    for (int bx = 0; bx < sw; ++bx) {
      double sum = 0;
      int count = 0;
      for (int y = by * fy; y < std::min(h, by * fy + fy); ++y)
        for (int x = bx * fx; x < std::min(w, bx * fx + fx); ++x)
          if (t.decimation == Decimation::kAverage || count == 0)
            sum += plane[size_t(y) * w + x], ++count;
      small[size_t(by) * sw + bx] = Byte(sum / count);
    }
  std::vector<double> out(plane.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double v;
      if (t.upsampling == Upsampling::kNearest) {
        v = small[size_t(y / fy) * sw + x / fx];
      } else {
        // Centred: full-size pixel x sits at (x + 0.5) / fx − 0.5 in block units.
        double sx = std::clamp((x + 0.5) / fx - 0.5, 0.0, double(sw - 1));
        double sy = std::clamp((y + 0.5) / fy - 0.5, 0.0, double(sh - 1));
        int x0 = int(sx), y0 = int(sy), x1 = std::min(x0 + 1, sw - 1),
            y1 = std::min(y0 + 1, sh - 1);
        double ax = sx - x0, ay = sy - y0;
        auto s = [&](int yy, int xx) { return small[size_t(yy) * sw + xx]; };
        v = (1 - ay) * ((1 - ax) * s(y0, x0) + ax * s(y0, x1)) +
            ay * ((1 - ax) * s(y1, x0) + ax * s(y1, x1));
      }
      out[size_t(y) * w + x] = v;
    }
  return out;
}

using Planes = std::array<std::vector<double>, 3>;

// The encoded planes with the round trip's chroma resolution, back at full size.
Planes Subsampled(const Planes& yuv, int h, int w, const RoundTrip& t) {
  int fx = t.chroma == Chroma::k444 ? 1 : 2, fy = t.chroma == Chroma::k420 ? 2 : 1;
  return {yuv[0], Resample(yuv[1], h, w, fx, fy, t), Resample(yuv[2], h, w, fx, fy, t)};
}

// Pixel i of 8-bit planes decoded in format `f` to RGB, rounded as a decoder gives them.
struct Decoder {
  explicit Decoder(const YuvFormat& f)
      : kr(f.matrix.kr), kb(f.matrix.kb), kg(1 - kr - kb), limited(f.limited) {}
  std::array<double, 3> operator()(const Planes& yuv, size_t i) const {
    double y = yuv[0][i], cb = yuv[1][i] - 128, cr = yuv[2][i] - 128;
    if (limited) y = (y - 16) * 255 / 219, cb = cb * 255 / 224, cr = cr * 255 / 224;
    double r = y + 2 * (1 - kr) * cr, b = y + 2 * (1 - kb) * cb;
    double g = (y - kr * r - kb * b) / kg;
    return {Byte(r), Byte(g), Byte(b)};
  }
  double kr, kb, kg;
  bool limited;
};

std::vector<double> Decode(const Planes& yuv, const YuvFormat& f) {
  Decoder decode(f);
  std::vector<double> out(yuv[0].size() * 3);
  for (size_t i = 0; i < yuv[0].size(); ++i) {
    auto rgb = decode(yuv, i);
    std::copy(rgb.begin(), rgb.end(), out.begin() + std::ptrdiff_t(3 * i));
  }
  return out;
}

// AgreePixels(Decode(yuv, f), other, tol) over every `stride`th pixel, without materializing
// the decoded image: the search scores some 140 round trips.
PixelAgreement ScoreDecoded(const Planes& yuv, const YuvFormat& f, const std::vector<double>& other,
                            double tol, size_t stride) {
  Decoder decode(f);
  size_t ok = 0, n = 0;
  double sum = 0, largest = 0;
  for (size_t i = 0; i < yuv[0].size(); i += stride, n += 3) {
    auto rgb = decode(yuv, i);
    for (size_t k = 0; k < 3; ++k) {
      double d = std::abs(other[3 * i + k] - rgb[k]);
      ok += d <= tol;
      sum += d;
      largest = std::max(largest, d);
    }
  }
  return {double(ok) / double(n), sum / double(n), largest};
}

std::vector<double> Apply(const std::vector<double>& rgb, int h, int w, const RoundTrip& t) {
  return Decode(Subsampled(Encode(rgb, t.encode), h, w, t), t.decode);
}

std::vector<YuvFormat> AllFormats() {
  std::vector<YuvFormat> formats;
  for (Matrix m : {kBt601, kBt709})
    for (bool limited : {false, true}) formats.push_back({m, limited});
  return formats;
}

// The chroma treatments to try: full resolution, and each way of halving it.
std::vector<RoundTrip> ChromaTreatments() {
  std::vector<RoundTrip> out = {{}};
  for (Chroma c : {Chroma::k422, Chroma::k420})
    for (Decimation d : {Decimation::kAverage, Decimation::kTopLeft})
      for (Upsampling u : {Upsampling::kNearest, Upsampling::kLinear})
        out.push_back({{}, {}, c, d, u});
  return out;
}

bool SameFormat(const YuvFormat& a, const YuvFormat& b) {
  return a.matrix.kr == b.matrix.kr && a.limited == b.limited;
}

// Two implementations of one round trip differ by their 8-bit rounding: each plane carries half
// a level, which the decode matrix amplifies (Cr by up to 2·(1−Kr)·255/224 ≈ 1.6 into R, Cb by up
// to 2.1 into B) and the two sides may round the other way: two levels, plus the stage's own
// uncertainty.
double RoundTripTolerance(const Pixels& p) {
  return 2 + 1.2 * p.ref_uncertainty + p.other_uncertainty;
}

std::string ChromaName(Chroma c) { return c == Chroma::k420 ? "4:2:0" : "4:2:2"; }

std::string RoundTripText(const RoundTrip& t) {
  std::string s = "encoded as " + FormatName(t.encode) + " YUV";
  if (t.chroma != Chroma::k444)
    s += std::string(", chroma ") +
         (t.decimation == Decimation::kAverage ? "averaged" : "taken from the first pixel") +
         " over " + (t.chroma == Chroma::k420 ? "2x2" : "2x1") + " and " +
         (t.upsampling == Upsampling::kNearest ? "repeated" : "interpolated") + " back";
  return s + ", decoded as " + FormatName(t.decode);
}

void YuvRoundTrip(const Aligned& a, const Pixels& p, std::vector<Candidate>& out) {
  if (a.c != 3 || a.h < 2 || a.w < 2) return;
  const double tol = RoundTripTolerance(p);
  PixelAgreement before = AgreePixels(p.ref, p.other, tol);
  if (before.share >= kHolds) return;  // within what any round trip's rounding leaves
  // Every encode format × chroma treatment × decode format but the faithful ones; each stage
  // of the round trip computed once for all that share it.
  std::optional<RoundTrip> best;
  PixelAgreement best_score;
  for (const YuvFormat& e : AllFormats()) {
    const Planes encoded = Encode(p.ref, e);
    for (RoundTrip t : ChromaTreatments()) {
      const Planes planes = Subsampled(encoded, a.h, a.w, t);
      for (const YuvFormat& d : AllFormats()) {
        if (SameFormat(e, d) && t.chroma == Chroma::k444) continue;  // rounding only
        t.encode = e, t.decode = d;
        // Every 7th pixel (odd: all positions in the chroma blocks) to choose; the chosen one
        // is then judged on every pixel.
        PixelAgreement g = ScoreDecoded(planes, d, p.other, tol, 7);
        if (!best || g.mean_abs < best_score.mean_abs) best = t, best_score = g;
      }
    }
  }
  if (!best || best_score.mean_abs > 0.5 * before.mean_abs) return;
  best_score = AgreePixels(Apply(p.ref, a.h, a.w, *best), p.other, tol);
  if (best_score.share < kHolds || best_score.mean_abs > 0.5 * before.mean_abs) return;
  const RoundTrip& t = *best;
  std::string measured = RoundTripText(t) + ": " + Percent(best_score.share) +
                         " of elements within " + Num(tol) +
                         " levels (the 8-bit planes' rounding; before: " + Percent(before.share) +
                         "), mean abs difference " + Fixed(best_score.mean_abs, 3) +
                         " (before: " + Fixed(before.mean_abs, 3) + ")";
  Candidate c;
  c.agreement = best_score.share;
  c.residual = best_score.max_abs;
  c.rank = 4;
  // Each cause alone, for peeling: the round trip faithful except for that part.
  auto alone = [&](RoundTrip only) { return ToStage(a, p, Apply(p.ref, a.h, a.w, only)); };
  if (!SameFormat({t.encode.matrix, false}, {t.decode.matrix, false})) {
    c.fingerprint = {"yuv_matrix", "BT.601 vs BT.709",
                     std::string("the colour matrix differs between encoding (") +
                         t.encode.matrix.name + ") and decoding (" + t.decode.matrix.name +
                         "): " + measured};
    c.transformed = alone({t.encode, {t.decode.matrix, t.encode.limited}});
    out.push_back(c);
  }
  if (t.encode.limited != t.decode.limited) {
    c.fingerprint = {"yuv_range", "limited vs full range",
                     std::string("encoded in ") + (t.encode.limited ? "limited" : "full") +
                         " range, decoded as " + (t.decode.limited ? "limited" : "full") +
                         " range: " + measured};
    c.transformed = alone({t.encode, {t.encode.matrix, t.decode.limited}});
    out.push_back(c);
  }
  if (t.chroma != Chroma::k444) {
    c.fingerprint = {
        "chroma_subsampled", "chroma subsampled " + ChromaName(t.chroma),
        "luma kept, chroma at " +
            std::string(t.chroma == Chroma::k420 ? "half width and height" : "half width") + ": " +
            measured};
    c.transformed = alone({t.encode, t.encode, t.chroma, t.decimation, t.upsampling});
    out.push_back(c);
  }
}

// ---- JPEG -----------------------------------------------------------------------------------

Image ToImage(const std::vector<double>& pixels, int h, int w, int c) {
  Image img(w, h, c);
  for (size_t i = 0; i < pixels.size(); ++i) img.pixels[i] = uint8_t(Byte(pixels[i]));
  return img;
}

std::vector<double> FromImage(const Image& img) {
  return std::vector<double>(img.pixels.begin(), img.pixels.end());
}

Image JpegRoundTrip(const Image& img, int quality, JpegSubsampling s) {
  std::vector<uint8_t> bytes = EncodeJpeg(img, quality, s);
  return DecodeImage(bytes, "re-encoded JPEG", {.apply_exif_orientation = false});
}

// How much steeper an image is across 8x8 block edges than inside blocks: the mean absolute
// step of its luma (the channel sum) over edges, divided by that inside blocks.
double EdgeRatio(const std::vector<double>& v, int h, int w, int c) {
  auto luma = [&](int y, int x) {
    double s = 0;
    for (int k = 0; k < c; ++k) s += v[(size_t(y) * w + x) * size_t(c) + size_t(k)];
    return s;
  };
  double edge = 0, inner = 0, n_edge = 0, n_inner = 0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int axis = 0; axis < 2; ++axis) {
        int pos = axis ? y : x;
        if (pos == 0) continue;
        double step = std::abs(luma(y, x) - (axis ? luma(y - 1, x) : luma(y, x - 1)));
        (pos % 8 == 0 ? edge : inner) += step;
        (pos % 8 == 0 ? n_edge : n_inner) += 1;
      }
  return n_edge > 0 && inner > 0 ? (edge / n_edge) / (inner / n_inner) : 1;
}

// JPEG quantizes each 8x8 block on its own, so a re-encoded image steps at block edges more than
// the image it came from: the other's edge ratio over lockstep's. About 1 for noise and other
// codecs; 1.18 at quality 60 on a COCO photo, but near 1 from quality 85 on. Evidence, not the
// test: that is the re-encoding reproducing the other.
double Blockiness(const Pixels& p, int h, int w, int c) {
  return EdgeRatio(p.other, h, w, c) / EdgeRatio(p.ref, h, w, c);
}

// Quality searched coarse to fine on the mean difference, which falls toward the true quality:
// every `step`th, then each one within half a step (and one) of the best. `score` gives the mean
// abs difference of a quality. (No cheaper pre-test: a re-encoding at a quality near the true one
// leaves a difference as large as the plain reference does.)
template <typename Score>
int SearchQuality(int step, Score&& score) {
  std::map<int, double> seen;
  auto at = [&](int q) {
    auto it = seen.find(q);
    return it != seen.end() ? it->second : (seen[q] = score(q));
  };
  int best = 100;
  for (int q = 100; q >= step; q -= step)
    if (at(q) < at(best)) best = q;
  const int window = step / 2 + 1;
  for (int q = std::max(1, best - window); q <= std::min(100, best + window); ++q)
    if (at(q) < at(best)) best = q;
  return best;
}

const char* SubsamplingName(JpegSubsampling s) {
  return s == JpegSubsampling::k444 ? "4:4:4" : s == JpegSubsampling::k422 ? "4:2:2" : "4:2:0";
}

// The encoder's tolerance: one level, for decoders whose IDCT rounds differently from
// libjpeg-turbo's accurate one, plus the stage's uncertainty (twice the reference's: a changed
// input pixel moves its whole block's coefficients).
double JpegTolerance(const Pixels& p) { return 1 + 2 * p.ref_uncertainty + p.other_uncertainty; }

Candidate JpegCandidate(int quality, JpegSubsampling s, const PixelAgreement& g,
                        const PixelAgreement& before, double tol, const std::string& where) {
  Candidate c;
  c.agreement = g.share;
  c.residual = g.max_abs;
  c.rank = 4;
  c.fingerprint = {"jpeg_reencoded", "JPEG re-encoded at quality ≈ " + std::to_string(quality),
                   where + " encoded as JPEG (libjpeg-turbo, quality " + std::to_string(quality) +
                       ", " + SubsamplingName(s) + ") and decoded again reproduces the other: " +
                       Percent(g.share) + " of elements within " + Num(tol) +
                       " level(s) (before: " + Percent(before.share) + "), mean abs difference " +
                       Fixed(g.mean_abs, 3) + " (before: " + Fixed(before.mean_abs, 3) + ")"};
  return c;
}

void JpegOfStage(const Aligned& a, const Pixels& p, std::vector<Candidate>& out) {
  if (a.h < 16 || a.w < 16) return;
  double blockiness = Blockiness(p, a.h, a.w, a.c);
  const Image ref = ToImage(p.ref, a.h, a.w, a.c);
  const double tol = JpegTolerance(p);
  auto trial = [&](int q, JpegSubsampling s) {
    Image decoded = JpegRoundTrip(ref, q, s);
    PixelAgreement g;
    size_t ok = 0;
    double sum = 0;
    for (size_t i = 0; i < decoded.pixels.size(); ++i) {
      double d = std::abs(p.other[i] - decoded.pixels[i]);
      ok += d <= tol, sum += d, g.max_abs = std::max(g.max_abs, d);
    }
    g.share = double(ok) / double(p.other.size()), g.mean_abs = sum / double(p.other.size());
    return g;
  };
  PixelAgreement before = AgreePixels(p.ref, p.other, tol);
  const int quality =
      SearchQuality(5, [&](int q) { return trial(q, JpegSubsampling::k420).mean_abs; });
  JpegSubsampling best_s = JpegSubsampling::k420;
  PixelAgreement best = trial(quality, best_s);
  if (a.c == 3)
    for (JpegSubsampling s : {JpegSubsampling::k444, JpegSubsampling::k422}) {
      PixelAgreement g = trial(quality, s);
      if (g.mean_abs < best.mean_abs) best = g, best_s = s;
    }
  if (best.share < kHolds || best.mean_abs > 0.5 * before.mean_abs) return;
  Candidate c = JpegCandidate(quality, best_s, best, before, tol,
                              "lockstep's " + std::string(lockstep::Name(a.stage)) +
                                  " image (its 8x8 block edges are " + Fixed(blockiness, 2) +
                                  "x as marked in the other)");
  c.transformed = ToStage(a, p, FromImage(JpegRoundTrip(ref, quality, best_s)));
  out.push_back(std::move(c));
}

}  // namespace

void CodecHypotheses(const Aligned& a, const CompareContext& context, std::vector<Candidate>& out) {
  std::optional<Pixels> p = ToPixels(a, context);
  if (!p) return;
  YuvRoundTrip(a, *p, out);
  JpegOfStage(a, *p, out);
}

void SourceCodecHypotheses(const Aligned& a, const CompareContext& ctx, int budget,
                           std::vector<Candidate>& out) {
  if (!ctx.source || !ctx.spec || budget < 25) return;
  if (ctx.source->channels != 1 && ctx.source->channels != 3) return;
  std::optional<Pixels> p = ToPixels(a, ctx);
  if (!p) return;
  // The re-run must reproduce lockstep's own tensor, or it says nothing about the other.
  auto own = RerunStage(a, ctx, *ctx.spec, *ctx.source);
  if (!own || AgreePixels(*own, a.ref, 1e-3).share < 1) return;
  const double tol = JpegTolerance(*p);
  std::map<std::pair<int, JpegSubsampling>, std::vector<double>> runs;
  const std::vector<double> empty;
  auto run = [&](int q, JpegSubsampling s) -> const std::vector<double>& {
    auto key = std::make_pair(q, s);
    // The own re-run above spent one of the budget.
    if (!runs.count(key) && int(runs.size()) + 1 >= budget) return empty;
    if (!runs.count(key)) {
      Image source = JpegRoundTrip(*ctx.source, q, s);
      runs[key] = RerunStage(a, ctx, *ctx.spec, source).value_or(std::vector<double>());
    }
    return runs[key];
  };
  auto score = [&](int q, JpegSubsampling s) {
    const std::vector<double>& v = run(q, s);
    return v.empty() ? PixelAgreement{0, 1e300, 1e300}
                     : AgreePixels(RerunPixels(a, ctx, *p, v), p->other, tol);
  };
  PixelAgreement before = AgreePixels(p->ref, p->other, tol);
  const int quality =
      SearchQuality(10, [&](int q) { return score(q, JpegSubsampling::k420).mean_abs; });
  JpegSubsampling best_s = JpegSubsampling::k420;
  PixelAgreement best = score(quality, best_s);
  if (ctx.source->channels == 3)
    for (JpegSubsampling s : {JpegSubsampling::k444, JpegSubsampling::k422}) {
      PixelAgreement g = score(quality, s);
      if (g.mean_abs < best.mean_abs) best = g, best_s = s;
    }
  if (best.share < kHolds || best.mean_abs > 0.5 * before.mean_abs) return;
  Candidate c =
      JpegCandidate(quality, best_s, best, before, tol,
                    "the source image (" + std::to_string(ctx.source->width) + "x" +
                        std::to_string(ctx.source->height) + ", before lockstep's preprocessing)");
  c.transformed = run(quality, best_s);
  out.push_back(std::move(c));
}

void SourceChromaHypotheses(const Aligned& a, const CompareContext& ctx, int budget,
                            std::vector<Candidate>& out) {
  if (a.c != 3 || !ctx.source || ctx.source->channels != 3) return;
  std::optional<Pixels> p = ToPixels(a, ctx);
  if (!p) return;
  // The format a camera or JPEG frame has (BT.601 full range) and a video one (BT.709 limited),
  // encoded and decoded alike: a mismatch of matrix or range shows on the stage itself.
  std::vector<SourceChange> changes;
  for (YuvFormat f : {YuvFormat{kBt601, false}, YuvFormat{kBt709, true}})
    for (RoundTrip t : ChromaTreatments()) {
      if (t.chroma == Chroma::k444) continue;
      t.encode = t.decode = f;
      changes.push_back({{"chroma_subsampled", "chroma subsampled " + ChromaName(t.chroma),
                          "the source " + RoundTripText(t) + " before the resize"},
                         [t](const Image& s) {
                           return ToImage(Apply(FromImage(s), s.height, s.width, t), s.height,
                                          s.width, 3);
                         }});
    }
  BestSourceChange(a, ctx, *p, changes, RoundTripTolerance(*p), budget, out);
}

}  // namespace lockstep::fingerprint
