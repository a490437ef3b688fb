#include "lockstep/doctor/spec_diff.h"
#include "lockstep/core/json_text.h"

#include <algorithm>
#include <map>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

using json = nlohmann::ordered_json;

// The JSON keys a unit owns, as (section, key); an empty key owns the whole section.
struct UnitKeys {
  std::string unit;
  std::vector<std::pair<std::string, std::string>> keys;
};

// Fixed units first (data-flow order); other keys of a section form a unit of their own.
const std::vector<UnitKeys>& FixedUnits() {
  static const std::vector<UnitKeys> units = {
      {"input.channel_order", {{"input", "channel_order"}}},
      {"input.exif_orientation", {{"input", "exif_orientation"}}},
      {"geometry", {{"geometry", ""}}},
      {"resize", {{"resize", ""}}},
      {"normalize", {{"normalize", ""}}},
      {"tensor.size", {{"tensor", "width"}, {"tensor", "height"}}},
      {"tensor.layout", {{"tensor", "layout"}}},
      {"tensor.quantization", {{"tensor", "dtype"}, {"tensor", "scale"}, {"tensor", "zero_point"}}},
      {"tensor.rounding", {{"tensor", "rounding"}}},
      {"tensor.saturation", {{"tensor", "saturate"}}},
      {"output.labels", {{"output", "labels"}, {"output", "label_file"}}},
  };
  return units;
}

std::string UnitOf(const std::string& section, const std::string& key) {
  for (const UnitKeys& u : FixedUnits())
    for (const auto& [s, k] : u.keys)
      if (s == section && (k.empty() || k == key)) return u.unit;
  return key.empty() ? section : section + "." + key;
}

// Sections in data-flow order; within one, its fixed units in the listed order, then the rest.
size_t FlowRank(const std::string& unit) {
  static const std::vector<std::string> sections = {"schema",    "input",  "geometry", "resize",
                                                    "normalize", "tensor", "output"};
  std::string section = unit.substr(0, unit.find('.'));
  size_t s = std::find(sections.begin(), sections.end(), section) - sections.begin();
  const auto& fixed = FixedUnits();
  size_t f =
      std::find_if(fixed.begin(), fixed.end(), [&](const UnitKeys& u) { return u.unit == unit; }) -
      fixed.begin();
  return s * 1000 + f;
}

std::string Text(const json* value) {
  if (!value) return "(absent: the model's or the default)";
  return value->is_string() ? value->get<std::string>() : value->dump();
}

// Every leaf of `j` (arrays element by element) as (path, value), in JSON order.
void Flatten(const json& j, const std::string& path,
             std::vector<std::pair<std::string, const json*>>& out) {
  if (j.is_object() && !j.empty()) {
    for (auto it = j.begin(); it != j.end(); ++it) Flatten(it.value(), path + "." + it.key(), out);
  } else if (j.is_array() && !j.empty()) {
    for (size_t i = 0; i < j.size(); ++i) Flatten(j[i], path + "[" + std::to_string(i) + "]", out);
  } else {
    out.emplace_back(path, &j);
  }
}

// "$.tensor.zero_point" → ("tensor", "zero_point"); "$.geometry.pad_value[1]" → ("geometry",
// "pad_value").
std::pair<std::string, std::string> SectionAndKey(const std::string& path) {
  std::string rest = path.substr(2);
  size_t dot = rest.find('.');
  std::string section = rest.substr(0, std::min(dot, rest.find('[')));
  if (dot == std::string::npos) return {section, ""};
  std::string key = rest.substr(dot + 1);
  return {section, key.substr(0, key.find_first_of(".["))};
}

}  // namespace

std::vector<SpecDifference> DiffSpecs(const Spec& training, const Spec& deployed) {
  json a = ToJson(training), b = ToJson(deployed);
  a.erase("name");  // a label, not part of the pipeline
  b.erase("name");
  std::vector<std::pair<std::string, const json*>> leaves_a, leaves_b;
  Flatten(a, "$", leaves_a);
  Flatten(b, "$", leaves_b);
  std::map<std::string, const json*> la(leaves_a.begin(), leaves_a.end()),
      lb(leaves_b.begin(), leaves_b.end());
  // Training's leaves in JSON order (the data flow), then those only the deployed spec has.
  std::vector<std::string> order;
  for (const auto& [path, value] : leaves_a) order.push_back(path);
  for (const auto& [path, value] : leaves_b)
    if (!la.count(path)) order.push_back(path);

  std::vector<SpecDifference> out;
  for (const std::string& path : order) {
    const json* ta = la.count(path) ? la[path] : nullptr;
    const json* tb = lb.count(path) ? lb[path] : nullptr;
    if (ta && tb && *ta == *tb) continue;
    auto [section, key] = SectionAndKey(path);
    std::string unit = UnitOf(section, key);
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const SpecDifference& d) { return d.unit == unit; });
    if (it == out.end()) it = out.insert(out.end(), SpecDifference{unit, {}});
    it->fields.push_back({path, Text(ta), Text(tb)});
  }
  // Leaves only the deployed spec has came last; put every unit back in data-flow order:
  // by section, fixed units in their listed order, then the section's other keys.
  std::stable_sort(out.begin(), out.end(), [](const SpecDifference& x, const SpecDifference& y) {
    return FlowRank(x.unit) < FlowRank(y.unit);
  });
  return out;
}

Spec WithTrainingUnits(const Spec& deployed, const Spec& training,
                       const std::vector<std::string>& units) {
  json a = ToJson(training), b = ToJson(deployed);
  for (const std::string& unit : units) {
    bool known = false;
    auto move_key = [&](const std::string& section, const std::string& key) {
      known = true;
      if (key.empty()) {
        if (a.contains(section))
          b[section] = a[section];
        else
          b.erase(section);
        return;
      }
      if (!b.contains(section)) b[section] = json::object();
      if (a.contains(section) && a[section].contains(key))
        b[section][key] = a[section][key];
      else
        b[section].erase(key);
    };
    for (const UnitKeys& u : FixedUnits())
      if (u.unit == unit)
        for (const auto& [s, k] : u.keys) move_key(s, k);
    if (!known) {
      size_t dot = unit.find('.');
      move_key(unit.substr(0, dot), dot == std::string::npos ? "" : unit.substr(dot + 1));
    }
  }
  try {
    return ParseSpec(
        nlohmann::json::parse(JsonText(b)),
        "deployed spec with " + std::to_string(units.size()) + " unit(s) from training");
  } catch (const Error& e) {
    std::string names;
    for (const std::string& u : units) names += (names.empty() ? "" : ", ") + u;
    throw Error("deployed spec", names, "a valid spec after taking these from training", e.what());
  }
}

}  // namespace lockstep
