// JSON text in and out, for text from users: reading refuses what would crash or mislead later
// (nesting deeper than kMaxJsonDepth, the same key twice in one object, numbers beyond double
// range), and writing never throws on strings that are not valid UTF-8.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace lockstep {

// Deep enough for any spec or COCO file; shallow enough that no recursion over it can overflow.
inline constexpr size_t kMaxJsonDepth = 64;

// Parses `text`; every refusal is an Error naming `source` and the JSON path ("$.a.b[3]").
nlohmann::json ParseJsonText(std::string_view text, const std::string& source);

// dump(indent) with invalid UTF-8 in strings replaced by U+FFFD instead of throwing.
std::string JsonText(const nlohmann::json& value, int indent = -1);
std::string JsonText(const nlohmann::ordered_json& value, int indent = -1);

// A short one-line rendering of `value` for an error message: at most about `max_bytes`, cut at
// a character boundary, and bounded in depth however deep `value` is.
std::string JsonSnippet(const nlohmann::json& value, size_t max_bytes = 60);

}  // namespace lockstep
