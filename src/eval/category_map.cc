// Class index → dataset category id, built by name, by explicit ids or by offset, always checked.
#include "lockstep/eval/category_map.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

std::string Normalized(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  std::string out(s.substr(b, e - b));
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "person, bicycle, car, ... (80)" — enough of a list for a person to see the mismatch.
std::string Sample(const std::vector<std::string>& names, size_t count) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < count; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > count) out += ", ...";
  return out + " (" + std::to_string(names.size()) + ")";
}

std::vector<std::string> CategoryNames(const std::vector<CocoCategory>& categories) {
  std::vector<std::string> names;
  for (const CocoCategory& c : categories) names.push_back(c.name);
  return names;
}

void RequireCategories(const std::vector<CocoCategory>& categories, const std::string& source) {
  if (categories.empty()) throw Error(source, "categories", "at least one category", "none");
}

}  // namespace

std::optional<int64_t> CategoryMap::CategoryOf(int class_index) const {
  if (class_index < 0 || size_t(class_index) >= category_ids.size()) return std::nullopt;
  return category_ids[size_t(class_index)];
}

bool IsPlaceholderLabel(std::string_view label) {
  const std::string n = Normalized(label);
  return n.empty() || n == "n/a" || n == "???" || n == "background" || n == "__background__";
}

CategoryMap CategoryMapByName(const std::vector<std::string>& labels,
                              const std::vector<CocoCategory>& categories,
                              const std::string& labels_source, const std::string& dataset_source) {
  RequireCategories(categories, dataset_source);
  if (labels.empty())
    throw Error(labels_source, "labels",
                "class labels to match against the categories of " + dataset_source, "none",
                "give the model's label file, or explicit category ids");
  std::map<std::string, int64_t> by_name;
  for (const CocoCategory& c : categories) by_name.emplace(Normalized(c.name), c.id);

  CategoryMap map;
  std::vector<std::string> unmatched;
  std::map<int64_t, size_t> taken;  // category id → the class index that took it
  size_t gaps = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (IsPlaceholderLabel(labels[i])) {
      map.category_ids.push_back(std::nullopt);
      ++gaps;
      continue;
    }
    auto it = by_name.find(Normalized(labels[i]));
    if (it == by_name.end()) {
      unmatched.push_back("'" + labels[i] + "' (class " + std::to_string(i) + ")");
      map.category_ids.push_back(std::nullopt);
      continue;
    }
    if (auto [prev, fresh] = taken.emplace(it->second, i); !fresh)
      throw Error(labels_source, "labels[" + std::to_string(i) + "]",
                  "each category of " + dataset_source + " named by one class",
                  "'" + labels[i] + "' also at class " + std::to_string(prev->second));
    map.category_ids.push_back(it->second);
  }
  if (!unmatched.empty())
    throw Error(labels_source, "labels",
                "every label naming a category of " + dataset_source + " [" +
                    Sample(CategoryNames(categories), 8) + "]",
                std::to_string(unmatched.size()) + " of " + std::to_string(labels.size()) +
                    " that match none: " + Sample(unmatched, 6),
                "check that the labels belong to this dataset, or give explicit category ids");
  if (taken.empty())
    throw Error(labels_source, "labels", "labels naming categories of " + dataset_source,
                "only placeholders");
  map.rule = "by name: " + std::to_string(taken.size()) + " of " + std::to_string(labels.size()) +
             " labels matched, " + std::to_string(gaps) + " placeholder gaps; " +
             std::to_string(categories.size() - taken.size()) + " of " +
             std::to_string(categories.size()) + " categories of " + dataset_source +
             " have no class";
  return map;
}

CategoryMap CategoryMapFromIds(const std::vector<int64_t>& ids,
                               const std::vector<CocoCategory>& categories,
                               const std::string& ids_source, const std::string& dataset_source) {
  RequireCategories(categories, dataset_source);
  if (ids.empty()) throw Error(ids_source, "category ids", "one id per class", "none");
  std::map<int64_t, size_t> taken;
  CategoryMap map;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string field = "category ids[" + std::to_string(i) + "]";
    if (ids[i] == -1) {
      map.category_ids.push_back(std::nullopt);
      continue;
    }
    bool known = std::any_of(categories.begin(), categories.end(),
                             [&](const CocoCategory& c) { return c.id == ids[i]; });
    if (!known)
      throw Error(ids_source, field, "a category id of " + dataset_source + " (or -1, a gap)",
                  std::to_string(ids[i]));
    if (auto [prev, fresh] = taken.emplace(ids[i], i); !fresh)
      throw Error(ids_source, field, "each category id once",
                  std::to_string(ids[i]) + " also at class " + std::to_string(prev->second));
    map.category_ids.push_back(ids[i]);
  }
  if (taken.empty()) throw Error(ids_source, "category ids", "at least one id", "only gaps");
  map.rule = "explicit ids: " + std::to_string(taken.size()) + " of " + std::to_string(ids.size()) +
             " classes mapped";
  return map;
}

CategoryMap CategoryMapByOffset(int class_count, int64_t offset,
                                const std::vector<std::string>& labels,
                                const std::vector<CocoCategory>& categories,
                                const std::string& dataset_source) {
  RequireCategories(categories, dataset_source);
  if (class_count < 1) throw Error("", "class count", "at least 1", std::to_string(class_count));
  if (!labels.empty() && labels.size() != size_t(class_count))
    throw Error("", "labels", std::to_string(class_count) + " (one per class)",
                std::to_string(labels.size()));
  CategoryMap map;
  std::vector<std::string> missing;
  size_t mapped = 0;
  for (int i = 0; i < class_count; ++i) {
    const int64_t id = i + offset;
    bool known = std::any_of(categories.begin(), categories.end(),
                             [&](const CocoCategory& c) { return c.id == id; });
    if (!labels.empty() && IsPlaceholderLabel(labels[size_t(i)])) {
      map.category_ids.push_back(std::nullopt);
      continue;
    }
    if (!known)
      missing.push_back("class " + std::to_string(i) + " → " + std::to_string(id) +
                        (labels.empty() ? "" : " ('" + labels[size_t(i)] + "')"));
    map.category_ids.push_back(id);
    ++mapped;
  }
  if (!missing.empty())
    throw Error(dataset_source, "categories",
                "a category for every class index + " + std::to_string(offset),
                std::to_string(missing.size()) + " of " + std::to_string(class_count) +
                    " classes without one: " + Sample(missing, 5),
                "the dataset's ids have gaps; map by label names instead");
  map.rule = "offset " + std::to_string(offset) + ": " + std::to_string(mapped) + " of " +
             std::to_string(class_count) + " classes mapped";
  return map;
}

}  // namespace lockstep
