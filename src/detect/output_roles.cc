#include "lockstep/detect/output_roles.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>

#include "lockstep/core/error.h"
#include "lockstep/model/postprocess_options.h"

namespace lockstep {
namespace {

enum Role { kBoxes, kClasses, kScores, kCount, kRoleCount };
constexpr std::array<const char*, kRoleCount> kRoleNames = {"boxes", "classes", "scores", "count"};

using Assignment = std::array<size_t, kRoleCount>;  // role → output position

std::string Lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The first elements of an output as floats (float32 or per-tensor quantized), at most `limit`.
std::vector<float> Values(const TensorView& t, size_t limit) {
  const size_t n = std::min(limit, t.element_count());
  std::vector<float> out;
  if (t.dtype == DType::kFloat32 && t.bytes.size() >= n * 4) {
    out.resize(n);
    if (n) std::memcpy(out.data(), t.bytes.data(), n * 4);
  } else if ((t.dtype == DType::kUInt8 || t.dtype == DType::kInt8) && t.quantization &&
             t.quantization->scale.size() == 1 && t.bytes.size() >= n) {
    for (size_t i = 0; i < n; ++i) {
      const int q = t.dtype == DType::kUInt8 ? int(t.bytes[i]) : int(int8_t(t.bytes[i]));
      out.push_back(float(q - t.quantization->zero_point[0]) * t.quantization->scale[0]);
    }
  }
  return out;
}

// Whether the shapes fit the roles: boxes [...,M,4], classes and scores M elements, count 1.
bool ShapesFit(const std::vector<TensorView>& outputs, const Assignment& a) {
  const TensorView& boxes = outputs[a[kBoxes]];
  const size_t m = outputs[a[kScores]].element_count();
  return !boxes.shape.empty() && boxes.shape.back() == 4 && boxes.element_count() == 4 * m &&
         outputs[a[kClasses]].element_count() == m && outputs[a[kCount]].element_count() == 1;
}

std::string Describe(const std::vector<TensorView>& outputs, const Assignment& a) {
  std::string s;
  for (int r = 0; r < kRoleCount; ++r) {
    const TensorView& t = outputs[a[size_t(r)]];
    s += std::string(r ? ", " : "") + kRoleNames[size_t(r)] + " = output " +
         std::to_string(a[size_t(r)]) + " '" + t.name + "' " + ShapeText(t.shape);
  }
  return s;
}

std::optional<Assignment> ByMetadata(const Subgraph& sg, const std::optional<ModelMetadata>& md,
                                     const std::vector<size_t>& candidates, std::string& why) {
  if (!md) return std::nullopt;
  if (md->outputs.size() != sg.outputs.size()) {
    why += "metadata describes " + std::to_string(md->outputs.size()) + " outputs, not " +
           std::to_string(sg.outputs.size()) + "; ";
    return std::nullopt;
  }
  Assignment a{};
  std::array<int, kRoleCount> seen{};
  for (size_t p : candidates) {
    const std::string name = Lower(md->outputs[p].name);
    int role = -1;
    if (name == "location" || name == "locations" || name == "boxes") role = kBoxes;
    if (name == "category" || name == "classes" || name == "class") role = kClasses;
    if (name == "score" || name == "scores") role = kScores;
    if (name == "number of detections" || name == "num_detections") role = kCount;
    if (role < 0) {
      why += "metadata output name '" + md->outputs[p].name + "' is not a known role; ";
      return std::nullopt;
    }
    a[size_t(role)] = p;
    ++seen[size_t(role)];
  }
  if (std::any_of(seen.begin(), seen.end(), [](int n) { return n != 1; })) {
    why += "metadata names do not give each role once; ";
    return std::nullopt;
  }
  return a;
}

std::optional<Assignment> BySignature(const Model& model, const std::vector<size_t>& candidates,
                                      std::string& why) {
  const Subgraph& sg = model.subgraphs[0];
  for (const SignatureDef& sig : model.signature_defs) {
    if (sig.subgraph_index != 0) continue;
    // libcoral's reading of TF2 detector signatures, checked on TF2 exports against the op's
    // wiring: output_0 count, output_1 scores, output_2 classes, output_3 boxes.
    constexpr std::array<Role, 4> kByNumber = {kCount, kScores, kClasses, kBoxes};
    Assignment a{};
    std::array<int, kRoleCount> seen{};
    for (size_t p : candidates) {
      const auto tensor = uint32_t(sg.outputs[p]);
      const auto it = std::find_if(sig.outputs.begin(), sig.outputs.end(),
                                   [&](const TensorMap& m) { return m.tensor_index == tensor; });
      if (it == sig.outputs.end()) break;
      for (size_t k = 0; k < 4; ++k)
        if (it->name == "output_" + std::to_string(k)) {
          a[kByNumber[k]] = p;
          ++seen[kByNumber[k]];
        }
    }
    if (std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; })) return a;
    why += "signature '" + sig.signature_key + "' does not name output_0..3; ";
  }
  return std::nullopt;
}

