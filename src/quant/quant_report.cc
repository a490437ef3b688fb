#include "lockstep/quant/quant_report.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>

#include "lockstep/core/error.h"
#include "lockstep/engine/engine.h"
#include "lockstep/model/model_io.h"
#include "lockstep/pipeline/preprocess.h"
#include "lockstep/pipeline/source_image.h"
#include "lockstep/pipeline/spec_model.h"
#include "lockstep/quant/float_shadow.h"

namespace lockstep {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

bool IsQuantizedInteger(DType t) {
  return t == DType::kUInt8 || t == DType::kInt8 || t == DType::kInt16 || t == DType::kInt32;
}

std::vector<int32_t> Shape32(const std::vector<int>& shape) {
  return std::vector<int32_t>(shape.begin(), shape.end());
}

// A tensor's real values: dequantized when quantized, as they are when float32.
std::vector<float> RealValues(const TensorView& view, const std::string& what) {
  if (view.dtype == DType::kFloat32) {
    auto v = view.as<float>();
    return {v.begin(), v.end()};
  }
  std::vector<uint8_t> bytes(view.bytes.begin(), view.bytes.end());
  return Dequantize(bytes, view.dtype, Shape32(view.shape), *view.quantization, what);
}

// Output position of each tensor index in a loaded engine.
std::map<int, size_t> OutputPositions(const Engine& engine) {
  std::map<int, size_t> positions;
  for (size_t i = 0; i < engine.output_count(); ++i) positions[engine.output(i).index] = i;
  return positions;
}

// The float input the shadow (and a real float model) gets for one quantized input.
TensorData FloatInput(const TensorData& data, const Tensor& tensor, const std::string& what) {
  if (data.dtype == DType::kFloat32) return data;
  if (!tensor.quantization || tensor.quantization->scale.empty())
    throw Error(what, "quantization", "a quantized input (or float32)",
                std::string(DTypeName(data.dtype)) + " without quantization");
  TensorData out(DType::kFloat32, data.shape);
  std::vector<float> values =
      Dequantize(data.bytes, data.dtype, Shape32(data.shape), *tensor.quantization, what);
  std::memcpy(out.bytes.data(), values.data(), out.bytes.size());
  return out;
}

// Custom ops (TFLite_Detection_PostProcess) are kept in both models but not compared: their
// outputs are ranked detections, not values a tensor metric can pair. Notes each one.
std::vector<size_t> CustomOps(const Model& model, QuantReport& report) {
  const Subgraph& g = model.subgraphs[0];
  std::vector<size_t> custom_ops;
  for (size_t i = 0; i < g.operators.size(); ++i) {
    const Operator& op = g.operators[i];
    if (!model.operator_codes[op.opcode_index].custom_code.empty()) {
      custom_ops.push_back(i);
      report.notes.push_back("outputs of custom op " + OperatorName(model, op) + " (op " +
                             std::to_string(i) + ") not compared");
    }
  }
  return custom_ops;
}

// The user's float model, loaded with every tensor exposed; its inputs must be float32 with the
// shadow's shapes.
Engine LoadRealFloat(const std::filesystem::path& path, const Engine& shadow) {
  Model float_model = ReadModelFile(path);
  Engine real_float = Engine::Load(WriteModel(ExposeAllTensors(float_model)), path.string());
  if (real_float.input_count() != shadow.input_count())
    throw Error(path.string(), "inputs",
                std::to_string(shadow.input_count()) + " (as the quantized model)",
                std::to_string(real_float.input_count()));
  for (size_t i = 0; i < real_float.input_count(); ++i)
    if (real_float.input(i).dtype != DType::kFloat32 ||
        real_float.input(i).shape != shadow.input(i).shape)
      throw Error(path.string(), "input " + std::to_string(i),
                  DescribeTensor(DType::kFloat32, shadow.input(i).shape),
                  DescribeTensor(real_float.input(i).dtype, real_float.input(i).shape));
  return real_float;
}

// The quantized model, its float shadow and optionally the real float model, each with every
// tensor exposed as an output.
struct Engines {
  Engine quant, shadow;
  std::optional<Engine> real_float;
};

// One layer's output positions in the engines and its error accumulators.
struct Slot {
  size_t quant, shadow;
  std::optional<size_t> real_float;
  LayerErrorAccumulator error, vs_float, shadow_vs_float;
};

// Float32 outputs of the real float model by tensor name: layers pair with it by name.
std::map<std::string, size_t> FloatOutputsByName(const std::optional<Engine>& real_float) {
  std::map<std::string, size_t> float_by_name;
  if (real_float)
    for (size_t i = 0; i < real_float->output_count(); ++i) {
      TensorView v = real_float->output(i);
      if (v.dtype == DType::kFloat32) float_by_name.emplace(v.name, i);
    }
  return float_by_name;
}

QuantLayer LayerOf(const Model& model, int32_t t, size_t op_index) {
  const Tensor& qt = model.subgraphs[0].tensors[size_t(t)];
  QuantLayer layer;
  layer.tensor = t;
  layer.name = qt.name;
  layer.op_index = int32_t(op_index);
  layer.op = OperatorName(model, model.subgraphs[0].operators[op_index]);
  layer.shape.assign(qt.shape.begin(), qt.shape.end());
  if (qt.dtype != DType::kFloat32) {
    layer.scale = qt.quantization->scale[0];
    layer.zero_point = qt.quantization->zero_point.empty() ? 0 : qt.quantization->zero_point[0];
  }
  return layer;
}

// The layers: tensors written by non-custom ops whose values are real numbers on both sides.
// Adds them to the report (pairing each with the real float model by name when there is one)
// and returns their slots in the same order.
std::vector<Slot> PairLayers(const Model& model, const FloatShadow& shadow, const Engines& engines,
                             const std::vector<size_t>& custom_ops, const std::string& source,
                             QuantReport& report) {
  const Subgraph& g = model.subgraphs[0];
  const auto quant_pos = OutputPositions(engines.quant);
  const auto shadow_pos = OutputPositions(engines.shadow);
  const std::map<std::string, size_t> float_by_name = FloatOutputsByName(engines.real_float);
  std::vector<Slot> slots;
  size_t non_real = 0;
  for (size_t i = 0; i < g.operators.size(); ++i) {
    if (std::find(custom_ops.begin(), custom_ops.end(), i) != custom_ops.end()) continue;
    for (int32_t t : g.operators[i].outputs) {
      if (t < 0) continue;
      const Tensor& qt = g.tensors[size_t(t)];
      const Tensor& st = shadow.model.subgraphs[0].tensors[size_t(shadow.alias[size_t(t)])];
      const bool real =
          qt.dtype == DType::kFloat32 ||
          (IsQuantizedInteger(qt.dtype) && qt.quantization && !qt.quantization->scale.empty());
      auto qp = quant_pos.find(t);
      auto sp = shadow_pos.find(shadow.alias[size_t(t)]);
      if (!real || st.dtype != DType::kFloat32 || qp == quant_pos.end() || sp == shadow_pos.end()) {
        ++non_real;
        continue;
      }
      Slot slot{qp->second, sp->second, std::nullopt, {}, {}, {}};
      if (engines.real_float) {
        auto fp = float_by_name.find(qt.name);
        if (fp != float_by_name.end() && engines.real_float->output(fp->second).element_count() ==
                                             engines.quant.output(qp->second).element_count()) {
          slot.real_float = fp->second;
          ++report.float_paired;
        }
      }
      report.layers.push_back(LayerOf(model, t, i));
      slots.push_back(std::move(slot));
    }
  }
  if (std::none_of(report.layers.begin(), report.layers.end(),
                   [](const QuantLayer& l) { return l.scale > 0; }))
    throw Error(source, "tensors",
                "a quantized model (op outputs of uint8, int8 or int16 with "
                "quantization)",
                "no quantized op output: nothing to measure");
  if (non_real)
    report.notes.push_back(std::to_string(non_real) +
                           " op outputs that are not real-valued on both sides (integer indices, "
                           "shapes) not compared");
  return slots;
}

// Runs one input set through every engine (the float ones get it dequantized).
void InvokeAll(Engines& engines, const Subgraph& g, const std::vector<TensorData>& input,
               const std::string& name) {
  if (input.size() != engines.quant.input_count())
    throw Error(name, "inputs", std::to_string(engines.quant.input_count()) + " tensors",
                std::to_string(input.size()));
  for (size_t i = 0; i < input.size(); ++i) {
    engines.quant.SetInput(i, input[i], name);
    TensorData f = FloatInput(input[i], g.tensors[size_t(g.inputs[i])], name);
    engines.shadow.SetInput(i, f, name);
    if (engines.real_float) engines.real_float->SetInput(i, f, name);
  }
  engines.quant.Invoke();
  engines.shadow.Invoke();
  if (engines.real_float) engines.real_float->Invoke();
}

// Adds each layer's values from the last invocation to its accumulators.
void AccumulateLayers(const Engines& engines, const std::vector<QuantLayer>& layers,
                      const std::string& source, std::vector<Slot>& slots) {
  for (size_t l = 0; l < slots.size(); ++l) {
    Slot& slot = slots[l];
    const std::string what = source + ": tensor '" + layers[l].name + "'";
    std::vector<float> q = RealValues(engines.quant.output(slot.quant), what);
    auto sh = engines.shadow.output(slot.shadow).as<float>();
    slot.error.Add(q, sh, what.c_str());
    if (slot.real_float) {
      auto rf = engines.real_float->output(*slot.real_float).as<float>();
      slot.vs_float.Add(q, rf, what.c_str());
      slot.shadow_vs_float.Add(sh, rf, what.c_str());
    }
  }
}

// Results, and where the SNR falls below what the op's inputs already carried.
void FinishLayers(const Subgraph& g, const std::vector<Slot>& slots, double jump_threshold_db,
                  std::vector<QuantLayer>& layers) {
  std::map<int32_t, double> snr_of;
  for (size_t l = 0; l < slots.size(); ++l) {
    QuantLayer& layer = layers[l];
    layer.error = slots[l].error.Result();
    if (slots[l].real_float) {
      layer.vs_float = slots[l].vs_float.Result();
      layer.shadow_vs_float = slots[l].shadow_vs_float.Result();
    }
    double inherited = kInf;
    for (int32_t t : g.operators[size_t(layer.op_index)].inputs) {
      auto it = snr_of.find(t);
      if (it != snr_of.end()) inherited = std::min(inherited, it->second);
    }
    layer.inherited_snr_db = inherited;
    const double own = layer.error.snr_db;
    layer.snr_drop_db = (inherited == kInf && own == kInf) ? 0 : inherited - own;
    layer.jump = layer.snr_drop_db > jump_threshold_db;
    snr_of[layer.tensor] = own;
  }
}

}  // namespace

