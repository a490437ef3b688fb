#include "lockstep/quant/float_shadow.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <string_view>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

// Builtin ops whose float kernel computes what the quantized kernel approximates, given float
// inputs and the same options. Ops outside this list are refused rather than guessed at.
constexpr std::string_view kFloatEquivalentOps[] = {"ADD",
                                                    "SUB",
                                                    "MUL",
                                                    "DIV",
                                                    "CONV_2D",
                                                    "DEPTHWISE_CONV_2D",
                                                    "TRANSPOSE_CONV",
                                                    "FULLY_CONNECTED",
                                                    "CONCATENATION",
                                                    "RESHAPE",
                                                    "SQUEEZE",
                                                    "EXPAND_DIMS",
                                                    "LOGISTIC",
                                                    "TANH",
                                                    "SOFTMAX",
                                                    "AVERAGE_POOL_2D",
                                                    "MAX_POOL_2D",
                                                    "MEAN",
                                                    "SUM",
                                                    "REDUCE_MAX",
                                                    "PAD",
                                                    "PADV2",
                                                    "RESIZE_BILINEAR",
                                                    "RESIZE_NEAREST_NEIGHBOR",
                                                    "RELU",
                                                    "RELU6",
                                                    "RELU_N1_TO_1",
                                                    "HARD_SWISH",
                                                    "LEAKY_RELU",
                                                    "PRELU",
                                                    "TRANSPOSE",
                                                    "STRIDED_SLICE",
                                                    "SLICE",
                                                    "SPLIT",
                                                    "SPLIT_V",
                                                    "PACK",
                                                    "UNPACK",
                                                    "GATHER",
                                                    "MAXIMUM",
                                                    "MINIMUM",
                                                    "SPACE_TO_DEPTH",
                                                    "DEPTH_TO_SPACE",
                                                    "ARG_MAX",
                                                    "ARG_MIN",
                                                    "SQUARED_DIFFERENCE",
                                                    "RSQRT",
                                                    "SQRT",
                                                    "ABS",
                                                    "L2_NORMALIZATION"};

// The options table that carries fused_activation_function, for the ops that have one and whose
// float kernel applies it (TFLite's float CONCATENATION refuses a fused activation).
std::string_view ActivationOptionsType(std::string_view op) {
  if (op == "CONV_2D") return "Conv2DOptions";
  if (op == "DEPTHWISE_CONV_2D") return "DepthwiseConv2DOptions";
  if (op == "FULLY_CONNECTED") return "FullyConnectedOptions";
  if (op == "ADD") return "AddOptions";
  if (op == "SUB") return "SubOptions";
  if (op == "MUL") return "MulOptions";
  if (op == "DIV") return "DivOptions";
  if (op == "AVERAGE_POOL_2D" || op == "MAX_POOL_2D") return "Pool2DOptions";
  return {};
}

// TFLite's ActivationFunctionType values.
constexpr int64_t kActNone = 0, kActRelu = 1, kActReluN1To1 = 2, kActRelu6 = 3;

// The activation a quantized output's representable range implies, or kActNone. Its kernel
// clamps to that range, so a range that starts at exactly 0 is a ReLU the converter folded in.
int64_t ImpliedActivation(const Tensor& t) {
  const Quantization& q = *t.quantization;
  if (q.per_channel()) return kActNone;
  auto range = QuantizedDTypeRange(t.dtype);
  if (!range) return kActNone;
  const auto [qmin, qmax] = *range;
  const double scale = q.scale[0];
  const int64_t zp = q.zero_point.empty() ? 0 : q.zero_point[0];
  const double lo = scale * double(qmin - zp), hi = scale * double(qmax - zp);
  if (lo == 0) return std::fabs(hi - 6) <= scale ? kActRelu6 : kActRelu;
  if (std::fabs(lo + 1) <= scale && std::fabs(hi - 1) <= scale) return kActReluN1To1;
  return kActNone;
}

