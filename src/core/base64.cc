#include "lockstep/core/base64.h"

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int SextetOf(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string Base64Encode(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = uint32_t(bytes[i]) << 16 | uint32_t(bytes[i + 1]) << 8 | bytes[i + 2];
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t(bytes[i]) << 16 | (rest == 2 ? uint32_t(bytes[i + 1]) << 8 : 0);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::vector<uint8_t> Base64Decode(std::string_view text, const std::string& source) {
  if (text.size() % 4 != 0)
    throw Error(source, "base64", "a length that is a multiple of 4",
                std::to_string(text.size()) + " characters");
  std::vector<uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    size_t padding = 0;
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      char c = text[i + k];
      int s = SextetOf(c);
      // '=' only at the end of the last group, at most two of them.
      if (c == '=' && last && k >= 2 && (k == 3 || text[i + 3] == '=')) {
        ++padding;
        s = 0;
      } else if (s < 0 || padding > 0) {
        throw Error(source, "base64 character " + std::to_string(i + k),
                    "A-Z, a-z, 0-9, '+', '/' or final '=' padding",
                    c == '=' ? "'=' before the end" : "byte " + std::to_string(uint8_t(c)));
      }
      v = v << 6 | uint32_t(s);
    }
    out.push_back(uint8_t(v >> 16));
    if (padding < 2) out.push_back(uint8_t(v >> 8));
    if (padding < 1) out.push_back(uint8_t(v));
  }
  return out;
}

}  // namespace lockstep
