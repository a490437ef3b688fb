// A model's class index → a dataset's category id, made explicit and checked. COCO evaluation
// needs sparse category ids (person = 1, ... toothbrush = 90) while detectors output 0-based
// indices over 90 slots with gaps (TF1/Coral SSD) or 80 contiguous classes (YOLO); a wrong
// mapping gives a silent mAP of 0, so every way to build a map refuses a mismatch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lockstep/eval/coco.h"

namespace lockstep {

struct CategoryMap {
  // By class index; nullopt for a gap (a placeholder label such as "n/a" or "???").
  std::vector<std::optional<int64_t>> category_ids;
  std::string rule;  // how it was built, for a person: "by name: 80 of 90 labels, 10 gaps"

  // nullopt for a gap or an index beyond the map.
  std::optional<int64_t> CategoryOf(int class_index) const;
};

// Labels that stand for an unused slot: "", "n/a", "???", "background", "__background__".
bool IsPlaceholderLabel(std::string_view label);

// Each non-placeholder label must name exactly one category (compared without case and
// surrounding spaces), and no category may be named twice. An Error names both sides:
// `labels_source` and the label, `dataset_source` and what it has.
CategoryMap CategoryMapByName(const std::vector<std::string>& labels,
                              const std::vector<CocoCategory>& categories,
                              const std::string& labels_source, const std::string& dataset_source);

// Explicit ids, one per class index (-1 for a gap); each must be a category of the dataset.
CategoryMap CategoryMapFromIds(const std::vector<int64_t>& ids,
                               const std::vector<CocoCategory>& categories,
                               const std::string& ids_source, const std::string& dataset_source);

// category id = class index + offset for `class_count` classes. Every id must exist, except for
// classes whose label (when labels are given) is a placeholder: an offset over a gapped dataset
// would otherwise shift classes silently.
CategoryMap CategoryMapByOffset(int class_count, int64_t offset,
                                const std::vector<std::string>& labels,
                                const std::vector<CocoCategory>& categories,
                                const std::string& dataset_source);

}  // namespace lockstep
