#include "lockstep/pipeline/spec.h"

#include <cmath>
#include <set>

#include "lockstep/core/error.h"
#include "lockstep/core/file_read.h"
#include "lockstep/core/json_text.h"
#include "lockstep/core/utf8.h"

namespace lockstep {
namespace {
using nlohmann::json;

template <typename E, size_t N>
struct Names {
  std::array<std::pair<E, std::string_view>, N> entries;
  std::string_view of(E v) const {
    for (auto& [e, n] : entries)
      if (e == v) return n;
    return "?";
  }
  std::string list() const {
    std::string s;
    for (auto& [e, n] : entries) s += (s.empty() ? "" : ", ") + std::string(n);
    return s;
  }
};

constexpr Names<ChannelOrder, 2> kChannelOrder{
    {{{ChannelOrder::kRgb, "rgb"}, {ChannelOrder::kBgr, "bgr"}}}};
constexpr Names<GeometryMode, 4> kGeometryMode{{{{GeometryMode::kStretch, "stretch"},
                                                 {GeometryMode::kLetterbox, "letterbox"},
                                                 {GeometryMode::kCenterCrop, "center_crop"},
                                                 {GeometryMode::kPadOnly, "pad_only"}}}};
constexpr Names<Placement, 2> kPlacement{
    {{{Placement::kCenter, "center"}, {Placement::kTopLeft, "top_left"}}}};
constexpr Names<LetterboxRounding, 4> kLetterboxRounding{
    {{{LetterboxRounding::kUltralytics, "ultralytics"},
      {LetterboxRounding::kPycoral, "pycoral"},
      {LetterboxRounding::kFloor, "floor"},
      {LetterboxRounding::kMediapipe, "mediapipe"}}}};
constexpr Names<InversePads, 2> kInversePads{
    {{{InversePads::kForward, "forward"}, {InversePads::kFloat, "float"}}}};
constexpr Names<ResizeDialect, 4> kDialect{{{{ResizeDialect::kOpenCV, "opencv"},
                                             {ResizeDialect::kPillow, "pillow"},
                                             {ResizeDialect::kTf, "tf"},
                                             {ResizeDialect::kTfLegacy, "tf_legacy"}}}};
constexpr Names<Interpolation, 4> kInterpolation{{{{Interpolation::kNearest, "nearest"},
                                                   {Interpolation::kBilinear, "bilinear"},
                                                   {Interpolation::kArea, "area"},
                                                   {Interpolation::kBicubic, "bicubic"}}}};
constexpr Names<Layout, 2> kLayout{{{{Layout::kNhwc, "nhwc"}, {Layout::kNchw, "nchw"}}}};
constexpr Names<Rounding, 3> kRounding{{{{Rounding::kHalfAwayFromZero, "half_away_from_zero"},
                                         {Rounding::kHalfToEven, "half_to_even"},
                                         {Rounding::kTruncate, "truncate"}}}};
constexpr Names<AnchorSource, 3> kAnchorSource{{{{AnchorSource::kConstant, "constant"},
                                                 {AnchorSource::kGenerator, "generator"},
                                                 {AnchorSource::kMetadata, "metadata"}}}};
constexpr Names<ScoreActivation, 2> kScoreActivation{
    {{{ScoreActivation::kNone, "none"}, {ScoreActivation::kSigmoid, "sigmoid"}}}};
constexpr Names<BoxUnits, 3> kBoxUnits{{{{BoxUnits::kAuto, "auto"},
                                         {BoxUnits::kNormalized, "normalized"},
                                         {BoxUnits::kPixels, "pixels"}}}};

constexpr Names<Decoder, 4> kDecoder{{{{Decoder::kTflitePostprocess, "tflite_postprocess"},
                                       {Decoder::kSsdRaw, "ssd_raw"},
                                       {Decoder::kYolov5, "yolov5"},
                                       {Decoder::kYolov8, "yolov8"}}}};

// Bounded in length and depth (a value may be nested arbitrarily deep), valid UTF-8.
std::string Describe(const json& v) { return JsonSnippet(v, 57); }

std::string TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "a number";
  }
}

