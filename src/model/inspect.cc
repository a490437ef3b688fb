#include "lockstep/model/inspect.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "lockstep/core/error.h"
#include "lockstep/core/utf8.h"

namespace lockstep {
namespace {

using nlohmann::json;

TensorReport ReportTensor(const Subgraph& sg, int32_t index, const std::string& source,
                          const std::string& field) {
  if (index < 0 || static_cast<size_t>(index) >= sg.tensors.size())
    throw Error(source, field, "a tensor index below " + std::to_string(sg.tensors.size()),
                std::to_string(index));
  const Tensor& t = sg.tensors[static_cast<size_t>(index)];
  TensorReport r{index, t.name, t.dtype, t.shape, std::nullopt};
  if (t.quantization && !t.quantization->scale.empty()) r.quantization = t.quantization;
  return r;
}

// Counts in descending order; ties by name so the output is stable.
std::vector<std::pair<std::string, size_t>> Count(const std::vector<std::string>& names) {
  std::map<std::string, size_t> counts;
  for (const auto& n : names) ++counts[n];
  std::vector<std::pair<std::string, size_t>> out(counts.begin(), counts.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

json QuantizationJson(const std::optional<Quantization>& q) {
  if (!q) return nullptr;
  return {{"scale", q->scale},
          {"zero_point", q->zero_point},
          {"quantized_dimension", q->quantized_dimension}};
}

json TensorJson(const TensorReport& t) {
  return {{"index", t.index},
          {"name", t.name},
          {"dtype", std::string(DTypeName(t.dtype))},
          {"shape", t.shape},
          {"quantization", QuantizationJson(t.quantization)}};
}

json FilesJson(const std::vector<MetadataFile>& files) {
  json out = json::array();
  for (const auto& f : files)
    out.push_back(
        {{"name", f.name}, {"type", f.type}, {"description", f.description}, {"locale", f.locale}});
  return out;
}

json NormalizationJson(const std::optional<Normalization>& n) {
  if (!n) return nullptr;
  return {{"mean", n->mean}, {"std", n->std}};
}

json TensorMetadataJson(const TensorMetadata& t) {
  json out = {{"name", t.name},
              {"description", t.description},
              {"normalization", NormalizationJson(t.normalization)},
              {"associated_files", FilesJson(t.associated_files)}};
  if (t.image) {
    json size = nullptr;
    if (t.image->width && t.image->height)
      size = {{"width", *t.image->width}, {"height", *t.image->height}};
    out["image"] = {{"color_space", t.image->color_space}, {"default_size", size}};
  }
  if (t.bounding_box)
    out["bounding_box"] = {{"index", t.bounding_box->index},
                           {"type", t.bounding_box->type},
                           {"coordinate_type", t.bounding_box->coordinate_type}};
  if (t.score_threshold) out["score_threshold"] = *t.score_threshold;
  if (!t.stats_min.empty() || !t.stats_max.empty())
    out["stats"] = {{"min", t.stats_min}, {"max", t.stats_max}};
  return out;
}

json MetadataJson(const ModelReport& r) {
  if (!r.metadata) return nullptr;
  const ModelMetadata& m = *r.metadata;
  json inputs = json::array(), outputs = json::array();
  for (const auto& t : m.inputs) inputs.push_back(TensorMetadataJson(t));
  for (const auto& t : m.outputs) outputs.push_back(TensorMetadataJson(t));
  // The normalization users ask for is the image input's: the first input that has one.
  std::optional<Normalization> normalization;
  for (const auto& t : m.inputs)
    if (!normalization && t.normalization) normalization = t.normalization;
  return {{"name", m.name},
          {"description", m.description},
          {"version", m.version},
          {"author", m.author},
          {"license", m.license},
          {"min_parser_version", m.min_parser_version},
          {"normalization", NormalizationJson(normalization)},
          {"inputs", inputs},
          {"outputs", outputs},
          {"associated_files", FilesJson(m.associated_files)},
          {"custom_metadata", m.custom_metadata},
          {"labels", r.labels},
          {"label_count", r.labels.size()}};
}

json PostprocessJson(const std::optional<DetectionPostprocess>& p) {
  if (!p) return nullptr;
  const DetectionPostprocessOptions& o = p->options;
  return {{"max_detections", o.max_detections},
          {"max_classes_per_detection", o.max_classes_per_detection},
          {"detections_per_class", o.detections_per_class},
          {"use_regular_nms", o.use_regular_nms},
          {"nms_score_threshold", o.nms_score_threshold},
          {"nms_iou_threshold", o.nms_iou_threshold},
          {"num_classes", o.num_classes},
          {"y_scale", o.y_scale},
          {"x_scale", o.x_scale},
          {"h_scale", o.h_scale},
          {"w_scale", o.w_scale},
          {"subgraph", p->subgraph},
          {"operator_index", p->operator_index},
          {"inputs", p->inputs},
          {"outputs", p->outputs}};
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.7g", v);
  return buf;
}

template <typename T>
std::string Join(const std::vector<T>& v, const char* sep = ",") {
  std::ostringstream s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s << sep;
    if constexpr (std::is_floating_point_v<T>)
      s << Num(v[i]);
    else
      s << v[i];
  }
  return s.str();
}

std::string QuantText(const std::optional<Quantization>& q) {
  if (!q) return "not quantized";
  if (!q->per_channel())
    return "scale " + Num(q->scale[0]) + " zero_point " +
           (q->zero_point.empty() ? std::string("0") : std::to_string(q->zero_point[0]));
  auto [lo, hi] = std::minmax_element(q->scale.begin(), q->scale.end());
  return "per-channel: " + std::to_string(q->scale.size()) + " scales in [" + Num(*lo) + ", " +
         Num(*hi) + "] along axis " + std::to_string(q->quantized_dimension);
}

// "CONV_2D 64, LOGISTIC 58, ..." wrapped into lines no wider than `width`, at most `max_lines`.
std::vector<std::string> Wrap(const std::vector<std::pair<std::string, size_t>>& counts,
                              size_t width, size_t max_lines) {
  std::vector<std::string> lines;
  std::string line;
  for (size_t i = 0; i < counts.size(); ++i) {
    std::string item = counts[i].first + " " + std::to_string(counts[i].second);
    if (line.empty()) {
      line = item;
    } else if (line.size() + 2 + item.size() <= width) {
      line += ", " + item;
    } else if (lines.size() + 1 == max_lines) {
      line += ", and " + std::to_string(counts.size() - i) + " more kinds";
      lines.push_back(line);
      return lines;
    } else {
      lines.push_back(line + ",");
      line = item;
    }
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

void TensorLines(std::ostringstream& out, const char* what, const std::vector<TensorReport>& ts) {
  constexpr size_t kShown = 6;
  out << what << " " << ts.size() << "\n";
  for (size_t i = 0; i < ts.size() && i < kShown; ++i) {
    const TensorReport& t = ts[i];
    std::string name = t.name.size() > 40 ? Utf8Prefix(t.name, 37) : t.name;
    out << "  [" << t.index << "] " << name << "  " << DTypeName(t.dtype) << " [" << Join(t.shape)
        << "]" << (t.shape.empty() ? " (set at run time)" : "") << "  " << QuantText(t.quantization)
        << "\n";
  }
  if (ts.size() > kShown) out << "  ... and " << ts.size() - kShown << " more\n";
}

void WeightsLine(std::ostringstream& out, const ModelReport& r) {
  out << "weights     ";
  if (r.quantized_weights == 0 && r.edgetpu.compiled)
    out << "inside edgetpu-custom-op (compiled)\n";
  else if (r.quantized_weights == 0)
    out << "not quantized\n";
  else if (r.per_channel_weights == 0)
    out << "per-tensor (" << r.quantized_weights << " quantized constant tensors)\n";
  else
    out << "per-channel (" << r.per_channel_weights << " of " << r.quantized_weights
        << " quantized constant tensors)\n";
}

// As many labels as fit on a line, at most 8.
void LabelsLine(std::ostringstream& out, const std::vector<std::string>& labels) {
  out << "  labels " << labels.size();
  if (!labels.empty()) {
    out << ":";
    size_t shown = 0, width = 0;
    for (const auto& l : labels) {
      if (shown == 8 || width + l.size() > 70) break;
      out << (shown ? ", " : " ") << l;
      width += l.size() + 2;
      ++shown;
    }
    if (shown < labels.size()) out << ", ...";
  }
  out << "\n";
}

void MetadataLines(std::ostringstream& out, const ModelReport& r) {
  out << "metadata    ";
  if (!r.metadata) {
    out << "none\n";
    return;
  }
  const ModelMetadata& m = *r.metadata;
  out << "\"" << (m.name.size() > 60 ? Utf8Prefix(m.name, 57) : m.name) << "\"";
  if (!m.version.empty()) out << " version " << m.version;
  out << "\n";
  for (size_t i = 0; i < m.inputs.size() && i < 4; ++i)
    if (m.inputs[i].normalization)
      out << "  input " << i << " normalization: (x - [" << Join(m.inputs[i].normalization->mean)
          << "]) / [" << Join(m.inputs[i].normalization->std) << "]\n";
  LabelsLine(out, r.labels);
}

void EdgeTpuLines(std::ostringstream& out, const ModelReport& r) {
  out << "edgetpu     ";
  if (!r.edgetpu.compiled) {
    out << "not compiled (every op runs on the CPU)\n";
    return;
  }
  out << r.edgetpu.segments.size() << " edgetpu-custom-op, " << r.edgetpu.cpu_ops.size()
      << " op(s) left on the CPU\n";
  if (r.edgetpu.cpu_ops.empty()) return;
  if (r.edgetpu.cpu_ops.size() <= 6) {
    out << "  CPU: " << Join(r.edgetpu.cpu_ops, ", ") << "\n";
  } else {
    std::vector<std::string> lines = Wrap(Count(r.edgetpu.cpu_ops), 85, 3);
    for (size_t i = 0; i < lines.size(); ++i)
      out << (i == 0 ? "  CPU: " : "       ") << lines[i] << "\n";
  }
}

void PostprocessLines(std::ostringstream& out, const ModelReport& r) {
  out << "postprocess ";
  if (!r.postprocess && r.yolo_head) {
    out << "none: a raw " << (r.yolo_head->kind == YoloHeadKind::kV5 ? "YOLOv5" : "YOLOv8/YOLO11")
        << " head (decoder " << Name(r.yolo_head->kind) << "; NMS happens outside the model)\n"
        << "  " << r.yolo_head->reason << "\n";
  } else if (!r.postprocess) {
    out << "none (raw outputs: decoding and NMS happen outside the model)\n";
  } else {
    const DetectionPostprocessOptions& o = r.postprocess->options;
    out << kDetectionPostprocessOp << " (operator " << r.postprocess->operator_index << ")\n"
        << "  num_classes " << o.num_classes << ", max_detections " << o.max_detections
        << ", max_classes_per_detection " << o.max_classes_per_detection
        << ", detections_per_class " << o.detections_per_class << "\n"
        << "  nms_score_threshold " << Num(o.nms_score_threshold) << ", nms_iou_threshold "
        << Num(o.nms_iou_threshold) << ", use_regular_nms "
        << (o.use_regular_nms ? "true" : "false") << "\n"
        << "  scales y " << Num(o.y_scale) << " x " << Num(o.x_scale) << " h " << Num(o.h_scale)
        << " w " << Num(o.w_scale) << "\n";
  }
}

}  // namespace

ModelReport Inspect(const Model& model, const std::string& source) {
  ModelReport r;
  r.source = source;
  r.subgraphs = model.subgraphs.size();
  if (model.subgraphs.empty()) throw Error(source, "subgraphs", "at least one subgraph", "none");
  const Subgraph& sg = model.subgraphs[0];
  for (size_t i = 0; i < sg.inputs.size(); ++i)
    r.inputs.push_back(
        ReportTensor(sg, sg.inputs[i], source, "subgraphs[0].inputs[" + std::to_string(i) + "]"));
  for (size_t i = 0; i < sg.outputs.size(); ++i)
    r.outputs.push_back(
        ReportTensor(sg, sg.outputs[i], source, "subgraphs[0].outputs[" + std::to_string(i) + "]"));
  std::vector<std::string> names;
  for (const Operator& op : sg.operators) {
    r.operators.push_back({OperatorName(model, op), op.inputs, op.outputs});
    names.push_back(r.operators.back().op);
  }
  r.op_counts = Count(names);
  // Weights are the constant tensors: those backed by a non-empty buffer.
  for (const Subgraph& s : model.subgraphs) {
    for (const Tensor& t : s.tensors) {
      if (t.buffer == 0 || t.buffer >= model.buffers.size() || model.buffers[t.buffer].empty())
        continue;
      if (!t.quantization || t.quantization->scale.empty()) continue;
      ++r.quantized_weights;
      if (t.quantization->per_channel()) ++r.per_channel_weights;
    }
  }
  r.metadata = ReadMetadata(model, source);
  if (r.metadata) r.labels = Labels(model, *r.metadata, source);
  for (const AssociatedFile& f : model.associated_files) {
    r.associated_files.push_back(f.name);
    if (!f.expanded)
      r.unexpanded_files.push_back(f.name + " (" + std::to_string(f.declared_size) +
                                   " bytes declared; not expanded, over lockstep's cap)");
  }
  r.edgetpu = ReadEdgeTpuFacts(model);
  r.postprocess = FindDetectionPostprocess(model, source);
  if (!r.postprocess) r.yolo_head = YoloHeadOf(model);
  return r;
}

nlohmann::json ToJson(const ModelReport& r) {
  json inputs = json::array(), outputs = json::array(), operators = json::array(),
       op_counts = json::object(), segments = json::array();
  for (const auto& t : r.inputs) inputs.push_back(TensorJson(t));
  for (const auto& t : r.outputs) outputs.push_back(TensorJson(t));
  for (const auto& op : r.operators)
    operators.push_back({{"op", op.op}, {"inputs", op.inputs}, {"outputs", op.outputs}});
  for (const auto& [name, n] : r.op_counts) op_counts[name] = n;
  for (const auto& s : r.edgetpu.segments)
    segments.push_back(
        {{"operator_index", s.operator_index}, {"inputs", s.inputs}, {"outputs", s.outputs}});
  return {{"source", r.source},
          {"subgraphs", r.subgraphs},
          {"inputs", inputs},
          {"outputs", outputs},
          {"operator_count", r.operators.size()},
          {"op_counts", op_counts},
          {"operators", operators},
          {"quantized_weights", r.quantized_weights},
          {"per_channel_weights", r.per_channel_weights},
          {"per_channel", r.per_channel_weights > 0},
          {"metadata", MetadataJson(r)},
          {"associated_files", r.associated_files},
          {"unexpanded_files", r.unexpanded_files},
          {"edgetpu",
           {{"compiled", r.edgetpu.compiled},
            {"custom_ops", r.edgetpu.segments.size()},
            {"cpu_ops", r.edgetpu.cpu_ops},
            {"segments", segments}}},
          {"postprocess", PostprocessJson(r.postprocess)},
          {"yolo_head", r.yolo_head ? json{{"decoder", Name(r.yolo_head->kind)},
                                           {"candidates", r.yolo_head->candidates},
                                           {"classes", r.yolo_head->classes},
                                           {"grid_matches_input", r.yolo_head->grid_matches_input},
                                           {"reason", r.yolo_head->reason}}
                                    : json(nullptr)}};
}

std::string ToText(const ModelReport& r) {
  std::ostringstream out;
  out << "model       " << r.source << "\n";
  out << "subgraphs   " << r.subgraphs << "\n";
  TensorLines(out, "inputs     ", r.inputs);
  TensorLines(out, "outputs    ", r.outputs);
  out << "operators   " << r.operators.size() << "\n";
  for (const auto& line : Wrap(r.op_counts, 90, 4)) out << "  " << line << "\n";
  WeightsLine(out, r);
  MetadataLines(out, r);
  if (!r.associated_files.empty()) out << "files       " << Join(r.associated_files, ", ") << "\n";
  for (const auto& f : r.unexpanded_files) out << "  " << f << "\n";
  EdgeTpuLines(out, r);
  PostprocessLines(out, r);
  return out.str();
}

}  // namespace lockstep
