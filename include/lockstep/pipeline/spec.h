// The pipeline spec (schema "lockstep.pipeline/v1"): everything between an image file and the
// model's input tensor, and between its outputs and boxes in image pixels, as one checked value.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lockstep/core/dtype.h"

namespace lockstep {

inline constexpr const char* kSpecSchema = "lockstep.pipeline/v1";

enum class ChannelOrder { kRgb, kBgr };
enum class GeometryMode { kStretch, kLetterbox, kCenterCrop, kPadOnly };
enum class Placement { kCenter, kTopLeft };
// How a letterbox rounds the scaled size and the pads (SEMANTICS.md section 6).
enum class LetterboxRounding {
  kUltralytics,  // size round-half-even(w*r); pads round(d-0.1) / round(d+0.1)
  kPycoral,      // size int(w*r) (truncation)
  kFloor,        // size floor(w*r); pads floor(d) / the rest
  kMediapipe,    // no rounding: MediaPipe warps, so the pads are fractions (pixels placed at the
                 // nearest integers; the inverse uses the exact fractions, as MediaPipe does)
};
// Which pads the box un-mapping takes away (FIELD-NOTES #27-28).
enum class InversePads {
  kForward,  // the integer pads the forward step applied
  kFloat,    // (W - w*r)/2 unrounded, as YOLOv5's scale_coords and many C++ ports
};
enum class ResizeDialect { kOpenCV, kPillow, kTf, kTfLegacy };
enum class Interpolation { kNearest, kBilinear, kArea, kBicubic };
enum class Layout { kNhwc, kNchw };
// How a float becomes an integer input value.
enum class Rounding {
  kHalfAwayFromZero,  // std::round, as TFLite's QUANTIZE op and libcoral
  kHalfToEven,        // numpy.round
  kTruncate,          // astype / static_cast, as pycoral and Ultralytics
};

struct InputSpec {
  ChannelOrder channel_order = ChannelOrder::kRgb;  // what the model was trained on
  bool exif_orientation = true;
};

struct GeometrySpec {
  GeometryMode mode = GeometryMode::kStretch;
  Placement placement = Placement::kCenter;
  std::array<int, 3> pad_value = {0, 0, 0};  // in pixel values, per channel, before normalization
  LetterboxRounding rounding = LetterboxRounding::kUltralytics;
  bool scale_up = true;        // letterbox: allow enlarging small images
  double crop_fraction = 1.0;  // center_crop: share of the largest centered crop kept
  // letterbox: Ultralytics' LetterBox(auto=True, stride): pad only up to a multiple of this
  // stride, so the tensor size follows the image (dynamic-shape inputs only); 0: off.
  int auto_stride = 0;
  // letterbox: the pads the inverse (boxes back to the image) takes away.
  InversePads inverse_pads = InversePads::kForward;
};

struct ResizeSpec {
  ResizeDialect dialect = ResizeDialect::kOpenCV;
  Interpolation interpolation = Interpolation::kBilinear;
  bool antialias = false;      // tf dialect only
  bool align_corners = false;  // tf_legacy dialect only
};

// float = (pixel - mean[c]) / std[c], pixels in 0..255.
struct NormalizeSpec {
  std::array<double, 3> mean = {0, 0, 0};
  std::array<double, 3> std = {1, 1, 1};
};

struct TensorSpec {
  int width = 0, height = 0;  // 0: take it from the model
  Layout layout = Layout::kNhwc;
  std::optional<DType> dtype;  // nullopt: the model's
  // Input quantization; nullopt: the model's scale and zero point.
  std::optional<double> scale;
  std::optional<int64_t> zero_point;
  Rounding rounding = Rounding::kHalfAwayFromZero;
  // Out-of-range values clamp to the dtype's range; false: they wrap around modulo 2^bits, as
  // numpy's astype does (Ultralytics: (im / scale + zero_point).astype(int8)).
  bool saturate = true;
};

// A raw SSD head's anchor generator config: MediaPipe's SsdAnchorsCalculatorOptions, field names
// and defaults as there (detect/ssd_anchors.h generates the anchors).
struct SsdAnchorOptions {
  int num_layers = 0;
  float min_scale = 0, max_scale = 0;
  int input_width = 0, input_height = 0;
  std::vector<int> strides;  // one per layer; consecutive equal strides share one feature map
  std::vector<float> aspect_ratios = {1.0f};
  float interpolated_scale_aspect_ratio = 1.0f;  // <= 0: no interpolated anchor
  bool reduce_boxes_in_lowest_layer = false;
  float anchor_offset_x = 0.5f, anchor_offset_y = 0.5f;
  bool fixed_anchor_size = false;  // every anchor 1×1 (BlazeFace)
  bool operator==(const SsdAnchorOptions&) const = default;
};

// Where a raw SSD head's anchors come from.
enum class AnchorSource {
  kConstant,   // an [N,4] (y, x, h, w) constant tensor of the model
  kGenerator,  // generated from a config (MediaPipe SsdAnchorsCalculator)
  kMetadata,   // the fixed anchors of MediaPipe's DETECTOR_METADATA entry
};
struct AnchorSpec {
  AnchorSource source = AnchorSource::kConstant;
  std::string tensor;          // constant: the tensor's name; empty: the one [N,4] constant
  SsdAnchorOptions generator;  // generator: the config
  bool operator==(const AnchorSpec&) const = default;
};
// TFLite_Detection_PostProcess's NMS options (ssd_raw only).
struct NmsSpec {
  double iou_threshold = 0.5;
  int max_detections = 100;
  bool use_regular_nms = false;
  int detections_per_class = 100;  // regular NMS only
  bool operator==(const NmsSpec&) const = default;
};
// What turns a raw head's class outputs into scores: models ending in a sigmoid need none.
enum class ScoreActivation { kNone, kSigmoid };

// How a raw YOLO head gives its boxes: fractions of the input, or input pixels; auto tells them
// apart from the output's quantization range or values (the Detector says which it found).
enum class BoxUnits { kAuto, kNormalized, kPixels };
// Decoding and NMS of a raw YOLO head (decoders yolov5, yolov8), Ultralytics' defaults.
struct YoloSpec {
  double confidence = 0.25;             // conf_thres: a candidate needs a score above it
  std::optional<double> iou_threshold;  // nullopt: 0.45 for yolov5, 0.7 for yolov8
  bool class_agnostic = false;          // one NMS over all classes instead of one per class
  bool multi_label = false;             // every class above confidence, not only the best
  int max_detections = 300;             // max_det
  int max_candidates = 30000;           // max_nms: best candidates that enter NMS
  BoxUnits box_units = BoxUnits::kAuto;
  bool operator==(const YoloSpec&) const = default;
};

// How the outputs become boxes.
enum class Decoder {
  kTflitePostprocess,  // the model's own TFLite_Detection_PostProcess op
  kSsdRaw,             // a raw SSD head, decoded as that op would
  kYolov5,             // a YOLOv5 head [1,N,5+C]
  kYolov8,             // a YOLOv8/YOLO11 head [1,4+C,N]
};
bool IsYolo(Decoder d);

struct OutputSpec {
  Decoder decoder = Decoder::kTflitePostprocess;
  double score_threshold = 0.0;
  bool clamp_boxes = true;
  std::vector<std::string> labels;  // empty: from the model's metadata
  std::string label_file;
  // ssd_raw only: the decoding TFLite_Detection_PostProcess would do.
  AnchorSpec anchors;
  std::array<double, 4> box_scales = {10, 10, 5, 5};  // y, x, h, w
  NmsSpec nms;
  bool background_class = true;  // class output 0 is background, not a class
  ScoreActivation score_activation = ScoreActivation::kNone;
  YoloSpec yolo;  // yolov5 / yolov8 only
};

// The IoU threshold a YOLO decoder uses: the spec's, else Ultralytics' default for the head.
double YoloIouThreshold(const OutputSpec& output);

// Whether a field was read from the model or assumed (spec from-model marks each).
struct Provenance {
  std::string field;  // JSON path, "$.normalize.mean"
  bool fact = false;  // true: read from the model; false: an assumption to confirm
  std::string reason;
};

struct Spec {
  std::string name;
  InputSpec input;
  GeometrySpec geometry;
  ResizeSpec resize;
  NormalizeSpec normalize;
  TensorSpec tensor;
  OutputSpec output;
  std::vector<Provenance> provenance;  // filled by SpecFromModel; not part of the JSON contract
};

// Parses and validates a spec. Every problem (unknown field, wrong type, out-of-range value,
// contradictory fields) is collected with its JSON path; if any, one Error lists them all.
Spec ParseSpec(const nlohmann::json& json, const std::string& source);
// JSON text to a spec: the text's own problems (syntax, depth, duplicate keys, numbers beyond
// double range) and the spec's, each naming `source` and the JSON path.
Spec ParseSpecText(std::string_view text, const std::string& source);
Spec ReadSpecFile(const std::string& path);
// Fields in the order of the data flow (schema first).
nlohmann::ordered_json ToJson(const Spec& spec);

std::string_view Name(ChannelOrder v);
std::string_view Name(GeometryMode v);
std::string_view Name(Placement v);
std::string_view Name(LetterboxRounding v);
std::string_view Name(ResizeDialect v);
std::string_view Name(Interpolation v);
std::string_view Name(Layout v);
std::string_view Name(Rounding v);
std::string_view Name(InversePads v);
std::string_view Name(AnchorSource v);
std::string_view Name(ScoreActivation v);
std::string_view Name(BoxUnits v);
std::string_view Name(Decoder v);

}  // namespace lockstep