bool IsQuantized(const Tensor& t) {
  return t.quantization && !t.quantization->scale.empty() &&
         (t.dtype == DType::kUInt8 || t.dtype == DType::kInt8 || t.dtype == DType::kInt16 ||
          t.dtype == DType::kInt32);
}

float HalfToFloat(uint16_t h) {
  const int sign = (h >> 15) ? -1 : 1;
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  if (exponent == 0) return float(sign * std::ldexp(double(mantissa), -24));
  if (exponent == 31) return mantissa ? NAN : float(sign) * INFINITY;
  return float(sign * std::ldexp(double(mantissa | 0x400), exponent - 25));
}

std::vector<uint8_t> FloatBytes(const std::vector<float>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(float));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

// The shadow's copy of tensor `t`: float where quantized; constants get their own (dequantized)
// buffers, appended to `buffers`.
Tensor ShadowTensor(const Model& quantized, size_t t, const std::string& source,
                    std::vector<std::vector<uint8_t>>& buffers) {
  const Tensor& src = quantized.subgraphs[0].tensors[t];
  Tensor dst = src;
  dst.buffer = 0;
  const std::string what = source + ": tensor " + std::to_string(t) + " '" + src.name + "'";
  const std::vector<uint8_t>* data =
      src.buffer < quantized.buffers.size() && !quantized.buffers[src.buffer].empty()
          ? &quantized.buffers[src.buffer]
          : nullptr;
  if (IsQuantized(src)) {
    dst.dtype = DType::kFloat32;
    dst.quantization.reset();
    if (data) {
      dst.buffer = uint32_t(buffers.size());
      buffers.push_back(
          FloatBytes(Dequantize(*data, src.dtype, src.shape, *src.quantization, what)));
    }
  } else if (src.dtype == DType::kFloat16 && data) {
    // fp16 weights feed a DEQUANTIZE the shadow drops: the constant itself becomes float32.
    std::vector<float> values(data->size() / 2);
    for (size_t i = 0; i < values.size(); ++i) {
      uint16_t h;
      std::memcpy(&h, data->data() + 2 * i, 2);
      values[i] = HalfToFloat(h);
    }
    dst.dtype = DType::kFloat32;
    dst.buffer = uint32_t(buffers.size());
    buffers.push_back(FloatBytes(values));
  } else if (data) {
    dst.buffer = uint32_t(buffers.size());
    buffers.push_back(*data);
  }
  return dst;
}

// The operator's opcode and tensor indices must exist in the model.
void CheckOperands(const Model& quantized, const Operator& op, const std::string& source,
                   const std::string& where) {
  const size_t n = quantized.subgraphs[0].tensors.size();
  if (op.opcode_index >= quantized.operator_codes.size())
    throw Error(source, where,
                "an opcode index below " + std::to_string(quantized.operator_codes.size()),
                std::to_string(op.opcode_index));
  for (int32_t t : op.inputs)
    if (t >= int32_t(n))
      throw Error(source, where, "tensor indices below " + std::to_string(n),
                  "input " + std::to_string(t));
  for (int32_t t : op.outputs)
    if (t < 0 || t >= int32_t(n))
      throw Error(source, where, "tensor indices below " + std::to_string(n),
                  "output " + std::to_string(t));
}

// Only ops whose float kernel is known to compute the same thing; FULLY_CONNECTED's shuffled
// weights have no float kernel.
void CheckFloatEquivalent(const Operator& op, const std::string& name, bool custom,
                          const std::string& source, const std::string& where) {
  if (!custom && std::find(std::begin(kFloatEquivalentOps), std::end(kFloatEquivalentOps), name) ==
                     std::end(kFloatEquivalentOps))
    throw Error(source, where,
                "an op the float shadow supports (" +
                    std::to_string(std::size(kFloatEquivalentOps)) +
                    " builtin ops, QUANTIZE, DEQUANTIZE and custom ops)",
                name);
  if (name == "FULLY_CONNECTED") {
    const OptionValue* format = op.builtin_options.find("weights_format");
    if (format && std::holds_alternative<int64_t>(*format) && std::get<int64_t>(*format) != 0)
      throw Error(source, where + ".weights_format", "DEFAULT (shuffled weights are uint8-only)",
                  std::to_string(std::get<int64_t>(*format)));
  }
}