// Walks one JSON object, recording every problem with its path instead of stopping at the first.
class Reader {
 public:
  Reader(std::vector<std::string>& problems, std::string path, const json* obj,
         std::set<std::string> known)
      : problems_(problems), path_(std::move(path)), obj_(obj), known_(std::move(known)) {
    if (obj_ && !obj_->is_object()) {
      Problem(path_, "an object", TypeName(*obj_));
      obj_ = nullptr;
    }
    if (obj_)
      for (auto& [k, v] : obj_->items())
        if (!known_.count(k))
          problems_.push_back(path_ + "." + Utf8Prefix(k, 40) + ": expected one of the fields " +
                              List() + ", found an unknown field");
  }

  const json* Get(const std::string& key) const {
    if (!obj_) return nullptr;
    auto it = obj_->find(key);
    return it == obj_->end() ? nullptr : &*it;
  }
  std::string Path(const std::string& key) const { return path_ + "." + key; }
  std::vector<std::string>& problems() { return problems_; }
  void Problem(const std::string& path, const std::string& expected, const std::string& found) {
    problems_.push_back(path + ": expected " + expected + ", found " + found);
  }

  template <typename E, size_t N>
  void Enum(const std::string& key, const Names<E, N>& names, E& out) {
    const json* v = Get(key);
    if (!v) return;
    if (v->is_string())
      for (auto& [e, n] : names.entries)
        if (n == v->get<std::string>()) {
          out = e;
          return;
        }
    Problem(Path(key), "one of " + names.list(), Describe(*v));
  }

  void Bool(const std::string& key, bool& out) {
    const json* v = Get(key);
    if (!v) return;
    if (v->is_boolean())
      out = v->get<bool>();
    else
      Problem(Path(key), "true or false", Describe(*v));
  }

  void String(const std::string& key, std::string& out) {
    const json* v = Get(key);
    if (!v) return;
    if (v->is_string())
      out = v->get<std::string>();
    else
      Problem(Path(key), "a string", Describe(*v));
  }

  template <typename T>
  bool Number(const std::string& key, T& out, double lo, double hi, const std::string& range) {
    const json* v = Get(key);
    if (!v) return false;
    return NumberAt(*v, Path(key), out, lo, hi, range);
  }

  template <typename T>
  bool NumberAt(const json& v, const std::string& path, T& out, double lo, double hi,
                const std::string& range) {
    if (!v.is_number()) {
      Problem(path, range, Describe(v));
      return false;
    }
    double d = v.get<double>();
    if (std::is_integral_v<T> && d != std::floor(d)) {
      Problem(path, "an integer " + range, Describe(v));
      return false;
    }
    if (!(d >= lo && d <= hi)) {
      Problem(path, range, Describe(v));
      return false;
    }
    out = static_cast<T>(d);
    return true;
  }

  // An array of numbers, each in [lo, hi]; `count` 0: any non-empty length.
  template <typename T>
  void Numbers(const std::string& key, std::vector<T>& out, size_t count, double lo, double hi,
               const std::string& range) {
    const json* v = Get(key);
    if (!v) return;
    if (!v->is_array() || v->empty() || (count && v->size() != count)) {
      Problem(
          Path(key),
          (count ? "an array of " + std::to_string(count) : std::string("a non-empty array of")) +
              " numbers (" + range + ")",
          Describe(*v));
      return;
    }
    std::vector<T> values(v->size());
    bool ok = true;
    for (size_t i = 0; i < v->size(); ++i)
      ok &= NumberAt((*v)[i], Path(key) + "[" + std::to_string(i) + "]", values[i], lo, hi, range);
    if (ok) out = std::move(values);
  }

