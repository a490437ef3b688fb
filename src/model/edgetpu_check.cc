#include "lockstep/model/edgetpu_check.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include "lockstep/core/utf8.h"

namespace lockstep {
namespace {

const Tensor* TensorAt(const Subgraph& sg, int32_t i) {
  if (i < 0 || static_cast<size_t>(i) >= sg.tensors.size()) return nullptr;
  return &sg.tensors[static_cast<size_t>(i)];
}

bool IsConstant(const Model& model, const Tensor& t) {
  return t.buffer != 0 && t.buffer < model.buffers.size() && !model.buffers[t.buffer].empty();
}

// The int32 values of a constant tensor (paddings, axes, strides); nullopt when not constant.
std::optional<std::vector<int32_t>> ConstInts(const Model& model, const Subgraph& sg, int32_t i) {
  const Tensor* t = TensorAt(sg, i);
  if (!t || !IsConstant(model, *t)) return std::nullopt;
  const auto& bytes = model.buffers[t->buffer];
  std::vector<int32_t> v;
  if (t->dtype == DType::kInt32) {
    v.resize(bytes.size() / 4);
    if (!v.empty()) std::memcpy(v.data(), bytes.data(), v.size() * 4);
  } else if (t->dtype == DType::kInt64) {
    for (size_t k = 0; k + 8 <= bytes.size(); k += 8) {
      int64_t x;
      std::memcpy(&x, bytes.data() + k, 8);
      v.push_back(static_cast<int32_t>(x));
    }
  } else {
    return std::nullopt;
  }
  return v;
}

size_t DimsAboveOne(const std::vector<int32_t>& shape) {
  return static_cast<size_t>(
      std::count_if(shape.begin(), shape.end(), [](int32_t d) { return d > 1; }));
}

int64_t IntOption(const Operator& op, std::string_view field) {
  const OptionValue* v = op.builtin_options.find(field);
  if (v && std::holds_alternative<int64_t>(*v)) return std::get<int64_t>(*v);
  return 0;
}

std::string Quoted(const Tensor& t, int32_t index) {
  return "tensor '" + (t.name.empty() ? std::to_string(index) : t.name) + "'";
}

// The tensor rules of the compiler's requirements; "" when all hold.
std::string TensorRules(const Model& model, const Subgraph& sg, const Operator& op) {
  auto check = [&](int32_t i) -> std::string {
    const Tensor* t = TensorAt(sg, i);
    if (!t) return "";
    bool constant = IsConstant(model, *t);
    bool eight_bit = t->dtype == DType::kInt8 || t->dtype == DType::kUInt8;
    // int32 is fine for constants: biases, shapes, paddings, axes.
    if (!eight_bit && !(constant && (t->dtype == DType::kInt32 || t->dtype == DType::kInt64)))
      return Quoted(*t, i) + " is " + std::string(DTypeName(t->dtype));
    if (std::find(t->shape_signature.begin(), t->shape_signature.end(), -1) !=
        t->shape_signature.end())
      return Quoted(*t, i) + " has a dynamic shape";
    // Weights ([O,H,W,I]) are not activations; the 3-D limit is on the data flowing through.
    if (!constant && DimsAboveOne(t->shape) > 3)
      return Quoted(*t, i) + " has " + std::to_string(DimsAboveOne(t->shape)) + " dimensions > 1";
    return "";
  };
  for (int32_t i : op.inputs)
    if (std::string r = check(i); !r.empty()) return r;
  for (int32_t i : op.outputs)
    if (std::string r = check(i); !r.empty()) return r;
  return "";
}

// Reduction or padding only over the x/y axes (1 and 2 of an NHWC tensor).
bool OnlyXY(const std::vector<int32_t>& axes, size_t rank) {
  for (int32_t a : axes) {
    int32_t n = a < 0 ? a + static_cast<int32_t>(rank) : a;
    if (n != 1 && n != 2) return false;
  }
  return true;
}

std::vector<int32_t> FirstOutputShape(const Subgraph& sg, const Operator& op) {
  const Tensor* t = op.outputs.empty() ? nullptr : TensorAt(sg, op.outputs[0]);
  return t ? t->shape : std::vector<int32_t>{};
}

size_t FirstInputRank(const Subgraph& sg, const Operator& op) {
  const Tensor* t = op.inputs.empty() ? nullptr : TensorAt(sg, op.inputs[0]);
  return t ? t->shape.size() : 0;
}

// The rules of the ops with constraints, one per op; "" when the op qualifies.

std::string ConcatenationRule(const Model& model, const Subgraph& sg, const Operator& op) {
  if (IntOption(op, "fused_activation_function") != 0) return "fused activation";
  for (int32_t i : op.inputs) {
    const Tensor* t = TensorAt(sg, i);
    if (!t || !IsConstant(model, *t)) continue;
    const auto& b = model.buffers[t->buffer];
    bool zeros = std::all_of(b.begin(), b.end(), [&](uint8_t x) {
      return t->quantization && !t->quantization->zero_point.empty()
                 ? static_cast<int64_t>(t->dtype == DType::kInt8 ? static_cast<int8_t>(x) : x) ==
                       t->quantization->zero_point[0]
                 : x == 0;
    });
    if (op.inputs.size() != 2 || !zeros)
      return "constant input allowed only with 2 inputs, all zero";
  }
  return "";
}

std::string PadRule(const Model& model, const Subgraph& sg, const Operator& op) {
  auto pads = op.inputs.size() > 1 ? ConstInts(model, sg, op.inputs[1]) : std::nullopt;
  if (!pads) return "paddings not constant";
  for (size_t k = 0; k + 1 < pads->size(); k += 2) {
    size_t axis = k / 2;
    if (((*pads)[k] != 0 || (*pads)[k + 1] != 0) && axis != 1 && axis != 2)
      return "padding not over x/y only";
  }
  return "";
}

std::string SoftmaxRule(const Subgraph& sg, const Operator& op) {
  auto s = FirstOutputShape(sg, op);
  int64_t n = 1;
  for (int32_t d : s) n *= d;
  if (DimsAboveOne(s) > 1) return "softmax not 1-D";
  return n <= 16000 ? "" : "softmax over more than 16000 elements";
}

std::string SqueezeRule(const Subgraph& sg, const Operator& op) {
  const Tensor* t = op.inputs.empty() ? nullptr : TensorAt(sg, op.inputs[0]);
  if (!t) return "";
  // Squeezing only leading 1s: the dims removed all precede the first kept dim.
  const OptionValue* v = op.builtin_options.find("squeeze_dims");
  std::vector<int32_t> dims;
  if (v && std::holds_alternative<std::vector<int32_t>>(*v))
    dims = std::get<std::vector<int32_t>>(*v);
  if (dims.empty())
    for (size_t k = 0; k < t->shape.size(); ++k)
      if (t->shape[k] == 1) dims.push_back(static_cast<int32_t>(k));
  std::sort(dims.begin(), dims.end());
  for (size_t k = 0; k < dims.size(); ++k)
    if (dims[k] != static_cast<int32_t>(k)) return "squeezes a non-leading dimension";
  return "";
}

std::string StridedSliceRule(const Model& model, const Subgraph& sg, const Operator& op) {
  auto strides = op.inputs.size() > 3 ? ConstInts(model, sg, op.inputs[3]) : std::nullopt;
  if (!strides) return "strides not constant";
  return std::all_of(strides->begin(), strides->end(), [](int32_t s) { return s == 1; })
             ? ""
             : "stride other than 1";
}

// The supported-op table with its constraints (FIELD-NOTES §5); "" when the op qualifies.
std::string OpRules(const Model& model, const Subgraph& sg, const Operator& op,
                    const std::string& name) {
  static const std::set<std::string, std::less<>> kPlain = {
      "LOGISTIC", "RELU", "RELU6", "RELU_N1_TO_1", "TANH", "ADD", "MAXIMUM", "MINIMUM", "MUL",
      "SUB", "CONV_2D", "DEPTHWISE_CONV_2D", "L2_NORMALIZATION", "RESHAPE", "SLICE",
      "SPACE_TO_DEPTH", "SPLIT", "QUANTIZE", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR",
      // The newer table (ARTPEC-7 DLPU list).
      "EXPAND_DIMS", "PRELU", "REDUCE_MAX", "REDUCE_MIN", "UNIDIRECTIONAL_SEQUENCE_LSTM"};
  if (kPlain.count(name)) return "";
  if (name == "AVERAGE_POOL_2D" || name == "MAX_POOL_2D")
    return IntOption(op, "fused_activation_function") == 0 ? "" : "fused activation";
  if (name == "CONCATENATION") return ConcatenationRule(model, sg, op);
  if (name == "FULLY_CONNECTED")
    return DimsAboveOne(FirstOutputShape(sg, op)) <= 1 ? "" : "output not 1-D";
  if (name == "MEAN") {
    auto axes = op.inputs.size() > 1 ? ConstInts(model, sg, op.inputs[1]) : std::nullopt;
    return axes && OnlyXY(*axes, FirstInputRank(sg, op)) ? "" : "reduction not over x/y only";
  }
  if (name == "PAD") return PadRule(model, sg, op);
  if (name == "SOFTMAX") return SoftmaxRule(sg, op);
  if (name == "SQUEEZE") return SqueezeRule(sg, op);
  if (name == "STRIDED_SLICE") return StridedSliceRule(model, sg, op);
  return "op not supported";
}

// `t` is one of the graph's `ends` (inputs or outputs) and float32.
bool IsGraphFloat(const Subgraph& sg, const std::vector<int32_t>& ends, int32_t t) {
  const Tensor* tensor = TensorAt(sg, t);
  return tensor && tensor->dtype == DType::kFloat32 &&
         std::find(ends.begin(), ends.end(), t) != ends.end();
}

}  // namespace

size_t EdgeTpuPrediction::tpu_ops() const {
  return static_cast<size_t>(
      std::count_if(ops.begin(), ops.end(), [](const auto& o) { return o.tpu; }));
}

std::vector<std::string> EdgeTpuPrediction::cpu_op_names() const {
  std::vector<std::string> names;
  for (const auto& o : ops)
    if (!o.tpu) names.push_back(o.op);
  return names;
}

EdgeTpuPrediction PredictEdgeTpu(const Model& model) {
  EdgeTpuPrediction p;
  if (model.subgraphs.empty()) return p;
  const Subgraph& sg = model.subgraphs[0];
  // Tensors computed on the CPU: an op reading one sits behind the cut.
  std::vector<bool> on_cpu(sg.tensors.size(), false);
  for (size_t i = 0; i < sg.operators.size(); ++i) {
    const Operator& op = sg.operators[i];
    EdgeTpuOpPlacement place{i, OperatorName(model, op), false, ""};
    bool behind = std::any_of(op.inputs.begin(), op.inputs.end(), [&](int32_t t) {
      return t >= 0 && static_cast<size_t>(t) < on_cpu.size() && on_cpu[static_cast<size_t>(t)];
    });
    // Float I/O: the QUANTIZE that reads a float input and the DEQUANTIZE that writes a float
    // output stay on the CPU at the edges of the graph without cutting it.
    bool float_in_quantize =
        place.op == "QUANTIZE" && !op.inputs.empty() && IsGraphFloat(sg, sg.inputs, op.inputs[0]);
    bool float_out_dequantize = place.op == "DEQUANTIZE" && !op.outputs.empty() &&
                                IsGraphFloat(sg, sg.outputs, op.outputs[0]);
    if (behind) {
      place.reason = "after the partition point";
    } else if (float_in_quantize) {
      place.reason = "quantizes the float input: stays on the CPU";
      p.ops.push_back(std::move(place));
      continue;
    } else if (float_out_dequantize) {
      place.reason = "dequantizes to the float output: stays on the CPU";
    } else {
      bool custom = op.opcode_index >= model.operator_codes.size() ||
                    !model.operator_codes[op.opcode_index].custom_code.empty();
      std::string why = custom ? "custom op" : OpRules(model, sg, op, place.op);
      if (why.empty()) why = TensorRules(model, sg, op);
      if (why.empty()) {
        place.tpu = true;
        place.reason = "mapped";
      } else {
        place.reason = why;
        if (!p.partition_at) p.partition_at = i;
      }
    }
    if (!place.tpu)
      for (int32_t t : op.outputs)
        if (t >= 0 && static_cast<size_t>(t) < on_cpu.size()) on_cpu[static_cast<size_t>(t)] = true;
    p.ops.push_back(std::move(place));
  }
  return p;
}

EdgeTpuCheck CheckEdgeTpu(const Model& model, const std::string& source) {
  EdgeTpuCheck c;
  c.model = source;
  c.facts = ReadEdgeTpuFacts(model);
  if (!c.facts.compiled) c.predicted = PredictEdgeTpu(model);
  if (model.subgraphs.empty()) return c;
  const Subgraph& sg = model.subgraphs[0];
  auto io = [&](const std::vector<int32_t>& list, std::vector<EdgeTpuIoTensor>& into,
                const char* role) {
    for (int32_t i : list) {
      const Tensor* t = TensorAt(sg, i);
      if (!t) continue;
      bool dynamic = std::find(t->shape_signature.begin(), t->shape_signature.end(), -1) !=
                     t->shape_signature.end();
      into.push_back({i, t->name, t->dtype, t->shape, dynamic});
      std::string what = std::string(role) + " '" + t->name + "'";
      if (t->dtype == DType::kInt8)
        c.warnings.push_back(what +
                             " is int8: the Edge TPU runtime and pycoral expect uint8 "
                             "(pycoral: \"Only support uint8 input type\")");
      else if (t->dtype == DType::kFloat32)
        c.warnings.push_back(what + " is float32: the op at that end of the graph runs on the CPU");
      if (dynamic)
        c.warnings.push_back(what + " has a dynamic shape: the compiler needs static shapes");
    }
  };
  io(sg.inputs, c.inputs, "input");
  io(sg.outputs, c.outputs, "output");
  return c;
}

namespace {

std::vector<std::pair<std::string, size_t>> CountByName(const std::vector<std::string>& names) {
  std::map<std::string, size_t> m;
  for (const auto& n : names) ++m[n];
  std::vector<std::pair<std::string, size_t>> v(m.begin(), m.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return v;
}

// Converter tensor names can run to hundreds of characters; the text keeps their ends.
std::string Short(const std::string& name, size_t limit = 60) {
  if (name.size() <= limit) return name;
  // Both cuts on character boundaries: a name may be UTF-8.
  return name.substr(0, Utf8Boundary(name, limit / 2 - 2)) + "..." +
         name.substr(Utf8Boundary(name, name.size() - (limit / 2 - 1)));
}

nlohmann::json IoJson(const std::vector<EdgeTpuIoTensor>& ts) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& t : ts)
    a.push_back({{"index", t.index},
                 {"name", t.name},
                 {"dtype", std::string(DTypeName(t.dtype))},
                 {"shape", t.shape},
                 {"dynamic", t.dynamic}});
  return a;
}

}  // namespace