// Sets on `dst` the activation the converter folded into the quantized output's range (see
// ImpliedActivation), when the op has none of its own. True when it did.
bool RestoreFoldedActivation(const Subgraph& in, const Operator& op, const std::string& name,
                             Operator& dst) {
  const std::string_view options_type = ActivationOptionsType(name);
  if (options_type.empty() || op.outputs.size() != 1 || !IsQuantized(in.tensors[op.outputs[0]]) ||
      !(op.builtin_options.type == options_type || op.builtin_options.type.empty()))
    return false;
  BuiltinOptions& options = dst.builtin_options;
  options.type = std::string(options_type);
  const OptionValue* act = options.find("fused_activation_function");
  const int64_t current =
      act && std::holds_alternative<int64_t>(*act) ? std::get<int64_t>(*act) : kActNone;
  const int64_t implied = ImpliedActivation(in.tensors[size_t(op.outputs[0])]);
  if (current != kActNone || implied == kActNone) return false;
  auto it = std::find_if(options.fields.begin(), options.fields.end(),
                         [](const auto& f) { return f.name == "fused_activation_function"; });
  if (it != options.fields.end())
    it->value = implied;
  else
    options.fields.push_back({"fused_activation_function", implied});
  return true;
}

}  // namespace

std::vector<float> Dequantize(const std::vector<uint8_t>& bytes, DType dtype,
                              const std::vector<int32_t>& shape, const Quantization& q,
                              const std::string& what) {
  const size_t size = DTypeSize(dtype);
  if (dtype != DType::kUInt8 && dtype != DType::kInt8 && dtype != DType::kInt16 &&
      dtype != DType::kInt32)
    throw Error(what, "dtype", "uint8, int8, int16 or int32 to dequantize",
                std::string(DTypeName(dtype)));
  if (q.scale.empty()) throw Error(what, "quantization.scale", "at least one scale", "none");
  const size_t count = bytes.size() / size;
  size_t expected = 1;
  for (int32_t d : shape) expected *= size_t(std::max(d, 0));
  if (bytes.size() % size != 0 || (!shape.empty() && count != expected))
    throw Error(what, "buffer",
                std::to_string(expected) + " elements of " + std::to_string(size) + " bytes",
                std::to_string(bytes.size()) + " bytes");
  // Per-channel: the channel of flat index i is (i / inner) % channels.
  size_t channels = 1, inner = 1;
  if (q.scale.size() > 1) {
    // A 1-D tensor (a bias) has one axis the channels can be on, whatever the file says.
    const int32_t axis = shape.size() == 1 ? 0 : q.quantized_dimension;
    if (axis < 0 || size_t(axis) >= shape.size() || size_t(shape[axis]) != q.scale.size())
      throw Error(what, "quantization.quantized_dimension",
                  "an axis of " + std::to_string(q.scale.size()) + " channels",
                  "axis " + std::to_string(axis) + " of shape " +
                      ShapeText(std::vector<int>(shape.begin(), shape.end())));
    channels = q.scale.size();
    for (size_t d = size_t(axis) + 1; d < shape.size(); ++d) inner *= size_t(shape[d]);
  }
  if (!q.zero_point.empty() && q.zero_point.size() != q.scale.size() && q.zero_point.size() != 1)
    throw Error(what, "quantization.zero_point", std::to_string(q.scale.size()) + " zero points",
                std::to_string(q.zero_point.size()));
  std::vector<float> out(count);
  for (size_t i = 0; i < count; ++i) {
    const size_t c = channels > 1 ? (i / inner) % channels : 0;
    const int64_t zp = q.zero_point.empty() ? 0 : q.zero_point[q.zero_point.size() == 1 ? 0 : c];
    int64_t v = 0;
    const uint8_t* p = bytes.data() + i * size;
    switch (dtype) {
      case DType::kUInt8:
        v = *p;
        break;
      case DType::kInt8:
        v = int8_t(*p);
        break;
      case DType::kInt16: {
        int16_t x;
        std::memcpy(&x, p, 2);
        v = x;
        break;
      }
      default: {
        int32_t x;
        std::memcpy(&x, p, 4);
        v = x;
        break;
      }
    }
    out[i] = float(double(q.scale[c]) * double(v - zp));
  }
  return out;
}