  // A number applied to every channel, or one per channel.
  template <typename T>
  void PerChannel(const std::string& key, std::array<T, 3>& out, double lo, double hi,
                  const std::string& range) {
    const json* v = Get(key);
    if (!v) return;
    if (v->is_array()) {
      if (v->size() != 3 && v->size() != 1) {
        Problem(Path(key), "1 or 3 values (one per channel)",
                std::to_string(v->size()) + " values");
        return;
      }
      for (size_t i = 0; i < v->size(); ++i)
        NumberAt((*v)[i], Path(key) + "[" + std::to_string(i) + "]", out[i], lo, hi, range);
      if (v->size() == 1) out[1] = out[2] = out[0];
    } else {
      T x{};
      if (NumberAt(*v, Path(key), x, lo, hi, range)) out = {x, x, x};
    }
  }

 private:
  std::string List() const {
    std::string s;
    for (auto& k : known_) s += (s.empty() ? "" : ", ") + k;
    return s;
  }
  std::vector<std::string>& problems_;
  std::string path_;
  const json* obj_;
  std::set<std::string> known_;
};

// The ssd_raw decoder's fields: anchors, box scales, NMS, background class, score activation.
void ParseSsdRaw(Reader& output, OutputSpec& o) {
  if (o.decoder != Decoder::kSsdRaw)
    for (const char* key : {"anchors", "box_scales", "nms", "background_class", "score_activation"})
      if (output.Get(key))
        output.Problem(output.Path(key), "decoder ssd_raw (the field only applies to it)",
                       "decoder " + std::string(Name(o.decoder)) + " (contradictory fields)");

  std::vector<double> scales;
  output.Numbers("box_scales", scales, 4, 1e-30, 1e30, "positive: y, x, h, w");
  if (scales.size() == 4) o.box_scales = {scales[0], scales[1], scales[2], scales[3]};
  output.Bool("background_class", o.background_class);
  output.Enum("score_activation", kScoreActivation, o.score_activation);

  Reader nms(output.problems(), "$.output.nms", output.Get("nms"),
             {"iou_threshold", "max_detections", "use_regular_nms", "detections_per_class"});
  nms.Number("iou_threshold", o.nms.iou_threshold, 1e-30, 1.0, "an IoU in (0, 1]");
  nms.Number("max_detections", o.nms.max_detections, 1, 1e6, "a count >= 1");
  nms.Bool("use_regular_nms", o.nms.use_regular_nms);
  nms.Number("detections_per_class", o.nms.detections_per_class, 1, 1e6, "a count >= 1");

  static const std::set<std::string> kGeneratorFields = {"num_layers",
                                                         "min_scale",
                                                         "max_scale",
                                                         "input_width",
                                                         "input_height",
                                                         "strides",
                                                         "aspect_ratios",
                                                         "interpolated_scale_aspect_ratio",
                                                         "reduce_boxes_in_lowest_layer",
                                                         "anchor_offset_x",
                                                         "anchor_offset_y",
                                                         "fixed_anchor_size"};
  std::set<std::string> known = kGeneratorFields;
  known.insert({"source", "tensor"});
  const json* anchors_json = output.Get("anchors");
  Reader anchors(output.problems(), "$.output.anchors", anchors_json, known);
  AnchorSpec& a = o.anchors;
  anchors.Enum("source", kAnchorSource, a.source);
  anchors.String("tensor", a.tensor);
  if (a.source != AnchorSource::kGenerator) {
    for (const std::string& key : kGeneratorFields)
      if (anchors.Get(key))
        anchors.Problem(anchors.Path(key), "source generator (a generator field)",
                        "source " + std::string(Name(a.source)) + " (contradictory fields)");
  }
  if (a.source != AnchorSource::kConstant && anchors.Get("tensor"))
    anchors.Problem("$.output.anchors.tensor", "source constant (a constant's name)",
                    "source " + std::string(Name(a.source)) + " (contradictory fields)");
  if (a.source != AnchorSource::kGenerator) return;
  SsdAnchorOptions& g = a.generator;
  if (!anchors.Number("num_layers", g.num_layers, 1, 100, "a layer count >= 1"))
    if (!anchors.Get("num_layers"))
      anchors.Problem("$.output.anchors.num_layers", "a layer count >= 1", "nothing");
  for (const char* key : {"min_scale", "max_scale"}) {
    float& v = std::string(key) == "min_scale" ? g.min_scale : g.max_scale;
    if (!anchors.Number(key, v, 1e-30, 1e30, "a positive scale") && !anchors.Get(key))
      anchors.Problem(anchors.Path(key), "a positive scale", "nothing");
  }
  anchors.Number("input_width", g.input_width, 1, 1e6, "a width in pixels");
  anchors.Number("input_height", g.input_height, 1, 1e6, "a height in pixels");
  if (!anchors.Get("strides"))
    anchors.Problem("$.output.anchors.strides", "one stride per layer", "nothing");
  anchors.Numbers("strides", g.strides, 0, 1, 1e6, "positive integers");
  if (!g.strides.empty() && g.num_layers > 0 && g.strides.size() != size_t(g.num_layers))
    anchors.Problem("$.output.anchors.strides",
                    std::to_string(g.num_layers) + " strides (one per layer, num_layers)",
                    std::to_string(g.strides.size()));
  anchors.Numbers("aspect_ratios", g.aspect_ratios, 0, 1e-30, 1e30, "positive ratios");
  anchors.Number("interpolated_scale_aspect_ratio", g.interpolated_scale_aspect_ratio, -1e30, 1e30,
                 "a ratio (<= 0: none)");
  anchors.Bool("reduce_boxes_in_lowest_layer", g.reduce_boxes_in_lowest_layer);
  anchors.Number("anchor_offset_x", g.anchor_offset_x, 0.0, 1.0, "an offset in 0..1 cells");
  anchors.Number("anchor_offset_y", g.anchor_offset_y, 0.0, 1.0, "an offset in 0..1 cells");
  anchors.Bool("fixed_anchor_size", g.fixed_anchor_size);
}