nlohmann::json ToJson(const EdgeTpuCheck& c) {
  nlohmann::json cpu = nlohmann::json::array();
  for (const auto& o : c.predicted.ops)
    if (!o.tpu) cpu.push_back({{"index", o.index}, {"op", o.op}, {"reason", o.reason}});
  nlohmann::json segments = nlohmann::json::array();
  for (const auto& s : c.facts.segments)
    segments.push_back({{"operator_index", s.operator_index},
                        {"inputs", s.inputs.size()},
                        {"outputs", s.outputs.size()}});
  return {{"model", c.model},
          {"compiled", c.facts.compiled},
          {"predicted",
           {{"tpu_ops", c.predicted.tpu_ops()},
            {"cpu_ops", cpu},
            {"partition_at", c.predicted.partition_at ? nlohmann::json(*c.predicted.partition_at)
                                                      : nlohmann::json(nullptr)}}},
          {"edgetpu", {{"segments", segments}, {"cpu_ops", c.facts.cpu_ops}}},
          {"io", {{"inputs", IoJson(c.inputs)}, {"outputs", IoJson(c.outputs)}}},
          {"warnings", c.warnings}};
}

std::string ToText(const EdgeTpuCheck& c) {
  std::ostringstream s;
  s << c.model << "\n";
  auto counts = [&](const std::vector<std::string>& names) {
    std::string line;
    for (const auto& [n, k] : CountByName(names))
      line += (line.empty() ? "" : ", ") + n + " x" + std::to_string(k);
    return line.empty() ? std::string("none") : line;
  };
  if (c.facts.compiled) {
    s << "compiled for the Edge TPU: " << c.facts.segments.size() << " edgetpu-custom-op\n";
    for (const auto& seg : c.facts.segments)
      s << "  op " << seg.operator_index << ": " << seg.inputs.size() << " tensors in, "
        << seg.outputs.size() << " out\n";
    s << "CPU ops (" << c.facts.cpu_ops.size() << "): " << counts(c.facts.cpu_ops) << "\n";
  } else {
    const auto& p = c.predicted;
    s << "predicted: " << p.tpu_ops() << " of " << p.ops.size() << " ops on the Edge TPU, "
      << p.ops.size() - p.tpu_ops() << " on the CPU\n";
    if (p.partition_at) {
      const auto& o = p.ops[*p.partition_at];
      s << "partition at op " << o.index << " " << o.op << ": " << Short(o.reason, 120) << "\n";
      s << "CPU ops: " << counts(p.cpu_op_names()) << "\n";
    } else {
      s << "no partition: every op maps\n";
    }
  }
  auto io_line = [&](const char* role, const std::vector<EdgeTpuIoTensor>& ts) {
    for (const auto& t : ts) {
      s << role << " " << Short(t.name) << " " << DTypeName(t.dtype) << " [";
      for (size_t k = 0; k < t.shape.size(); ++k) s << (k ? "," : "") << t.shape[k];
      s << "]" << (t.dynamic ? " dynamic" : "") << "\n";
    }
  };
  io_line("input", c.inputs);
  io_line("output", c.outputs);
  for (const auto& w : c.warnings) s << "warning: " << Short(w, 160) << "\n";
  return s.str();
}

}  // namespace lockstep
