// UTF-8 for text that reaches a terminal, a JSON file or Python: errors and reports quote what
// they found, and what they found may be any bytes.
#pragma once

#include <string>
#include <string_view>

namespace lockstep {

// `text` with each byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD, so
// that it can be printed, written as JSON or handed to Python.
std::string ValidUtf8(std::string_view text);

// At most `max_bytes` of `text`, cut at a character boundary (never inside a multi-byte
// character); "..." appended when something was cut. The result is valid UTF-8.
std::string Utf8Prefix(std::string_view text, size_t max_bytes);

// `text` in double quotes, cut as Utf8Prefix cuts: how an error shows a string it found.
std::string Quoted(std::string_view text, size_t max_bytes);

// The largest character boundary <= `at` in `text` (at most text.size()): where a cut may go.
size_t Utf8Boundary(std::string_view text, size_t at);

}  // namespace lockstep