FloatShadow BuildFloatShadow(const Model& quantized, const std::string& source) {
  if (quantized.subgraphs.size() != 1)
    throw Error(source, "subgraphs", "one subgraph for a float shadow",
                std::to_string(quantized.subgraphs.size()));
  const Subgraph& in = quantized.subgraphs[0];
  FloatShadow shadow;
  Model& m = shadow.model;
  m.version = quantized.version;
  m.description = "float shadow of " + source;
  m.operator_codes = quantized.operator_codes;
  for (auto& code : m.operator_codes) code.version = 1;
  m.buffers.push_back({});
  Subgraph out;
  out.name = in.name;
  const size_t n = in.tensors.size();
  shadow.alias.resize(n);
  for (size_t t = 0; t < n; ++t) shadow.alias[t] = int32_t(t);
  for (size_t t = 0; t < n; ++t)
    out.tensors.push_back(ShadowTensor(quantized, t, source, m.buffers));

  auto resolve = [&](int32_t t) { return t < 0 ? t : shadow.alias[size_t(t)]; };
  for (size_t i = 0; i < in.operators.size(); ++i) {
    const Operator& op = in.operators[i];
    const std::string name = OperatorName(quantized, op);
    const std::string where = "operator " + std::to_string(i) + " (" + name + ")";
    CheckOperands(quantized, op, source, where);
    const bool custom = !quantized.operator_codes[op.opcode_index].custom_code.empty();
    if (name == "QUANTIZE" || name == "DEQUANTIZE") {
      // Float to float: the op is an identity in the shadow, so its output is its input.
      if (op.inputs.size() != 1 || op.outputs.size() != 1 || op.inputs[0] < 0)
        throw Error(source, where, "one input and one output",
                    std::to_string(op.inputs.size()) + " inputs, " +
                        std::to_string(op.outputs.size()) + " outputs");
      shadow.alias[size_t(op.outputs[0])] = resolve(op.inputs[0]);
      ++shadow.dropped_ops;
      continue;
    }
    CheckFloatEquivalent(op, name, custom, source, where);
    Operator dst = op;
    for (auto& t : dst.inputs) t = resolve(t);
    if (RestoreFoldedActivation(in, op, name, dst)) shadow.restored_activations.push_back(i);
    out.operators.push_back(std::move(dst));
  }
  for (int32_t t : in.inputs) out.inputs.push_back(resolve(t));
  for (int32_t t : in.outputs) out.outputs.push_back(resolve(t));
  m.subgraphs.push_back(std::move(out));
  return shadow;
}

Model ExposeAllTensors(const Model& model, const std::vector<size_t>& skip_ops) {
  Model m = model;
  if (m.subgraphs.empty()) return m;
  Subgraph& g = m.subgraphs[0];
  std::set<int32_t> listed(g.outputs.begin(), g.outputs.end());
  for (size_t i = 0; i < g.operators.size(); ++i) {
    if (std::find(skip_ops.begin(), skip_ops.end(), i) != skip_ops.end()) continue;
    for (int32_t t : g.operators[i].outputs)
      if (t >= 0 && listed.insert(t).second) g.outputs.push_back(t);
  }
  // Signatures name the original outputs only; a stale one would confuse readers of the file.
  m.signature_defs.clear();
  return m;
}

}  // namespace lockstep
