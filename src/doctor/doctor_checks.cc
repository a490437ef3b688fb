#include "doctor/doctor_checks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "lockstep/core/error.h"
#include "lockstep/model/edgetpu.h"
#include "lockstep/model/edgetpu_check.h"
#include "lockstep/model/postprocess_options.h"
#include "lockstep/pipeline/spec_model.h"

namespace lockstep::doctor {
namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

bool Near(double a, double b, double tolerance = 1e-3) { return std::abs(a - b) <= tolerance; }

// The float range a normalization maps 0..255 to, per channel.
std::pair<double, double> RangeOf(const NormalizeSpec& n, int c) {
  return {(0 - n.mean[size_t(c)]) / n.std[size_t(c)], (255 - n.mean[size_t(c)]) / n.std[size_t(c)]};
}

bool SameAcrossChannels(const NormalizeSpec& n) {
  return n.mean[0] == n.mean[1] && n.mean[1] == n.mean[2] && n.std[0] == n.std[1] &&
         n.std[1] == n.std[2];
}

Finding Make(std::string code, Severity severity, std::string field, std::string training,
             std::string deployed, std::string consequence, std::string fix) {
  return {std::move(code),     severity,
          std::move(field),    std::move(training),
          std::move(deployed), std::move(consequence),
          std::move(fix)};
}

std::string GeometryText(const GeometrySpec& g) {
  std::string s(Name(g.mode));
  if (g.mode == GeometryMode::kLetterbox || g.mode == GeometryMode::kPadOnly)
    s += " (" + std::string(Name(g.placement)) + ", pad " + std::to_string(g.pad_value[0]) + ")";
  if (g.mode == GeometryMode::kCenterCrop) s += " (" + Num(g.crop_fraction) + ")";
  return s;
}

std::string ResizeText(const ResizeSpec& r) {
  std::string s = std::string(Name(r.dialect)) + " " + std::string(Name(r.interpolation));
  if (r.antialias) s += ", antialias";
  if (r.align_corners) s += ", align_corners";
  return s;
}

std::string QuantText(const Spec& spec, const ModelInput& input) {
  DType dtype = spec.tensor.dtype.value_or(input.dtype);
  std::string s(DTypeName(dtype));
  if (dtype == DType::kFloat32) return s;
  s += ", scale " + Num(spec.tensor.scale.value_or(input.scale));
  s += ", zero point " + std::to_string(spec.tensor.zero_point.value_or(input.zero_point));
  if (!spec.tensor.scale && !spec.tensor.zero_point) s += " (the model's)";
  return s;
}

std::vector<Finding> GeometryFindings(const Spec& t, const Spec& d) {
  const GeometrySpec &a = t.geometry, &b = d.geometry;
  const std::string ta = GeometryText(a), tb = GeometryText(b);
  if (a.mode != b.mode) {
    bool pads = b.mode == GeometryMode::kLetterbox || b.mode == GeometryMode::kPadOnly;
    return {
        Make("geometry_mode", Severity::kError, "$.geometry.mode", ta, tb,
             pads ? "the image is shrunk onto a padded canvas the model never saw in training: "
                    "objects change size and shape and the pad reads as content"
                  : std::string("objects are placed and proportioned differently from "
                                "training, so boxes and scores shift"),
             "set geometry.mode to " + std::string(Name(a.mode)) + " (as the training pipeline)")};
  }
  std::vector<Finding> out;
  if (a.placement != b.placement)
    out.push_back(Make("letterbox_placement", Severity::kError, "$.geometry.placement",
                       std::string(Name(a.placement)), std::string(Name(b.placement)),
                       "the content sits at another place in the input (pycoral puts it top-left), "
                       "so every box is shifted by the pad",
                       "place the content " + std::string(Name(a.placement))));
  if (a.rounding != b.rounding)
    out.push_back(Make("letterbox_rounding", Severity::kWarning, "$.geometry.rounding",
                       std::string(Name(a.rounding)), std::string(Name(b.rounding)),
                       "the scaled size and the pads differ by a pixel, shifting boxes by up to "
                       "1/scale pixels in the source",
                       "round the letterbox as " + std::string(Name(a.rounding)) + " does"));
  if (a.pad_value != b.pad_value)
    out.push_back(Make("pad_value", Severity::kWarning, "$.geometry.pad_value",
                       std::to_string(a.pad_value[0]), std::to_string(b.pad_value[0]),
                       "the pad the model sees has another colour than in training",
                       "pad with " + std::to_string(a.pad_value[0])));
  if (a.scale_up != b.scale_up)
    out.push_back(Make("letterbox_scale_up", Severity::kWarning, "$.geometry.scale_up",
                       a.scale_up ? "true" : "false", b.scale_up ? "true" : "false",
                       "small images are enlarged on one side and not on the other",
                       std::string("set geometry.scale_up to ") + (a.scale_up ? "true" : "false")));
  if (a.inverse_pads != b.inverse_pads) {
    bool deployed_float = b.inverse_pads == InversePads::kFloat;
    out.push_back(Make(
        deployed_float ? "letterbox_float_pads" : "letterbox_inverse_pads", Severity::kWarning,
        "$.geometry.inverse_pads",
        a.inverse_pads == InversePads::kFloat ? "float pads (W - w*r)/2"
                                              : "the integer pads the letterbox applied",
        deployed_float ? "float pads (W - w*r)/2" : "the integer pads the letterbox applied",
        "boxes are un-letterboxed with other pads than the image was placed with: on an axis "
        "with an odd pad they shift by half a pixel x 1/gain in the source (FIELD-NOTES #27-28)",
        "take away the pads the forward letterbox applied (its rounded top/left pads)"));
  }
  if (a.crop_fraction != b.crop_fraction)
    out.push_back(Make("crop_fraction", Severity::kError, "$.geometry.crop_fraction",
                       Num(a.crop_fraction), Num(b.crop_fraction),
                       "another part of the image is kept, at another scale",
                       "crop " + Num(a.crop_fraction) + " of the image"));
  return out;
}

std::vector<Finding> ResizeFindings(const Spec& t, const Spec& d) {
  const ResizeSpec &a = t.resize, &b = d.resize;
  const std::string ta = ResizeText(a), tb = ResizeText(b);
  std::vector<Finding> out;
  if (a.dialect != b.dialect)
    out.push_back(Make("resize_dialect", Severity::kWarning, "$.resize.dialect", ta, tb,
                       "another library's resize gives other pixel values (cv2 vs PIL bilinear "
                       "differ on most pixels; TF1 has no half-pixel offset), a small accuracy "
                       "cost that grows with the scale factor",
                       "resize with the training library's implementation: dialect " +
                           std::string(Name(a.dialect))));
  if (a.interpolation != b.interpolation)
    out.push_back(Make("interpolation", Severity::kWarning, "$.resize.interpolation", ta, tb,
                       "pixels are interpolated differently from training (sharper or blurrier "
                       "edges)",
                       "resize with " + std::string(Name(a.interpolation)) + " interpolation"));
  if (a.antialias != b.antialias)
    out.push_back(Make("antialias", Severity::kWarning, "$.resize.antialias", ta, tb,
                       "downscaling with and without an antialiasing filter gives different "
                       "textures (about -2% accuracy in a reported case)",
                       std::string("set resize.antialias to ") + (a.antialias ? "true" : "false")));
  if (a.align_corners != b.align_corners)
    out.push_back(
        Make("half_pixel", Severity::kWarning, "$.resize.align_corners", ta, tb,
             "the sampling grid is offset by half a pixel (TF1 align_corners vs "
             "half-pixel centers): the image shifts slightly",
             std::string("set resize.align_corners to ") + (a.align_corners ? "true" : "false")));
  return out;
}

std::vector<Finding> NormalizeFindings(const Spec& t, const Spec& d) {
  const NormalizeSpec &a = t.normalize, &b = d.normalize;
  const std::string ta = NormalizationText(a), tb = NormalizationText(b);
  double worst = 0, span = 0;
  for (int c = 0; c < 3; ++c) {
    auto [alo, ahi] = RangeOf(a, c);
    auto [blo, bhi] = RangeOf(b, c);
    worst = std::max({worst, std::abs(alo - blo), std::abs(ahi - bhi)});
    span = std::max(span, ahi - alo);
  }
  // Within 1% of the range: a rounding of the constants, not another convention.
  if (worst <= 0.01 * span)
    return {Make("normalization_values", Severity::kInfo, "$.normalize", ta, tb,
                 "the normalization constants differ slightly; the values move by under 1% of "
                 "the range",
                 "use the training constants exactly")};
  bool raw = SameAcrossChannels(b) && b.mean[0] == 0 && b.std[0] == 1;
  return {Make("normalization_range", Severity::kError, "$.normalize", ta, tb,
               raw ? "raw 0..255 pixel values reach a model trained on " + ta +
                         ": every input value is far outside what the model saw"
                   : "the model gets values in " + tb + " while it was trained on " + ta +
                         ": every activation shifts, scores drop and boxes degrade",
               "normalize to " + ta + " (mean " + Num(a.mean[0]) + ", std " + Num(a.std[0]) +
                   (SameAcrossChannels(a) ? "" : ", per channel") + ")")};
}

std::vector<Finding> QuantizationFindings(const Spec& t, const Spec& d, const ModelInput& input) {
  const std::string ta = QuantText(t, input), tb = QuantText(d, input);
  DType da = t.tensor.dtype.value_or(input.dtype), db = d.tensor.dtype.value_or(input.dtype);
  std::vector<Finding> out;
  if (da != db) {
    bool eight =
        (da == DType::kInt8 && db == DType::kUInt8) || (da == DType::kUInt8 && db == DType::kInt8);
    out.push_back(
        Make("input_dtype", Severity::kError, "$.tensor.dtype", ta, tb,
             eight ? std::string(DTypeName(db)) + " data in a " + std::string(DTypeName(da)) +
                         " tensor: the bytes are read as the other type, every value off by 128 "
                         "(and wrapped around)"
                   : "the tensor's element type differs from the model's input",
             eight ? "quantize to " + std::string(DTypeName(da)) +
                         " (subtract 128 from uint8 data for an int8 input, add 128 the other way)"
                   : "feed " + std::string(DTypeName(da))));
    return out;  // the scale and zero point follow from the type
  }
  if (da == DType::kFloat32) return out;
  double sa = t.tensor.scale.value_or(input.scale), sb = d.tensor.scale.value_or(input.scale);
  int64_t za = t.tensor.zero_point.value_or(input.zero_point),
          zb = d.tensor.zero_point.value_or(input.zero_point);
  if (!Near(sa, sb, 1e-9))
    out.push_back(Make("input_scale", Severity::kError, "$.tensor.scale", Num(sa), Num(sb),
                       "every input value is scaled by " + Num(sa / sb) +
                           " before it reaches the "
                           "model",
                       "quantize with the model's input scale " + Num(sa)));
  if (za != zb)
    out.push_back(
        zb == 0 && za != 0
            ? Make("zero_point_ignored", Severity::kError, "$.tensor.zero_point",
                   std::to_string(za), std::to_string(zb),
                   "quantization without the zero point: every input value is off by " +
                       std::to_string(za) + " steps (and saturates)",
                   "quantize as q = round(x / scale) + " + std::to_string(za))
            : Make("zero_point", Severity::kError, "$.tensor.zero_point", std::to_string(za),
                   std::to_string(zb),
                   "every input value is shifted by " + std::to_string(zb - za) + " steps",
                   "quantize with the model's zero point " + std::to_string(za)));
  return out;
}

// The quantized range a spec's normalization and quantization reach before any clamping,
// over all channels: {lowest, highest} of x / scale + zero_point for pixels 0..255.
std::pair<double, double> UnclampedRange(const Spec& spec, const ModelInput& input) {
  InputQuantization q = ResolveQuantization(spec, input);
  double lo = 1e300, hi = -1e300;
  for (int c = 0; c < 3; ++c) {
    auto [a, b] = RangeOf(spec.normalize, c);
    for (double v : {a, b}) {
      double x = v / q.scale + double(q.zero_point);
      lo = std::min(lo, x), hi = std::max(hi, x);
    }
  }
  return {lo, hi};
}

// Saturation differs: out-of-range values clamp on one side and wrap around (numpy astype) on
// the other. Whether that matters depends on whether the deployed normalization and
// quantization can leave the dtype's range at all.
std::vector<Finding> SaturationFindings(const Spec& t, const Spec& d, const ModelInput& input) {
  auto text = [](bool saturate) {
    return saturate ? std::string("clamped to the range (np.clip / saturate_cast)")
                    : std::string("wrapped around (astype without clipping)");
  };
  InputQuantization q;
  try {
    q = ResolveQuantization(d, input);
  } catch (const Error&) {
    q.dtype = DType::kFloat32;
  }
  const bool eight = q.dtype == DType::kInt8 || q.dtype == DType::kUInt8;
  std::string reach;
  bool wraps = true;  // unknown range: assume it can
  if (eight) {
    auto [lo, hi] = UnclampedRange(d, input);
    double dlo = q.dtype == DType::kInt8 ? -128 : 0, dhi = dlo + 255;
    // Truncation keeps values within a step of the range in range.
    wraps = lo <= dlo - 1 || hi >= dhi + 1;
    reach = " (the deployed values reach " + Num(std::trunc(lo)) + ".." + Num(std::trunc(hi)) +
            " for a " + std::string(DTypeName(q.dtype)) + " range " + Num(dlo) + ".." + Num(dhi) +
            ")";
  }
  const bool deployed_wraps = !d.tensor.saturate;
  return {Make(
      deployed_wraps ? "no_saturation" : "saturation", wraps ? Severity::kError : Severity::kInfo,
      "$.tensor.saturate", text(t.tensor.saturate), text(d.tensor.saturate),
      wraps ? std::string("values past the input range ") +
                  (deployed_wraps ? "wrap around to the other end" : "are clamped") +
                  " on the deployed side: bright or dark pixels turn into their opposite" + reach
            : "no effect with this normalization and quantization: every value stays in range" +
                  reach + ", but a wrong normalization or scale would wrap instead of clamping",
      deployed_wraps ? "clip before the cast: np.clip(x / scale + zero_point, lo, hi)"
                       ".astype(dtype)"
                     : "cast as training does")};
}

std::string LabelsText(const OutputSpec& o) {
  if (!o.label_file.empty()) return "label file " + o.label_file;
  if (o.labels.empty()) return "the model's metadata";
  std::string s;
  for (size_t i = 0; i < o.labels.size() && i < 4; ++i) s += (i ? ", " : "") + o.labels[i];
  if (o.labels.size() > 4) s += ", ...";
  return s + " (" + std::to_string(o.labels.size()) + " labels)";
}

std::string Fields(const SpecDifference& d, bool training) {
  std::string s;
  for (const FieldDifference& f : d.fields)
    s += (s.empty() ? "" : "; ") + f.field.substr(2) + " " + (training ? f.training : f.deployed);
  return s;
}

// Findings by the unit that differs, one function per section of the spec; nullopt when the
// unit is not that section's.

std::optional<std::vector<Finding>> InputFindings(const std::string& u, const Spec& t,
                                                  const Spec& d) {
  if (u == "input.channel_order")
    return {
        {Make("channel_order", Severity::kError, "$.input.channel_order",
              std::string(Name(t.input.channel_order)), std::string(Name(d.input.channel_order)),
              "red and blue are swapped: colours the model learned (sky, skin, signs) look "
              "wrong and scores drop",
              "feed " + std::string(Name(t.input.channel_order)) +
                  " (cv2 decodes BGR: convert with cvtColor before the model)")}};
  if (u == "input.exif_orientation")
    return {{Make("exif_orientation", Severity::kWarning, "$.input.exif_orientation",
                  t.input.exif_orientation ? "applied" : "ignored",
                  d.input.exif_orientation ? "applied" : "ignored",
                  "photos taken rotated reach the model sideways on one side",
                  std::string(t.input.exif_orientation ? "apply" : "ignore") +
                      " the EXIF orientation as training did")}};
  return std::nullopt;
}

std::vector<Finding> RoundingFindings(const Spec& t, const Spec& d) {
  bool trunc = d.tensor.rounding == Rounding::kTruncate || t.tensor.rounding == Rounding::kTruncate;
  bool astype = d.tensor.rounding == Rounding::kTruncate && !d.tensor.saturate;
  return {Make("rounding", Severity::kWarning, "$.tensor.rounding",
               std::string(Name(t.tensor.rounding)), std::string(Name(d.tensor.rounding)),
               trunc ? std::string("truncation instead of rounding moves about half the input "
                                   "values one step toward zero") +
                           (astype ? " (Ultralytics' (x / scale + zero_point).astype(int8): "
                                     "truncation without clipping)"
                                   : " (astype/static_cast truncate)")
                     : "values exactly between two steps round the other way",
               "round as " + std::string(Name(t.tensor.rounding)))};
}

std::optional<std::vector<Finding>> TensorFindings(const SpecDifference& diff, const Spec& t,
                                                   const Spec& d, const ModelInput& input) {
  const std::string& u = diff.unit;
  if (u == "tensor.size")
    return {{Make("input_size", Severity::kError, "$.tensor.width/height", Fields(diff, true),
                  Fields(diff, false), "the tensor does not fit the model's input",
                  "use the model's input size " + std::to_string(input.width) + "x" +
                      std::to_string(input.height))}};
  if (u == "tensor.layout")
    return {{Make("layout", Severity::kError, "$.tensor.layout", std::string(Name(t.tensor.layout)),
                  std::string(Name(d.tensor.layout)),
                  "pixels are fed in the wrong memory order (NHWC vs NCHW)",
                  "lay the tensor out as " + std::string(Name(t.tensor.layout)))}};
  if (u == "tensor.quantization") return QuantizationFindings(t, d, input);
  if (u == "tensor.rounding") return RoundingFindings(t, d);
  if (u == "tensor.saturation") return SaturationFindings(t, d, input);
  return std::nullopt;
}

std::vector<Finding> NmsFindings(const SpecDifference& diff, const Spec& t, const Spec& d) {
  if (t.output.nms.use_regular_nms != d.output.nms.use_regular_nms)
    return {Make("nms_mode", Severity::kWarning, "$.output.nms.use_regular_nms",
                 t.output.nms.use_regular_nms ? "regular (per class)" : "fast (class-agnostic)",
                 d.output.nms.use_regular_nms ? "regular (per class)" : "fast (class-agnostic)",
                 "fast NMS suppresses overlapping boxes across classes, regular NMS per class: "
                 "different boxes survive",
                 "use the NMS the model was validated with")};
  return {Make("nms", Severity::kWarning, "$.output.nms", Fields(diff, true), Fields(diff, false),
               "other boxes survive non-maximum suppression", "use the training NMS settings")};
}

std::optional<std::vector<Finding>> OutputFindings(const SpecDifference& diff, const Spec& t,
                                                   const Spec& d) {
  const std::string& u = diff.unit;
  if (u == "output.labels")
    return {{Make("labels", Severity::kError, "$.output.labels", LabelsText(t.output),
                  LabelsText(d.output),
                  "class indices are named (and mapped to categories) differently: a wrong map "
                  "gives a silent 0 AP for the classes it moves",
                  "use the training label list")}};
  if (u == "output.score_threshold")
    return {{Make("score_threshold", Severity::kInfo, "$.output.score_threshold",
                  Num(t.output.score_threshold), Num(d.output.score_threshold),
                  "another number of detections is kept (AP counts every detection either way)",
                  "choose the threshold on purpose; training validated at " +
                      Num(t.output.score_threshold))}};
  if (u == "output.clamp_boxes")
    return {{Make(
        "clamp_boxes", Severity::kWarning, "$.output.clamp_boxes",
        t.output.clamp_boxes ? "true" : "false", d.output.clamp_boxes ? "true" : "false",
        "boxes reaching past the image edge (the op outputs them) are kept on one side "
        "and clipped on the other",
        std::string("set output.clamp_boxes to ") + (t.output.clamp_boxes ? "true" : "false"))}};
  if (u == "output.nms") return NmsFindings(diff, t, d);
  if (u == "output.decoder" || u == "output.anchors" || u == "output.box_scales" ||
      u == "output.background_class" || u == "output.score_activation") {
    std::string key = u.substr(7);
    return {{Make(key, Severity::kError, "$." + u, Fields(diff, true), Fields(diff, false),
                  "the outputs are decoded differently: boxes or scores are wrong",
                  "decode as the training pipeline does")}};
  }
  return std::nullopt;
}

}  // namespace

