#include "lockstep/model/edgetpu.h"

namespace lockstep {

std::optional<std::filesystem::path> CpuTwinPath(const std::filesystem::path& compiled) {
  const std::string stem = compiled.stem().string(), suffix = "_edgetpu";
  if (stem.size() <= suffix.size() || !stem.ends_with(suffix)) return std::nullopt;
  return compiled.parent_path() / (stem.substr(0, stem.size() - suffix.size()) + ".tflite");
}

EdgeTpuFacts ReadEdgeTpuFacts(const Model& model) {
  EdgeTpuFacts facts;
  if (model.subgraphs.empty()) return facts;
  // The compiler rewrites the first (main) subgraph only.
  const Subgraph& sg = model.subgraphs[0];
  std::vector<std::string> others;
  for (size_t i = 0; i < sg.operators.size(); ++i) {
    const Operator& op = sg.operators[i];
    bool tpu = op.opcode_index < model.operator_codes.size() &&
               model.operator_codes[op.opcode_index].custom_code == kEdgeTpuCustomOp;
    if (tpu)
      facts.segments.push_back({i, op.inputs, op.outputs});
    else
      others.push_back(OperatorName(model, op));
  }
  facts.compiled = !facts.segments.empty();
  if (facts.compiled) facts.cpu_ops = std::move(others);
  return facts;
}

}  // namespace lockstep