// The yolov5 / yolov8 decoders' fields: confidence, NMS, box units.
void ParseYolo(Reader& output, OutputSpec& o) {
  if (!IsYolo(o.decoder) && output.Get("yolo"))
    output.Problem(output.Path("yolo"), "decoder yolov5 or yolov8 (the field only applies to them)",
                   "decoder " + std::string(Name(o.decoder)) + " (contradictory fields)");
  Reader yolo(output.problems(), "$.output.yolo", output.Get("yolo"),
              {"confidence", "iou_threshold", "class_agnostic", "multi_label", "max_detections",
               "max_candidates", "box_units"});
  YoloSpec& y = o.yolo;
  yolo.Number("confidence", y.confidence, 0.0, 1.0, "a score in 0..1 (Ultralytics conf)");
  double iou = 0;
  if (yolo.Number("iou_threshold", iou, 1e-30, 1.0, "an IoU in (0, 1]")) y.iou_threshold = iou;
  yolo.Bool("class_agnostic", y.class_agnostic);
  yolo.Bool("multi_label", y.multi_label);
  yolo.Number("max_detections", y.max_detections, 1, 1e6, "a count >= 1");
  yolo.Number("max_candidates", y.max_candidates, 1, 1e8, "a count >= 1");
  yolo.Enum("box_units", kBoxUnits, y.box_units);
}

// Each section of the spec reads its fields and reports its problems into the shared list, in
// the order of the fields: tests compare the messages.

void ParseInput(Reader& top, InputSpec& in) {
  Reader input(top.problems(), "$.input", top.Get("input"), {"channel_order", "exif_orientation"});
  input.Enum("channel_order", kChannelOrder, in.channel_order);
  input.Bool("exif_orientation", in.exif_orientation);
}