std::optional<Assignment> ByShapesAndValues(const std::vector<TensorView>& outputs,
                                            const std::vector<size_t>& candidates,
                                            std::optional<int> num_classes, std::string& facts,
                                            std::string& why) {
  std::vector<size_t> boxes, single, rows;
  for (size_t p : candidates) {
    const TensorView& t = outputs[p];
    if (t.element_count() == 1)
      single.push_back(p);
    else if (t.shape.size() >= 2 && t.shape.back() == 4)
      boxes.push_back(p);
    else
      rows.push_back(p);
  }
  if (boxes.size() != 1 || single.size() != 1 || rows.size() != 2) {
    why += "shapes do not show one [1,M,4], one 1-element and two [1,M] outputs; ";
    return std::nullopt;
  }
  Assignment a{};
  a[kBoxes] = boxes[0];
  a[kCount] = single[0];
  const std::vector<float> count = Values(outputs[a[kCount]], 1);
  const size_t m = outputs[rows[0]].element_count();
  if (count.empty() || !(count[0] >= 1)) {
    why += "the count is 0, so no values tell classes from scores; ";
    return std::nullopt;
  }
  const size_t n = std::min(m, size_t(std::min(count[0], float(m))));
  // Classes are whole numbers in [0, num_classes); scores are what the op's score was (in
  // [0,1] after a sigmoid, but trackers feed logits, so only integrality is required).
  auto looks_like_classes = [&](size_t p) {
    const std::vector<float> v = Values(outputs[p], n);
    if (v.size() != n) return false;
    return std::all_of(v.begin(), v.end(), [&](float x) {
      return x >= 0 && std::floor(x) == x && (!num_classes || x < float(*num_classes));
    });
  };
  auto in_unit = [&](size_t p) {
    const std::vector<float> v = Values(outputs[p], n);
    return v.size() == n &&
           std::all_of(v.begin(), v.end(), [](float x) { return x >= 0 && x <= 1; });
  };
  const bool c0 = looks_like_classes(rows[0]), c1 = looks_like_classes(rows[1]);
  if (c0 != c1) {
    a[kClasses] = c0 ? rows[0] : rows[1];
    a[kScores] = c0 ? rows[1] : rows[0];
    facts = "the first " + std::to_string(n) + " values of '" + outputs[a[kClasses]].name +
            "' are whole class numbers, those of '" + outputs[a[kScores]].name + "' are not";
    return a;
  }
  if (c0 && c1 && in_unit(rows[0]) != in_unit(rows[1])) {
    // Both integral (e.g. one class and scores exactly 0 or 1): the one outside [0,1] is classes.
    a[kClasses] = in_unit(rows[0]) ? rows[1] : rows[0];
    a[kScores] = in_unit(rows[0]) ? rows[0] : rows[1];
    facts = "only '" + outputs[a[kScores]].name + "' stays in [0,1]";
    return a;
  }
  why += "the values of '" + outputs[rows[0]].name + "' and '" + outputs[rows[1]].name +
         "' do not tell classes from scores; ";
  return std::nullopt;
}

}  // namespace

std::string_view OutputRoleRuleName(OutputRoleRule rule) {
  switch (rule) {
    case OutputRoleRule::kMetadataNames:
      return "metadata names";
    case OutputRoleRule::kSignatureNames:
      return "signature names";
    case OutputRoleRule::kShapesAndValues:
      return "shapes and values";
  }
  return "?";
}

