// Text made safe for the HTML and SVG reports: XML character data and attribute values.
#pragma once

#include <string>

namespace lockstep {

// &, <, >, " and ' as entities; control characters XML 1.0 forbids (other than \n, \t) as spaces.
// Bidirectional controls (U+202A..U+202E, U+2066..U+2069) as visible "[U+202E]" text.
std::string XmlEscape(const std::string& text);

}  // namespace lockstep