QuantReport MeasureQuantError(const Model& model, const std::string& source,
                              const std::vector<std::vector<TensorData>>& inputs,
                              const std::vector<std::string>& input_names,
                              const QuantReportOptions& options) {
  QuantReport report;
  report.model = source;
  report.inputs = input_names;
  report.jump_threshold_db = options.jump_threshold_db;
  FloatShadow shadow = BuildFloatShadow(model, source);
  report.dropped_ops = shadow.dropped_ops;
  report.restored_activations = shadow.restored_activations;
  if (!shadow.restored_activations.empty())
    report.notes.push_back(std::to_string(shadow.restored_activations.size()) +
                           " ops had their activation folded into the output range by the "
                           "converter; the float shadow applies it (RELU6/RELU/RELU_N1_TO_1)");
  const Subgraph& g = model.subgraphs[0];
  const std::vector<size_t> custom_ops = CustomOps(model, report);
  Engines engines{
      Engine::Load(WriteModel(ExposeAllTensors(model)), source),
      Engine::Load(WriteModel(ExposeAllTensors(shadow.model)), source + " (float shadow)"),
      std::nullopt};
  if (!options.float_model.empty()) {
    report.float_model = options.float_model.string();
    engines.real_float.emplace(LoadRealFloat(options.float_model, engines.shadow));
  }
  std::vector<Slot> slots = PairLayers(model, shadow, engines, custom_ops, source, report);

  for (size_t s = 0; s < inputs.size(); ++s) {
    const std::string name = s < input_names.size() ? input_names[s] : std::to_string(s);
    InvokeAll(engines, g, inputs[s], name);
    AccumulateLayers(engines, report.layers, source, slots);
    if (options.progress) options.progress(s + 1, inputs.size(), name);
  }
  FinishLayers(g, slots, options.jump_threshold_db, report.layers);
  return report;
}

QuantReport RunQuantReport(const ModelFile& model_file, const Spec& spec,
                           const std::vector<std::filesystem::path>& images,
                           const QuantReportOptions& options) {
  const Model& model = model_file.model();
  const std::string& source = model_file.source();
  if (images.empty()) throw Error(source, "images", "at least one image", "none");
  ModelInput input = ModelInputOf(model, source);
  if (model.subgraphs[0].inputs.size() != 1)
    throw Error(source, "inputs", "one image input",
                std::to_string(model.subgraphs[0].inputs.size()) + " inputs");
  std::vector<std::vector<TensorData>> tensors;
  std::vector<std::string> names;
  for (const auto& path : images) {
    tensors.push_back({Preprocess(DecodeSourceImage(path, spec), spec, input).tensor});
    names.push_back(path.string());
  }
  QuantReport report = MeasureQuantError(model, source, tensors, names, options);
  report.spec_name = spec.name;
  return report;
}

std::vector<size_t> WorstLayers(const QuantReport& report) {
  std::vector<size_t> order(report.layers.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return report.layers[a].error.snr_db < report.layers[b].error.snr_db;
  });
  return order;
}

}  // namespace lockstep