namespace {

// The positions of the outputs that can hold the four roles.
std::vector<size_t> RoleCandidates(const Subgraph& sg,
                                   const std::optional<DetectionPostprocess>& op,
                                   const std::string& source) {
  std::vector<size_t> candidates;
  if (op && op->subgraph == 0) {
    for (size_t p = 0; p < sg.outputs.size(); ++p)
      if (std::find(op->outputs.begin(), op->outputs.end(), sg.outputs[p]) != op->outputs.end())
        candidates.push_back(p);
    if (candidates.size() != 4)
      throw Error(source, "outputs", "the 4 outputs of TFLite_Detection_PostProcess among them",
                  std::to_string(candidates.size()) + " of them",
                  "a model cut before its postprocess op needs the raw SSD decoder");
    return candidates;
  }
  if (sg.outputs.size() == 4) return {0, 1, 2, 3};
  throw Error(source, "outputs", "4 post-processed outputs (boxes, classes, scores, count)",
              std::to_string(sg.outputs.size()) + " outputs and no TFLite_Detection_PostProcess");
}

DetectionOutputRoles Roles(const std::vector<TensorView>& outputs, const Assignment& a,
                           OutputRoleRule rule, const std::string& facts) {
  DetectionOutputRoles roles;
  roles.boxes = a[kBoxes];
  roles.classes = a[kClasses];
  roles.scores = a[kScores];
  roles.count = a[kCount];
  roles.rule = rule;
  roles.reason =
      std::string(OutputRoleRuleName(rule)) + " (" + facts + "): " + Describe(outputs, a);
  return roles;
}

}  // namespace

OutputRoleDecision DecideDetectionOutputRoles(const Model& model,
                                              const std::optional<ModelMetadata>& metadata,
                                              const std::vector<TensorView>& outputs,
                                              const std::string& source) {
  if (model.subgraphs.empty()) throw Error(source, "subgraphs", "at least one", "none");
  const Subgraph& sg = model.subgraphs[0];
  if (outputs.size() != sg.outputs.size())
    throw Error(source, "outputs", std::to_string(sg.outputs.size()) + " (the model's)",
                std::to_string(outputs.size()));
  const std::optional<DetectionPostprocess> op = FindDetectionPostprocess(model, source);
  const std::vector<size_t> candidates = RoleCandidates(sg, op, source);

  std::string why;  // why earlier rules did not decide
  auto shapes_fit = [&](const std::optional<Assignment>& a, const char* rule) {
    if (!a) return false;
    if (ShapesFit(outputs, *a)) return true;
    why += std::string(rule) + " give roles the shapes contradict; ";
    return false;
  };
  if (auto a = ByMetadata(sg, metadata, candidates, why); shapes_fit(a, "metadata names"))
    return {Roles(outputs, *a, OutputRoleRule::kMetadataNames, "TFLite metadata output names"), {}};
  if (auto a = BySignature(model, candidates, why); shapes_fit(a, "signature names"))
    return {Roles(outputs, *a, OutputRoleRule::kSignatureNames,
                  "signature output_0..3 = count, scores, classes, boxes"),
            {}};
  std::string facts;
  const std::optional<int> num_classes =
      op ? std::optional<int>(op->options.num_classes) : std::nullopt;
  if (auto a = ByShapesAndValues(outputs, candidates, num_classes, facts, why))
    return {Roles(outputs, *a, OutputRoleRule::kShapesAndValues, facts), {}};
  return {std::nullopt, why.substr(0, why.size() >= 2 ? why.size() - 2 : 0)};
}

DetectionOutputRoles AssignDetectionOutputRoles(const Model& model,
                                                const std::optional<ModelMetadata>& metadata,
                                                const std::vector<TensorView>& outputs,
                                                const std::string& source) {
  OutputRoleDecision d = DecideDetectionOutputRoles(model, metadata, outputs, source);
  if (!d.roles)
    throw Error(source, "detection outputs", "boxes, classes, scores and count told apart",
                "no rule decided: " + d.undecided,
                "run on an input that gives detections, or add TFLite metadata");
  return *d.roles;
}

PostprocessOutputs ReadPostprocessOutputs(const std::vector<TensorView>& outputs,
                                          const DetectionOutputRoles& roles,
                                          const std::string& source) {
  const size_t last = std::max({roles.boxes, roles.classes, roles.scores, roles.count});
  if (last >= outputs.size())
    throw Error(source, "outputs", "at least " + std::to_string(last + 1),
                std::to_string(outputs.size()));
  return ReadPostprocessOutputs(outputs[roles.boxes], outputs[roles.classes], outputs[roles.scores],
                                outputs[roles.count], source);
}

}  // namespace lockstep