void ParseGeometry(Reader& top, GeometrySpec& g) {
  Reader geometry(top.problems(), "$.geometry", top.Get("geometry"),
                  {"mode", "placement", "pad_value", "rounding", "scale_up", "crop_fraction",
                   "auto_stride", "inverse_pads"});
  size_t before_mode = geometry.problems().size();
  geometry.Enum("mode", kGeometryMode, g.mode);
  bool mode_known = geometry.problems().size() == before_mode;
  geometry.Enum("placement", kPlacement, g.placement);
  geometry.PerChannel("pad_value", g.pad_value, 0, 255, "a pixel value in 0..255");
  geometry.Enum("rounding", kLetterboxRounding, g.rounding);
  geometry.Bool("scale_up", g.scale_up);
  geometry.Number("crop_fraction", g.crop_fraction, 1e-6, 1.0, "a fraction in (0, 1]");
  geometry.Number("auto_stride", g.auto_stride, 0, 4096,
                  "a stride in pixels (0: off; Ultralytics uses 32)");
  geometry.Enum("inverse_pads", kInversePads, g.inverse_pads);
  auto only_for = [&](const char* key, std::initializer_list<GeometryMode> modes) {
    if (!geometry.Get(key) || !mode_known) return;
    for (auto m : modes)
      if (g.mode == m) return;
    geometry.Problem(geometry.Path(key),
                     "no " + std::string(key) + " for mode " + std::string(Name(g.mode)),
                     Describe(*geometry.Get(key)) + " (contradictory fields)");
  };
  only_for("placement", {GeometryMode::kLetterbox, GeometryMode::kPadOnly});
  only_for("pad_value", {GeometryMode::kLetterbox, GeometryMode::kPadOnly});
  only_for("rounding", {GeometryMode::kLetterbox});
  only_for("scale_up", {GeometryMode::kLetterbox});
  only_for("crop_fraction", {GeometryMode::kCenterCrop});
  only_for("auto_stride", {GeometryMode::kLetterbox});
  only_for("inverse_pads", {GeometryMode::kLetterbox});
}

// The interpolations each dialect implements.
std::vector<Interpolation> SupportedInterpolations(ResizeDialect dialect) {
  using I = Interpolation;
  switch (dialect) {
    case ResizeDialect::kOpenCV:
      return {I::kNearest, I::kBilinear, I::kArea};
    case ResizeDialect::kPillow:
      return {I::kNearest, I::kBilinear, I::kBicubic};
    case ResizeDialect::kTf:
      return {I::kBilinear, I::kArea};
    case ResizeDialect::kTfLegacy:
      return {I::kBilinear};
  }
  return {};
}

void ParseResize(Reader& top, ResizeSpec& r) {
  Reader resize(top.problems(), "$.resize", top.Get("resize"),
                {"dialect", "interpolation", "antialias", "align_corners"});
  resize.Enum("dialect", kDialect, r.dialect);
  resize.Enum("interpolation", kInterpolation, r.interpolation);
  resize.Bool("antialias", r.antialias);
  resize.Bool("align_corners", r.align_corners);
  const std::vector<Interpolation> supported = SupportedInterpolations(r.dialect);
  if (std::find(supported.begin(), supported.end(), r.interpolation) == supported.end()) {
    std::string list;
    for (auto i : supported) list += (list.empty() ? "" : ", ") + std::string(Name(i));
    resize.Problem("$.resize.interpolation",
                   "one of " + list + " for dialect " + std::string(Name(r.dialect)),
                   "\"" + std::string(Name(r.interpolation)) + "\"");
  }
  if (r.antialias && r.dialect != ResizeDialect::kTf)
    resize.Problem("$.resize.antialias",
                   "antialias only with dialect tf (pillow always "
                   "antialiases on downscale, opencv never does)",
                   "true with dialect " + std::string(Name(r.dialect)) + " (contradictory fields)");
  if (r.align_corners && r.dialect != ResizeDialect::kTfLegacy)
    resize.Problem("$.resize.align_corners", "align_corners only with dialect tf_legacy",
                   "true with dialect " + std::string(Name(r.dialect)) + " (contradictory fields)");
}

