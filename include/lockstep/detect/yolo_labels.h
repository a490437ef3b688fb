// Class names from an Ultralytics YAML (an export's metadata.yaml or a dataset's data.yaml):
// its `names:` entry, as a mapping (`  0: person`) or a list (`  - person`, `[a, b]`).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lockstep {

// The names in index order; nullopt when the text has no `names:` entry. A mapping whose keys
// do not count 0, 1, 2, ... is an Error naming `source` and the key.
std::optional<std::vector<std::string>> UltralyticsYamlNames(std::string_view text,
                                                             const std::string& source);

}  // namespace lockstep
