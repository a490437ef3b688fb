#include "lockstep/model/postprocess_options.h"

#include <flatbuffers/flexbuffers.h>

#include <cmath>
#include <cstdio>
#include <string_view>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

const char* TypeName(const flexbuffers::Reference& r) {
  if (r.IsNull()) return "null";
  if (r.IsBool()) return "a bool";
  if (r.IsIntOrUint()) return "an integer";
  if (r.IsFloat()) return "a float";
  if (r.IsString()) return "a string";
  if (r.IsKey()) return "a key";
  if (r.IsMap()) return "a map";
  if (r.IsVector()) return "a vector";
  if (r.IsBlob()) return "a blob";
  return "an unsupported value";
}

struct Reader {
  const flexbuffers::Map& map;
  const std::string& source;
  const std::string& prefix;  // "subgraphs[0].operators[63] " when read from a model
  std::string field(std::string_view key) const {
    return prefix + kDetectionPostprocessOp + " custom_options[\"" + std::string(key) + "\"]";
  }
  // The kernel reads every key with AsInt32/AsFloat, which accept any number; a string or a
  // vector would silently become 0 there, so lockstep refuses it.
  flexbuffers::Reference number(std::string_view key, bool required) const {
    flexbuffers::Reference r = map[std::string(key).c_str()];
    if (r.IsNull()) {
      if (required) throw Error(source, field(key), "a number", "no such key");
      return r;
    }
    if (!r.IsNumeric() && !r.IsBool()) throw Error(source, field(key), "a number", TypeName(r));
    return r;
  }
  int32_t count(std::string_view key) const {
    flexbuffers::Reference r = number(key, true);
    int64_t v = r.IsFloat() ? static_cast<int64_t>(r.AsDouble()) : r.AsInt64();
    if (v < 1 || v > (int64_t{1} << 30))
      throw Error(source, field(key), "a count of at least 1", std::to_string(v));
    return static_cast<int32_t>(v);
  }
  float real(std::string_view key) const {
    double v = number(key, true).AsDouble();
    if (!std::isfinite(v)) throw Error(source, field(key), "a finite number", std::to_string(v));
    return static_cast<float>(v);
  }
};

DetectionPostprocessOptions Parse(std::span<const uint8_t> flexbuffer, const std::string& source,
                                  const std::string& prefix) {
  const std::string field = prefix + kDetectionPostprocessOp + " custom_options";
  if (flexbuffer.empty()) throw Error(source, field, "a FlexBuffer map", "no custom options");
  if (!flexbuffers::VerifyBuffer(flexbuffer.data(), flexbuffer.size()))
    throw Error(source, field, "a well-formed FlexBuffer",
                std::to_string(flexbuffer.size()) + " bytes that fail verification");
  flexbuffers::Reference root = flexbuffers::GetRoot(flexbuffer.data(), flexbuffer.size());
  if (!root.IsMap()) throw Error(source, field, "a FlexBuffer map", TypeName(root));
  flexbuffers::Map map = root.AsMap();
  Reader read{map, source, prefix};

  DetectionPostprocessOptions o;
  o.max_detections = read.count("max_detections");
  o.max_classes_per_detection = read.count("max_classes_per_detection");
  if (!read.number("detections_per_class", false).IsNull())
    o.detections_per_class = read.count("detections_per_class");
  if (auto r = read.number("use_regular_nms", false); !r.IsNull()) o.use_regular_nms = r.AsBool();
  o.nms_score_threshold = read.real("nms_score_threshold");
  o.nms_iou_threshold = read.real("nms_iou_threshold");
  o.num_classes = read.count("num_classes");
  o.y_scale = read.real("y_scale");
  o.x_scale = read.real("x_scale");
  o.h_scale = read.real("h_scale");
  o.w_scale = read.real("w_scale");
  if (o.nms_iou_threshold < 0 || o.nms_iou_threshold > 1)
    throw Error(source, read.field("nms_iou_threshold"), "a value in [0, 1]",
                std::to_string(o.nms_iou_threshold));
  for (auto [key, v] : {std::pair{"y_scale", o.y_scale}, std::pair{"x_scale", o.x_scale},
                        std::pair{"h_scale", o.h_scale}, std::pair{"w_scale", o.w_scale}})
    if (v <= 0)
      throw Error(source, read.field(key), "a positive box-coder scale", std::to_string(v),
                  "box encodings are divided by it");
  return o;
}

}  // namespace

DetectionPostprocessOptions ParseDetectionPostprocessOptions(std::span<const uint8_t> flexbuffer,
                                                             const std::string& source) {
  return Parse(flexbuffer, source, "");
}

std::optional<DetectionPostprocess> FindDetectionPostprocess(const Model& model,
                                                             const std::string& source) {
  for (size_t s = 0; s < model.subgraphs.size(); ++s) {
    const Subgraph& sg = model.subgraphs[s];
    for (size_t i = 0; i < sg.operators.size(); ++i) {
      const Operator& op = sg.operators[i];
      if (op.opcode_index >= model.operator_codes.size()) continue;
      if (model.operator_codes[op.opcode_index].custom_code != kDetectionPostprocessOp) continue;
      DetectionPostprocess found;
      found.options =
          Parse(op.custom_options, source,
                "subgraphs[" + std::to_string(s) + "].operators[" + std::to_string(i) + "] ");
      found.subgraph = s;
      found.operator_index = i;
      found.inputs = op.inputs;
      found.outputs = op.outputs;
      return found;
    }
  }
  return std::nullopt;
}

}  // namespace lockstep
