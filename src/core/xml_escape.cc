#include "lockstep/core/xml_escape.h"

#include <cstdio>

namespace lockstep {

namespace {

// U+202A..U+202E (embeddings, overrides) and U+2066..U+2069 (isolates) as UTF-8: the code point
// when text[i] starts one of them, else 0.
unsigned BidiControlAt(const std::string& text, size_t i) {
  if (i + 2 >= text.size() || static_cast<unsigned char>(text[i]) != 0xE2) return 0;
  unsigned b1 = static_cast<unsigned char>(text[i + 1]),
           b2 = static_cast<unsigned char>(text[i + 2]);
  if (b1 == 0x80 && b2 >= 0xAA && b2 <= 0xAE) return 0x2000 + (b2 - 0x80);
  if (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9) return 0x2040 + (b2 - 0x80);
  return 0;
}

}  // namespace

std::string XmlEscape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    // A right-to-left override in a label or file name would reorder the report around it:
    // shown as its code point instead.
    if (unsigned bidi = BidiControlAt(text, i)) {
      char name[16];
      std::snprintf(name, sizeof name, "[U+%04X]", bidi);
      out += name;
      i += 2;
      continue;
    }
    char c = text[i];
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters even when escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

}  // namespace lockstep