std::string NormalizationText(const NormalizeSpec& n) {
  if (SameAcrossChannels(n)) {
    auto [lo, hi] = RangeOf(n, 0);
    if (n.mean[0] == 0 && n.std[0] == 1) return "0..255 (raw pixels)";
    if (Near(lo, 0) && Near(hi, 1)) return "[0,1]";
    if (Near(lo, -1, 0.01) && Near(hi, 1, 0.01)) return "[-1,1]";
    return "[" + Num(lo) + "," + Num(hi) + "]";
  }
  return "mean (" + Num(n.mean[0]) + ", " + Num(n.mean[1]) + ", " + Num(n.mean[2]) + ") std (" +
         Num(n.std[0]) + ", " + Num(n.std[1]) + ", " + Num(n.std[2]) + ")";
}

std::vector<Finding> DifferenceFindings(const SpecDifference& diff, const Spec& t, const Spec& d,
                                        const ModelInput& input) {
  const std::string& u = diff.unit;
  if (auto findings = InputFindings(u, t, d)) return *findings;
  if (u == "geometry") return GeometryFindings(t, d);
  if (u == "resize") return ResizeFindings(t, d);
  if (u == "normalize") return NormalizeFindings(t, d);
  if (auto findings = TensorFindings(diff, t, d, input)) return *findings;
  if (auto findings = OutputFindings(diff, t, d)) return *findings;
  return {Make("spec_difference", Severity::kWarning, "$." + u, Fields(diff, true),
               Fields(diff, false), "the two pipelines differ in " + u,
               "make " + u + " match the training spec")};
}