void ParseNormalize(Reader& top, NormalizeSpec& n) {
  Reader normalize(top.problems(), "$.normalize", top.Get("normalize"), {"mean", "std"});
  normalize.PerChannel("mean", n.mean, -1e6, 1e6, "a number");
  normalize.PerChannel("std", n.std, 1e-12, 1e6, "a positive number");
}

void ParseTensor(Reader& top, TensorSpec& t) {
  Reader tensor(
      top.problems(), "$.tensor", top.Get("tensor"),
      {"width", "height", "layout", "dtype", "scale", "zero_point", "rounding", "saturate"});
  tensor.Number("width", t.width, 1, 65536, "a size in 1..65536");
  tensor.Number("height", t.height, 1, 65536, "a size in 1..65536");
  tensor.Enum("layout", kLayout, t.layout);
  if (const json* d = tensor.Get("dtype")) {
    auto dt = d->is_string() ? DTypeFromName(d->get<std::string>()) : std::nullopt;
    if (dt == DType::kUInt8 || dt == DType::kInt8 || dt == DType::kFloat32 || dt == DType::kInt16)
      t.dtype = dt;
    else
      tensor.Problem("$.tensor.dtype", "one of uint8, int8, int16, float32", Describe(*d));
  }
  double scale = 0;
  // Real input scales lie near 1/255..1; outside 1e-10..1e10 a float32 step is no quantization.
  if (tensor.Number("scale", scale, 1e-10, 1e10, "a positive number in [1e-10, 1e10]"))
    t.scale = scale;
  int64_t zp = 0;
  if (tensor.Number("zero_point", zp, -32768, 65535, "an integer zero point")) t.zero_point = zp;
  tensor.Enum("rounding", kRounding, t.rounding);
  tensor.Bool("saturate", t.saturate);
  if (!t.saturate && t.dtype == DType::kFloat32)
    tensor.Problem("$.tensor.saturate", "no saturate for a float32 tensor",
                   "false (contradictory fields)");
  if (t.scale.has_value() != t.zero_point.has_value())
    tensor.Problem("$.tensor", "scale and zero_point together (or neither: the model's)",
                   "only " + std::string(t.scale ? "scale" : "zero_point"));
  if (t.dtype == DType::kFloat32 && t.scale)
    tensor.Problem("$.tensor.scale", "no quantization for a float32 tensor",
                   "scale " + std::to_string(*t.scale) + " (contradictory fields)");
}

// The output section's common fields, then the decoders' own.
void ParseOutput(Reader& top, OutputSpec& o) {
  Reader output(top.problems(), "$.output", top.Get("output"),
                {"decoder", "score_threshold", "clamp_boxes", "labels", "label_file", "anchors",
                 "box_scales", "nms", "background_class", "score_activation", "yolo"});
  if (const json* d = output.Get("decoder")) {
    bool known = false;
    if (d->is_string())
      for (auto& [decoder, name] : kDecoder.entries)
        if (name == d->get<std::string>()) {
          o.decoder = decoder;
          known = true;
        }
    if (!known)
      output.Problem("$.output.decoder",
                     "one of tflite_postprocess, ssd_raw, yolov5, yolov8 (yolov8 also reads "
                     "YOLO11's head)",
                     Describe(*d));
  }
  output.Number("score_threshold", o.score_threshold, 0.0, 1.0, "a score in 0..1");
  output.Bool("clamp_boxes", o.clamp_boxes);
  output.String("label_file", o.label_file);
  if (const json* l = output.Get("labels")) {
    if (!l->is_array())
      output.Problem("$.output.labels", "an array of strings", Describe(*l));
    else
      for (size_t i = 0; i < l->size(); ++i) {
        if ((*l)[i].is_string())
          o.labels.push_back((*l)[i].get<std::string>());
        else
          output.Problem("$.output.labels[" + std::to_string(i) + "]", "a string",
                         Describe((*l)[i]));
      }
  }
  if (!o.labels.empty() && !o.label_file.empty())
    output.Problem("$.output.labels", "labels or label_file, not both",
                   "both (contradictory fields)");
  ParseSsdRaw(output, o);
  ParseYolo(output, o);
}

}  // namespace

