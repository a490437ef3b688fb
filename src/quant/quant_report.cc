#include "lockstep/quant/quant_report.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>

#include "lockstep/core/error.h"
#include "lockstep/engine/engine.h"
#include "lockstep/image/decode.h"
#include "lockstep/model/model_io.h"
#include "lockstep/pipeline/preprocess.h"
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

  // Custom ops (TFLite_Detection_PostProcess) are kept in both models but not compared: their
  // outputs are ranked detections, not values a tensor metric can pair.
  std::vector<size_t> custom_ops;
  for (size_t i = 0; i < g.operators.size(); ++i) {
    const Operator& op = g.operators[i];
    if (!model.operator_codes[op.opcode_index].custom_code.empty()) {
      custom_ops.push_back(i);
      report.notes.push_back("outputs of custom op " + OperatorName(model, op) + " (op " +
                             std::to_string(i) + ") not compared");
    }
  }
  Engine quant = Engine::Load(WriteModel(ExposeAllTensors(model)), source);
  Engine shadow_engine =
      Engine::Load(WriteModel(ExposeAllTensors(shadow.model)), source + " (float shadow)");
  std::optional<Engine> real_float;
  if (!options.float_model.empty()) {
    report.float_model = options.float_model.string();
    Model float_model = ReadModelFile(options.float_model);
    real_float.emplace(
        Engine::Load(WriteModel(ExposeAllTensors(float_model)), options.float_model.string()));
    if (real_float->input_count() != shadow_engine.input_count())
      throw Error(options.float_model.string(), "inputs",
                  std::to_string(shadow_engine.input_count()) + " (as the quantized model)",
                  std::to_string(real_float->input_count()));
    for (size_t i = 0; i < real_float->input_count(); ++i)
      if (real_float->input(i).dtype != DType::kFloat32 ||
          real_float->input(i).shape != shadow_engine.input(i).shape)
        throw Error(options.float_model.string(), "input " + std::to_string(i),
                    DescribeTensor(DType::kFloat32, shadow_engine.input(i).shape),
                    DescribeTensor(real_float->input(i).dtype, real_float->input(i).shape));
  }
  const auto quant_pos = OutputPositions(quant);
  const auto shadow_pos = OutputPositions(shadow_engine);
  std::map<std::string, size_t> float_by_name;
  if (real_float)
    for (size_t i = 0; i < real_float->output_count(); ++i) {
      TensorView v = real_float->output(i);
      if (v.dtype == DType::kFloat32) float_by_name.emplace(v.name, i);
    }

  // The layers: tensors written by non-custom ops whose values are real numbers on both sides.
  struct Slot {
    size_t quant, shadow;
    std::optional<size_t> real_float;
    LayerErrorAccumulator error, vs_float, shadow_vs_float;
  };
  std::vector<Slot> slots;
  size_t non_real = 0;
  for (size_t i = 0; i < g.operators.size(); ++i) {
    if (std::find(custom_ops.begin(), custom_ops.end(), i) != custom_ops.end()) continue;
    const Operator& op = g.operators[i];
    for (int32_t t : op.outputs) {
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
      QuantLayer layer;
      layer.tensor = t;
      layer.name = qt.name;
      layer.op_index = int32_t(i);
      layer.op = OperatorName(model, op);
      layer.shape.assign(qt.shape.begin(), qt.shape.end());
      if (qt.dtype != DType::kFloat32) {
        layer.scale = qt.quantization->scale[0];
        layer.zero_point = qt.quantization->zero_point.empty() ? 0 : qt.quantization->zero_point[0];
      }
      Slot slot{qp->second, sp->second, std::nullopt, {}, {}, {}};
      if (real_float) {
        auto fp = float_by_name.find(qt.name);
        if (fp != float_by_name.end() && real_float->output(fp->second).element_count() ==
                                             quant.output(qp->second).element_count()) {
          slot.real_float = fp->second;
          ++report.float_paired;
        }
      }
      report.layers.push_back(std::move(layer));
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

  for (size_t s = 0; s < inputs.size(); ++s) {
    const std::string name = s < input_names.size() ? input_names[s] : std::to_string(s);
    if (inputs[s].size() != quant.input_count())
      throw Error(name, "inputs", std::to_string(quant.input_count()) + " tensors",
                  std::to_string(inputs[s].size()));
    for (size_t i = 0; i < inputs[s].size(); ++i) {
      quant.SetInput(i, inputs[s][i], name);
      TensorData f = FloatInput(inputs[s][i], g.tensors[size_t(g.inputs[i])], name);
      shadow_engine.SetInput(i, f, name);
      if (real_float) real_float->SetInput(i, f, name);
    }
    quant.Invoke();
    shadow_engine.Invoke();
    if (real_float) real_float->Invoke();
    for (size_t l = 0; l < slots.size(); ++l) {
      Slot& slot = slots[l];
      const std::string what = source + ": tensor '" + report.layers[l].name + "'";
      std::vector<float> q = RealValues(quant.output(slot.quant), what);
      auto sh = shadow_engine.output(slot.shadow).as<float>();
      slot.error.Add(q, sh, what.c_str());
      if (slot.real_float) {
        auto rf = real_float->output(*slot.real_float).as<float>();
        slot.vs_float.Add(q, rf, what.c_str());
        slot.shadow_vs_float.Add(sh, rf, what.c_str());
      }
    }
    if (options.progress) options.progress(s + 1, inputs.size(), name);
  }

  // Results, and where the SNR falls below what the op's inputs already carried.
  std::map<int32_t, double> snr_of;
  for (size_t l = 0; l < slots.size(); ++l) {
    QuantLayer& layer = report.layers[l];
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
    layer.jump = layer.snr_drop_db > options.jump_threshold_db;
    snr_of[layer.tensor] = own;
  }
  return report;
}

QuantReport RunQuantReport(const std::filesystem::path& model_path, const Spec& spec,
                           const std::vector<std::filesystem::path>& images,
                           const QuantReportOptions& options) {
  if (images.empty()) throw Error(model_path.string(), "images", "at least one image", "none");
  Model model = ReadModelFile(model_path);
  ModelInput input = ModelInputOf(model, model_path.string());
  if (model.subgraphs[0].inputs.size() != 1)
    throw Error(model_path.string(), "inputs", "one image input",
                std::to_string(model.subgraphs[0].inputs.size()) + " inputs");
  std::vector<std::vector<TensorData>> tensors;
  std::vector<std::string> names;
  for (const auto& path : images) {
    Image image = DecodeImageFile(path, {.apply_exif_orientation = spec.input.exif_orientation});
    tensors.push_back({Preprocess(image, spec, input).tensor});
    names.push_back(path.string());
  }
  QuantReport report = MeasureQuantError(model, model_path.string(), tensors, names, options);
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
