// Enough YAML for Ultralytics' `names:` entry: block mappings of index to name, block lists and
// flow lists, names plain or quoted. Anything else in the file is skipped.
#include "lockstep/detect/yolo_labels.h"

#include <cctype>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A plain or quoted YAML scalar ('' escapes a quote in single quotes).
std::string Scalar(std::string_view s) {
  s = Trim(s);
  if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front()) {
    const char q = s.front();
    std::string out;
    for (size_t i = 1; i + 1 < s.size(); ++i) {
      if (q == '\'' && s[i] == '\'' && i + 2 < s.size() && s[i + 1] == '\'') ++i;
      if (q == '"' && s[i] == '\\' && i + 2 < s.size()) ++i;
      out += s[i];
    }
    return out;
  }
  return std::string(s);
}

}  // namespace

std::optional<std::vector<std::string>> UltralyticsYamlNames(std::string_view text,
                                                             const std::string& source) {
  std::vector<std::string_view> lines;
  for (size_t at = 0; at <= text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    at = end + 1;
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].substr(0, 6) != "names:") continue;
    std::vector<std::string> names;
    std::string_view rest = Trim(lines[i].substr(6));
    if (!rest.empty()) {  // flow list: names: [a, 'b c', ...]
      if (rest.front() != '[' || rest.back() != ']')
        throw Error(source, "names", "a list or a mapping of class names", std::string(rest));
      rest = rest.substr(1, rest.size() - 2);
      while (!Trim(rest).empty()) {
        size_t comma = rest.find(',');
        names.push_back(Scalar(rest.substr(0, comma)));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      return names;
    }
    for (size_t j = i + 1; j < lines.size(); ++j) {
      std::string_view line = lines[j];
      if (Trim(line).empty() || Trim(line).front() == '#') continue;
      if (!std::isspace(static_cast<unsigned char>(line.front()))) break;  // the next key
      std::string_view item = Trim(line);
      if (item.front() == '-') {
        names.push_back(Scalar(item.substr(1)));
        continue;
      }
      size_t colon = item.find(':');
      std::string_view key = Trim(item.substr(0, colon));
      if (colon == std::string_view::npos || key != std::to_string(names.size()))
        throw Error(source, "names", "index " + std::to_string(names.size()) + ": name",
                    std::string(item), "the names must count up from 0");
      names.push_back(Scalar(item.substr(colon + 1)));
    }
    return names;
  }
  return std::nullopt;
}

}  // namespace lockstep