std::optional<Finding> Blocking(const std::vector<Finding>& findings) {
  for (const Finding& f : findings)
    if (f.blocking) return f;
  return std::nullopt;
}

std::vector<Finding> StaticFindings(const Model& model, const std::string& source,
                                    const Spec& training, const Spec& deployed,
                                    const std::vector<SpecDifference>& differences) {
  std::vector<Finding> out;
  const ModelInput input = ModelInputOf(model, source);
  // Causes first (training vs deployed), then each spec against the model.
  for (const SpecDifference& d : differences)
    for (Finding& f : DifferenceFindings(d, training, deployed, input)) out.push_back(std::move(f));

  std::vector<Finding> checked_training = CheckSpec(training, model, source);
  for (Finding f : checked_training) {
    f.code = "training_" + f.code;
    f.consequence = "the training spec itself disagrees with the model: " + f.consequence;
    out.push_back(std::move(f));
  }
  for (Finding& f : CheckSpec(deployed, model, source)) {
    // Shared with the training spec: one cause, already named above.
    bool shared =
        std::any_of(checked_training.begin(), checked_training.end(), [&](const Finding& g) {
          return g.code == f.code && g.field == f.field && g.found == f.found;
        });
    if (!shared) out.push_back(std::move(f));
  }

  // Facts of the model, for a person reading the report.
  if (input.dtype != DType::kFloat32) {
    auto range = QuantizedRange(input);
    out.push_back(Make(
        "input_quantization", Severity::kInfo, "model input",
        std::string(DTypeName(input.dtype)) + ", scale " + Num(input.scale) + ", zero point " +
            std::to_string(input.zero_point) +
            (range ? ": floats [" + Num(range->first) + ", " + Num(range->second) + "]"
                   : std::string()),
        QuantText(deployed, input), "the input is quantized: q = round(x / scale) + zero point",
        "let the pipeline quantize with the model's parameters"));
  }
  EdgeTpuFacts tpu = ReadEdgeTpuFacts(model);
  // For a CPU model, what compiling it would give (edgetpu-check's prediction from the
  // compiler's documented rules): the ops left on the CPU run at CPU speed after the cut.
  std::string prediction;
  if (!tpu.compiled) {
    EdgeTpuPrediction p = PredictEdgeTpu(model);
    prediction = "; edgetpu-check predicts " + std::to_string(p.tpu_ops()) + " of " +
                 std::to_string(p.ops.size()) + " ops on the Edge TPU";
    if (p.partition_at && *p.partition_at < p.ops.size())
      prediction += ", the graph cut at op " + std::to_string(*p.partition_at) + " " +
                    p.ops[*p.partition_at].op + " (" + p.ops[*p.partition_at].reason + ")";
  }
  out.push_back(Make(
      "edgetpu_compiled", Severity::kInfo, "model",
      tpu.compiled ? "compiled for the Edge TPU: " + std::to_string(tpu.segments.size()) +
                         " segment(s), " + std::to_string(tpu.cpu_ops.size()) + " op(s) on the CPU"
                   : "not compiled for the Edge TPU (runs on the CPU)" + prediction,
      "",
      tpu.compiled ? "it runs only with the Edge TPU delegate; its CPU twin gives "
                     "the reference numbers"
                   : "results here are the CPU runtime's",
      tpu.compiled ? "compare against the CPU model before blaming the pipeline"
                   : "compile with edgetpu_compiler to run on a Coral device"));
  if (auto pp = FindDetectionPostprocess(model, source)) {
    const DetectionPostprocessOptions& o = pp->options;
    out.push_back(
        Make("postprocess_options", Severity::kInfo, "model TFLite_Detection_PostProcess",
             std::string(o.use_regular_nms ? "regular (per-class)" : "fast (class-agnostic)") +
                 " NMS, IoU " + Num(o.nms_iou_threshold) + ", score threshold " +
                 Num(o.nms_score_threshold) + ", max " + std::to_string(o.max_detections) +
                 " detections, " + std::to_string(o.num_classes) + " classes",
             "",
             "the model decodes and suppresses boxes itself; boxes may fall outside [0,1] "
             "(clamp_boxes clips them)",
             "evaluate with these settings; a pipeline re-running NMS elsewhere must match them"));
  }
  return out;
}

}  // namespace lockstep::doctor