double YoloIouThreshold(const OutputSpec& o) {
  return o.yolo.iou_threshold.value_or(o.decoder == Decoder::kYolov5 ? 0.45 : 0.7);
}

bool IsYolo(Decoder d) { return d == Decoder::kYolov5 || d == Decoder::kYolov8; }

std::string_view Name(ChannelOrder v) { return kChannelOrder.of(v); }
std::string_view Name(GeometryMode v) { return kGeometryMode.of(v); }
std::string_view Name(Placement v) { return kPlacement.of(v); }
std::string_view Name(LetterboxRounding v) { return kLetterboxRounding.of(v); }
std::string_view Name(ResizeDialect v) { return kDialect.of(v); }
std::string_view Name(Interpolation v) { return kInterpolation.of(v); }
std::string_view Name(Layout v) { return kLayout.of(v); }
std::string_view Name(Rounding v) { return kRounding.of(v); }
std::string_view Name(AnchorSource v) { return kAnchorSource.of(v); }
std::string_view Name(ScoreActivation v) { return kScoreActivation.of(v); }
std::string_view Name(BoxUnits v) { return kBoxUnits.of(v); }
std::string_view Name(Decoder v) { return kDecoder.of(v); }
std::string_view Name(InversePads v) { return kInversePads.of(v); }

Spec ParseSpec(const json& root, const std::string& source) {
  std::vector<std::string> problems;
  Spec spec;
  Reader top(problems, "$", &root,
             {"schema", "name", "input", "geometry", "resize", "normalize", "tensor", "output"});
  if (const json* schema = top.Get("schema"); !schema)
    top.Problem("$.schema", std::string("\"") + kSpecSchema + "\"", "no schema field");
  else if (!schema->is_string() || schema->get<std::string>() != kSpecSchema)
    top.Problem("$.schema", std::string("\"") + kSpecSchema + "\"", Describe(*schema));
  top.String("name", spec.name);
  ParseInput(top, spec.input);
  ParseGeometry(top, spec.geometry);
  ParseResize(top, spec.resize);
  ParseNormalize(top, spec.normalize);
  ParseTensor(top, spec.tensor);
  ParseOutput(top, spec.output);

  if (!problems.empty()) {
    std::string m = source + ": " + std::to_string(problems.size()) + " problem" +
                    (problems.size() > 1 ? "s" : "") + " in the pipeline spec";
    for (auto& p : problems) m += "\n  " + p;
    throw Error(m);
  }
  return spec;
}

Spec ParseSpecText(std::string_view text, const std::string& source) {
  return ParseSpec(ParseJsonText(text, source), source);
}

Spec ReadSpecFile(const std::string& path) {
  return ParseSpecText(ReadFileText(path, kMaxSpecFileBytes, "a pipeline spec (JSON)"), path);
}

