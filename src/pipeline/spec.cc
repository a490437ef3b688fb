#include "lockstep/spec.h"

#include <cmath>
#include <fstream>
#include <set>

#include "lockstep/error.h"

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

std::string Describe(const json& v) {
  std::string d = v.dump();
  if (d.size() > 60) d = d.substr(0, 57) + "...";
  return d;
}

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
          problems_.push_back(path_ + "." + k + ": expected one of the fields " + List() +
                              ", found an unknown field");
  }

  const json* Get(const std::string& key) const {
    if (!obj_) return nullptr;
    auto it = obj_->find(key);
    return it == obj_->end() ? nullptr : &*it;
  }
  std::string Path(const std::string& key) const { return path_ + "." + key; }
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

}  // namespace

std::string_view Name(ChannelOrder v) { return kChannelOrder.of(v); }
std::string_view Name(GeometryMode v) { return kGeometryMode.of(v); }
std::string_view Name(Placement v) { return kPlacement.of(v); }
std::string_view Name(LetterboxRounding v) { return kLetterboxRounding.of(v); }
std::string_view Name(ResizeDialect v) { return kDialect.of(v); }
std::string_view Name(Interpolation v) { return kInterpolation.of(v); }
std::string_view Name(Layout v) { return kLayout.of(v); }
std::string_view Name(Rounding v) { return kRounding.of(v); }

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

  Reader input(problems, "$.input", top.Get("input"), {"channel_order", "exif_orientation"});
  input.Enum("channel_order", kChannelOrder, spec.input.channel_order);
  input.Bool("exif_orientation", spec.input.exif_orientation);

  auto& g = spec.geometry;
  Reader geometry(problems, "$.geometry", top.Get("geometry"),
                  {"mode", "placement", "pad_value", "rounding", "scale_up", "crop_fraction"});
  size_t before_mode = problems.size();
  geometry.Enum("mode", kGeometryMode, g.mode);
  bool mode_known = problems.size() == before_mode;
  geometry.Enum("placement", kPlacement, g.placement);
  geometry.PerChannel("pad_value", g.pad_value, 0, 255, "a pixel value in 0..255");
  geometry.Enum("rounding", kLetterboxRounding, g.rounding);
  geometry.Bool("scale_up", g.scale_up);
  geometry.Number("crop_fraction", g.crop_fraction, 1e-6, 1.0, "a fraction in (0, 1]");
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

  auto& r = spec.resize;
  Reader resize(problems, "$.resize", top.Get("resize"),
                {"dialect", "interpolation", "antialias", "align_corners"});
  resize.Enum("dialect", kDialect, r.dialect);
  resize.Enum("interpolation", kInterpolation, r.interpolation);
  resize.Bool("antialias", r.antialias);
  resize.Bool("align_corners", r.align_corners);
  using I = Interpolation;
  auto supported = [&]() -> std::vector<I> {
    switch (r.dialect) {
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
  }();
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

  Reader normalize(problems, "$.normalize", top.Get("normalize"), {"mean", "std"});
  normalize.PerChannel("mean", spec.normalize.mean, -1e6, 1e6, "a number");
  normalize.PerChannel("std", spec.normalize.std, 1e-12, 1e6, "a positive number");

  auto& t = spec.tensor;
  Reader tensor(problems, "$.tensor", top.Get("tensor"),
                {"width", "height", "layout", "dtype", "scale", "zero_point", "rounding"});
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
  if (tensor.Number("scale", scale, 1e-30, 1e30, "a positive number")) t.scale = scale;
  int64_t zp = 0;
  if (tensor.Number("zero_point", zp, -32768, 65535, "an integer zero point")) t.zero_point = zp;
  tensor.Enum("rounding", kRounding, t.rounding);
  if (t.scale.has_value() != t.zero_point.has_value())
    tensor.Problem("$.tensor", "scale and zero_point together (or neither: the model's)",
                   "only " + std::string(t.scale ? "scale" : "zero_point"));
  if (t.dtype == DType::kFloat32 && t.scale)
    tensor.Problem("$.tensor.scale", "no quantization for a float32 tensor",
                   "scale " + std::to_string(*t.scale) + " (contradictory fields)");

  auto& o = spec.output;
  Reader output(problems, "$.output", top.Get("output"),
                {"decoder", "score_threshold", "clamp_boxes", "labels", "label_file"});
  if (const json* d = output.Get("decoder")) {
    if (d->is_string() && (*d == "tflite_postprocess" || *d == "ssd_raw"))
      o.decoder = d->get<std::string>();
    else
      output.Problem("$.output.decoder", "one of tflite_postprocess, ssd_raw", Describe(*d));
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

  if (!problems.empty()) {
    std::string m = source + ": " + std::to_string(problems.size()) + " problem" +
                    (problems.size() > 1 ? "s" : "") + " in the pipeline spec";
    for (auto& p : problems) m += "\n  " + p;
    throw Error(m);
  }
  return spec;
}

Spec ReadSpecFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path, "", "a readable pipeline spec (JSON)", "no such file or no access");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    throw Error(path, "JSON syntax", "valid JSON", std::string(e.what()).substr(0, 200));
  }
  return ParseSpec(j, path);
}

nlohmann::ordered_json ToJson(const Spec& s) {
  using json = nlohmann::ordered_json;
  json j;
  j["schema"] = kSpecSchema;
  if (!s.name.empty()) j["name"] = s.name;
  j["input"] = {{"channel_order", Name(s.input.channel_order)},
                {"exif_orientation", s.input.exif_orientation}};
  json g = {{"mode", Name(s.geometry.mode)}};
  if (s.geometry.mode == GeometryMode::kLetterbox || s.geometry.mode == GeometryMode::kPadOnly) {
    g["placement"] = Name(s.geometry.placement);
    g["pad_value"] = s.geometry.pad_value;
  }
  if (s.geometry.mode == GeometryMode::kLetterbox) {
    g["rounding"] = Name(s.geometry.rounding);
    g["scale_up"] = s.geometry.scale_up;
  }
  if (s.geometry.mode == GeometryMode::kCenterCrop) g["crop_fraction"] = s.geometry.crop_fraction;
  j["geometry"] = g;
  json r = {{"dialect", Name(s.resize.dialect)}, {"interpolation", Name(s.resize.interpolation)}};
  if (s.resize.dialect == ResizeDialect::kTf) r["antialias"] = s.resize.antialias;
  if (s.resize.dialect == ResizeDialect::kTfLegacy) r["align_corners"] = s.resize.align_corners;
  j["resize"] = r;
  j["normalize"] = {{"mean", s.normalize.mean}, {"std", s.normalize.std}};
  json t = {{"layout", Name(s.tensor.layout)}, {"rounding", Name(s.tensor.rounding)}};
  if (s.tensor.width) t["width"] = s.tensor.width;
  if (s.tensor.height) t["height"] = s.tensor.height;
  if (s.tensor.dtype) t["dtype"] = DTypeName(*s.tensor.dtype);
  if (s.tensor.scale) t["scale"] = *s.tensor.scale;
  if (s.tensor.zero_point) t["zero_point"] = *s.tensor.zero_point;
  j["tensor"] = t;
  json o = {{"decoder", s.output.decoder},
            {"score_threshold", s.output.score_threshold},
            {"clamp_boxes", s.output.clamp_boxes}};
  if (!s.output.labels.empty()) o["labels"] = s.output.labels;
  if (!s.output.label_file.empty()) o["label_file"] = s.output.label_file;
  j["output"] = o;
  return j;
}

}  // namespace lockstep