nlohmann::ordered_json ToJson(const Spec& s) {
  using ordered = nlohmann::ordered_json;
  ordered j;
  j["schema"] = kSpecSchema;
  if (!s.name.empty()) j["name"] = s.name;
  j["input"] = {{"channel_order", Name(s.input.channel_order)},
                {"exif_orientation", s.input.exif_orientation}};
  ordered g = {{"mode", Name(s.geometry.mode)}};
  if (s.geometry.mode == GeometryMode::kLetterbox || s.geometry.mode == GeometryMode::kPadOnly) {
    g["placement"] = Name(s.geometry.placement);
    g["pad_value"] = s.geometry.pad_value;
  }
  if (s.geometry.mode == GeometryMode::kLetterbox) {
    g["rounding"] = Name(s.geometry.rounding);
    g["scale_up"] = s.geometry.scale_up;
    if (s.geometry.auto_stride) g["auto_stride"] = s.geometry.auto_stride;
    // Written only when not the default, so existing specs keep their JSON.
    if (s.geometry.inverse_pads != InversePads::kForward)
      g["inverse_pads"] = Name(s.geometry.inverse_pads);
  }
  if (s.geometry.mode == GeometryMode::kCenterCrop) g["crop_fraction"] = s.geometry.crop_fraction;
  j["geometry"] = g;
  ordered r = {{"dialect", Name(s.resize.dialect)},
               {"interpolation", Name(s.resize.interpolation)}};
  if (s.resize.dialect == ResizeDialect::kTf) r["antialias"] = s.resize.antialias;
  if (s.resize.dialect == ResizeDialect::kTfLegacy) r["align_corners"] = s.resize.align_corners;
  j["resize"] = r;
  j["normalize"] = {{"mean", s.normalize.mean}, {"std", s.normalize.std}};
  ordered t = {{"layout", Name(s.tensor.layout)}, {"rounding", Name(s.tensor.rounding)}};
  if (s.tensor.width) t["width"] = s.tensor.width;
  if (s.tensor.height) t["height"] = s.tensor.height;
  if (s.tensor.dtype) t["dtype"] = DTypeName(*s.tensor.dtype);
  if (s.tensor.scale) t["scale"] = *s.tensor.scale;
  if (s.tensor.zero_point) t["zero_point"] = *s.tensor.zero_point;
  if (!s.tensor.saturate) t["saturate"] = false;
  j["tensor"] = t;
  ordered o = {{"decoder", Name(s.output.decoder)},
               {"score_threshold", s.output.score_threshold},
               {"clamp_boxes", s.output.clamp_boxes}};
  if (!s.output.labels.empty()) o["labels"] = s.output.labels;
  if (!s.output.label_file.empty()) o["label_file"] = s.output.label_file;
  if (s.output.decoder == Decoder::kSsdRaw) {
    const AnchorSpec& a = s.output.anchors;
    ordered anchors = {{"source", Name(a.source)}};
    if (a.source == AnchorSource::kConstant && !a.tensor.empty()) anchors["tensor"] = a.tensor;
    if (a.source == AnchorSource::kGenerator) {
      const SsdAnchorOptions& gen = a.generator;
      anchors["num_layers"] = gen.num_layers;
      anchors["min_scale"] = gen.min_scale;
      anchors["max_scale"] = gen.max_scale;
      if (gen.input_width) anchors["input_width"] = gen.input_width;
      if (gen.input_height) anchors["input_height"] = gen.input_height;
      anchors["strides"] = gen.strides;
      anchors["aspect_ratios"] = gen.aspect_ratios;
      anchors["interpolated_scale_aspect_ratio"] = gen.interpolated_scale_aspect_ratio;
      anchors["reduce_boxes_in_lowest_layer"] = gen.reduce_boxes_in_lowest_layer;
      anchors["anchor_offset_x"] = gen.anchor_offset_x;
      anchors["anchor_offset_y"] = gen.anchor_offset_y;
      anchors["fixed_anchor_size"] = gen.fixed_anchor_size;
    }
    o["anchors"] = anchors;
    o["box_scales"] = s.output.box_scales;
    o["nms"] = {{"iou_threshold", s.output.nms.iou_threshold},
                {"max_detections", s.output.nms.max_detections},
                {"use_regular_nms", s.output.nms.use_regular_nms},
                {"detections_per_class", s.output.nms.detections_per_class}};
    o["background_class"] = s.output.background_class;
    o["score_activation"] = Name(s.output.score_activation);
  }
  if (IsYolo(s.output.decoder)) {
    const YoloSpec& y = s.output.yolo;
    o["yolo"] = {
        {"confidence", y.confidence},         {"iou_threshold", YoloIouThreshold(s.output)},
        {"class_agnostic", y.class_agnostic}, {"multi_label", y.multi_label},
        {"max_detections", y.max_detections}, {"max_candidates", y.max_candidates},
        {"box_units", Name(y.box_units)}};
  }
  j["output"] = o;
  return j;
}

}  // namespace lockstep
